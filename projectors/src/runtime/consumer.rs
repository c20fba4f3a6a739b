//! The group consumer of a live projection: on partition assignment it seeks to the offsets
//! stored in PostgreSQL, never trusting the group's committed offsets.

use std::collections::HashMap;

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
pub struct SeekToStoredOffsets {
    pool: PgPool,
    generation: Generation,
}

impl ClientContext for SeekToStoredOffsets {}

impl SeekToStoredOffsets {
    /// Reads the stored offsets from inside librdkafka's callback (on a runtime worker thread).
    fn load(&self) -> Option<HashMap<PartitionKey, i64>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return None;
        }
        tokio::task::block_in_place(|| {
            handle.block_on(async { stored_offsets(&self.pool, self.generation).await.ok() })
        })
    }
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
                match self.load() {
                    Some(stored) => {
                        let keys: Vec<PartitionKey> = assignment
                            .elements()
                            .iter()
                            .map(|e| PartitionKey {
                                topic: e.topic().to_owned(),
                                partition: e.partition(),
                            })
                            .collect();
                        for key in keys {
                            // No stored offset: nothing applied yet, start at the beginning.
                            let offset = stored
                                .get(&key)
                                .map_or(Offset::Beginning, |next| Offset::Offset(*next));
                            let _ =
                                assignment.set_partition_offset(&key.topic, key.partition, offset);
                        }
                    }
                    // Without the stored offsets the group's committed ones (a hint) are used;
                    // the batch still skips anything below the stored offsets.
                    None => tracing::warn!(
                        "stored offsets unavailable at assignment; using committed offsets"
                    ),
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
) -> Result<ProjectionConsumer, ProjectorError> {
    let group = format!(
        "{}.projector.{}.g{}",
        runtime.topic_prefix, generation.projection, generation.number
    );
    let context = SeekToStoredOffsets {
        pool: runtime.pool.clone(),
        generation,
    };
    let consumer: ProjectionConsumer = ClientConfig::new()
        .set("bootstrap.servers", &runtime.brokers)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
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
