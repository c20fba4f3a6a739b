//! The broker stops for 30 s under load: commands keep being accepted, nothing is lost, and
//! the backlog drains in order when the broker returns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tests::{read_all_records, OwnBroker, Platform, PlatformOptions};
use tokio_util::sync::CancellationToken;

use crate::publishing::assert_topics_hold_the_store;

async fn load(
    platform: Arc<Platform>,
    stop: CancellationToken,
    accepted: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
) {
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    while !stop.is_cancelled() {
        pace.tick().await;
        let (status, body) = platform
            .post("acme", "/v1/tasks", json!({ "title": "during outage" }))
            .await;
        let counter = if status == 201 { &accepted } else { &refused };
        counter.fetch_add(1, Ordering::Relaxed);
        if status == 201 {
            let id = body["id"].as_str().unwrap();
            let (status, _) = platform
                .post("acme", &format!("/v1/tasks/{id}/cancel"), json!({}))
                .await;
            let counter = if status == 200 { &accepted } else { &refused };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_30_second_broker_outage_loses_nothing() {
    // The relay's warnings (failed attempts, fatal producer errors) go to the test's captured
    // output, shown when it fails: this test has failed now and then with the outbox never
    // draining after the broker's restart, cause not found yet (README, "What is not done yet").
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn,messaging=info")
        .try_init();
    let mut broker = OwnBroker::start().await;
    let options = PlatformOptions {
        brokers: broker.address(),
        relay_message_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let platform = Arc::new(Platform::start("outage", options).await);
    let (accepted, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop = CancellationToken::new();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(load(
                platform.clone(),
                stop.clone(),
                accepted.clone(),
                refused.clone(),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(5)).await;
    broker.kill();
    let accepted_before_outage = accepted.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let ready = platform
        .client
        .get(platform.url("/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "readiness reports the broker down");
    let accepted_during_outage = accepted.load(Ordering::Relaxed) - accepted_before_outage;
    broker.restart().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.cancel();
    for client in clients {
        client.await.unwrap();
    }

    assert_eq!(
        refused.load(Ordering::Relaxed),
        0,
        "no command was refused because the broker was down"
    );
    assert!(
        accepted_during_outage > 100,
        "commands kept being accepted ({accepted_during_outage})"
    );
    platform
        .wait_for_empty_outbox(Duration::from_secs(120))
        .await;
    let stored = platform.stored_events().await;
    let records = read_all_records(
        &broker.address(),
        &platform.topic_prefix,
        stored.len(),
        Duration::from_secs(90),
    )
    .await;
    assert_topics_hold_the_store(&stored, &records);
}
