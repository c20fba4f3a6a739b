//! The REST contract: authentication, authorisation, tenant isolation, errors as problem+json.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{Platform, PlatformOptions, JWT_SECRET};

use crate::support::{agent_body, deployed_agent};

async fn platform() -> Platform {
    Platform::start(
        "api",
        PlatformOptions {
            relay_enabled: false,
            ..Default::default()
        },
    )
    .await
}

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "errors are problem+json"
    );
    (status, response.json().await.unwrap())
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().map(|f| f["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_authentication_failure_is_a_401() {
    let platform = platform().await;
    let expired = {
        let claims = json!({ "sub": "u", "tenant": "acme", "roles": ["admin"], "exp": 1_000 });
        let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let forged = platform::Authenticator::hs256("some-other-secret-entirely".to_owned().into())
        .mint("u", "acme", &["admin"], 60)
        .unwrap();
    let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1IiwidGVuYW50IjoiYWNtZSIsInJvbGVzIjpbImFkbWluIl0sImV4cCI6OTk5OTk5OTk5OX0.";
    let cases: [(&str, Option<String>); 5] = [
        ("missing", None),
        ("malformed", Some("Bearer not-a-token".into())),
        ("expired", Some(format!("Bearer {expired}"))),
        ("bad signature", Some(format!("Bearer {forged}"))),
        ("alg=none", Some(format!("Bearer {unsigned}"))),
    ];
    for (case, header) in cases {
        let mut request = platform
            .client
            .post(platform.url("/v1/agents"))
            .json(&agent_body());
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        let (status, body) = problem(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
    }
}

#[tokio::test]
async fn viewers_cannot_command() {
    let platform = platform().await;
    let response = platform
        .client
        .post(platform.url("/v1/agents"))
        .bearer_auth(platform.token("acme", &["viewer"]))
        .json(&agent_body())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn another_tenants_agent_is_not_found() {
    let platform = platform().await;
    let agent = deployed_agent(&platform, "acme").await;
    let (status, _) = platform
        .post("globex", &format!("/v1/agents/{agent}/pause"), json!({}))
        .await;
    assert_eq!(status, 404);
    // And it cannot be used by reference either.
    let (_, task) = platform
        .post("globex", "/v1/tasks", json!({ "title": "t" }))
        .await;
    let task = task["id"].as_str().unwrap();
    let (status, body) = platform
        .post(
            "globex",
            &format!("/v1/tasks/{task}/assign"),
            json!({ "agent_id": agent }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["agent_id"]);
    let (status, _) = platform
        .post("acme", "/v1/agents/not-a-uuid/deploy", json!({}))
        .await;
    assert_eq!(status, 404);
    let unknown = uuid::Uuid::now_v7();
    let (status, _) = platform
        .post("acme", &format!("/v1/agents/{unknown}/deploy"), json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_fields_are_all_named() {
    let platform = platform().await;
    let body = json!({ "name": "", "industry": "mining", "provider": "openai", "model": "gpt-4o", "temperature": 3.0 });
    let (status, problem) = platform.post("acme", "/v1/agents", body).await;
    assert_eq!(status, 422);
    assert_eq!(fields(&problem), ["name", "industry", "temperature"]);
    let (status, problem) = platform
        .post("acme", "/v1/agents", json!({ "name": "Ada" }))
        .await;
    assert_eq!((status, fields(&problem)), (422, vec!["industry"]));
    let (status, problem) = platform
        .post("acme", "/v1/agents", json!({ "surprise": 1 }))
        .await;
    assert_eq!(status, 422, "unknown fields are refused: {problem}");
    let (status, problem) = platform
        .post("acme", "/v1/invoices", json!({ "period_start": "2026-13-01", "period_end": "2026-10-31", "currency": "EUR", "line_items": [] }))
        .await;
    assert_eq!((status, fields(&problem)), (422, vec!["period_start"]));
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies() {
    let platform = platform().await;
    let token = platform.token("acme", &["admin"]);
    let send = |body: Vec<u8>, content_type: &'static str| {
        platform
            .client
            .post(platform.url("/v1/agents"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        problem(
            send(b"{\"name\":".to_vec(), "application/json")
                .await
                .unwrap()
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        problem(send(b"name=Ada".to_vec(), "text/plain").await.unwrap())
            .await
            .0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = format!("{{\"name\":\"{}\"}}", "a".repeat(1024 * 1024 + 1));
    assert_eq!(
        problem(send(huge.into_bytes(), "application/json").await.unwrap())
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let platform = platform().await;
    let (_, created) = platform.post("acme", "/v1/agents", agent_body()).await;
    let id = created["id"].as_str().unwrap();
    let token = platform.token("acme", &["admin"]);
    let patch = |version: &'static str| {
        platform
            .client
            .patch(platform.url(&format!("/v1/agents/{id}")))
            .bearer_auth(&token)
            .header("if-match", version)
            .json(&json!({ "temperature": 0.1 }))
            .send()
    };
    let first = patch("\"1\"").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let (status, body) = problem(patch("\"1\"").await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(fields(&body), ["If-Match"]);
}

#[tokio::test]
async fn state_machine_violations_are_conflicts_and_change_nothing() {
    let platform = platform().await;
    let agent = deployed_agent(&platform, "acme").await;
    let (status, body) = platform
        .post("acme", &format!("/v1/agents/{agent}/deploy"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(&agent)
        .fetch_one(&platform.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2);
}

#[tokio::test]
async fn commands_answer_id_version_and_token_and_the_document_lists_them() {
    let platform = platform().await;
    let (status, created) = platform.post("acme", "/v1/agents", agent_body()).await;
    assert_eq!(status, 201);
    assert_eq!(created["version"], 1);
    assert!(!created["consistency_token"].as_str().unwrap().is_empty());
    let document: Value = platform
        .client
        .get(platform.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/agents",
        "/v1/tasks/{id}/assign",
        "/v1/conversations/{id}/replies",
        "/v1/invoices/{id}/void",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} documented");
    }
    let health = platform
        .client
        .get(platform.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = platform
        .client
        .get(platform.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({ "database": true, "broker": true }));
}

#[tokio::test]
async fn a_command_finding_no_database_connection_is_a_503_to_retry_and_changes_nothing() {
    let platform = platform().await;
    // A second command-api of the platform, whose pool someone else has taken entirely.
    let mut settings = platform.settings();
    settings.relay_enabled = false;
    let app = command_api::App::build(settings).await.unwrap();
    let pool = app.state().pool().clone();
    let url = format!("http://{}/v1/tasks", app.address());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));
    let mut taken = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        taken.push(pool.acquire().await.unwrap());
    }
    let create = || {
        platform
            .client
            .post(&url)
            .bearer_auth(platform.token("acme", &["admin"]))
            .json(&json!({ "title": "write the report" }))
            .send()
    };

    let response = create().await.unwrap();
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let (status, body) = problem(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["type"], "/problems/busy");
    assert!(
        body["detail"].as_str().unwrap().contains("not applied"),
        "{body}"
    );
    assert!(platform.stored_events().await.is_empty());

    // Once connections are free again, the same request goes through.
    drop(taken);
    let response = create().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(platform.stored_events().await.len(), 1);
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
