//! Latency histograms (microseconds) and counts of one phase.

use std::time::Duration;

use hdrhistogram::Histogram;

/// How many failure messages are kept to print; the rest are only counted.
const KEPT_ERRORS: usize = 5;

/// A histogram of microseconds from 1 µs to 10 minutes, 3 significant figures.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// What the clients of one phase saw.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub latencies: Histogram<u64>,
    pub failed: u64,
    pub first_errors: Vec<String>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latencies: histogram(),
            failed: 0,
            first_errors: Vec::new(),
        }
    }
}

impl Recorder {
    pub fn record(&mut self, latency: Duration) {
        self.latencies.saturating_record(micros(latency));
    }

    pub fn fail(&mut self, error: &anyhow::Error) {
        self.failed += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(format!("{error:#}"));
        }
    }

    pub fn ok(&self) -> u64 {
        self.latencies.len()
    }

    pub fn merge(&mut self, other: Self) {
        self.latencies
            .add(&other.latencies)
            .expect("histograms with the same bounds");
        self.failed += other.failed;
        for error in other.first_errors {
            if self.first_errors.len() < KEPT_ERRORS {
                self.first_errors.push(error);
            }
        }
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1_000.0;
        Self {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.count == 0 {
            return write!(f, "no samples");
        }
        write!(
            f,
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Latencies recorded from other tasks (a consumer, a metrics recorder) and taken away whole
/// at the end of each phase.
pub struct SharedLatencies(std::sync::Mutex<Histogram<u64>>);

impl Default for SharedLatencies {
    fn default() -> Self {
        Self(std::sync::Mutex::new(histogram()))
    }
}

impl SharedLatencies {
    fn lock(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn record(&self, latency: Duration) {
        self.lock().saturating_record(micros(latency));
    }

    /// The latencies recorded since the last call; recording starts afresh.
    pub fn take(&self) -> Histogram<u64> {
        std::mem::replace(&mut *self.lock(), histogram())
    }
}

/// Waits until `count()` reaches `target`, polling every 5 ms; false after `timeout`.
pub async fn wait_for_count(count: impl Fn() -> u64, target: u64, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while count() < target {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}
