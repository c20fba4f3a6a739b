//! The router: `/v1` commands, health, readiness, metrics and the OpenAPI document.

pub(crate) mod agents;
pub(crate) mod conversations;
mod health;
pub(crate) mod invoices;
pub(crate) mod subscriptions;
pub(crate) mod tasks;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use platform::Problem;
use tower_http::timeout::TimeoutLayer;

use crate::extract::CommandBody;
use crate::{ApiError, AppState};

pub(crate) fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/v1/agents", post(agents::create))
        .route("/v1/agents/{id}", patch(agents::update))
        .route("/v1/agents/{id}/deploy", post(agents::deploy))
        .route("/v1/agents/{id}/pause", post(agents::pause))
        .route("/v1/agents/{id}/retire", post(agents::retire))
        .route(
            "/v1/agents/{id}/deployment-requests",
            post(agents::request_deployment),
        )
        .route(
            "/v1/agents/{id}/deployment-completions",
            post(agents::complete_deployment),
        )
        .route(
            "/v1/agents/{id}/deployment-failures",
            post(agents::fail_deployment),
        )
        .route("/v1/subscriptions", post(subscriptions::activate))
        .route("/v1/subscriptions/slots", post(subscriptions::reserve))
        .route(
            "/v1/subscriptions/billing-periods",
            post(subscriptions::close_period),
        )
        .route("/v1/invoices/{id}/overdue", post(invoices::overdue))
        .route(
            "/v1/subscriptions/slots/{agent_id}/release",
            post(subscriptions::release),
        )
        .route("/v1/tasks", post(tasks::create))
        .route("/v1/tasks/{id}/assign", post(tasks::assign))
        .route("/v1/tasks/{id}/start", post(tasks::start))
        .route("/v1/tasks/{id}/complete", post(tasks::complete))
        .route("/v1/tasks/{id}/fail", post(tasks::fail))
        .route("/v1/tasks/{id}/cancel", post(tasks::cancel))
        .route("/v1/conversations", post(conversations::start))
        .route(
            "/v1/conversations/{id}/messages",
            post(conversations::receive),
        )
        .route("/v1/conversations/{id}/replies", post(conversations::reply))
        .route("/v1/conversations/{id}/close", post(conversations::close))
        .route("/v1/invoices", post(invoices::issue))
        .route("/v1/invoices/{id}/payments", post(invoices::pay))
        .route("/v1/invoices/{id}/void", post(invoices::void))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/openapi.json", get(crate::openapi::document))
        .route("/metrics", get(health::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            "command-api",
            platform::http::observe,
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(crate::extract::MAX_BODY_BYTES))
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
pub(crate) fn path_id<T>(text: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, ApiError> {
    parse(text).map_err(|_| ApiError::from(domain::DomainError::NotFound))
}

/// A body-less action still accepts `{}` (and nothing else).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

pub(crate) type NoBody = CommandBody<Empty>;
