//! A per-layer filter that never lets a callsite's interest be cached as "always".
//!
//! `tracing-subscriber` hands each per-layer filter's decision from `enabled` to `on_new_span` /
//! `on_event` through a thread-local bitmap. A callsite whose interest is cached as "always"
//! skips `enabled`, so its span reads whatever the previous `enabled` call on that thread left
//! there; sqlx's query logger calls `log_enabled!` after every query (through tracing-log), which
//! leaves "disabled" bits behind, and the next span silently disappeared from the JSON logs and
//! from OpenTelemetry (tokio-rs/tracing#2519, fix proposed upstream in #3572). Seen here as the
//! projector's `project` span missing from its log line under load. Capping the interest at
//! "sometimes" makes every dispatch call `enabled`, so the bitmap is always fresh.

use tracing::subscriber::Interest;
use tracing::{Event, Metadata};
use tracing_subscriber::layer::{Context, Filter};

pub(super) struct FreshFilter<F>(pub(super) F);

impl<S, F: Filter<S>> Filter<S> for FreshFilter<F> {
    fn enabled(&self, metadata: &Metadata<'_>, context: &Context<'_, S>) -> bool {
        self.0.enabled(metadata, context)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.0.callsite_enabled(metadata).is_never() {
            Interest::never()
        } else {
            Interest::sometimes()
        }
    }

    fn event_enabled(&self, event: &Event<'_>, context: &Context<'_, S>) -> bool {
        self.0.event_enabled(event, context)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.0.max_level_hint()
    }

    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        context: Context<'_, S>,
    ) {
        self.0.on_new_span(attributes, id, context);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        context: Context<'_, S>,
    ) {
        self.0.on_record(id, values, context);
    }

    fn on_enter(&self, id: &tracing::span::Id, context: Context<'_, S>) {
        self.0.on_enter(id, context);
    }

    fn on_exit(&self, id: &tracing::span::Id, context: Context<'_, S>) {
        self.0.on_exit(id, context);
    }

    fn on_close(&self, id: tracing::span::Id, context: Context<'_, S>) {
        self.0.on_close(id, context);
    }
}
