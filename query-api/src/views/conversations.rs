//! The conversations projection: `conversations` and their `messages`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct ConversationView {
    pub id: Uuid,
    pub agent_id: Uuid,
    /// web, whatsapp, telegram, messenger, instagram or sms.
    pub channel: String,
    pub customer_ref: String,
    /// open or closed.
    pub status: String,
    pub message_count: i32,
    pub started_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The conversation's version this row reflects.
    pub version: i64,
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct MessageView {
    /// 1, 2, … in the order the conversation had them.
    pub message_number: i32,
    /// received (from the customer) or sent (by the agent).
    pub direction: String,
    pub text: String,
    pub occurred_at: DateTime<Utc>,
}

pub(crate) struct ConversationFilter<'a> {
    pub agent_id: Option<Uuid>,
    pub channel: Option<&'a str>,
    pub status: Option<&'a str>,
}

macro_rules! conversations {
    () => {
        "SELECT conversation_id AS id, agent_id, channel, customer_ref, status, message_count,
                started_at, closed_at, updated_at, version
         FROM conversations
         WHERE tenant_id = $1"
    };
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &ConversationFilter<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    fetch: i64,
) -> Result<Vec<ConversationView>, sqlx::Error> {
    sqlx::query_as(concat!(
        conversations!(),
        " AND ($2::uuid IS NULL OR agent_id = $2)
          AND ($3::text IS NULL OR channel = $3)
          AND ($4::text IS NULL OR status = $4)
          AND ($5::timestamptz IS NULL OR (started_at, conversation_id) > ($5, $6::uuid))
          ORDER BY started_at, conversation_id LIMIT $7"
    ))
    .bind(tenant)
    .bind(filter.agent_id)
    .bind(filter.channel)
    .bind(filter.status)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(fetch)
    .fetch_all(conn)
    .await
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<ConversationView>, sqlx::Error> {
    sqlx::query_as(concat!(conversations!(), " AND conversation_id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The conversation's messages after `after`, or `None` when the conversation is not the
/// tenant's (so another tenant's messages are a 404 like a missing conversation).
pub(crate) async fn messages(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    after: Option<i32>,
    fetch: i64,
) -> Result<Option<Vec<MessageView>>, sqlx::Error> {
    let owned: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE conversation_id = $1 AND tenant_id = $2)",
    )
    .bind(id)
    .bind(tenant)
    .fetch_one(&mut *conn)
    .await?;
    if !owned {
        return Ok(None);
    }
    let messages = sqlx::query_as(
        "SELECT message_number, direction, text, occurred_at
         FROM messages
         WHERE conversation_id = $1 AND ($2::integer IS NULL OR message_number > $2)
         ORDER BY message_number LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(fetch)
    .fetch_all(conn)
    .await?;
    Ok(Some(messages))
}
