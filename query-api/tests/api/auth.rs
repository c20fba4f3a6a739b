//! Bearer tokens on every /v1 query; health, readiness and the OpenAPI document without.

use projectors::ProjectionName;
use reqwest::StatusCode;

use crate::helpers::{send, TestApp};

#[tokio::test]
async fn queries_need_a_token_with_a_reading_role() {
    let app = TestApp::start().await;
    app.build(ProjectionName::Agents).await;

    let anonymous = send(app.anonymous("/v1/agents")).await;
    anonymous.assert_problem_status(StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let forged = send(app.anonymous("/v1/agents").bearer_auth("not.a.jwt")).await;
    forged.assert_problem_status(StatusCode::UNAUTHORIZED);

    for role in ["viewer", "operator", "admin"] {
        let token = app.token("acme", &[role]);
        let answer = send(app.anonymous("/v1/agents").bearer_auth(token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{role}");
        assert_eq!(answer.body["items"], serde_json::json!([]));
        assert_eq!(answer.body["next_cursor"], serde_json::Value::Null);
    }
    let roleless = send(
        app.anonymous("/v1/agents")
            .bearer_auth(app.token("acme", &[])),
    )
    .await;
    roleless.assert_problem_status(StatusCode::FORBIDDEN);
    let bad_tenant = app.token("acme corp!", &["viewer"]);
    send(app.anonymous("/v1/agents").bearer_auth(bad_tenant))
        .await
        .assert_problem_status(StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn health_ready_and_openapi_need_no_token() {
    let app = TestApp::start().await;
    app.build(ProjectionName::Tasks).await;

    let health = send(app.anonymous("/health")).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = send(app.anonymous("/ready")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], true);
    assert_eq!(ready.body["projections"]["tasks"], 1);
    assert_eq!(ready.body["projections"]["agents"], serde_json::Value::Null);

    let openapi = send(app.anonymous("/openapi.json")).await;
    assert_eq!(openapi.status, StatusCode::OK);
    for path in [
        "/v1/agents",
        "/v1/agents/{id}",
        "/v1/tasks",
        "/v1/tasks/{id}",
        "/v1/conversations",
        "/v1/conversations/{id}",
        "/v1/conversations/{id}/messages",
        "/v1/invoices",
        "/v1/invoices/{id}",
        "/v1/billing/totals",
        "/v1/usage",
        "/v1/audit",
    ] {
        assert!(openapi.body["paths"][path]["get"].is_object(), "{path}");
    }
    let parameters = openapi.body["paths"]["/v1/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(parameters
        .iter()
        .any(|p| p["name"] == "X-Consistency-Token" && p["in"] == "header"));
    assert!(parameters.iter().any(|p| p["name"] == "created_after"));

    let unknown = app.get("/v1/nothing-here", "acme").await;
    unknown.assert_problem_status(StatusCode::NOT_FOUND);
    app.stop().await;
}
