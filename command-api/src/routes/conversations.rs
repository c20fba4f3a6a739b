//! Conversation commands.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::conversation::{ConversationCommand, TokenUsage};
use domain::ConversationId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::path_id;
use super::tasks::agent_snapshot;
use store::Target;

use crate::dispatch::{dispatch, CommandRequest, Outcome};
use crate::extract::{CommandBody, Commander, Preconditions};
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartConversation {
    /// A deployed agent of the caller's tenant.
    agent_id: String,
    /// web, whatsapp, telegram, messenger, instagram or sms.
    channel: String,
    /// The customer on that channel (phone number, chat id, ...), 1–200 characters.
    customer_ref: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageText {
    /// 1–4,096 characters.
    text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reply {
    /// 1–4,096 characters.
    text: String,
    /// What the LLM consumed to write the reply; billed per token. Omit for replies written
    /// by a person.
    usage: Option<Usage>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Usage {
    /// Tokens sent to the model (0–2,000,000).
    prompt_tokens: u32,
    /// Tokens the model wrote (0–2,000,000).
    completion_tokens: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseConversation {
    reason: Option<String>,
}

async fn action(
    state: AppState,
    id: &str,
    request: CommandRequest,
    command: ConversationCommand,
) -> Result<Response, ApiError> {
    let id = path_id(id, ConversationId::parse)?.to_string();
    dispatch(
        &state,
        &state.conversations,
        request,
        &id,
        command,
        Outcome::Changed,
    )
    .await
}

#[utoipa::path(post, path = "/v1/conversations", request_body = StartConversation, tag = "conversations",
    responses((status = 201, body = crate::dispatch::CommandAccepted), (status = 422)))]
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<StartConversation>,
) -> Result<Response, ApiError> {
    let StartConversation {
        agent_id,
        channel,
        customer_ref,
    } = body.value;
    let agent = agent_snapshot(&state, &agent_id).await?;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let command = ConversationCommand::StartConversation {
        agent,
        channel,
        customer_ref,
    };
    let id = Uuid::now_v7().to_string();
    let outcome = Outcome::Created {
        collection: "conversations",
        target: Target::Minted,
    };
    dispatch(&state, &state.conversations, request, &id, command, outcome).await
}

#[utoipa::path(post, path = "/v1/conversations/{id}/messages", request_body = MessageText, tag = "conversations",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<MessageText>,
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
        ConversationCommand::ReceiveMessage {
            text: body.value.text,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/conversations/{id}/replies", request_body = Reply, tag = "conversations",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<Reply>,
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
        ConversationCommand::SendReply {
            text: body.value.text,
            usage: body.value.usage.map(|u| TokenUsage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            }),
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/conversations/{id}/close", request_body = CloseConversation, tag = "conversations",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CloseConversation>,
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
        ConversationCommand::CloseConversation {
            reason: body.value.reason,
        },
    )
    .await
}
