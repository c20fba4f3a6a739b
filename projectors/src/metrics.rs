//! Counters exported at `/metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::runtime::BatchOutcome;
use crate::ProjectionName;

/// The histogram of an event's time (its metadata's `occurred_at`, taken when the command was
/// handled) to the commit of the live batch that applied it, in seconds, per projection: how
/// far behind the write side each read model runs. Across machines it includes their clocks'
/// difference.
pub const EVENT_DELAY_SECONDS: &str = "projector_event_delay_seconds";

/// Records the delay of every event a live batch applied; call right after its commit.
pub fn record_delays(projection: ProjectionName, outcome: &BatchOutcome) {
    if outcome.occurred_at.is_empty() {
        return;
    }
    let now = Utc::now();
    let histogram = metrics::histogram!(EVENT_DELAY_SECONDS, "projection" => projection.as_str());
    for occurred_at in &outcome.occurred_at {
        let delay = (now - *occurred_at).to_std().unwrap_or_default();
        histogram.record(delay.as_secs_f64());
    }
}

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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    #[test]
    fn every_applied_event_s_delay_is_recorded_under_its_projection() {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[1.0, 10.0])
            .expect("buckets are given")
            .build_recorder();
        let handle = recorder.handle();
        let now = Utc::now();
        let outcome = BatchOutcome {
            occurred_at: vec![
                now - TimeDelta::seconds(5),
                now,
                now - TimeDelta::seconds(30),
            ],
            ..BatchOutcome::default()
        };
        metrics::with_local_recorder(&recorder, || {
            record_delays(ProjectionName::Tasks, &outcome);
            record_delays(ProjectionName::Usage, &BatchOutcome::default());
        });

        let text = handle.render();
        let line = |series: &str| text.lines().any(|l| l == series);
        assert!(
            line(r#"projector_event_delay_seconds_count{projection="tasks"} 3"#),
            "{text}"
        );
        assert!(
            line(r#"projector_event_delay_seconds_bucket{projection="tasks",le="1"} 1"#),
            "{text}"
        );
        assert!(
            line(r#"projector_event_delay_seconds_bucket{projection="tasks",le="10"} 2"#),
            "{text}"
        );
        // A batch that applied nothing records nothing.
        assert!(!text.contains(r#"projection="usage""#), "{text}");
    }
}
