//! Exactly one relay publishes; a standby takes over when the leader goes away.

use std::time::Duration;

use messaging::{KafkaSettings, OutboxRelay, RelaySettings};
use serde_json::json;
use tests::{read_all_records, Platform, PlatformOptions};
use tokio_util::sync::CancellationToken;

use crate::publishing::assert_topics_hold_the_store;

pub fn relay(platform: &Platform) -> OutboxRelay {
    let settings = RelaySettings {
        kafka: KafkaSettings {
            brokers: platform.brokers.clone(),
            topic_prefix: platform.topic_prefix.clone(),
            partitions: 3,
            replication: 1,
            message_timeout: Duration::from_secs(10),
        },
        schema_registry_url: platform.registry.url().to_owned(),
        batch_size: 100,
        poll_interval: Duration::from_millis(500),
    };
    OutboxRelay::new(platform.pool.clone(), settings)
}

/// Sessions holding the relay's advisory lock (key "agenthub" as a bigint).
async fn leaders(platform: &Platform) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND classid = 1634166126 AND objid = 1953002850 AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&platform.pool)
    .await
    .unwrap()
}

async fn some_commands(platform: &Platform, count: usize) {
    for _ in 0..count {
        let (status, _) = platform
            .post("acme", "/v1/tasks", json!({ "title": "t" }))
            .await;
        assert_eq!(status, 201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_leader_publishes_and_a_standby_takes_over() {
    let platform = Platform::start(
        "leader",
        PlatformOptions {
            relay_enabled: false,
            ..Default::default()
        },
    )
    .await;
    let (first_stop, second_stop) = (CancellationToken::new(), CancellationToken::new());
    let first = tokio::spawn(relay(&platform).run(first_stop.clone()));
    some_commands(&platform, 20).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;

    let second = tokio::spawn(relay(&platform).run(second_stop.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        leaders(&platform).await,
        1,
        "one leader while two relays run"
    );

    first_stop.cancel();
    first.await.unwrap();
    some_commands(&platform, 20).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    assert_eq!(leaders(&platform).await, 1, "the standby leads now");

    let stored = platform.stored_events().await;
    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        stored.len(),
        Duration::from_secs(60),
    )
    .await;
    assert_topics_hold_the_store(&stored, &records);
    second_stop.cancel();
    second.await.unwrap();
}
