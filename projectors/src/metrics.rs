//! Counters exported at `/metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use crate::runtime::BatchOutcome;
use crate::ProjectionName;

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    applied: u64,
    skipped: u64,
    dead_letters: u64,
    batches: u64,
}

/// A counter family: name, help text, and which counter it shows.
type Family = (&'static str, &'static str, fn(&Counters) -> u64);

/// Per-projection counters, shared by every runner of the process.
#[derive(Clone, Default)]
pub struct Metrics {
    counters: Arc<Mutex<BTreeMap<&'static str, Counters>>>,
}

impl Metrics {
    pub fn record(&self, projection: ProjectionName, outcome: &BatchOutcome) {
        let mut all = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let counters = all.entry(projection.as_str()).or_default();
        counters.applied += outcome.applied as u64;
        counters.skipped += outcome.skipped as u64;
        counters.dead_letters += outcome.dead_letters as u64;
        counters.batches += 1;
    }

    /// Renders the counters, the given lag per partition and dead letters waiting per
    /// projection.
    pub fn render(
        &self,
        lag: &[(String, String, i32, i64)],
        dead_letters: &[(String, i64)],
    ) -> String {
        let all = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        let families: [Family; 4] = [
            (
                "projector_events_applied_total",
                "Events applied to read models.",
                |c| c.applied,
            ),
            (
                "projector_events_skipped_total",
                "Re-delivered or re-published events that changed nothing.",
                |c| c.skipped,
            ),
            (
                "projector_dead_letters_total",
                "Records sent to the dead-letter queue.",
                |c| c.dead_letters,
            ),
            ("projector_batches_total", "Transactions committed.", |c| {
                c.batches
            }),
        ];
        for (name, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (projection, counters) in &all {
                let _ = writeln!(
                    out,
                    "{name}{{projection=\"{projection}\"}} {}",
                    value(counters)
                );
            }
        }
        let _ = writeln!(out, "# HELP projector_lag_records Records on the topic not yet applied.\n# TYPE projector_lag_records gauge");
        for (projection, topic, partition, lag) in lag {
            let _ = writeln!(out, "projector_lag_records{{projection=\"{projection}\",topic=\"{topic}\",partition=\"{partition}\"}} {lag}");
        }
        let _ = writeln!(out, "# HELP projector_dlq_size Dead letters waiting for a retry.\n# TYPE projector_dlq_size gauge");
        for (projection, count) in dead_letters {
            let _ = writeln!(
                out,
                "projector_dlq_size{{projection=\"{projection}\"}} {count}"
            );
        }
        out
    }
}
