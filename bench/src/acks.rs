//! Commit → broker acknowledgement, per record, as the relay itself measures it, and event →
//! applied by the tasks projection, as its live runner measures it: the bench installs this
//! process's `metrics` recorder before the command-api starts, keeps the relay's
//! `relay_publish_latency_seconds` samples (outbox row written → `acks=all` acknowledgement)
//! and the tasks projection's `projector_event_delay_seconds` samples (event occurred → its
//! batch committed) in HDR histograms, and ignores every other metric. The services'
//! Prometheus recorder then finds a recorder installed and stays out of the way (their
//! `/metrics` render empty families, which this bench does not read).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use metrics::{
    Counter, Gauge, Histogram as MetricHistogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

use crate::stats::{wait_for_count, SharedLatencies};

#[derive(Default)]
struct Samples {
    /// Acknowledged records since the recorder was installed.
    total: AtomicU64,
    latencies: SharedLatencies,
}

impl HistogramFn for Samples {
    fn record(&self, seconds: f64) {
        let latency = Duration::try_from_secs_f64(seconds).unwrap_or_default();
        self.latencies.record(latency);
        self.total.fetch_add(1, Ordering::AcqRel);
    }
}

/// The relay's publish latencies and the tasks projection's delays, read phase by phase.
#[derive(Clone)]
pub struct AckProbe {
    samples: Arc<Samples>,
    projected: Arc<Samples>,
}

struct AckRecorder {
    samples: Arc<Samples>,
    projected: Arc<Samples>,
}

/// The projection whose delays are kept: the one `bench visible` reads from.
const PROJECTED_BY: &str = "tasks";

impl Recorder for AckRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> MetricHistogram {
        if key.name() == messaging::PUBLISH_LATENCY_SECONDS {
            MetricHistogram::from_arc(self.samples.clone())
        } else if key.name() == projectors::metrics::EVENT_DELAY_SECONDS
            && key
                .labels()
                .any(|label| label.key() == "projection" && label.value() == PROJECTED_BY)
        {
            MetricHistogram::from_arc(self.projected.clone())
        } else {
            MetricHistogram::noop()
        }
    }
}

impl AckProbe {
    /// Installs the process's recorder; call before anything records a metric.
    ///
    /// # Errors
    /// When a recorder is already installed.
    pub fn install() -> anyhow::Result<Self> {
        let samples = Arc::new(Samples::default());
        let projected = Arc::new(Samples::default());
        metrics::set_global_recorder(AckRecorder {
            samples: samples.clone(),
            projected: projected.clone(),
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("installing the bench's metrics recorder")?;
        Ok(Self { samples, projected })
    }

    /// Records acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.samples.total.load(Ordering::Acquire)
    }

    /// Waits until at least `target` records were acknowledged; false after `timeout`.
    pub async fn wait_for(&self, target: u64, timeout: Duration) -> bool {
        wait_for_count(|| self.acknowledged(), target, timeout).await
    }

    /// The latencies recorded since the last call; recording starts afresh.
    pub fn take_latencies(&self) -> Histogram<u64> {
        self.samples.latencies.take()
    }

    /// Event occurred → applied by the tasks projection, since the last call; recording
    /// starts afresh.
    pub fn take_projected(&self) -> Histogram<u64> {
        self.projected.latencies.take()
    }
}
