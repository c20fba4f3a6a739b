//! Task queries: the list (filters, time window, pages) and one task with its history.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{found, path_id};
use crate::extract::{one_of, timestamp, uuid, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::tasks::{self, TaskDetail, TaskFilter, TaskView};
use crate::{ApiError, AppState};

const STATUSES: &[&str] = &[
    "created",
    "assigned",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
];

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TaskListParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only the tasks of this agent.
    #[param(value_type = Option<Uuid>)]
    agent_id: Option<String>,
    /// created, assigned, in_progress, completed, failed or cancelled.
    status: Option<String>,
    /// RFC 3339; tasks created at or after this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    created_after: Option<String>,
    /// RFC 3339; tasks created before this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    created_before: Option<String>,
    /// created_at (default) or -created_at (newest first); the id breaks ties.
    sort: Option<String>,
}

/// The checked list request.
struct TaskList {
    limit: i64,
    filter: TaskFilter<'static>,
    descending: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
}

fn tag(descending: bool) -> &'static str {
    if descending {
        "tasks:-created_at"
    } else {
        "tasks:created_at"
    }
}

fn check(params: &TaskListParams) -> Result<TaskList, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let agent_id = checks.optional("agent_id", params.agent_id.as_deref(), uuid);
    let status = checks.optional("status", params.status.as_deref(), one_of(STATUSES));
    let created_after =
        checks.optional("created_after", params.created_after.as_deref(), timestamp);
    let created_before = checks.optional(
        "created_before",
        params.created_before.as_deref(),
        timestamp,
    );
    checks.ordered(
        ("created_after", created_after.as_ref()),
        ("created_before", created_before.as_ref()),
    );
    let sort = checks.optional(
        "sort",
        params.sort.as_deref(),
        one_of(&["created_at", "-created_at"]),
    );
    let descending = sort == Some("-created_at");
    let after = checks.cursor(params.cursor.as_deref(), tag(descending));
    checks.finish()?;
    Ok(TaskList {
        limit,
        filter: TaskFilter {
            agent_id,
            status,
            created_after,
            created_before,
        },
        descending,
        after,
    })
}

#[utoipa::path(get, path = "/v1/tasks", operation_id = "list_tasks", tag = "tasks", params(TaskListParams),
    responses((status = 200, body = Page<TaskView>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<TaskListParams>,
) -> Result<Response, ApiError> {
    let list = check(&params)?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Tasks, token).await?;
    let rows = tasks::list(
        snapshot.conn(),
        caller.tenant(),
        &list.filter,
        list.descending,
        list.after,
        fetch_size(list.limit),
    )
    .await;
    let page = |rows| {
        Page::from_rows(rows, list.limit, tag(list.descending), |t: &TaskView| {
            (t.created_at, t.id)
        })
    };
    Ok(snapshot.respond(rows.map(page).map_err(ApiError::from)))
}

#[utoipa::path(get, path = "/v1/tasks/{id}", operation_id = "get_task", tag = "tasks",
    params(("id" = Uuid, Path, description = "The task's id")),
    responses((status = 200, body = TaskDetail), (status = 404)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Reader,
    Consistency(token): Consistency,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Tasks, token).await?;
    let task = tasks::find(snapshot.conn(), caller.tenant(), id).await;
    Ok(snapshot.respond(found(task)))
}
