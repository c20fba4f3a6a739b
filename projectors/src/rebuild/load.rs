//! A rebuild's bulk phase: every record up to the high watermarks taken at the start, read
//! from the broker and decoded ONCE for all the projections rebuilt together, and applied to
//! each one's new generation. Six projections read 3.5 records per event between them (a
//! task event is an agents, tasks, usage and audit record), and reading and decoding each
//! separately was a good part of a full rebuild's CPU (docs/benchmarks.md).

use std::collections::HashMap;
use std::time::Duration;

use futures::{Stream, StreamExt};
use indicatif::ProgressBar;
use messaging::consumer::Rewinds;
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Message};

use super::{assigned_consumer, seek_back};
use crate::runtime::{
    apply_decoded_batch, decode, BatchOutcome, Decoded, Inbound, PartitionKey, Runtime,
};
use crate::{Generation, ProjectorError};

/// A new generation to load, and the offset it must reach in each partition it reads.
#[derive(Debug)]
pub(super) struct Target {
    pub generation: Generation,
    pub until: HashMap<PartitionKey, i64>,
}

/// Records read per round at most. A round's records are split among the projections by
/// topic, so the larger projections apply about half of them, or the whole for audit, in one
/// transaction.
const ROUND: usize = 4_000;

/// Loads every target up to its offsets; the events each applied, in the targets' order.
///
/// # Errors
/// On broker or database failure (what was committed stays, the new generations are not
/// swapped in).
pub(super) async fn load_all(
    runtime: &Runtime,
    targets: &[Target],
    bar: &ProgressBar,
) -> Result<Vec<usize>, ProjectorError> {
    let partitions = union(targets);
    let records: i64 = partitions.values().sum();
    let loads = shares(&partitions, loaders(records))
        .into_iter()
        .map(|share| load(runtime, targets, share, bar));
    let per_loader = futures::future::try_join_all(loads).await?;
    Ok((0..targets.len())
        .map(|target| per_loader.iter().map(|events| events[target]).sum())
        .collect())
}

/// Every partition any target reads, with the farthest offset one of them must reach.
pub(super) fn union(targets: &[Target]) -> HashMap<PartitionKey, i64> {
    let mut partitions: HashMap<PartitionKey, i64> = HashMap::new();
    for target in targets {
        for (key, until) in &target.until {
            let farthest = partitions.entry(key.clone()).or_insert(0);
            *farthest = (*farthest).max(*until);
        }
    }
    partitions
}

/// Loaders of one rebuild, each with its own consumer and its own share of the partitions.
/// Partitions are independent (an aggregate's records are all in one, and the runtime
/// already lets the members of a group apply theirs side by side), and a loader alternates
/// between decoding a round and waiting for the database to write it: with several, one
/// decodes while the others' rounds are written. A larger history gets more, so that the
/// loaders finish close together instead of one left loading alone, with the machine half
/// idle, after the others have finished.
fn loaders(records: i64) -> usize {
    const RECORDS_PER_LOADER: u64 = 250_000;
    const MIN_LOADERS: usize = 2;
    const MAX_LOADERS: usize = 4;
    let records = u64::try_from(records).unwrap_or(0);
    let wanted = usize::try_from(records.div_ceil(RECORDS_PER_LOADER)).unwrap_or(MAX_LOADERS);
    wanted.clamp(MIN_LOADERS, MAX_LOADERS)
}

/// Splits the partitions into at most `n` shares of about as many records each (the largest
/// partition first, each onto the share with the fewest records so far).
fn shares(targets: &HashMap<PartitionKey, i64>, n: usize) -> Vec<HashMap<PartitionKey, i64>> {
    let mut partitions: Vec<(&PartitionKey, &i64)> = targets.iter().collect();
    partitions.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut shares: Vec<(i64, HashMap<PartitionKey, i64>)> = vec![(0, HashMap::new()); n.max(1)];
    for (key, target) in partitions {
        if let Some((records, share)) = shares.iter_mut().min_by_key(|(records, _)| *records) {
            *records += target;
            share.insert(key.clone(), *target);
        }
    }
    shares
        .into_iter()
        .map(|(_, share)| share)
        .filter(|share| !share.is_empty())
        .collect()
}

