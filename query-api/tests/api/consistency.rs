//! Read-your-writes: consistency tokens make queries wait, then say fresh, stale or
//! not-applicable.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use projectors::{Generation, ProjectionName};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::{agent, at, stream_version, task, NewAgent};
use crate::helpers::{send, TestApp};

/// What the command API hands out.
fn token(aggregate_type: &str, id: Uuid, version: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{aggregate_type}:{id}:{version}"))
}

/// A task at version 1, as the tasks projection has applied it.
async fn applied_task(app: &TestApp) -> (Generation, Uuid) {
    let generation = app.build(ProjectionName::Tasks).await;
    let mut tx = app.write(generation).await;
    let id = task(&mut tx, "acme", None, "created", at(0)).await;
    stream_version(&mut tx, id, 1).await;
    tx.commit().await.unwrap();
    (generation, id)
}

/// What a projector does when it applies version 2 of the task: row and stream version in
/// one transaction, optionally notifying waiting queries.
async fn apply_version_two(app: &TestApp, generation: Generation, id: Uuid, notify: bool) {
    let mut tx = app.write(generation).await;
    sqlx::query("UPDATE tasks SET status = 'assigned', version = 2 WHERE task_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    stream_version(&mut tx, id, 2).await;
    if notify {
        sqlx::query("SELECT pg_notify('projection_progress', 'tasks')")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_query_waits_for_the_projection_then_answers_fresh() {
    let app = TestApp::start().await;
    let (generation, id) = applied_task(&app).await;

    let started = Instant::now();
    let request = app
        .request(&format!("/v1/tasks/{id}"), "acme")
        .header("X-Consistency-Token", token("task", id, 2));
    let (answer, ()) = tokio::join!(send(request), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        apply_version_two(&app, generation, id, false).await;
    });
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("x-consistency"), Some("fresh"));
    assert_eq!(answer.header("x-stale-by-versions"), None);
    // The answer shows the write the token stands for.
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.body["status"], "assigned");
    assert!(started.elapsed() >= Duration::from_millis(350));

    // Already caught up: fresh at once, also through the query parameter.
    let path = format!("/v1/tasks?consistency_token={}", token("task", id, 1));
    let listed = app.get(&path, "acme").await;
    assert_eq!(listed.header("x-consistency"), Some("fresh"));
    assert_eq!(listed.items().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_notification_ends_the_wait_without_polling() {
    // Polls only once a minute: only the NOTIFY can end the wait in time.
    let app = TestApp::start_with(|settings| {
        settings.consistency_poll_ms = 60_000;
        settings.consistency_wait_ms = 20_000;
    })
    .await;
    let (generation, id) = applied_task(&app).await;
    // Let the listener subscribe before anything is notified.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let request = app
        .request(&format!("/v1/tasks/{id}"), "acme")
        .header("X-Consistency-Token", token("task", id, 2));
    let (answer, ()) = tokio::join!(send(request), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        apply_version_two(&app, generation, id, true).await;
    });
    assert_eq!(answer.header("x-consistency"), Some("fresh"));
    assert_eq!(answer.body["version"], 2);
    assert!(started.elapsed() < Duration::from_secs(10));
    app.stop().await;
}

#[tokio::test]
async fn a_wait_that_runs_out_answers_stale_and_says_by_how_much() {
    let app = TestApp::start_with(|settings| settings.consistency_wait_ms = 150).await;
    let (_, id) = applied_task(&app).await;

    let started = Instant::now();
    let behind = send(
        app.request(&format!("/v1/tasks/{id}"), "acme")
            .header("X-Consistency-Token", token("task", id, 4)),
    )
    .await;
    assert_eq!(behind.status, StatusCode::OK);
    assert_eq!(behind.header("x-consistency"), Some("stale"));
    assert_eq!(behind.header("x-stale-by-versions"), Some("3"));
    assert_eq!(behind.body["version"], 1);
    assert!(started.elapsed() >= Duration::from_millis(150));

    // Never applied at all: behind by the whole token, and a 404 says it may be stale.
    let unseen = Uuid::now_v7();
    let missing = send(
        app.request(&format!("/v1/tasks/{unseen}"), "acme")
            .header("X-Consistency-Token", token("task", unseen, 2)),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("x-consistency"), Some("stale"));
    assert_eq!(missing.header("x-stale-by-versions"), Some("2"));
    app.stop().await;
}

#[tokio::test]
async fn tokens_of_aggregates_a_projection_does_not_read_are_not_applicable() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Agents).await;
    let mut tx = app.write(generation).await;
    let new = NewAgent {
        tenant: "acme",
        name: "Ada",
        status: "draft",
        industry: "general",
        created_at: at(0),
    };
    let id = agent(&mut tx, new).await;
    stream_version(&mut tx, id, 1).await;
    tx.commit().await.unwrap();

    let started = Instant::now();
    let invoice = send(
        app.request("/v1/agents", "acme")
            .header("X-Consistency-Token", token("invoice", Uuid::now_v7(), 9)),
    )
    .await;
    assert_eq!(invoice.status, StatusCode::OK);
    assert_eq!(invoice.header("x-consistency"), Some("not-applicable"));
    assert!(started.elapsed() < Duration::from_secs(2), "no wait");
    // The agents projection reads agent and task events: those tokens apply.
    let own = send(
        app.request(&format!("/v1/agents/{id}"), "acme")
            .header("X-Consistency-Token", token("agent", id, 1)),
    )
    .await;
    assert_eq!(own.header("x-consistency"), Some("fresh"));
    let plain = app.get("/v1/agents", "acme").await;
    assert_eq!(plain.header("x-consistency"), None);
    app.stop().await;
}

