//! The router: `/v1` queries, health, readiness, metrics and the OpenAPI document.

pub(crate) mod agents;
pub(crate) mod audit;
pub(crate) mod billing;
pub(crate) mod conversations;
mod health;
pub(crate) mod messages;
pub(crate) mod tasks;
pub(crate) mod usage;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use platform::Problem;
use tower_http::timeout::TimeoutLayer;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/v1/agents", get(agents::list))
        .route("/v1/agents/{id}", get(agents::get))
        .route("/v1/tasks", get(tasks::list))
        .route("/v1/tasks/{id}", get(tasks::get))
        .route("/v1/conversations", get(conversations::list))
        .route("/v1/conversations/{id}", get(conversations::get))
        .route("/v1/conversations/{id}/messages", get(messages::list))
        .route("/v1/invoices", get(billing::list))
        .route("/v1/invoices/{id}", get(billing::get))
        .route("/v1/billing/totals", get(billing::totals))
        .route("/v1/usage", get(usage::list))
        .route("/v1/audit", get(audit::list))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/openapi.json", get(crate::openapi::document))
        .merge(crate::admin::router())
        .route("/metrics", get(|| async { platform::prometheus::render() }))
        .route_layer(axum::middleware::from_fn_with_state(
            "query-api",
            platform::http::observe,
        ))
        .fallback(not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .with_state(state)
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
}

/// An id in a path that cannot be one of ours names nothing: 404, like an unknown id.
pub(crate) fn path_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

/// A row of another tenant is as absent as a missing one.
pub(crate) fn found<T>(row: Result<Option<T>, sqlx::Error>) -> Result<T, ApiError> {
    row?.ok_or(ApiError::NotFound)
}
