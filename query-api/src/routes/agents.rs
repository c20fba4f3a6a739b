//! Agent queries: the list (filter, sort, pages) and one agent with its task counts.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::agent::Industry;
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{found, path_id};
use crate::extract::{one_of, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::agents::{self, AgentDetail, AgentFilter, AgentOrder, AgentView};
use crate::{ApiError, AppState};

const STATUSES: &[&str] = &["draft", "deploying", "deployed", "paused", "retired"];

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AgentListParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// draft, deployed, paused or retired.
    status: Option<String>,
    /// healthcare, retail, finance, education, real_estate, hospitality, legal or general.
    industry: Option<String>,
    /// created_at (default), -created_at (newest first) or name; the id breaks ties.
    sort: Option<String>,
}

/// The orderings of the list; the id breaks ties.
#[derive(Clone, Copy)]
enum Sort {
    Created,
    CreatedDesc,
    Name,
}

impl Sort {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "created_at" => Ok(Self::Created),
            "-created_at" => Ok(Self::CreatedDesc),
            "name" => Ok(Self::Name),
            _ => Err("must be one of created_at, -created_at, name".to_owned()),
        }
    }

    /// Names the ordering inside its cursors.
    fn tag(self) -> &'static str {
        match self {
            Self::Created => "agents:created_at",
            Self::CreatedDesc => "agents:-created_at",
            Self::Name => "agents:name",
        }
    }
}

/// The checked list request.
struct AgentList {
    limit: i64,
    status: Option<&'static str>,
    industry: Option<&'static str>,
    sort: Sort,
    order: AgentOrder,
}

fn check(params: &AgentListParams) -> Result<AgentList, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let status = checks.optional("status", params.status.as_deref(), one_of(STATUSES));
    let industry = checks.optional("industry", params.industry.as_deref(), |text| {
        Industry::parse(text).map(Industry::as_str)
    });
    let sort = checks
        .optional("sort", params.sort.as_deref(), Sort::parse)
        .unwrap_or(Sort::Created);
    let cursor = params.cursor.as_deref();
    let order = match sort {
        Sort::Name => AgentOrder::Name {
            after: checks.cursor(cursor, sort.tag()),
        },
        Sort::Created | Sort::CreatedDesc => AgentOrder::CreatedAt {
            descending: matches!(sort, Sort::CreatedDesc),
            after: checks.cursor(cursor, sort.tag()),
        },
    };
    checks.finish()?;
    Ok(AgentList {
        limit,
        status,
        industry,
        sort,
        order,
    })
}

fn page(rows: Vec<AgentView>, list: &AgentList) -> Page<AgentView> {
    let tag = list.sort.tag();
    match list.sort {
        Sort::Name => Page::from_rows(rows, list.limit, tag, |a| (a.name.clone(), a.id)),
        Sort::Created | Sort::CreatedDesc => {
            Page::from_rows(rows, list.limit, tag, |a| (a.created_at, a.id))
        }
    }
}

#[utoipa::path(get, path = "/v1/agents", operation_id = "list_agents", tag = "agents", params(AgentListParams),
    responses((status = 200, body = Page<AgentView>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<AgentListParams>,
) -> Result<Response, ApiError> {
    let list = check(&params)?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Agents, token).await?;
    let filter = AgentFilter {
        status: list.status,
        industry: list.industry,
    };
    let fetch = fetch_size(list.limit);
    let rows = agents::list(
        snapshot.conn(),
        caller.tenant(),
        &filter,
        &list.order,
        fetch,
    )
    .await;
    Ok(snapshot.respond(rows.map(|rows| page(rows, &list)).map_err(ApiError::from)))
}

#[utoipa::path(get, path = "/v1/agents/{id}", operation_id = "get_agent", tag = "agents",
    params(("id" = Uuid, Path, description = "The agent's id")),
    responses((status = 200, body = AgentDetail), (status = 404)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Reader,
    Consistency(token): Consistency,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Agents, token).await?;
    let agent = agents::find(snapshot.conn(), caller.tenant(), id).await;
    Ok(snapshot.respond(found(agent)))
}
