//! Generations: 503 before a projection is built; a swap is seen by the next request.

use projectors::ProjectionName;
use reqwest::StatusCode;

use crate::fixtures::{agent, at, NewAgent};
use crate::helpers::TestApp;

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
