//! One trace from the REST call into the projections: the projector's span for an event
//! continues the trace of the request that caused it (W3C `traceparent` carried in the event
//! metadata and the Kafka record headers), and its JSON log line names that trace id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let stderr_path = std::env::temp_dir().join(format!("trace-projector-{agent}.log"));
    let stderr = std::fs::File::create(&stderr_path).expect("a log file for the projector");
    let mut child = Command::new(workspace_binary("projectors"))
        .args(["run", "--projection", "agents"])
        .env("PROJECTORS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &settings.database_url)
        .env("KAFKA_BROKERS", &settings.kafka_brokers)
        .env("SCHEMA_REGISTRY_URL", &settings.schema_registry_url)
        .env("TOPIC_PREFIX", &settings.topic_prefix)
        .env("RUST_LOG", "info,projectors::runtime=debug")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("projectors starts");
    let stdout = child.stdout.take().unwrap();
    let _process = KillOnDrop(child);
    // Every line read so far, so a failure shows what the projector was doing.
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let wanted = agent.clone();
    let read = lines.clone();
    let seen = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let log = serde_json::from_str::<Value>(&line).ok();
            read.lock().unwrap().push(line);
            let Some(log) = log else { continue };
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
        }
        None
    });
    // Generous: under a full parallel test run the projector's start (migrations, topics,
    // consumer group join) competes with every other test for two cores.
    let Ok(seen) = tokio::time::timeout(Duration::from_secs(180), seen).await else {
        let logged = lines.lock().unwrap().join("\n");
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        panic!(
            "the projector did not log the event in 180 s; stdout:\n{logged}\nstderr:\n{stderr}"
        );
    };
    let seen = seen.unwrap();
    let _ = std::fs::remove_file(&stderr_path);
    assert_eq!(
        seen.as_deref(),
        Some(trace_id.as_str()),
        "the projector's span names the request's trace; stdout:\n{}",
        lines.lock().unwrap().join("\n")
    );
}