/// Where each target stands in one loader's partitions: the next offset to apply.
struct Positions {
    /// Per target, its partitions of this share.
    next: Vec<HashMap<PartitionKey, i64>>,
}

impl Positions {
    /// A new generation has applied nothing: every partition starts at 0.
    fn start(targets: &[Target], share: &HashMap<PartitionKey, i64>) -> Self {
        let next = targets
            .iter()
            .map(|target| {
                target
                    .until
                    .keys()
                    .filter(|key| share.contains_key(*key))
                    .map(|key| (key.clone(), 0))
                    .collect()
            })
            .collect();
        Self { next }
    }

    fn reached(&self, targets: &[Target]) -> bool {
        self.reached_with(targets, &HashMap::new())
    }

    /// Whether every target reaches its offsets once `round` is applied.
    fn reached_after(&self, targets: &[Target], round: &Round<'_>) -> bool {
        self.reached_with(targets, &round.ends())
    }

    fn reached_with(&self, targets: &[Target], ends: &HashMap<PartitionKey, i64>) -> bool {
        self.next.iter().zip(targets).all(|(next, target)| {
            next.iter().all(|(key, offset)| {
                let at = (*offset).max(ends.get(key).copied().unwrap_or(0));
                at >= target.until.get(key).copied().unwrap_or(0)
            })
        })
    }

    /// Records every target has applied, summed over the partitions (for the progress bar).
    fn applied_by_all(&self) -> i64 {
        let mut least: HashMap<&PartitionKey, i64> = HashMap::new();
        for next in &self.next {
            for (key, offset) in next {
                let entry = least.entry(key).or_insert(*offset);
                *entry = (*entry).min(*offset);
            }
        }
        least.values().sum()
    }
}

/// Applies the records of `share`'s partitions from offset 0 until every target has reached
/// its offsets; the events each target applied. The next round is read and decoded while the
/// current one is written, so that the loader's decoding and the database's writing overlap.
async fn load(
    runtime: &Runtime,
    targets: &[Target],
    share: HashMap<PartitionKey, i64>,
    bar: &ProgressBar,
) -> Result<Vec<usize>, ProjectorError> {
    let consumer = assigned_consumer(runtime, &share.keys().map(|k| (k.clone(), 0)).collect())?;
    let mut positions = Positions::start(targets, &share);
    let mut events = vec![0; targets.len()];
    let mut rewinds = Rewinds::default();
    let mut shown = 0;
    let mut stream = consumer.stream().ready_chunks(ROUND);
    let mut ahead = None;
    while !positions.reached(targets) {
        let round = match ahead.take() {
            Some(round) => round,
            None => match read(runtime, &mut stream).await? {
                Some(round) => round,
                None => continue,
            },
        };
        // The last round reads nothing ahead: nothing more is wanted, and the read would wait.
        let outcomes = if positions.reached_after(targets, &round) {
            apply_round(runtime, targets, &positions, &round).await?
        } else {
            let (outcomes, next) = tokio::join!(
                apply_round(runtime, targets, &positions, &round),
                read(runtime, &mut stream)
            );
            ahead = next?;
            outcomes?
        };
        // Partitions whose records started past what a target applied: the consumer goes
        // back to the earliest such offset, and the targets that had applied them skip them
        // (a round read ahead before the seek may ask again; it then seeks a little further
        // back, see `Rewinds`).
        let mut rewind: HashMap<PartitionKey, i64> = HashMap::new();
        for (target, outcome) in outcomes.into_iter().enumerate() {
            let Some(outcome) = outcome else { continue };
            events[target] += outcome.applied;
            rewinds.progressed(outcome.next_offsets.keys());
            positions.next[target].extend(outcome.next_offsets);
            for (key, offset) in outcome.rewind {
                let earliest = rewind.entry(key).or_insert(offset);
                *earliest = (*earliest).min(offset);
            }
        }
        seek_back(&consumer, &mut rewinds, &rewind)?;
        let applied = positions.applied_by_all();
        bar.inc(u64::try_from(applied - shown).unwrap_or(0));
        shown = shown.max(applied);
    }
    Ok(events)
}

/// Records read and decoded, not yet applied.
struct Round<'c> {
    messages: Vec<BorrowedMessage<'c>>,
    decoded: Vec<Decoded>,
}

