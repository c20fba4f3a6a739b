//! Events the outbox relay parked because it could never publish them (`outbox_parked`), and
//! putting one back into the outbox once its cause is fixed. The relay leading in the
//! command-api picks a re-queued event up at its next poll (every 250 ms) and publishes it
//! ahead of its aggregate's later events, which waited in the outbox meanwhile.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::{OutboxBatch, ParkedRow, StoreError};
use utoipa::ToSchema;

use super::auth::AdminCaller;
use super::error::{not_found, AdminError};
use super::events::event_store;
use crate::AppState;

/// At most this many parked events are listed (oldest first): parking is for the rare event
/// that cannot be published, and each one waits for a person.
const LISTED: i64 = 500;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ParkedEvent {
    /// The outbox id; the event goes back under it, so it keeps its place in the order.
    pub id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub enqueued_at: DateTime<Utc>,
    /// Why the relay could not publish it.
    pub reason: String,
    pub parked_at: DateTime<Utc>,
}

impl From<ParkedRow> for ParkedEvent {
    fn from(row: ParkedRow) -> Self {
        Self {
            id: row.id,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            enqueued_at: row.enqueued_at,
            reason: row.reason,
            parked_at: row.parked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ParkedEvents {
    /// Oldest first, at most 500.
    pub items: Vec<ParkedEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Requeued {
    pub id: i64,
    /// Always `requeued`: the event is back in the outbox.
    pub outcome: String,
}

fn store_error(error: StoreError) -> AdminError {
    match error {
        StoreError::Database(error) | StoreError::Unavailable(error) => event_store(error),
        other => AdminError::problem(
            platform::Problem::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            )
            .detail(other.to_string()),
        ),
    }
}

/// The parked events of every tenant, oldest first.
#[utoipa::path(get, path = "/v1/admin/outbox/parked", operation_id = "admin_parked_events",
    tag = "admin",
    responses((status = 200, body = ParkedEvents),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 503, description = "the event store is not in this database")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
) -> Result<Json<ParkedEvents>, AdminError> {
    let rows = OutboxBatch::new(state.pool.clone())
        .parked(LISTED)
        .await
        .map_err(store_error)?;
    Ok(Json(ParkedEvents {
        items: rows.into_iter().map(ParkedEvent::from).collect(),
    }))
}

/// Puts a parked event back into the outbox; the relay publishes it next (and parks it again,
/// with the new reason, if its cause is still there).
#[utoipa::path(post, path = "/v1/admin/outbox/parked/{id}/requeue", operation_id = "admin_requeue_parked_event",
    tag = "admin", params(("id" = i64, Path, description = "The parked event's outbox id")),
    responses((status = 200, body = Requeued),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no parked event with this id"),
        (status = 503, description = "the event store is not in this database")))]
pub(crate) async fn requeue(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Requeued>, AdminError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let requeued = OutboxBatch::new(state.pool.clone())
        .requeue(id)
        .await
        .map_err(store_error)?;
    if !requeued {
        return Err(not_found());
    }
    tracing::info!(outbox_id = id, operator = %caller.claims.sub, "parked event re-queued");
    Ok(Json(Requeued {
        id,
        outcome: "requeued".to_owned(),
    }))
}
