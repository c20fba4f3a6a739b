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

#[tokio::test]
async fn a_stored_offset_inside_a_record_batch_resumes_there() {
    let brokers = shared_brokers();
    let topic = format!("__mid_batch_{}", uuid::Uuid::new_v4().simple());
    let settings = KafkaSettings {
        brokers: brokers.clone(),
        topic_prefix: String::new(),
        partitions: 1,
        replication: 1,
        message_timeout: Duration::from_secs(10),
    };
    messaging::ensure_named_topics(&settings, std::slice::from_ref(&topic))
        .await
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "200")
        .create()
        .unwrap();
    one_batch(&producer, &topic, 0, 10).await; // offsets 0–9
    one_batch(&producer, &topic, 10, 10).await; // offsets 10–19

    // Applied up to offset 4 before a crash: the next is 5, inside the first batch.
    let key = PartitionKey {
        topic: topic.clone(),
        partition: 0,
    };
    let mut stored = HashMap::from([(key.clone(), 5_i64)]);
    let known = OffsetCache::default();
    known.replace(stored.clone());
    let consumer: StreamConsumer<SeekToStoredOffsets> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("{topic}.reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10")
        .create_with_context(SeekToStoredOffsets::new(known, "mid-batch test"))
        .unwrap();
    consumer.subscribe(&[topic.as_str()]).unwrap();

    let mut applied = Vec::new();
    let mut rewinds = Rewinds::default();
    let mut stream = consumer.stream();
    let deadline = Instant::now() + Duration::from_secs(60);
    while applied.last() != Some(&19) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(message)) = tokio::time::timeout(remaining, stream.next()).await else {
            panic!("stopped at {applied:?} (next expected {stored:?})");
        };
        let offset = message.unwrap().offset();
        let mut tracker = OffsetTracker::new(&stored);
        let position = tracker.place(&key, offset);
        let (next, rewind) = tracker.finish();
        match position {
            Position::Next => applied.push(offset),
            Position::Applied => {}
            Position::Gap(_) => {}
        }
        rewinds.progressed(next.keys());
        stored.extend(next);
        rewinds.rewind(&consumer, &rewind);
    }
    assert_eq!(applied, (5..20).collect::<Vec<i64>>());
}
