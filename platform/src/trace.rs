//! W3C trace context across the platform's hops: the HTTP request, the event metadata, the
//! Kafka record headers, the projector and saga spans, and the commands sagas send, so one
//! trace follows a whole workflow.

use std::collections::HashMap;

use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Makes `span` continue the trace that `traceparent` names; an absent or malformed value
/// leaves `span` the root of a new trace.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|t| !t.is_empty()) else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    if parent.span().span_context().is_valid() {
        // Fails only for a span that is disabled or already started children: nothing to do.
        let _ = span.set_parent(parent);
    }
}

/// [`continue_trace`], then records the trace id in the span's `trace_id` field (declared
/// `tracing::field::Empty` by the caller), so the JSON log lines within it name the trace.
pub fn continue_trace_and_name_it(span: &tracing::Span, traceparent: Option<&str>) {
    continue_trace(span, traceparent);
    if let Some(id) = trace_id(span) {
        span.record("trace_id", id);
    }
}

/// The `traceparent` that hands `span`'s context on, if the span is recorded.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.remove("traceparent")
}

/// The trace id of `span` (32 hex digits), if the span is recorded.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The trace id inside a `traceparent` value.
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let id = traceparent.split('-').nth(1)?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_span_continues_the_callers_trace_and_hands_it_on() {
        crate::telemetry::init_for_tests();
        let span = tracing::info_span!("request");
        continue_trace(&span, Some(PARENT));
        assert_eq!(
            trace_id(&span).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let handed_on = traceparent(&span).expect("recorded span");
        assert_eq!(trace_id_of(&handed_on), trace_id_of(PARENT));
        // A child of the caller's span, not the caller's span itself.
        assert_ne!(handed_on, PARENT);
    }

    #[test]
    fn a_malformed_traceparent_starts_a_new_trace() {
        crate::telemetry::init_for_tests();
        let span = tracing::info_span!("request");
        continue_trace(&span, Some("00-not-a-trace-01"));
        let id = trace_id(&span).expect("recorded span");
        assert_eq!(id.len(), 32);
        assert_ne!(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}
