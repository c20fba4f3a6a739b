//! A record that cannot be decoded goes to the dead-letter queue; the rest is applied.

use std::time::Duration;

use projectors::service::Service;
use projectors::ProjectionName;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tests::{projector_settings, read_topics, Platform, PlatformOptions};
use tokio_util::sync::CancellationToken;

use crate::support::{count, history};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_record_lands_in_the_dlq_and_the_rest_is_applied() {
    let platform = Platform::start("projdlq", PlatformOptions::default()).await;
    history(&platform, 10, 0).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    let tasks_topic = format!("{}.tasks", platform.topic_prefix);
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &platform.brokers)
        .create()
        .unwrap();
    let poison = FutureRecord::to(&tasks_topic)
        .key("not-an-aggregate")
        .payload(&b"\x00\x00\x00\x00\x2anot avro"[..]);
    producer
        .send(poison, Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    history(&platform, 10, 0).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;

    let service = Service::build(&projector_settings(&platform), vec![ProjectionName::Tasks])
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(service.run(stop.clone()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count(&platform, ProjectionName::Tasks, "tasks").await < 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "the records after the poison were not applied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let letters = projectors::dlq::list(&platform.pool, Some(ProjectionName::Tasks))
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].topic, tasks_topic);
    assert!(
        letters[0].error.contains("cannot decode"),
        "{}",
        letters[0].error
    );

    // Forwarded to <prefix>.dlq.tasks with the error and origin in headers.
    let dlq_topic = format!("{}.dlq.tasks", platform.topic_prefix);
    let dlq = read_topics(&platform.brokers, &[dlq_topic], 1, Duration::from_secs(30)).await;
    assert_eq!(dlq.len(), 1);
    assert!(dlq[0]
        .header("error")
        .is_some_and(|e| e.contains("cannot decode")));
    assert_eq!(dlq[0].header("original_topic"), Some(tasks_topic.as_str()));
    assert_eq!(
        dlq[0].header("original_offset"),
        Some(letters[0].offset.to_string().as_str())
    );
    let forwarded: bool =
        sqlx::query_scalar("SELECT forwarded FROM projection_dead_letters WHERE id = $1")
            .bind(letters[0].id)
            .fetch_one(&platform.pool)
            .await
            .unwrap();
    assert!(forwarded, "the dead letter was published to the DLQ topic");

    // Retrying a record that still cannot be decoded keeps it listed.
    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    assert!(!projectors::dlq::retry(&runtime, letters[0].id)
        .await
        .unwrap());
    assert_eq!(
        projectors::dlq::list(&platform.pool, None)
            .await
            .unwrap()
            .len(),
        1
    );
    stop.cancel();
    running.await.unwrap().unwrap();
}
