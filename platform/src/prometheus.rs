//! Prometheus metrics: one recorder per process, fed through the `metrics` macros by every
//! part of a service (HTTP, relay, projectors, sagas) and rendered at `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds: 1 ms to 10 s, fine-grained where the targets are (≤ 100 ms).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process's recorder on first use.
fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .expect("bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a test process embedding a foreign one): the
        // handle then renders our families as empty, which is still valid output.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Installs the recorder (call once at start so early events are counted).
pub fn install() {
    handle();
}

/// Everything recorded so far, in the Prometheus text format.
pub fn render() -> String {
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}
