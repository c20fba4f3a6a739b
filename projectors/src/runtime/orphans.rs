//! Partitions of a projection that nobody consumes.
//!
//! Tansu 0.6's group coordinator can leave a SIGKILLed member's partitions with it: when a new
//! member joins before the dead one's session expired, the rebalance may hand the dead member
//! part of the partitions (or all of them, the survivor getting an empty assignment), and no
//! later rebalance takes them back. Kafka expires the member and rebalances. So an idle runner
//! looks, every [`CHECK_EVERY`], for partitions behind their high watermark that are not its
//! own and whose stored offset did not move since the last look: nobody is applying them, and
//! it rejoins the group, which rebalances them onto the members alive. A partition another
//! live member is working through moves between two looks and is left alone.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use messaging::consumer::PartitionKey;
use rdkafka::consumer::Consumer;

use super::{ProjectionConsumer, Runtime};
use crate::partitions::high_watermarks;
use crate::Generation;

/// How often an idle runner looks.
const CHECK_EVERY: Duration = Duration::from_secs(10);

pub(super) struct OrphanWatch {
    last_look: Instant,
    /// The lagging partitions not ours at the last look, with their stored next offsets.
    lagging: HashMap<PartitionKey, i64>,
}

impl OrphanWatch {
    pub(super) fn new() -> Self {
        Self {
            last_look: Instant::now(),
            lagging: HashMap::new(),
        }
    }

    /// Call it on idle rounds, with the generation's stored next offsets.
    pub(super) async fn check(
        &mut self,
        runtime: &Runtime,
        generation: Generation,
        consumer: &ProjectionConsumer,
        stored: &HashMap<PartitionKey, i64>,
    ) {
        if self.last_look.elapsed() < CHECK_EVERY {
            return;
        }
        self.last_look = Instant::now();
        let marks = match high_watermarks(
            &runtime.brokers,
            &runtime.topic_prefix,
            generation.projection,
        )
        .await
        {
            Ok(marks) => marks,
            Err(error) => {
                tracing::debug!(%error, "high watermarks unavailable; looking for orphaned partitions later");
                return;
            }
        };
        let mine: HashSet<PartitionKey> = consumer
            .assignment()
            .map(|assignment| {
                assignment
                    .elements()
                    .iter()
                    .map(|element| PartitionKey {
                        topic: element.topic().to_owned(),
                        partition: element.partition(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let lagging = lagging_elsewhere(&marks, stored, &mine);
        let orphaned: Vec<String> = lagging
            .iter()
            .filter(|&(key, next)| self.lagging.get(key) == Some(next))
            .map(|(key, next)| format!("{}[{}]@{next}", key.topic, key.partition))
            .collect();
        self.lagging = lagging;
        if !orphaned.is_empty() {
            tracing::warn!(projection = %generation.projection, partitions = %orphaned.join(" "), "partitions behind and not moving, not ours: rejoining the group");
            messaging::consumer::rejoin(consumer, generation.projection.as_str());
            self.lagging.clear();
        }
    }
}

/// The partitions behind their high watermark that are not in `mine`, with their stored next
/// offsets (0 when none is stored).
fn lagging_elsewhere(
    marks: &HashMap<PartitionKey, i64>,
    stored: &HashMap<PartitionKey, i64>,
    mine: &HashSet<PartitionKey>,
) -> HashMap<PartitionKey, i64> {
    marks
        .iter()
        .filter(|(key, _)| !mine.contains(*key))
        .filter_map(|(key, &high)| {
            let next = stored.get(key).copied().unwrap_or(0);
            (next < high).then(|| (key.clone(), next))
        })
        .collect()
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
    fn only_partitions_behind_and_not_ours_count() {
        let marks = HashMap::from([(key(0), 10), (key(1), 10), (key(2), 10), (key(3), 4)]);
        let stored = HashMap::from([(key(0), 3), (key(1), 10), (key(2), 7)]);
        let mine = HashSet::from([key(2)]);
        // 0 is behind and someone else's; 1 is caught up; 2 is ours; 3 has nothing stored.
        assert_eq!(
            lagging_elsewhere(&marks, &stored, &mine),
            HashMap::from([(key(0), 3), (key(3), 0)])
        );
    }
}
