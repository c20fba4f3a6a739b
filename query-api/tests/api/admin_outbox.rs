//! Parked outbox events: listed for operators, and put back into the outbox on request.

use reqwest::StatusCode;
use store::OutboxBatch;

use super::Console;

/// An outbox row as the command-api's repository writes it; returns its id.
async fn outbox_row(console: &Console, aggregate_id: &str, sequence: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO outbox (aggregate_type, aggregate_id, sequence) VALUES ('task', $1, $2) RETURNING id",
    )
    .bind(aggregate_id)
    .bind(sequence)
    .fetch_one(&console.app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn parked_events_are_listed_and_requeued_under_their_id() {
    let console = Console::start().await;
    let outbox = OutboxBatch::new(console.app.pool.clone());
    let empty = console.get("/v1/admin/outbox/parked").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.items().len(), 0);

    let task = uuid::Uuid::now_v7().to_string();
    let first = outbox_row(&console, &task, 1).await;
    let later = outbox_row(&console, &task, 2).await;
    assert!(outbox
        .park(first, "cannot decode: unknown variant")
        .await
        .unwrap());
    assert!(
        !outbox.park(first, "again").await.unwrap(),
        "already parked"
    );

    let listed = console.get("/v1/admin/outbox/parked").await;
    assert_eq!(listed.status, StatusCode::OK);
    let items = listed.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], first);
    assert_eq!(items[0]["aggregate_id"], task.as_str());
    assert_eq!(items[0]["sequence"], 1);
    assert_eq!(items[0]["reason"], "cannot decode: unknown variant");
    // While it is parked the relay reads nothing of its aggregate.
    assert!(outbox.oldest(10, &[]).await.unwrap().is_empty());

    let requeued = console
        .post(&format!("/v1/admin/outbox/parked/{first}/requeue"))
        .await;
    assert_eq!(requeued.status, StatusCode::OK, "{:?}", requeued.body);
    assert_eq!(requeued.body["outcome"], "requeued");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox ORDER BY id")
        .fetch_all(&console.app.pool)
        .await
        .unwrap();
    assert_eq!(
        ids,
        vec![first, later],
        "back under its own id, ahead of the later event"
    );
    assert_eq!(
        console.get("/v1/admin/outbox/parked").await.items().len(),
        0
    );

    let again = console
        .post(&format!("/v1/admin/outbox/parked/{first}/requeue"))
        .await;
    again.assert_problem_status(StatusCode::NOT_FOUND);
    console
        .post("/v1/admin/outbox/parked/not-a-number/requeue")
        .await
        .assert_problem_status(StatusCode::NOT_FOUND);
    console.stop().await;
}
