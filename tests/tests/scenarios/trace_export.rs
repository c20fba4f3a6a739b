//! OTLP export, switched on by the standard `OTEL_*` variables: a command-api process sends
//! its spans to the configured collector (here a stand-in OTLP/HTTP receiver on loopback),
//! and the request's span carries the caller's trace id.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use serde_json::json;
use tests::{command_api_binary, free_port, KillOnDrop, Platform, PlatformOptions};

/// Bodies POSTed to `/v1/traces`.
type Received = Arc<Mutex<Vec<Vec<u8>>>>;

async fn otlp_receiver() -> (String, Received) {
    let received = Received::default();
    let sink = received.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.to_vec());
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}"), received)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spans_are_exported_over_otlp_with_the_callers_trace_id() {
    let platform = Platform::start(
        "otlp",
        PlatformOptions {
            relay_enabled: false,
            ..PlatformOptions::default()
        },
    )
    .await;
    let (collector, received) = otlp_receiver().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let _process = Command::new(command_api_binary())
        .envs(platform.environment(&listen))
        .env("RELAY_ENABLED", "false")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
        .env("OTEL_SERVICE_NAME", "command-api-under-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(KillOnDrop)
        .expect("command-api starts");
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("{base}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "command-api did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let created = client
        .post(format!("{base}/v1/tasks"))
        .bearer_auth(platform.token("acme", &["operator"]))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "title": "traced" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // The OTLP protobuf carries trace ids as 16 raw bytes, and the service name as text.
    let wanted = hex_bytes(&trace_id);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let bodies = received.lock().unwrap().clone();
        let exported = bodies
            .iter()
            .any(|b| b.windows(wanted.len()).any(|w| w == wanted.as_slice()));
        if exported {
            assert!(bodies.iter().any(|b| b
                .windows(b"command-api-under-test".len())
                .any(|w| w == b"command-api-under-test")));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no span with trace id {trace_id} was exported ({} export requests seen)",
            bodies.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
