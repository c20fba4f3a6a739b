//! Command → projection → query API: a query carrying the command's consistency token sees
//! the write, and everything a client can command it can read back.

use std::time::Duration;

use projectors::service::Service;
use projectors::ProjectionName;
use serde_json::{json, Value};
use tests::{projector_settings, Platform, PlatformOptions, JWT_SECRET};
use tokio_util::sync::CancellationToken;

async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    consistency: &str,
) -> (u16, String, Value) {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-consistency-token", consistency)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let freshness = response
        .headers()
        .get("x-consistency")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        freshness,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_query_with_the_commands_token_reads_its_write() {
    let platform = Platform::start("ryw", PlatformOptions::default()).await;
    let projectors = Service::build(&projector_settings(&platform), ProjectionName::ALL.to_vec())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(projectors.run(stop.clone()));
    let mut query_settings = query_api::Settings::for_database(&platform.database_url, JWT_SECRET);
    query_settings.database_max_connections = 5;
    let query_api = query_api::App::build(query_settings).await.unwrap();
    let base = format!("http://{}", query_api.address());
    let serving = tokio::spawn(query_api.run(stop.clone()));
    let viewer = platform.token("acme", &["viewer"]);

    let (status, created) = platform
        .post("acme", "/v1/agents", json!({ "name": "Ada", "industry": "legal", "provider": "anthropic", "model": "claude-sonnet-4" }))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    let (status, freshness, agent) = get(
        &platform.client,
        &base,
        &format!("/v1/agents/{id}"),
        &viewer,
        created["consistency_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!((status, freshness.as_str()), (200, "fresh"), "{agent}");
    assert_eq!(agent["name"], "Ada");
    assert_eq!(agent["status"], "draft");

    let (_, deployed) = platform
        .post("acme", &format!("/v1/agents/{id}/deploy"), json!({}))
        .await;
    let (_, task) = platform
        .post("acme", "/v1/tasks", json!({ "title": "Draft a contract" }))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let (_, assigned) = platform
        .post(
            "acme",
            &format!("/v1/tasks/{task_id}/assign"),
            json!({ "agent_id": id }),
        )
        .await;
    let token = deployed["consistency_token"].as_str().unwrap();
    let (_, freshness, agent) = get(
        &platform.client,
        &base,
        &format!("/v1/agents/{id}"),
        &viewer,
        token,
    )
    .await;
    assert_eq!(
        (freshness.as_str(), agent["status"].as_str()),
        ("fresh", Some("deployed"))
    );
    let token = assigned["consistency_token"].as_str().unwrap();
    let (_, freshness, task) = get(
        &platform.client,
        &base,
        &format!("/v1/tasks/{task_id}"),
        &viewer,
        token,
    )
    .await;
    assert_eq!(freshness, "fresh");
    assert_eq!(task["status"], "assigned");
    assert_eq!(task["history"].as_array().map(Vec::len), Some(2));

    // Another tenant sees nothing of it.
    let other = platform.token("globex", &["viewer"]);
    let (status, _, _) = get(
        &platform.client,
        &base,
        &format!("/v1/agents/{id}"),
        &other,
        token,
    )
    .await;
    assert_eq!(status, 404);
    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        let _ = running.await;
        let _ = serving.await;
    })
    .await;
}
