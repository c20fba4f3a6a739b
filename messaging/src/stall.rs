//! Partitions of a group's subscription that nobody moves forward.
//!
//! Tansu 0.6's group coordinator can leave a SIGKILLed member's partitions with it: a member
//! that joined before the dead one's session expired gets part of the partitions, or none, and
//! no later rebalance takes them back (Kafka expires the member and rebalances). So an idle
//! consumer looks, every so often, at the partitions of its subscription that are behind their
//! high watermark, not its own, and whose stored offset did not move since the last look, and
//! then rejoins its group, which rebalances them onto the members alive. A partition another
//! live member is working through moves between two looks and is left alone.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, ConsumerContext};

use crate::consumer::PartitionKey;
use crate::watermarks::high_watermarks;

pub struct StallWatch {
    every: Duration,
    last_look: Instant,
    /// The lagging partitions at the last look, with their stored next offsets.
    lagging: HashMap<PartitionKey, i64>,
}

impl StallWatch {
    /// Looks at most once per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last_look: Instant::now(),
            lagging: HashMap::new(),
        }
    }

    /// Call it on idle rounds, with the stored next offsets of every partition the consumer's
    /// group consumes (not only its own).
    pub async fn check<C: ConsumerContext>(
        &mut self,
        consumer: &impl Consumer<C>,
        brokers: &str,
        stored: &HashMap<PartitionKey, i64>,
        label: &str,
    ) {
        if self.last_look.elapsed() < self.every {
            return;
        }
        self.last_look = Instant::now();
        let marks = match high_watermarks(brokers, subscribed_topics(consumer)).await {
            Ok(marks) => marks,
            Err(error) => {
                tracing::debug!(%error, consumer = label, "high watermarks unavailable; looking for stalled partitions later");
                return;
            }
        };
        let lagging = lagging(&marks, stored);
        let stalled: HashMap<PartitionKey, i64> = lagging
            .iter()
            .filter(|&(key, next)| self.lagging.get(key) == Some(next))
            .map(|(key, next)| (key.clone(), *next))
            .collect();
        self.lagging = lagging;
        if stalled.is_empty() {
            return;
        }
        let mine = assigned(consumer);
        let orphaned: HashMap<PartitionKey, i64> = stalled
            .into_iter()
            .filter(|(key, _)| !mine.contains(key))
            .collect();
        if !orphaned.is_empty() {
            tracing::warn!(consumer = label, partitions = %describe(&orphaned), "partitions behind and not moving, not ours: rejoining the group");
            rejoin(consumer, label);
            self.lagging.clear();
        }
    }
}

/// Leaves the consumer's group and joins it again with the same topics, which makes the group
/// rebalance.
fn rejoin<C: ConsumerContext>(consumer: &impl Consumer<C>, label: &str) {
    let topics = subscribed_topics(consumer);
    if topics.is_empty() {
        return;
    }
    consumer.unsubscribe();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(error) = consumer.subscribe(&topics) {
        tracing::error!(%error, consumer = label, "subscribing again failed");
    }
}

fn subscribed_topics<C: ConsumerContext>(consumer: &impl Consumer<C>) -> Vec<String> {
    consumer
        .subscription()
        .map(|subscription| {
            subscription
                .elements()
                .iter()
                .map(|element| element.topic().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The partitions behind their high watermark, with their stored next offsets (0 when none is
/// stored).
fn lagging(
    marks: &HashMap<PartitionKey, i64>,
    stored: &HashMap<PartitionKey, i64>,
) -> HashMap<PartitionKey, i64> {
    marks
        .iter()
        .filter_map(|(key, &high)| {
            let next = stored.get(key).copied().unwrap_or(0);
            (next < high).then(|| (key.clone(), next))
        })
        .collect()
}

fn assigned<C: ConsumerContext>(consumer: &impl Consumer<C>) -> HashSet<PartitionKey> {
    consumer
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
        .unwrap_or_default()
}

fn describe(partitions: &HashMap<PartitionKey, i64>) -> String {
    let mut listed: Vec<String> = partitions
        .iter()
        .map(|(key, next)| format!("{}[{}]@{next}", key.topic, key.partition))
        .collect();
    listed.sort();
    listed.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_behind_their_high_watermark_lag_from_their_stored_offset() {
        let key = |partition| PartitionKey {
            topic: "t".into(),
            partition,
        };
        let marks = HashMap::from([(key(0), 10), (key(1), 10), (key(2), 4)]);
        let stored = HashMap::from([(key(0), 3), (key(1), 10)]);
        // 0 is behind; 1 is caught up; 2 has nothing stored.
        assert_eq!(
            lagging(&marks, &stored),
            HashMap::from([(key(0), 3), (key(2), 0)])
        );
    }
}
