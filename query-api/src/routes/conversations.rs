//! Conversation queries: the list (by agent, channel, status) and one conversation.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::conversation::Channel;
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{found, path_id};
use crate::extract::{one_of, uuid, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::conversations::{self, ConversationFilter, ConversationView};
use crate::{ApiError, AppState};

const TAG: &str = "conversations:started_at";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConversationListParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only the conversations of this agent.
    #[param(value_type = Option<Uuid>)]
    agent_id: Option<String>,
    /// web, whatsapp, telegram, messenger, instagram or sms.
    channel: Option<String>,
    /// open or closed.
    status: Option<String>,
}

/// Conversations in the order they started; the id breaks ties.
#[utoipa::path(get, path = "/v1/conversations", operation_id = "list_conversations", tag = "conversations",
    params(ConversationListParams),
    responses((status = 200, body = Page<ConversationView>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<ConversationListParams>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let filter = ConversationFilter {
        agent_id: checks.optional("agent_id", params.agent_id.as_deref(), uuid),
        channel: checks.optional("channel", params.channel.as_deref(), |text| {
            Channel::parse(text).map(Channel::as_str)
        }),
        status: checks.optional(
            "status",
            params.status.as_deref(),
            one_of(&["open", "closed"]),
        ),
    };
    let after = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let mut snapshot = read::snapshot(
        &state,
        caller.tenant(),
        ProjectionName::Conversations,
        token,
    )
    .await?;
    let rows = conversations::list(
        snapshot.conn(),
        caller.tenant(),
        &filter,
        after,
        fetch_size(limit),
    )
    .await;
    let page = |rows| {
        Page::from_rows(rows, limit, TAG, |c: &ConversationView| {
            (c.started_at, c.id)
        })
    };
    Ok(snapshot.respond(rows.map(page).map_err(ApiError::from)))
}

#[utoipa::path(get, path = "/v1/conversations/{id}", operation_id = "get_conversation", tag = "conversations",
    params(("id" = Uuid, Path, description = "The conversation's id")),
    responses((status = 200, body = ConversationView), (status = 404)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Reader,
    Consistency(token): Consistency,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let mut snapshot = read::snapshot(
        &state,
        caller.tenant(),
        ProjectionName::Conversations,
        token,
    )
    .await?;
    let conversation = conversations::find(snapshot.conn(), caller.tenant(), id).await;
    Ok(snapshot.respond(found(conversation)))
}
