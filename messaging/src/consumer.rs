//! What every effectively-once consumer of the platform shares (projectors and the sagas'
//! intake): offsets kept in PostgreSQL are the truth, so on partition assignment the consumer
//! seeks to them, and a batch never applies a record that lies past the next expected offset.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    pub topic: String,
    pub partition: i32,
}

/// The consumer's latest knowledge of the stored next offsets, refreshed by its owner from
/// PostgreSQL after every batch (and when idle).
#[derive(Clone, Default)]
pub struct OffsetCache(Arc<Mutex<HashMap<PartitionKey, i64>>>);

impl OffsetCache {
    pub fn replace(&self, stored: HashMap<PartitionKey, i64>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = stored;
    }

    pub fn snapshot(&self) -> HashMap<PartitionKey, i64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Rebalance handling that positions newly assigned partitions at the stored offsets.
///
/// librdkafka calls this while the consumer is polled, so it must not wait on I/O: it reads
/// the [`OffsetCache`]. A copy a moment stale only starts a partition a little early; the batch
/// then skips what is below the offsets it reads under lock.
pub struct SeekToStoredOffsets {
    known: OffsetCache,
    /// Who consumes (a projection, the sagas), for the logs.
    label: String,
}

impl SeekToStoredOffsets {
    pub fn new(known: OffsetCache, label: impl Into<String>) -> Self {
        Self {
            known,
            label: label.into(),
        }
    }
}

impl ClientContext for SeekToStoredOffsets {}

impl ConsumerContext for SeekToStoredOffsets {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        assignment: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let stored = self.known.snapshot();
                let keys: Vec<PartitionKey> = assignment
                    .elements()
                    .iter()
                    .map(|e| PartitionKey {
                        topic: e.topic().to_owned(),
                        partition: e.partition(),
                    })
                    .collect();
                let mut starts = Vec::with_capacity(keys.len());
                for key in keys {
                    // Not in the copy: nothing of the partition was applied as far as we know,
                    // so from its beginning; the batch skips what the stored offsets it reads
                    // under lock say was applied. Never the group's committed offset: that is
                    // a hint committed after PostgreSQL's commit, which a projection commits
                    // without waiting for the flush, so after a server crash the hint can be
                    // ahead of what survived.
                    let next = stored
                        .get(&key)
                        .map_or(Offset::Beginning, |next| Offset::Offset(*next));
                    let _ = assignment.set_partition_offset(&key.topic, key.partition, next);
                    starts.push(format!("{}[{}]@{next:?}", key.topic, key.partition));
                }
                tracing::info!(consumer = %self.label, partitions = %starts.join(" "), "partitions assigned");
                if let Err(error) = consumer.assign(assignment) {
                    tracing::error!(%error, consumer = %self.label, "assigning partitions failed");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(consumer = %self.label, "partitions revoked");
                if let Err(error) = consumer.unassign() {
                    tracing::error!(%error, consumer = %self.label, "unassigning partitions failed");
                }
            }
            other => tracing::error!(?other, consumer = %self.label, "rebalance error"),
        }
    }
}

/// Seeks partitions back to the offsets batches found them past (records in between were
/// never applied).
///
/// A fetch from an offset inside a record batch should answer with that batch (the client
/// drops its records below the offset), and Kafka's does. Tansu 0.6's object-store storage
/// (`memory://`, `s3://`) answers with the batches that *start* at or after the offset,
/// skipping the rest of the one that holds it: a consumer stopped mid-batch (a crash, a
/// rebalance, a projector batch that ended inside a producer's batch) and started again there
/// gets the next batch, a gap — and seeking to the same offset again would get it again,
/// forever. So when a partition's rewind repeats with nothing applied in between, it seeks
/// further back each time (1, 2, 4, ... records) until a fetch returns the batch that holds
/// the offset; the records before it are skipped as applied.
#[derive(Default)]
pub struct Rewinds {
    /// Per partition: the offset of its last rewind, and how far before it that one sought.
    last: HashMap<PartitionKey, (i64, i64)>,
}

impl Rewinds {
    /// Where to seek each partition of `positions` (the offsets a batch found them past).
    pub fn plan(&mut self, positions: &HashMap<PartitionKey, i64>) -> Vec<(PartitionKey, i64)> {
        positions
            .iter()
            .map(|(key, &offset)| {
                let back = match self.last.get(key) {
                    Some(&(last, back)) if last == offset => back.saturating_mul(2).max(1),
                    _ => 0,
                };
                self.last.insert(key.clone(), (offset, back));
                if back > 0 {
                    tracing::info!(topic = %key.topic, partition = key.partition, offset, back, "the fetch skipped past the offset again; seeking further back");
                }
                (key.clone(), (offset - back).max(0))
            })
            .collect()
    }

    /// Partitions that applied records: their next rewind starts at its offset again.
    pub fn progressed<'k>(&mut self, partitions: impl IntoIterator<Item = &'k PartitionKey>) {
        for key in partitions {
            self.last.remove(key);
        }
    }

    /// Seeks as [`Rewinds::plan`] says. A partition no longer assigned (a rebalance meanwhile)
    /// refuses the seek: its new owner starts from the stored offset anyway, so that is only
    /// logged.
    pub fn rewind<C: ConsumerContext>(
        &mut self,
        consumer: &impl Consumer<C>,
        positions: &HashMap<PartitionKey, i64>,
    ) {
        for (key, offset) in self.plan(positions) {
            if let Err(error) = consumer.seek(
                &key.topic,
                key.partition,
                Offset::Offset(offset),
                std::time::Duration::from_secs(5),
            ) {
                tracing::warn!(%error, topic = %key.topic, partition = key.partition, "rewind failed");
            }
        }
    }
}

