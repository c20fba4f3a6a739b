//! Structured JSON logs with an `EnvFilter` (`RUST_LOG`, default `info`).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .json()
                .with_current_span(true)
                .with_target(true),
        )
        .try_init();
    if installed.is_ok() {
        tracing::info!(service, "telemetry initialised");
    }
}

/// For tests: logs only when `TEST_LOG` is set, so test output stays readable.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init("test");
    }
}
