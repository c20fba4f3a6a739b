//! The group consumer of a live projection: on partition assignment it seeks to the offsets
//! stored in PostgreSQL, never trusting the group's committed offsets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::PgPool;

use super::offsets::{stored_offsets, PartitionKey};
use super::Runtime;
use crate::projections::topics;
use crate::{Generation, ProjectorError};

pub type ProjectionConsumer = StreamConsumer<SeekToStoredOffsets>;

/// Rebalance handling that positions newly assigned partitions at the stored offsets.
///
/// librdkafka calls this while the consumer is polled, so it must not wait on I/O: it reads
/// a copy of the stored offsets that the runner refreshes from PostgreSQL after every batch
/// and every idle second. A copy a moment stale only starts a partition a little early; the
/// batch then skips what is below the offsets it reads under lock.
pub struct SeekToStoredOffsets {
    known: OffsetCache,
    generation: Generation,
}

/// The runner's latest knowledge of the stored offsets.
pub type OffsetCache = Arc<Mutex<HashMap<PartitionKey, i64>>>;

impl ClientContext for SeekToStoredOffsets {}

impl SeekToStoredOffsets {
    fn load(&self) -> HashMap<PartitionKey, i64> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Replaces the cached offsets with what PostgreSQL holds now.
///
/// # Errors
/// On database failure.
pub async fn refresh(
    cache: &OffsetCache,
    pool: &PgPool,
    generation: Generation,
) -> Result<(), ProjectorError> {
    let stored = stored_offsets(pool, generation).await?;
    *cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = stored;
    Ok(())
}

impl ConsumerContext for SeekToStoredOffsets {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        assignment: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let stored = self.load();
                let keys: Vec<PartitionKey> = assignment
                    .elements()
                    .iter()
                    .map(|e| PartitionKey {
                        topic: e.topic().to_owned(),
                        partition: e.partition(),
                    })
                    .collect();
                for key in keys {
                    // Not in the copy: the group's committed offset (never ahead of the stored
                    // one) or the beginning; the batch skips what was applied.
                    if let Some(next) = stored.get(&key) {
                        let _ = assignment.set_partition_offset(
                            &key.topic,
                            key.partition,
                            Offset::Offset(*next),
                        );
                    }
                }
                tracing::info!(partitions = assignment.count(), projection = %self.generation.projection, "partitions assigned");
                if let Err(error) = consumer.assign(assignment) {
                    tracing::error!(%error, "assigning partitions failed");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(projection = %self.generation.projection, "partitions revoked");
                if let Err(error) = consumer.unassign() {
                    tracing::error!(%error, "unassigning partitions failed");
                }
            }
            other => tracing::error!(?other, "rebalance error"),
        }
    }
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
    let group = format!(
        "{}.projector.{}.g{}",
        runtime.topic_prefix, generation.projection, generation.number
    );
    let context = SeekToStoredOffsets { known, generation };
    let consumer: ProjectionConsumer = ClientConfig::new()
        .set("bootstrap.servers", &runtime.brokers)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
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
