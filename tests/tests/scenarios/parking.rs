//! An event the relay can never publish is parked: the rest of the outbox flows, the parked
//! event's aggregate waits behind it (its later events are not published out of order), and a
//! re-queued event goes out first, followed by the ones that waited.

use std::time::Duration;

use serde_json::json;
use store::OutboxBatch;
use tests::{read_all_records, Platform, PlatformOptions};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::publishing::assert_topics_hold_the_store;
use crate::relay_leadership::relay;

async fn created_task(platform: &Platform) -> String {
    let (status, body) = platform
        .post("acme", "/v1/tasks", json!({ "title": "t" }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unpublishable_event_is_parked_and_holds_back_only_its_aggregate() {
    let platform = Platform::start(
        "park",
        PlatformOptions {
            relay_enabled: false,
            ..Default::default()
        },
    )
    .await;
    let held = created_task(&platform).await;
    let (status, body) = platform
        .post("acme", &format!("/v1/tasks/{held}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let free = created_task(&platform).await;
    // The held task's first event becomes one the relay cannot decode (as a payload written
    // by a release that no longer exists might be).
    let original: serde_json::Value = sqlx::query_scalar(
        "SELECT payload::jsonb FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(&held)
    .fetch_one(&platform.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE events SET payload = '{\"unexpected\": true}' WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(&held)
    .execute(&platform.pool)
    .await
    .unwrap();

    let stop = CancellationToken::new();
    let running = tokio::spawn(relay(&platform).run(stop.clone()));
    let outbox = OutboxBatch::new(platform.pool.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    // Parked: the first event; still in the outbox: the held task's second one.
    while platform.outbox_backlog().await != 1 || outbox.parked(10).await.unwrap().len() != 1 {
        assert!(Instant::now() < deadline, "the poison event was not parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let parked = outbox.parked(10).await.unwrap();
    assert_eq!(parked[0].aggregate_id, held);
    assert_eq!(parked[0].sequence, 1);
    assert!(
        parked[0].reason.contains("unknown variant") || parked[0].reason.contains("expected"),
        "the reason says why: {}",
        parked[0].reason
    );
    // Only the other task's event went out.
    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        1,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key, free);
    // The relay keeps going: a new event of another aggregate is published meanwhile.
    created_task(&platform).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while platform.outbox_backlog().await != 1 {
        assert!(Instant::now() < deadline, "the relay stopped after parking");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A new leadership term gives every parked event one more try: still broken, it is
    // parked again (a newer release could have published it).
    stop.cancel();
    running.await.unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(relay(&platform).run(stop.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let parked = loop {
        let now = outbox.parked(10).await.unwrap();
        if now.len() == 1 && now[0].parked_at > parked[0].parked_at {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the next leader did not try the parked event again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(parked[0].sequence, 1);

    // The cause fixed, the operator re-queues it: the held task's events go out in order.
    sqlx::query("UPDATE events SET payload = $2::json WHERE aggregate_id = $1 AND sequence = 1")
        .bind(&held)
        .bind(original.to_string())
        .execute(&platform.pool)
        .await
        .unwrap();
    assert!(outbox.requeue(parked[0].id).await.unwrap());
    assert!(
        !outbox.requeue(parked[0].id).await.unwrap(),
        "no longer parked"
    );
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    assert!(outbox.parked(10).await.unwrap().is_empty());
    let stored = platform.stored_events().await;
    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        stored.len(),
        Duration::from_secs(30),
    )
    .await;
    assert_topics_hold_the_store(&stored, &records);
    stop.cancel();
    running.await.unwrap();
}
