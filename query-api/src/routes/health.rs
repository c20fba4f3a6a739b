//! Liveness and readiness (no authentication).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::AppState;

/// The process is up.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// PostgreSQL is reachable: 200, else 503. Also names each projection's live generation
/// (null while a projection is not built; its queries answer 503 until it is).
pub(crate) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let live: Result<Vec<(String, i32)>, _> =
        sqlx::query_as("SELECT projection, live_generation FROM projection_generations")
            .fetch_all(&state.pool)
            .await;
    let Ok(live) = live else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "database": false })),
        );
    };
    let mut projections = Map::new();
    for projection in projectors::ProjectionName::ALL {
        let generation = live
            .iter()
            .find(|(name, _)| name == projection.as_str())
            .map_or(Value::Null, |(_, generation)| json!(generation));
        projections.insert(projection.as_str().to_owned(), generation);
    }
    (
        StatusCode::OK,
        Json(json!({ "database": true, "projections": projections })),
    )
}
