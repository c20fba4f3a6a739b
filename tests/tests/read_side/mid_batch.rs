//! A consumer whose stored offset lies inside a producer's record batch resumes exactly there.
//!
//! Tansu's object-store storage answers a fetch from such an offset with the batches that
//! start after it (skipping the rest of the one that holds it); the shared consumer code must
//! then seek further back rather than apply across the gap or retry the same offset forever
//! (a projector SIGKILLed mid-batch never caught up, `crash::…` about one run in six).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use messaging::consumer::{
    OffsetCache, OffsetTracker, PartitionKey, Position, Rewinds, SeekToStoredOffsets,
};
use messaging::KafkaSettings;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tests::shared_brokers;

/// Produces `count` records to partition 0 at once, so that they travel (and are stored) as
/// one record batch.
async fn one_batch(producer: &FutureProducer, topic: &str, first: usize, count: usize) {
    let sends = (first..first + count).map(|n| {
        let payload = format!("record {n}");
        async move {
            producer
                .send(
                    FutureRecord::<(), _>::to(topic)
                        .partition(0)
                        .payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .expect("the broker takes the record")
        }
    });
    futures::future::join_all(sends).await;
}

/// A topic of one partition, with the given batches produced in turn (sizes), and a producer.
async fn topic_of_batches(brokers: &str, batches: &[usize]) -> String {
    let topic = format!("__mid_batch_{}", uuid::Uuid::new_v4().simple());
    let settings = KafkaSettings {
        brokers: brokers.to_owned(),
        topic_prefix: String::new(),
        partitions: 1,
        replication: 1,
        message_timeout: Duration::from_secs(10),
    };
    messaging::ensure_named_topics(&settings, std::slice::from_ref(&topic))
        .await
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "200")
        .create()
        .unwrap();
    let mut first = 0;
    for &size in batches {
        one_batch(&producer, &topic, first, size).await;
        first += size;
    }
    topic
}

/// Consumes `topic` as the projectors and the sagas' intake do (stored offsets, the gap check,
/// rewinds) from the stored next offset `from`, until `last` is applied; returns the offsets
/// applied.
async fn consume(brokers: &str, topic: &str, from: i64, last: i64) -> Vec<i64> {
    let key = PartitionKey {
        topic: topic.to_owned(),
        partition: 0,
    };
    let mut stored = HashMap::from([(key.clone(), from)]);
    let known = OffsetCache::default();
    known.replace(stored.clone());
    let consumer: StreamConsumer<SeekToStoredOffsets> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("{topic}.reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10")
        .create_with_context(SeekToStoredOffsets::new(known, "mid-batch test"))
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();

    let mut applied = Vec::new();
    let mut rewinds = Rewinds::default();
    let mut stream = consumer.stream();
    let deadline = Instant::now() + Duration::from_secs(60);
    while applied.last() != Some(&last) {
        assert!(
            Instant::now() < deadline,
            "stopped at {applied:?} (next expected {stored:?})"
        );
        let Ok(message) = tokio::time::timeout(Duration::from_millis(500), stream.next()).await
        else {
            continue;
        };
        let offset = message.unwrap().unwrap().offset();
        let mut tracker = OffsetTracker::new(&stored);
        if tracker.place(&key, offset) == Position::Next {
            applied.push(offset);
        }
        let (next, rewind) = tracker.finish();
        rewinds.progressed(next.keys());
        stored.extend(next);
        rewinds.rewind(&consumer, &rewind);
    }
    applied
}

#[tokio::test]
async fn a_stored_offset_inside_a_record_batch_resumes_there() {
    let brokers = shared_brokers();
    // Offsets 0–9 in one batch, 10–19 in the next; applied up to 4 before a crash.
    let topic = topic_of_batches(&brokers, &[10, 10]).await;
    let applied = consume(&brokers, &topic, 5, 19).await;
    assert_eq!(applied, (5..20).collect::<Vec<i64>>());
}
