//! Events reach their topics in order, exactly as stored, in the Confluent wire format.

use std::collections::HashMap;
use std::time::Duration;

use schemas::{AnyEvent, RegistryCodec};
use tests::{read_all_records, Platform, PlatformOptions, Record};

use crate::support::every_event_type;

/// Checks that every stored event is on Kafka and that each aggregate's records, once
/// duplicates (re-published in-flight records) are dropped, come in sequence order.
pub fn assert_topics_hold_the_store(stored: &[(String, i64, String)], records: &[Record]) {
    let mut seen: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut ordered: Vec<&Record> = records.iter().collect();
    ordered.sort_by_key(|r| (r.topic.clone(), r.partition, r.offset));
    for record in ordered {
        assert_eq!(
            record.header("aggregate_id"),
            Some(record.key.as_str()),
            "key is the aggregate id"
        );
        let sequences = seen.entry(record.key.as_str()).or_default();
        let sequence = record.sequence();
        match sequences.last() {
            Some(last) if sequence <= *last => {} // a re-published duplicate: consumers drop it
            Some(last) => assert_eq!(
                sequence,
                last + 1,
                "aggregate {} skipped from {last} to {sequence}",
                record.key
            ),
            None => assert_eq!(sequence, 1, "aggregate {} starts at 1", record.key),
        }
        if sequences.last().is_none_or(|last| sequence > *last) {
            sequences.push(sequence);
        }
    }
    for (aggregate, sequence, event_type) in stored {
        let published = seen
            .get(aggregate.as_str())
            .is_some_and(|s| s.contains(sequence));
        assert!(
            published,
            "stored event {event_type} {aggregate}#{sequence} is not on Kafka"
        );
    }
    let published: usize = seen.values().map(Vec::len).sum();
    assert_eq!(
        published,
        stored.len(),
        "nothing on Kafka that is not in the store"
    );
}

#[tokio::test]
async fn stored_events_appear_on_their_topics_in_order_and_decode() {
    let platform = Platform::start("publish", PlatformOptions::default()).await;
    let events = every_event_type(&platform, "acme").await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    let stored = platform.stored_events().await;
    assert_eq!(stored.len(), events);

    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        events,
        Duration::from_secs(60),
    )
    .await;
    assert_topics_hold_the_store(&stored, &records);

    let codec = RegistryCodec::new(platform.registry.url(), &platform.topic_prefix);
    for record in &records {
        assert_eq!(record.payload[0], 0, "Confluent magic byte");
        let (metadata, event) = codec
            .decode(&record.payload)
            .await
            .expect("decodes by schema id");
        assert_eq!(metadata.event_type, record.header("event_type").unwrap());
        assert_eq!(metadata.aggregate_id.to_string(), record.key);
        assert_eq!(metadata.sequence, record.sequence());
        assert_eq!(metadata.tenant_id, "acme");
        assert_eq!(
            Some(metadata.event_id.to_string().as_str()),
            record.header("event_id")
        );
        assert!(record
            .header("traceparent")
            .is_some_and(|t| t.starts_with("00-")));
        assert_eq!(record.header("schema_version"), Some("1"));
        let topic_suffix = schemas::Topic::for_aggregate(event.aggregate_type())
            .unwrap()
            .suffix();
        assert!(record.topic.ends_with(topic_suffix));
        // The record carries exactly the stored event.
        let (payload,): (serde_json::Value,) = sqlx::query_as(
            "SELECT payload::jsonb FROM events WHERE aggregate_id = $1 AND sequence = $2",
        )
        .bind(&record.key)
        .bind(record.sequence())
        .fetch_one(&platform.pool)
        .await
        .unwrap();
        assert_eq!(
            AnyEvent::from_stored(event.aggregate_type(), payload).unwrap(),
            event
        );
    }
}
