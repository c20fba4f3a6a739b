//! Task commands.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::agent::AgentSnapshot;
use domain::task::TaskCommand;
use domain::{AgentId, Aggregate, DomainError, TaskId};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{path_id, NoBody};
use store::Target;

use crate::dispatch::{dispatch, CommandRequest, Outcome};
use crate::extract::{CommandBody, Commander, Preconditions};
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTask {
    /// 1–200 characters.
    title: String,
    /// At most 10,000 characters.
    description: Option<String>,
    /// low, normal (default), high or urgent.
    priority: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignTask {
    /// A deployed agent of the caller's tenant.
    agent_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteTask {
    /// 1–20,000 characters.
    result: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailTask {
    /// 1–2,000 characters.
    reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelTask {
    reason: Option<String>,
}

/// Looks an agent up for a command of another aggregate; the domain decides what it allows.
pub(crate) async fn agent_snapshot(
    state: &AppState,
    agent_id: &str,
) -> Result<AgentSnapshot, ApiError> {
    let agent_id =
        AgentId::parse(agent_id).map_err(|reason| DomainError::field("agent_id", reason))?;
    let (agent, _version) = state.agents.load(&agent_id.to_string()).await?;
    Ok(AgentSnapshot {
        agent_id,
        tenant: agent.tenant().cloned(),
        status: agent.status(),
    })
}

async fn action(
    state: AppState,
    id: &str,
    request: CommandRequest,
    command: TaskCommand,
) -> Result<Response, ApiError> {
    let id = path_id(id, TaskId::parse)?.to_string();
    dispatch(
        &state,
        &state.tasks,
        request,
        &id,
        command,
        Outcome::Changed,
    )
    .await
}

#[utoipa::path(post, path = "/v1/tasks", request_body = CreateTask, tag = "tasks",
    responses((status = 201, body = crate::dispatch::CommandAccepted), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CreateTask>,
) -> Result<Response, ApiError> {
    let CreateTask {
        title,
        description,
        priority,
    } = body.value;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let id = Uuid::now_v7().to_string();
    let command = TaskCommand::CreateTask {
        title,
        description,
        priority,
    };
    dispatch(
        &state,
        &state.tasks,
        request,
        &id,
        command,
        Outcome::Created {
            collection: "tasks",
            target: Target::Minted,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/tasks/{id}/assign", request_body = AssignTask, tag = "tasks",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn assign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<AssignTask>,
) -> Result<Response, ApiError> {
    let agent = agent_snapshot(&state, &body.value.agent_id).await?;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(state, &id, request, TaskCommand::AssignTask { agent }).await
}

#[utoipa::path(post, path = "/v1/tasks/{id}/start", tag = "tasks",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: NoBody,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(state, &id, request, TaskCommand::StartTask).await
}

#[utoipa::path(post, path = "/v1/tasks/{id}/complete", request_body = CompleteTask, tag = "tasks",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CompleteTask>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        TaskCommand::CompleteTask {
            result: body.value.result,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/tasks/{id}/fail", request_body = FailTask, tag = "tasks",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn fail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<FailTask>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        TaskCommand::FailTask {
            reason: body.value.reason,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/tasks/{id}/cancel", request_body = CancelTask, tag = "tasks",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CancelTask>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        TaskCommand::CancelTask {
            reason: body.value.reason,
        },
    )
    .await
}
