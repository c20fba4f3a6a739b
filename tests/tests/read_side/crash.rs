//! A projector SIGKILLed mid-stream and restarted ends with read models identical to an
//! uninterrupted build (which a rebuild from offset 0 produces and checks table by table).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use projectors::ProjectionName;
use tests::{projector_settings, workspace_binary, KillOnDrop, Platform, PlatformOptions};

use crate::support::{caught_up, count, history};

fn spawn(platform: &Platform) -> KillOnDrop {
    let settings = projector_settings(platform);
    Command::new(workspace_binary("projectors"))
        .arg("run")
        .env("PROJECTORS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &settings.database_url)
        .env("KAFKA_BROKERS", &settings.kafka_brokers)
        .env("SCHEMA_REGISTRY_URL", &settings.schema_registry_url)
        .env("TOPIC_PREFIX", &settings.topic_prefix)
        .env("RUST_LOG", "warn,projectors=info,messaging=info")
        // Its log, into the test's captured output (shown when the test fails).
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map(KillOnDrop)
        .expect("projectors starts")
}

async fn applied(platform: &Platform) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(next_offset), 0)::bigint FROM projection_offsets")
        .fetch_one(&platform.pool)
        .await
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_stream_then_restart_matches_an_uninterrupted_build() {
    let platform = Platform::start("projkill", PlatformOptions::default()).await;
    let events = history(&platform, 400, 200).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    projectors::generations::migrate(&platform.pool)
        .await
        .unwrap();

    let mut process = spawn(&platform);
    let deadline = Instant::now() + Duration::from_secs(60);
    while applied(&platform).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the projector never applied a batch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.kill(); // SIGKILL

    let mut restarted = spawn(&platform);
    caught_up(&platform, Duration::from_secs(120)).await;
    restarted.kill();

    assert_eq!(count(&platform, ProjectionName::Tasks, "tasks").await, 400);
    assert_eq!(
        count(&platform, ProjectionName::Audit, "audit_events").await,
        events as i64
    );
    assert_eq!(
        count(&platform, ProjectionName::Conversations, "messages").await,
        200
    );
    // A rebuild from offset 0 with no interruption must produce exactly the same rows.
    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    for projection in ProjectionName::ALL {
        projectors::rebuild::rebuild(&runtime, projection, false)
            .await
            .unwrap_or_else(|error| {
                panic!("{projection} differs from an uninterrupted build: {error}")
            });
    }
}