#[tokio::test]
async fn unparsable_tokens_are_bad_requests_naming_where_they_came_from() {
    let app = TestApp::start().await;
    app.build(ProjectionName::Tasks).await;

    for bad in [
        "%%%".to_owned(),
        URL_SAFE_NO_PAD.encode("task:nope:1"),
        URL_SAFE_NO_PAD.encode(format!("order:{}:1", Uuid::now_v7())),
        URL_SAFE_NO_PAD.encode(format!("task:{}:zero", Uuid::now_v7())),
    ] {
        send(
            app.request("/v1/tasks", "acme")
                .header("X-Consistency-Token", bad.clone()),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "X-Consistency-Token");
    }
    app.get("/v1/tasks?consistency_token=bm9wZQ", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "consistency_token");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_cuts_waits_short_and_still_answers() {
    let app = TestApp::start_with(|settings| settings.consistency_wait_ms = 30_000).await;
    let (_, id) = applied_task(&app).await;

    let started = Instant::now();
    let request = app
        .request(&format!("/v1/tasks/{id}"), "acme")
        .header("X-Consistency-Token", token("task", id, 5));
    let (answer, ()) = tokio::join!(send(request), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.begin_shutdown();
    });
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("x-consistency"), Some("stale"));
    assert_eq!(answer.header("x-stale-by-versions"), Some("4"));
    assert!(started.elapsed() < Duration::from_secs(10));
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_token_learns_nothing_about_its_aggregate() {
    let app = TestApp::start_with(|settings| settings.consistency_wait_ms = 200).await;
    let (_, id) = applied_task(&app).await;
    // acme's task is at version 1; globex asks with a token for version 1 of it.
    let path = format!("/v1/tasks?consistency_token={}", token("task", id, 1));
    let answer = app.get(&path, "globex").await;
    assert_eq!(
        answer.header("x-consistency"),
        Some("stale"),
        "as if never applied"
    );
    assert_eq!(answer.header("x-stale-by-versions"), Some("1"));
    assert!(answer.items().is_empty());
    app.stop().await;
}
