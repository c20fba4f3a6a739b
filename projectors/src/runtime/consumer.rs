//! The group consumer of a live projection: on partition assignment it seeks to the offsets
//! stored in PostgreSQL, never trusting the group's committed offsets.

pub use messaging::consumer::OffsetCache;
use messaging::consumer::SeekToStoredOffsets;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::ClientConfig;
use sqlx::PgConnection;

use super::offsets::live_and_stored_offsets;
use super::Runtime;
use crate::projections::topics;
use crate::{Generation, ProjectorError};

pub type ProjectionConsumer = StreamConsumer<SeekToStoredOffsets>;

/// Replaces the cached offsets with what PostgreSQL holds now; returns the generation live
/// now (`None` when the projection has none), read in the same statement.
///
/// # Errors
/// On database failure.
pub async fn refresh(
    cache: &OffsetCache,
    db: &mut PgConnection,
    generation: Generation,
) -> Result<Option<i32>, ProjectorError> {
    let (live, offsets) = live_and_stored_offsets(db, generation).await?;
    cache.replace(offsets);
    Ok(live)
}

/// The consumer group of a generation's live runners.
pub fn group_id(topic_prefix: &str, generation: Generation) -> String {
    format!(
        "{topic_prefix}.projector.{}.g{}",
        generation.projection, generation.number
    )
}

/// A consumer in the generation's group, subscribed to the projection's topics.
///
/// # Errors
/// When the consumer cannot be created or subscribed.
pub fn group_consumer(
    runtime: &Runtime,
    generation: Generation,
    known: OffsetCache,
) -> Result<ProjectionConsumer, ProjectorError> {
    let group = group_id(&runtime.topic_prefix, generation);
    let context = SeekToStoredOffsets::new(known, format!("projection {}", generation.projection));
    let consumer: ProjectionConsumer = ClientConfig::new()
        .set("bootstrap.servers", &runtime.brokers)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        // The rebalance timeout the group coordinator waits for members to rejoin: a member
        // SIGKILLed mid-rebalance otherwise holds its partitions for the 5-minute default.
        .set("max.poll.interval.ms", "30000")
        // Tansu holds a fetch for the whole wait even when records are there: keep it short.
        .set("fetch.wait.max.ms", "10")
        .set("topic.metadata.refresh.interval.ms", "5000")
        .create_with_context(context)?;
    let names: Vec<String> = topics(generation.projection)
        .iter()
        .map(|t| t.name(&runtime.topic_prefix))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    consumer.subscribe(&names)?;
    Ok(consumer)
}