/// Where a record stands against the offsets a batch expects.
#[derive(Debug, PartialEq, Eq)]
pub enum Position {
    /// The next record of its partition: apply it.
    Next,
    /// Below the expected offset: already applied, skip it.
    Applied,
    /// Past the expected offset: records in between were never applied. Apply nothing more
    /// of this partition in the batch and seek back to the returned offset.
    Gap(i64),
}

/// Tracks a batch's next expected offset per partition, starting from the stored offsets.
pub struct OffsetTracker<'a> {
    stored: &'a HashMap<PartitionKey, i64>,
    next: HashMap<PartitionKey, i64>,
    rewind: HashMap<PartitionKey, i64>,
}

impl<'a> OffsetTracker<'a> {
    pub fn new(stored: &'a HashMap<PartitionKey, i64>) -> Self {
        Self {
            stored,
            next: HashMap::new(),
            rewind: HashMap::new(),
        }
    }

    /// Places a record; a `Next` record is taken as applied (the next expected offset moves).
    pub fn place(&mut self, key: &PartitionKey, offset: i64) -> Position {
        if self.rewind.contains_key(key) {
            return Position::Applied;
        }
        let expected = self.next.get(key).or(self.stored.get(key)).copied();
        match expected {
            Some(expected) if offset < expected => Position::Applied,
            // Never apply across a gap: what lies between would be lost for good.
            Some(expected) if offset > expected => {
                tracing::warn!(topic = %key.topic, partition = key.partition, expected, got = offset, "gap before record; rewinding");
                self.rewind.insert(key.clone(), expected);
                Position::Gap(expected)
            }
            _ => {
                self.next.insert(key.clone(), offset + 1);
                Position::Next
            }
        }
    }

    /// The next offsets to store, and the partitions to seek back, after the batch.
    pub fn finish(self) -> (HashMap<PartitionKey, i64>, HashMap<PartitionKey, i64>) {
        (self.next, self.rewind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(partition: i32) -> PartitionKey {
        PartitionKey {
            topic: "t".into(),
            partition,
        }
    }

    #[test]
    fn a_repeated_rewind_seeks_further_back_each_time_until_progress() {
        let mut rewinds = Rewinds::default();
        let at = |offset| HashMap::from([(key(0), offset)]);
        let seek = |rewinds: &mut Rewinds, offset| rewinds.plan(&at(offset))[0].1;
        // The first rewind to an offset seeks to it.
        assert_eq!(seek(&mut rewinds, 98), 98);
        // The fetch skipped past it again: 1, 2, 4, ... records before it, never below 0.
        assert_eq!(seek(&mut rewinds, 98), 97);
        assert_eq!(seek(&mut rewinds, 98), 96);
        assert_eq!(seek(&mut rewinds, 98), 94);
        assert_eq!(seek(&mut rewinds, 98), 90);
        // A rewind to another offset starts over.
        assert_eq!(seek(&mut rewinds, 150), 150);
        assert_eq!(seek(&mut rewinds, 150), 149);
        // So does one after the partition applied records.
        rewinds.progressed([&key(0)]);
        assert_eq!(seek(&mut rewinds, 150), 150);
        for _ in 0..10 {
            seek(&mut rewinds, 3);
        }
        assert_eq!(seek(&mut rewinds, 3), 0);
        // Partitions are apart.
        let mut rewinds = Rewinds::default();
        seek(&mut rewinds, 10);
        assert_eq!(rewinds.plan(&HashMap::from([(key(1), 10)]))[0].1, 10);
    }

    #[test]
    fn records_in_order_advance_and_old_ones_are_skipped() {
        let stored = HashMap::from([(key(0), 5)]);
        let mut tracker = OffsetTracker::new(&stored);
        assert_eq!(tracker.place(&key(0), 4), Position::Applied);
        assert_eq!(tracker.place(&key(0), 5), Position::Next);
        assert_eq!(tracker.place(&key(0), 6), Position::Next);
        // A partition never stored starts wherever the consumer starts.
        assert_eq!(tracker.place(&key(1), 17), Position::Next);
        let (next, rewind) = tracker.finish();
        assert_eq!(next, HashMap::from([(key(0), 7), (key(1), 18)]));
        assert!(rewind.is_empty());
    }

    #[test]
    fn a_gap_stops_the_partition_and_asks_for_a_rewind() {
        let stored = HashMap::from([(key(0), 5), (key(1), 0)]);
        let mut tracker = OffsetTracker::new(&stored);
        assert_eq!(tracker.place(&key(0), 5), Position::Next);
        assert_eq!(tracker.place(&key(0), 8), Position::Gap(6));
        // Nothing more of that partition in this batch, even the record that was missing.
        assert_eq!(tracker.place(&key(0), 6), Position::Applied);
        assert_eq!(tracker.place(&key(1), 0), Position::Next);
        let (next, rewind) = tracker.finish();
        assert_eq!(next, HashMap::from([(key(0), 6), (key(1), 1)]));
        assert_eq!(rewind, HashMap::from([(key(0), 6)]));
    }
}
