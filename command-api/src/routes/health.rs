//! Liveness, readiness and metrics (no authentication).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

/// The process is up.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// PostgreSQL and the broker are reachable: 200, else 503 naming what is not.
pub(crate) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = sqlx::query("SELECT 1").execute(&state.pool).await.is_ok();
    let broker = state.probe.reachable(Duration::from_secs(2)).await;
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "database": database, "broker": broker })),
    )
}

/// Prometheus text: HTTP rate, errors and latency, the relay's publishing, and the backlog of
/// committed events not yet acknowledged by the broker.
pub(crate) async fn metrics(State(state): State<AppState>) -> (StatusCode, String) {
    if let Ok(backlog) = messaging::OutboxRelay::backlog(&state.pool).await {
        metrics::gauge!("relay_outbox_backlog").set(backlog as f64);
    }
    (StatusCode::OK, platform::prometheus::render())
}
