//! Producer and topic setup. Nothing here knows which broker it talks to (Tansu or Apache Kafka).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use schemas::Topic;

use crate::MessagingError;

/// Where the brokers are and how topics are made.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    pub brokers: String,
    pub topic_prefix: String,
    pub partitions: i32,
    pub replication: i32,
    /// How long the producer keeps retrying one record before reporting it failed; the relay
    /// then backs off and publishes the row again.
    pub message_timeout: Duration,
}

/// A producer with `enable.idempotence` and `acks=all`: no duplicates from its own retries and
/// records of one partition kept in produce order.
///
/// # Errors
/// When the configuration is refused.
pub fn idempotent_producer(settings: &KafkaSettings) -> Result<FutureProducer, MessagingError> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // 5 ms rather than 2: at a few hundred records a second that makes batches of a few
        // records instead of one each, and every batch is a request to the broker and, on
        // Tansu, an object that each consumer's fetch lists again. In `bench visible` at
        // 500 commands/s the broker's acknowledgement p99 fell from 23-49 ms to 20-27 ms, and
        // the read side's p99 with it, while `bench commands` published no later (docs/benchmarks.md).
        .set("linger.ms", "5")
        .set(
            "message.timeout.ms",
            settings.message_timeout.as_millis().to_string(),
        )
        .set("socket.keepalive.enable", "true")
        .create()?)
}

/// Creates the four topics with retention forever (they are the replayable log); topics
/// that exist are left as they are.
///
/// # Errors
/// When the broker is unreachable or refuses for another reason than "exists".
pub async fn ensure_topics(settings: &KafkaSettings) -> Result<(), MessagingError> {
    let names: Vec<String> = Topic::ALL
        .iter()
        .map(|t| t.name(&settings.topic_prefix))
        .collect();
    ensure_named_topics(settings, &names).await
}

/// Creates the named topics (retention forever) unless they exist.
///
/// # Errors
/// When the broker is unreachable or refuses for another reason than "exists".
pub async fn ensure_named_topics(
    settings: &KafkaSettings,
    names: &[String],
) -> Result<(), MessagingError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .create()?;
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            NewTopic::new(
                name,
                settings.partitions,
                TopicReplication::Fixed(settings.replication),
            )
            .set("retention.ms", "-1")
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(MessagingError::Kafka(rdkafka::error::KafkaError::AdminOp(
                    code,
                )))
                .inspect_err(|_| tracing::error!(%topic, ?code, "topic creation failed"));
            }
        }
    }
    Ok(())
}
