//! A partner with only the registry and the topics decodes everything with Python's
//! confluent-kafka AvroDeserializer (an off-the-shelf client, not ours).

use std::process::Command;
use std::time::Duration;

use tests::{Platform, PlatformOptions};

use crate::support::every_event_type;

#[tokio::test]
async fn python_confluent_kafka_decodes_every_record_on_every_topic() {
    let platform = Platform::start("python", PlatformOptions::default()).await;
    let events = every_event_type(&platform, "acme").await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/decode_all.py");
    let (brokers, registry, prefix) = (
        platform.brokers.clone(),
        platform.registry.url().to_owned(),
        platform.topic_prefix.clone(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([
                script,
                "--brokers",
                &brokers,
                "--registry",
                &registry,
                "--prefix",
                &prefix,
            ])
            .args(["--expect", &events.to_string()])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "decode_all.py failed:\n{stdout}\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON summary");
    assert_eq!(summary["decoded"], events);
    assert_eq!(
        summary["event_types"].as_array().unwrap().len(),
        schemas::EVENT_SCHEMAS.len()
    );
    assert_eq!(summary["topics"].as_array().unwrap().len(), 4);
}
