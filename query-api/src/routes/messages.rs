//! A conversation's messages, in order, a page at a time.

use axum::extract::{Path, State};
use axum::response::Response;
use projectors::ProjectionName;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{found, path_id};
use crate::extract::{Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::conversations::{self, MessageView};
use crate::{ApiError, AppState};

const TAG: &str = "messages:message_number";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessageListParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Messages in `message_number` order; 404 unless the conversation is the caller's.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", operation_id = "list_messages", tag = "conversations",
    params(("id" = Uuid, Path, description = "The conversation's id"), MessageListParams),
    responses((status = 200, body = Page<MessageView>), (status = 400, description = "invalid parameter"), (status = 404)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<MessageListParams>,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let after: Option<i32> = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let mut snapshot = read::snapshot(
        &state,
        caller.tenant(),
        ProjectionName::Conversations,
        token,
    )
    .await?;
    let messages = conversations::messages(
        snapshot.conn(),
        caller.tenant(),
        id,
        after,
        fetch_size(limit),
    )
    .await;
    let page = found(messages)
        .map(|rows| Page::from_rows(rows, limit, TAG, |m: &MessageView| m.message_number));
    Ok(snapshot.respond(page))
}
