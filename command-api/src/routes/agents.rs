//! Agent commands.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::agent::{AgentCommand, AgentConfigInput, AgentConfigPatch};
use domain::AgentId;
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
pub(crate) struct CreateAgent {
    /// 1–100 characters.
    name: String,
    /// healthcare, retail, finance, education, real_estate, hospitality, legal or general.
    industry: String,
    /// openai, anthropic, google or azure.
    provider: String,
    /// A supported, not retired model of the provider.
    model: String,
    /// 0–2, default 0.7.
    #[serde(default = "default_temperature")]
    temperature: f64,
    /// 1 to the model's output limit, default 1024.
    #[serde(default = "default_max_tokens")]
    max_tokens: u32,
    /// At most 8,000 characters; the industry's template when absent.
    system_prompt: Option<String>,
}

fn default_temperature() -> f64 {
    0.7
}

fn default_max_tokens() -> u32 {
    1_024
}

/// Only the fields given change; the whole configuration is checked again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateAgent {
    name: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    system_prompt: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    /// Optional, 1–1,000 characters.
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/agents", request_body = CreateAgent, tag = "agents",
    responses((status = 201, body = crate::dispatch::CommandAccepted), (status = 422, description = "invalid fields")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CreateAgent>,
) -> Result<Response, ApiError> {
    let CreateAgent {
        name,
        industry,
        provider,
        model,
        temperature,
        max_tokens,
        system_prompt,
    } = body.value;
    let config = AgentConfigInput {
        provider,
        model,
        temperature,
        max_tokens,
        system_prompt,
    };
    let command = AgentCommand::CreateAgent {
        name,
        industry,
        config,
    };
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let id = Uuid::now_v7().to_string();
    let outcome = Outcome::Created {
        collection: "agents",
        target: Target::Minted,
    };
    dispatch(&state, &state.agents, request, &id, command, outcome).await
}

#[utoipa::path(patch, path = "/v1/agents/{id}", request_body = UpdateAgent, tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<UpdateAgent>,
) -> Result<Response, ApiError> {
    let UpdateAgent {
        name,
        provider,
        model,
        temperature,
        max_tokens,
        system_prompt,
    } = body.value;
    let patch = AgentConfigPatch {
        name,
        provider,
        model,
        temperature,
        max_tokens,
        system_prompt,
    };
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(state, &id, request, AgentCommand::UpdateAgentConfig(patch)).await
}

async fn action(
    state: AppState,
    id: &str,
    request: CommandRequest,
    command: AgentCommand,
) -> Result<Response, ApiError> {
    let id = path_id(id, AgentId::parse)?.to_string();
    dispatch(
        &state,
        &state.agents,
        request,
        &id,
        command,
        Outcome::Changed,
    )
    .await
}

#[utoipa::path(post, path = "/v1/agents/{id}/deploy", tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn deploy(
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
    action(state, &id, request, AgentCommand::DeployAgent).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/pause", request_body = Reason, tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<Reason>,
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
        AgentCommand::PauseAgent {
            reason: body.value.reason,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/agents/{id}/retire", request_body = Reason, tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn retire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<Reason>,
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
        AgentCommand::RetireAgent {
            reason: body.value.reason,
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteDeployment {
    knowledge_base_id: String,
    widget_embed_code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailDeployment {
    reason: String,
}

/// Starts the deployment workflow (quota check, provisioning) run by the sagas.
#[utoipa::path(post, path = "/v1/agents/{id}/deployment-requests", tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn request_deployment(
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
    action(state, &id, request, AgentCommand::RequestAgentDeployment).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/deployment-completions", request_body = CompleteDeployment, tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn complete_deployment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CompleteDeployment>,
) -> Result<Response, ApiError> {
    let CompleteDeployment {
        knowledge_base_id,
        widget_embed_code,
    } = body.value;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let command = AgentCommand::CompleteAgentDeployment {
        knowledge_base_id,
        widget_embed_code,
    };
    action(state, &id, request, command).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/deployment-failures", request_body = FailDeployment, tag = "agents",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn fail_deployment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<FailDeployment>,
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
        AgentCommand::FailAgentDeployment {
            reason: body.value.reason,
        },
    )
    .await
}
