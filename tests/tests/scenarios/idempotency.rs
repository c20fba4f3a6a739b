//! Idempotency-Key: a retry returns the first answer and changes nothing.

use serde_json::{json, Value};
use tests::{Platform, PlatformOptions};

use crate::support::agent_body;

async fn post_with_key(platform: &Platform, key: &str, body: &Value) -> (u16, Value) {
    let response = platform
        .client
        .post(platform.url("/v1/agents"))
        .bearer_auth(platform.token("acme", &["operator"]))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn agents_stored(platform: &Platform) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'agent'")
        .fetch_one(&platform.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retried_command_returns_the_first_answer() {
    let platform = Platform::start(
        "idem",
        PlatformOptions {
            relay_enabled: false,
            ..Default::default()
        },
    )
    .await;
    let first = post_with_key(&platform, "create-ada", &agent_body()).await;
    let retry = post_with_key(&platform, "create-ada", &agent_body()).await;
    assert_eq!(first.0, 201);
    assert_eq!(retry, first);
    assert_eq!(agents_stored(&platform).await, 1);

    let mut different = agent_body();
    different["name"] = json!("Bob");
    let (status, problem) = post_with_key(&platform, "create-ada", &different).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(agents_stored(&platform).await, 1);
}

#[tokio::test]
async fn concurrent_retries_run_the_command_once() {
    let platform = Platform::start(
        "idemrace",
        PlatformOptions {
            relay_enabled: false,
            ..Default::default()
        },
    )
    .await;
    let body = agent_body();
    let attempts = (0..8).map(|_| post_with_key(&platform, "race", &body));
    let answers = futures::future::join_all(attempts).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|(_, body)| body["id"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert!(
        answers.iter().all(|(status, _)| *status == 201),
        "{answers:?}"
    );
    assert_eq!(ids.len(), 1, "every retry got the same id: {answers:?}");
    assert_eq!(agents_stored(&platform).await, 1);
}
