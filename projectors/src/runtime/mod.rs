//! Running a projection: consume its topics, apply batches effectively once, dead-letter
//! what cannot be applied.

mod batch;
mod consumer;
mod dead_letters;
mod offsets;
mod statistics;

use batch::is_generation_dropped;
pub use batch::{
    apply_batch, apply_decoded_batch, apply_record, decode, is_generation_dropped_code,
    BatchOutcome, Decoded, Inbound,
};
pub use consumer::{group_consumer, group_id, refresh, OffsetCache, ProjectionConsumer};
pub use dead_letters::{forward_pending, DeadLetter};
pub use offsets::{stored_offsets, PartitionKey};
pub use statistics::{analyze_stale, Analyzer};

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use messaging::consumer::Rewinds;
use messaging::StallWatch;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use schemas::RegistryCodec;
use sqlx::PgPool;
use store::WarmConnections;
use tokio_util::sync::CancellationToken;

use crate::metrics::{record_delays, Metrics};
use crate::{Generation, ProjectorError};

/// Records applied per transaction at most (fewer when fewer are ready).
pub const MAX_BATCH: usize = 500;

/// Everything a running projection needs.
#[derive(Clone)]
pub struct Runtime {
    pub pool: PgPool,
    pub codec: Arc<RegistryCodec>,
    pub producer: FutureProducer,
    pub brokers: String,
    pub topic_prefix: String,
    pub metrics: Metrics,
}

/// How often an idle runner looks for partitions that nobody moves forward
/// ([`StallWatch`]).
const STALL_CHECK_EVERY: Duration = Duration::from_secs(10);

/// Why a live runner returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    Shutdown,
    /// A rebuild made another generation live: restart on it.
    Swapped,
}

/// Runs the live generation of a projection as a member of its consumer group until shutdown
/// or until a rebuild swaps generations.
///
/// # Errors
/// On broker or database failures the caller retries.
pub async fn run_live(
    runtime: &Runtime,
    generation: Generation,
    shutdown: &CancellationToken,
) -> Result<Stopped, ProjectorError> {
    // The runner's connection is kept between rounds (sqlx 0.8 pings every connection handed
    // back to its pool: a round trip per round); it goes back to the pool when the pool has
    // no other to give, so the runners of a small pool take turns instead of starving.
    let connections = WarmConnections::new(runtime.pool.clone(), 1);
    let known = OffsetCache::default();
    let mut session = connections.acquire().await?;
    if refresh(&known, &mut session, generation).await? != Some(generation.number) {
        return Ok(Stopped::Swapped);
    }
    session.finish();
    let consumer = group_consumer(runtime, generation, known.clone())?;
    forward_pending(runtime, generation.projection).await?;
    let mut analyzer = Analyzer::new(runtime.pool.clone(), generation);
    let mut rewinds = Rewinds::default();
    let mut stalls = StallWatch::new(STALL_CHECK_EVERY);
    let mut batches = consumer.stream().ready_chunks(MAX_BATCH);
    tracing::info!(projection = %generation.projection, generation = generation.number, "projection running");
    loop {
        let chunk = tokio::select! {
            chunk = batches.next() => chunk,
            () = shutdown.cancelled() => return Ok(Stopped::Shutdown),
            // Idle: still notice a swap made by a rebuild.
            () = tokio::time::sleep(Duration::from_secs(1)) => Some(Vec::new()),
        };
        let Some(chunk) = chunk else {
            return Ok(Stopped::Shutdown);
        };
        let messages = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
        let inbound: Vec<Inbound<'_>> = messages.iter().map(Inbound::from_message).collect();
        let mut session = connections.acquire().await?;
        let outcome = if inbound.is_empty() {
            None
        } else {
            // A rebuild may have swapped since the last round: the batch then goes to a
            // generation no longer read (wasted, not wrong: the new one applies the records
            // from its own offsets), and the check below ends this runner. If the rebuild
            // dropped it already, nothing of the batch was committed.
            match apply_batch(runtime, &mut session, generation, &inbound, None, true).await {
                Err(error) if is_generation_dropped(&error) => return Ok(Stopped::Swapped),
                other => {
                    let outcome = other?;
                    record_delays(generation.projection, &outcome);
                    Some(outcome)
                }
            }
        };
        // The swap check rides on the offsets' refresh: one statement per round.
        let live = refresh(&known, &mut session, generation).await?;
        session.finish();
        if let Some(outcome) = &outcome {
            rewinds.progressed(outcome.next_offsets.keys());
            rewinds.rewind(&consumer, &outcome.rewind);
            runtime.metrics.record(generation.projection, outcome);
            analyzer.maybe_start();
            commit_hint(&consumer, outcome)?;
            if outcome.dead_letters > 0 {
                forward_pending(runtime, generation.projection).await?;
            }
        }
        if live != Some(generation.number) {
            return Ok(Stopped::Swapped);
        }
        if outcome.is_none() {
            let label = generation.projection.as_str();
            let stored = known.snapshot();
            stalls
                .check(&consumer, &runtime.brokers, &stored, label)
                .await;
        }
    }
}

/// Tells the group how far we got (a hint for the next member; PostgreSQL stays the truth).
fn commit_hint(
    consumer: &ProjectionConsumer,
    outcome: &BatchOutcome,
) -> Result<(), ProjectorError> {
    if outcome.next_offsets.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    for (key, next) in &outcome.next_offsets {
        list.add_partition_offset(&key.topic, key.partition, Offset::Offset(*next))?;
    }
    consumer.commit(&list, CommitMode::Async)?;
    Ok(())
}