impl Round<'_> {
    /// The offset after the round's last record, per partition.
    fn ends(&self) -> HashMap<PartitionKey, i64> {
        let mut ends = HashMap::new();
        for message in &self.messages {
            let end = ends
                .entry(PartitionKey {
                    topic: message.topic().to_owned(),
                    partition: message.partition(),
                })
                .or_insert(0);
            *end = (*end).max(message.offset() + 1);
        }
        ends
    }
}

/// What is ready (waiting up to a second), decoded; none when nothing came.
async fn read<'c, S>(runtime: &Runtime, stream: &mut S) -> Result<Option<Round<'c>>, ProjectorError>
where
    S: Stream<Item = Vec<KafkaResult<BorrowedMessage<'c>>>> + Unpin,
{
    let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await else {
        return Ok(None);
    };
    let messages = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
    let payloads = messages.iter().map(|m| m.payload().unwrap_or_default());
    let decoded = decode(runtime, payloads).await?;
    Ok(Some(Round { messages, decoded }))
}

/// Each target's records of the round applied to it, the targets side by side.
async fn apply_round(
    runtime: &Runtime,
    targets: &[Target],
    positions: &Positions,
    round: &Round<'_>,
) -> Result<Vec<Option<BatchOutcome>>, ProjectorError> {
    let inbound: Vec<Inbound<'_>> = round.messages.iter().map(Inbound::from_message).collect();
    let applies = targets.iter().zip(&positions.next).map(|(target, next)| {
        // This target's records of the round, in their order.
        let (batch, decoded): (Vec<&Inbound<'_>>, Vec<&Decoded>) = inbound
            .iter()
            .zip(&round.decoded)
            .filter(|(record, _)| next.contains_key(&record.key))
            .unzip();
        apply(runtime, target.generation, batch, decoded)
    });
    futures::future::try_join_all(applies).await
}

/// One target's records of a round, in one transaction on a connection of its own (the
/// targets of a round are written side by side).
async fn apply(
    runtime: &Runtime,
    generation: Generation,
    batch: Vec<&Inbound<'_>>,
    decoded: Vec<&Decoded>,
) -> Result<Option<BatchOutcome>, ProjectorError> {
    if batch.is_empty() {
        return Ok(None);
    }
    let mut db = runtime.pool.acquire().await?;
    let outcome = apply_decoded_batch(&mut db, generation, &batch, &decoded, false).await?;
    runtime.metrics.record(generation.projection, &outcome);
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(topic: &str, partition: i32) -> PartitionKey {
        PartitionKey {
            topic: topic.to_owned(),
            partition,
        }
    }

    #[test]
    fn larger_histories_get_more_loaders_within_bounds() {
        assert_eq!(loaders(0), 2);
        assert_eq!(loaders(12_000), 2);
        assert_eq!(loaders(486_000), 2);
        assert_eq!(loaders(501_000), 3);
        assert_eq!(loaders(1_000_000), 4);
        assert_eq!(loaders(50_000_000), 4);
    }

    #[test]
    fn shares_hold_every_partition_once_with_records_balanced() {
        let targets: HashMap<PartitionKey, i64> = [
            (key("tasks", 0), 500),
            (key("tasks", 1), 480),
            (key("tasks", 2), 20),
            (key("billing", 0), 0),
            (key("conversations", 0), 510),
        ]
        .into_iter()
        .collect();
        let shares = shares(&targets, 2);
        assert_eq!(shares.len(), 2);
        let mut seen: Vec<PartitionKey> = shares.iter().flat_map(|s| s.keys().cloned()).collect();
        seen.sort();
        let mut all: Vec<PartitionKey> = targets.keys().cloned().collect();
        all.sort();
        assert_eq!(seen, all);
        let mut records: Vec<i64> = shares.iter().map(|s| s.values().sum()).collect();
        records.sort();
        // 510 and 500 open the two shares, 480 joins the lighter (500), 20 and 0 the other:
        // no split of these five has a smaller largest share.
        assert_eq!(records, vec![530, 980]);
    }

    #[test]
    fn fewer_partitions_than_loaders_leave_no_empty_share() {
        let targets: HashMap<PartitionKey, i64> = [(key("billing", 0), 7)].into_iter().collect();
        assert_eq!(shares(&targets, 2), vec![targets.clone()]);
    }
}
