//! What every HTTP API records per request: a span that continues the caller's W3C trace
//! (its trace id in the JSON logs), and rate, errors and latency per route at `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use crate::trace::continue_trace_and_name_it;

/// Axum middleware; mount with `route_layer(from_fn_with_state("<service>", observe))` so the
/// route template (not the raw path, which would explode the label set) is known.
pub async fn observe(
    State(service): State<&'static str>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http_request",
        service,
        method = %method,
        path = %path,
        status = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    let incoming = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    continue_trace_and_name_it(&span, incoming);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!(
        "http_requests_total",
        "service" => service,
        "method" => method.clone(),
        "path" => path.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "service" => service,
        "method" => method,
        "path" => path
    )
    .record(elapsed);
    response
}
