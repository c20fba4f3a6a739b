//! SIGKILL the command-api (and its relay) in the middle of a stream of commands: no
//! acknowledged command is lost, and every stored event reaches its topic.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tests::{
    command_api_binary, free_port, read_all_records, KillOnDrop, Platform, PlatformOptions,
};
use tokio_util::sync::CancellationToken;

use crate::publishing::assert_topics_hold_the_store;

fn spawn(platform: &Platform, listen: &str) -> KillOnDrop {
    Command::new(command_api_binary())
        .envs(platform.environment(listen))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(KillOnDrop)
        .expect("command-api starts")
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("command-api at {base} did not become healthy");
}

/// One client: create a task, then cancel it, until stopped; records what was acknowledged.
async fn client_loop(
    platform: Arc<Platform>,
    base: String,
    stop: CancellationToken,
    acked: Arc<Mutex<Vec<(String, u64)>>>,
) {
    let token = platform.token("acme", &["operator"]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    while !stop.is_cancelled() {
        let Ok(created) = http
            .post(format!("{base}/v1/tasks"))
            .bearer_auth(&token)
            .json(&json!({ "title": "t" }))
            .send()
            .await
        else {
            continue;
        };
        if created.status() != 201 {
            continue;
        }
        let Ok(body) = created.json::<serde_json::Value>().await else {
            continue;
        };
        let id = body["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().push((id.clone(), 1));
        let cancelled = http
            .post(format!("{base}/v1/tasks/{id}/cancel"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await;
        if cancelled.is_ok_and(|r| r.status() == 200) {
            acked.lock().unwrap().push((id, 2));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_stream_loses_no_acknowledged_command() {
    let platform = Arc::new(
        Platform::start(
            "crash",
            PlatformOptions {
                relay_enabled: false,
                ..Default::default()
            },
        )
        .await,
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let mut process = spawn(&platform, &listen);
    wait_healthy(&platform.client, &base).await;

    let stop = CancellationToken::new();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(client_loop(
                platform.clone(),
                base.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    process.kill(); // SIGKILL
    stop.cancel();
    for client in clients {
        client.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the stream was running when the process died ({} acks)",
        acked.len()
    );

    // Every acknowledged command is in the store.
    for (id, version) in &acked {
        let stored: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(sequence), 0) FROM events WHERE aggregate_id = $1",
        )
        .bind(id)
        .fetch_one(&platform.pool)
        .await
        .unwrap();
        assert!(
            stored >= *version as i64,
            "acknowledged {id} v{version} lost (stored v{stored})"
        );
    }

    // The restarted process's relay publishes what the killed one had not.
    let mut restarted = spawn(&platform, &listen);
    wait_healthy(&platform.client, &base).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    let stored = platform.stored_events().await;
    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        stored.len(),
        Duration::from_secs(90),
    )
    .await;
    assert_topics_hold_the_store(&stored, &records);
    restarted.kill();
}
