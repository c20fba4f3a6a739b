//! Logs and traces: structured JSON logs filtered by `RUST_LOG` (default `info`), every span
//! also an OpenTelemetry span so W3C trace context can be continued and handed on
//! (see [`crate::trace`]), exported over OTLP only when the standard variables ask for it.
//!
//! Export is off by default. `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns it on, over OTLP/HTTP protobuf; the exporter
//! reads the other `OTEL_EXPORTER_OTLP_*` variables itself, `OTEL_SERVICE_NAME` names the
//! service, and `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off.

mod fresh_filter;

use fresh_filter::FreshFilter;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer as _;
use tracing_subscriber::{fmt, EnvFilter};

/// Flushes exported spans when dropped: keep it alive in `main` until the service stopped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                eprintln!("flushing traces failed: {error}");
            }
        }
    }
}

fn export_requested() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

fn tracer_provider(service: &'static str) -> SdkTracerProvider {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    let builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(name).build());
    if !export_requested() {
        // Spans still get trace and span ids (so context is continued and handed on), they
        // are just not sent anywhere.
        return builder.build();
    }
    match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => builder.with_batch_exporter(exporter).build(),
        Err(error) => {
            eprintln!("OTLP export requested but not possible, traces stay local: {error}");
            builder.build()
        }
    }
}

/// Installs the global subscriber and the W3C trace-context propagator; a second call
/// (several services in one test process) installs nothing.
///
/// `RUST_LOG` filters the logs only: spans at `info` and above always reach OpenTelemetry,
/// so a quiet log level does not break a trace.
#[must_use = "dropping the guard flushes and stops trace export"]
pub fn init(service: &'static str) -> Telemetry {
    install(service, true)
}

/// For tests: logs only when `TEST_LOG` is set, so test output stays readable. Trace context
/// is continued either way.
pub fn init_for_tests() {
    std::mem::forget(install("test", std::env::var_os("TEST_LOG").is_some()));
}

fn install(service: &'static str, logs: bool) -> Telemetry {
    crate::prometheus::install();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = tracer_provider(service);
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json_logs = logs.then(|| {
        fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_target(true)
            .with_filter(FreshFilter(log_filter))
    });
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_filter(FreshFilter(LevelFilter::INFO));
    let installed = tracing_subscriber::registry()
        .with(json_logs)
        .with(spans)
        .try_init();
    if installed.is_err() {
        return Telemetry { provider: None };
    }
    opentelemetry::global::set_tracer_provider(provider.clone());
    tracing::info!(
        service,
        otlp_export = export_requested(),
        "telemetry initialised"
    );
    Telemetry {
        provider: Some(provider),
    }
}
