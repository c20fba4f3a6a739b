//! Events of one aggregate from the event store, and the command-rate time series.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Console;
use crate::helpers::TestApp;

async fn event(
    pool: &PgPool,
    kind: &str,
    id: &str,
    sequence: i64,
    event_type: &str,
    at: DateTime<Utc>,
) {
    let metadata = json!({
        "tenant_id": "globex",
        "occurred_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "correlation_id": "c-1",
        "actor": "someone",
    });
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ($1, $2, $3, $4, '1.0', $5, $6)",
    )
    .bind(kind)
    .bind(id)
    .bind(sequence)
    .bind(event_type)
    .bind(json!({ event_type: { "n": sequence } }))
    .bind(metadata)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_aggregates_events_come_newest_first_in_pages_whatever_its_tenant() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    let agent = Uuid::now_v7().to_string();
    let now = Utc::now();
    for (sequence, kind) in [
        (1, "AgentCreated"),
        (2, "AgentConfigUpdated"),
        (3, "AgentDeployed"),
    ] {
        event(pool, "agent", &agent, sequence, kind, now).await;
    }
    event(
        pool,
        "task",
        &Uuid::now_v7().to_string(),
        1,
        "TaskCreated",
        now,
    )
    .await;

    let page = console
        .get(&format!("/v1/admin/aggregates/{agent}/events?limit=2"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let sequences: Vec<i64> = page
        .items()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, vec![3, 2]);
    let newest = &page.items()[0];
    assert_eq!(newest["event_type"], "AgentDeployed");
    assert_eq!(newest["aggregate_type"], "agent");
    assert_eq!(newest["event_version"], "1.0");
    // Platform-wide: an admin of acme sees globex's events here.
    assert_eq!(newest["tenant_id"], "globex");
    assert_eq!(newest["actor"], "someone");
    assert_eq!(newest["correlation_id"], "c-1");
    assert_eq!(newest["payload"], json!({ "AgentDeployed": { "n": 3 } }));
    let cursor = page.body["next_cursor"].as_str().expect("an older page");
    let older = console
        .get(&format!(
            "/v1/admin/aggregates/{agent}/events?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(older.items().len(), 1);
    assert_eq!(older.items()[0]["sequence"], 1);
    assert_eq!(older.body["next_cursor"], serde_json::Value::Null);

    let unknown = console
        .get(&format!("/v1/admin/aggregates/{}/events", Uuid::now_v7()))
        .await;
    unknown.assert_problem_status(StatusCode::NOT_FOUND);
    let malformed = console.get("/v1/admin/aggregates/not-a-uuid/events").await;
    malformed.assert_problem_status(StatusCode::NOT_FOUND);
    let bad = console
        .get(&format!(
            "/v1/admin/aggregates/{agent}/events?limit=abc&cursor=%%%"
        ))
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "limit");
    bad.assert_problem(StatusCode::BAD_REQUEST, "cursor");
    console.stop().await;
}

#[tokio::test]
async fn the_time_series_counts_committed_events_per_bucket_with_zeros() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    let now = Utc::now();
    // Three events a few seconds ago, two a little over a minute ago, one long ago.
    for (n, ago) in [(1, 2), (2, 2), (3, 3), (4, 70), (5, 71), (6, 3_600)] {
        event(
            pool,
            "task",
            &Uuid::now_v7().to_string(),
            n,
            "TaskCreated",
            now - Duration::seconds(ago),
        )
        .await;
    }
    let series = console
        .get("/v1/admin/timeseries?minutes=5&bucket_seconds=60")
        .await;
    assert_eq!(series.status, StatusCode::OK, "{:?}", series.body);
    assert_eq!(series.body["bucket_seconds"], 60);
    let points = series.body["command_rate"].as_array().unwrap();
    assert_eq!(points.len(), 5, "every bucket, zeros included");
    assert_eq!(
        series.body["total_events"], 5,
        "the hour-old one is outside"
    );
    let counts: Vec<i64> = points
        .iter()
        .map(|p| p["events"].as_i64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), 5);
    let starts: Vec<DateTime<Utc>> = points
        .iter()
        .map(|p| p["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts
        .windows(2)
        .all(|w| w[1] - w[0] == Duration::seconds(60)));
    assert!(
        starts.iter().all(|s| s.timestamp() % 60 == 0),
        "aligned buckets"
    );
    assert!(
        *starts.last().unwrap() <= now && now < *starts.last().unwrap() + Duration::seconds(60)
    );
    // The two events of two seconds ago are in the bucket holding that instant.
    let two_ago = now - Duration::seconds(2);
    let bucket = starts.iter().rposition(|s| *s <= two_ago).unwrap();
    assert!(counts[bucket] >= 2, "{counts:?}");
    assert!(points[bucket]["per_second"].as_f64().unwrap() > 0.0);
    // The broker is down here: lag is unknown, and said why.
    assert_eq!(series.body["lag"]["total"], serde_json::Value::Null);
    assert_eq!(series.body["lag"]["broker"]["reachable"], false);

    let default = console.get("/v1/admin/timeseries").await;
    assert_eq!(
        default.body["bucket_seconds"], 10,
        "15 minutes in 90 buckets"
    );
    assert_eq!(default.body["command_rate"].as_array().unwrap().len(), 90);

    for (query, field) in [
        ("minutes=0", "minutes"),
        ("minutes=181", "minutes"),
        ("minutes=ten", "minutes"),
        ("bucket_seconds=0", "bucket_seconds"),
        ("minutes=180&bucket_seconds=1", "bucket_seconds"),
    ] {
        let bad = console.get(&format!("/v1/admin/timeseries?{query}")).await;
        bad.assert_problem(StatusCode::BAD_REQUEST, field);
    }
    console.stop().await;
}

#[tokio::test]
async fn without_the_event_store_in_its_database_the_api_says_so() {
    // A query-api whose database has no events table (no store migrations).
    let app = TestApp::start().await;
    let token = app.token("acme", &["admin"]);
    for path in [
        format!("/v1/admin/aggregates/{}/events", Uuid::now_v7()),
        "/v1/admin/timeseries".to_owned(),
    ] {
        let answer = crate::helpers::send(app.anonymous(&path).bearer_auth(&token)).await;
        answer.assert_problem_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.body["type"], "/problems/event-store-unavailable");
    }
    app.stop().await;
}
