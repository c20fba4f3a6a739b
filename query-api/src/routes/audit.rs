//! The audit trail: every event of the caller's tenant.

use axum::extract::State;
use axum::response::Response;
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::{one_of, timestamp, uuid, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read::{self, AggregateType};
use crate::views::audit::{self, AuditEntry, AuditFilter};
use crate::{ApiError, AppState};

const TAG: &str = "audit:occurred_at";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only the events of this aggregate.
    #[param(value_type = Option<Uuid>)]
    aggregate_id: Option<String>,
    /// agent, task, conversation or invoice.
    aggregate_type: Option<String>,
    /// An event name, e.g. TaskCompleted.
    event_type: Option<String>,
    /// RFC 3339; events at or after this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    from: Option<String>,
    /// RFC 3339; events before this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    to: Option<String>,
}

/// Event names are PascalCase words.
fn event_type(text: &str) -> Result<String, String> {
    let valid =
        !text.is_empty() && text.len() <= 100 && text.bytes().all(|b| b.is_ascii_alphanumeric());
    valid
        .then(|| text.to_owned())
        .ok_or_else(|| "must be an event name, e.g. TaskCompleted".to_owned())
}

/// Events ordered by when they occurred; the event id breaks ties.
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<AuditParams>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let event_type = checks.optional("event_type", params.event_type.as_deref(), event_type);
    let filter = AuditFilter {
        aggregate_id: checks.optional("aggregate_id", params.aggregate_id.as_deref(), uuid),
        aggregate_type: checks.optional(
            "aggregate_type",
            params.aggregate_type.as_deref(),
            one_of(AggregateType::NAMES),
        ),
        event_type: event_type.as_deref(),
        from: checks.optional("from", params.from.as_deref(), timestamp),
        to: checks.optional("to", params.to.as_deref(), timestamp),
    };
    checks.ordered(("from", filter.from.as_ref()), ("to", filter.to.as_ref()));
    let after = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Audit, token).await?;
    let rows = audit::list(
        snapshot.conn(),
        caller.tenant(),
        &filter,
        after,
        fetch_size(limit),
    )
    .await;
    let page = |rows| {
        Page::from_rows(rows, limit, TAG, |e: &AuditEntry| {
            (e.occurred_at, e.event_id)
        })
    };
    Ok(snapshot.respond(rows.map(page).map_err(ApiError::from)))
}
