//! Usage per agent and day.

use axum::extract::State;
use axum::response::Response;
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::{date, uuid, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::usage::{self, UsageDay, UsageFilter};
use crate::{ApiError, AppState};

const TAG: &str = "usage:day";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsageParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only this agent's usage.
    #[param(value_type = Option<Uuid>)]
    agent_id: Option<String>,
    /// First day (inclusive), e.g. 2025-01-01.
    #[param(value_type = Option<NaiveDate>)]
    from: Option<String>,
    /// Last day (inclusive).
    #[param(value_type = Option<NaiveDate>)]
    to: Option<String>,
}

/// Daily counters by day, then agent.
#[utoipa::path(get, path = "/v1/usage", operation_id = "list_usage", tag = "usage", params(UsageParams),
    responses((status = 200, body = Page<UsageDay>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let filter = UsageFilter {
        agent_id: checks.optional("agent_id", params.agent_id.as_deref(), uuid),
        from: checks.optional("from", params.from.as_deref(), date),
        to: checks.optional("to", params.to.as_deref(), date),
    };
    checks.ordered(("from", filter.from.as_ref()), ("to", filter.to.as_ref()));
    let after = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Usage, token).await?;
    let rows = usage::list(
        snapshot.conn(),
        caller.tenant(),
        &filter,
        after,
        fetch_size(limit),
    )
    .await;
    let page = |rows| Page::from_rows(rows, limit, TAG, |u: &UsageDay| (u.day, u.agent_id));
    Ok(snapshot.respond(rows.map(page).map_err(ApiError::from)))
}
