//! One trace from the REST call into the projections: the projector's span for an event
//! continues the trace of the request that caused it (W3C `traceparent` carried in the event
//! metadata and the Kafka record headers), and its JSON log line names that trace id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{projector_settings, workspace_binary, KillOnDrop, Platform, PlatformOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_projector_continues_the_trace_of_the_request() {
    let platform = Platform::start("trace", PlatformOptions::default()).await;
    projectors::generations::migrate(&platform.pool)
        .await
        .unwrap();
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let response = platform
        .client
        .post(platform.url("/v1/agents"))
        .bearer_auth(platform.token("acme", &["admin"]))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"name": "Traced", "industry": "retail", "provider": "openai", "model": "gpt-4o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let agent = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored: String = sqlx::query_scalar(
        "SELECT metadata::jsonb ->> 'traceparent' FROM events WHERE aggregate_id = $1",
    )
    .bind(&agent)
    .fetch_one(&platform.pool)
    .await
    .unwrap();
    assert_eq!(
        ::platform::trace::trace_id_of(&stored),
        Some(trace_id.as_str())
    );

    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;

    let settings = projector_settings(&platform);
    let mut child = Command::new(workspace_binary("projectors"))
        .args(["run", "--projection", "agents"])
        .env("PROJECTORS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &settings.database_url)
        .env("KAFKA_BROKERS", &settings.kafka_brokers)
        .env("SCHEMA_REGISTRY_URL", &settings.schema_registry_url)
        .env("TOPIC_PREFIX", &settings.topic_prefix)
        .env("RUST_LOG", "warn,projectors::runtime=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("projectors starts");
    let stdout = child.stdout.take().unwrap();
    let _process = KillOnDrop(child);
    let wanted = agent.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(log) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if log["fields"]["message"] == "event projected"
                && log["span"]["aggregate_id"] == wanted.as_str()
            {
                return Some(
                    log["span"]["trace_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            if Instant::now() > deadline {
                break;
            }
        }
        None
    });
    let seen = tokio::time::timeout(Duration::from_secs(90), seen)
        .await
        .expect("the projector logged the event in time")
        .unwrap();
    assert_eq!(seen.as_deref(), Some(trace_id.as_str()));
}
