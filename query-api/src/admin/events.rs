//! The latest events of one aggregate, straight from the event store (`events`, in the same
//! database as the read models by default), of whichever tenant: the console is platform-wide.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::AdminCaller;
use super::error::{not_found, AdminError};
use crate::extract::{Checks, Params};
use crate::page::{fetch_size, Page};
use crate::AppState;

const TAG: &str = "admin-events:sequence";
/// PostgreSQL's `undefined_table`.
const UNDEFINED_TABLE: &str = "42P01";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (older events).
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StoredEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// From the event's metadata.
    pub occurred_at: Option<String>,
    pub tenant_id: Option<String>,
    pub correlation_id: Option<String>,
    /// The subject of the token that sent the command.
    pub actor: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
}

type Row = (String, String, i64, String, String, Value, Value);

impl From<Row> for StoredEvent {
    fn from(
        (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata): Row,
    ) -> Self {
        let text = |name: &str| metadata[name].as_str().map(str::to_owned);
        Self {
            occurred_at: text("occurred_at"),
            tenant_id: text("tenant_id"),
            correlation_id: text("correlation_id"),
            actor: text("actor"),
            aggregate_type,
            aggregate_id,
            sequence,
            event_type,
            event_version,
            payload,
            metadata,
        }
    }
}

/// The aggregate's events, newest first.
#[utoipa::path(get, path = "/v1/admin/aggregates/{id}/events", operation_id = "admin_aggregate_events",
    tag = "admin", params(("id" = Uuid, Path, description = "The aggregate's id"), EventParams),
    responses((status = 200, body = Page<StoredEvent>),
        (status = 400, description = "invalid parameter"),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no event of this aggregate"),
        (status = 503, description = "the event store is not in this database")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
    Path(id): Path<String>,
    Params(params): Params<EventParams>,
) -> Result<Json<Page<StoredEvent>>, AdminError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let before: Option<i64> = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    // `events` is keyed by (aggregate_type, aggregate_id, sequence): walk the few aggregate
    // types with a loose index scan, then read each type's slice of this id by the key.
    let rows: Vec<Row> = sqlx::query_as(
        "WITH RECURSIVE types (t) AS (
             (SELECT aggregate_type FROM events ORDER BY aggregate_type LIMIT 1)
             UNION ALL
             SELECT (SELECT aggregate_type FROM events WHERE aggregate_type > types.t
                     ORDER BY aggregate_type LIMIT 1)
             FROM types WHERE types.t IS NOT NULL
         )
         SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version,
                e.payload::jsonb, e.metadata::jsonb
         FROM types CROSS JOIN LATERAL (
             SELECT * FROM events
             WHERE aggregate_type = types.t AND aggregate_id = $1
               AND ($2::bigint IS NULL OR sequence < $2)
             ORDER BY sequence DESC LIMIT $3
         ) e
         WHERE types.t IS NOT NULL
         ORDER BY e.sequence DESC, e.aggregate_type LIMIT $3",
    )
    .bind(id.to_string())
    .bind(before)
    .bind(fetch_size(limit))
    .fetch_all(&state.pool)
    .await
    .map_err(event_store)?;
    if rows.is_empty() && before.is_none() {
        return Err(not_found());
    }
    let events: Vec<StoredEvent> = rows.into_iter().map(StoredEvent::from).collect();
    Ok(Json(Page::from_rows(events, limit, TAG, |e| e.sequence)))
}

/// The event store missing from this database is a configuration matter, said as such.
pub(crate) fn event_store(error: sqlx::Error) -> AdminError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(UNDEFINED_TABLE) => {
            AdminError::problem(
                platform::Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "event-store-unavailable",
                    "Event store not in this database",
                )
                .detail("the events table is not in the query API's database (DATABASE_URL)"),
            )
        }
        _ => error.into(),
    }
}
