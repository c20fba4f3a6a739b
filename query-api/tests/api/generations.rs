//! Generations: 503 before a projection is built; a swap is seen by the next request.

use projectors::ProjectionName;
use reqwest::StatusCode;

use crate::fixtures::{agent, at, stream_version, NewAgent};
use crate::helpers::{send, TestApp};

fn named(name: &str) -> NewAgent<'_> {
    NewAgent {
        tenant: "acme",
        name,
        status: "deployed",
        industry: "retail",
        created_at: at(0),
    }
}

#[tokio::test]
async fn a_projection_without_a_generation_is_unavailable() {
    let app = TestApp::start().await;
    app.build(ProjectionName::Agents).await;

    for path in [
        "/v1/tasks",
        "/v1/conversations",
        "/v1/invoices",
        "/v1/billing/totals",
        "/v1/usage",
        "/v1/audit",
    ] {
        let answer = app.get(path, "acme").await;
        answer.assert_problem_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.body["title"], "Read model not built yet");
        assert!(answer.header("retry-after").is_some());
    }
    assert_eq!(app.get("/v1/agents", "acme").await.status, StatusCode::OK);

    // With a consistency token too: at once, not after the token's wait runs out.
    let task = uuid::Uuid::now_v7();
    let token = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!("task:{task}:1"),
    );
    let started = std::time::Instant::now();
    let answer = send(
        app.request(&format!("/v1/tasks/{task}"), "acme")
            .header("X-Consistency-Token", token),
    )
    .await;
    answer.assert_problem_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_swapped_in_generation_serves_the_next_request() {
    let app = TestApp::start().await;
    let first = app.build(ProjectionName::Agents).await;
    let mut tx = app.write(first).await;
    let old = agent(&mut tx, named("Old")).await;
    tx.commit().await.unwrap();
    let second = app.create(ProjectionName::Agents, 2).await;
    let mut tx = app.write(second).await;
    let rebuilt = agent(&mut tx, named("Rebuilt")).await;
    tx.commit().await.unwrap();

    let before = app.get("/v1/agents", "acme").await;
    assert_eq!(before.ids(), [old.to_string()]);
    app.swap(second).await;
    let after = app.get("/v1/agents", "acme").await;
    assert_eq!(after.ids(), [rebuilt.to_string()]);
    let gone = app.get(&format!("/v1/agents/{old}"), "acme").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let ready = app.get("/ready", "acme").await;
    assert_eq!(ready.body["projections"]["agents"], 2);
    app.stop().await;
}

/// Reads run in transactions on connections kept between requests: every way a read ends
/// (served, not found, not built, a consistency wait) must end its transaction too, or the
/// next request on that connection would read an old snapshot.
#[tokio::test]
async fn reads_leave_no_transaction_open_on_the_connections_they_keep() {
    let app = TestApp::start().await;
    let first = app.build(ProjectionName::Agents).await;
    let mut tx = app.write(first).await;
    let old = agent(&mut tx, named("Old")).await;
    stream_version(&mut tx, old, 1).await;
    tx.commit().await.unwrap();
    let token = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!("agent:{old}:1"),
    );

    assert_eq!(app.get("/v1/agents", "acme").await.status, StatusCode::OK);
    let missing = format!("/v1/agents/{}", uuid::Uuid::now_v7());
    assert_eq!(
        app.get(&missing, "acme").await.status,
        StatusCode::NOT_FOUND
    );
    let unbuilt = app.get("/v1/tasks", "acme").await;
    unbuilt.assert_problem_status(StatusCode::SERVICE_UNAVAILABLE);
    let waited = send(
        app.request(&format!("/v1/agents/{old}"), "acme")
            .header("X-Consistency-Token", &token),
    )
    .await;
    assert_eq!(waited.status, StatusCode::OK);
    assert_eq!(waited.header("x-consistency"), Some("fresh"));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{open} connections still idle in a transaction"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The kept connections serve a swapped-in generation at once.
    let second = app.create(ProjectionName::Agents, 2).await;
    let mut tx = app.write(second).await;
    let rebuilt = agent(&mut tx, named("Rebuilt")).await;
    tx.commit().await.unwrap();
    app.swap(second).await;
    for _ in 0..5 {
        let after = app.get("/v1/agents", "acme").await;
        assert_eq!(after.ids(), [rebuilt.to_string()]);
    }
    app.stop().await;
}
