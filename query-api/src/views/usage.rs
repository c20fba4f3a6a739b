//! The usage projection: `usage_daily`, one row per agent and day.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct UsageDay {
    pub agent_id: Uuid,
    pub day: NaiveDate,
    pub messages_received: i64,
    pub messages_sent: i64,
    pub tasks_completed: i64,
    pub tasks_failed: i64,
    /// LLM tokens read to write the agent's replies that day (billed).
    pub prompt_tokens: i64,
    /// LLM tokens the agent's replies consisted of that day (billed).
    pub completion_tokens: i64,
}

pub(crate) struct UsageFilter {
    pub agent_id: Option<Uuid>,
    /// Inclusive.
    pub from: Option<NaiveDate>,
    /// Inclusive.
    pub to: Option<NaiveDate>,
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &UsageFilter,
    after: Option<(NaiveDate, Uuid)>,
    fetch: i64,
) -> Result<Vec<UsageDay>, sqlx::Error> {
    sqlx::query_as(
        "SELECT agent_id, day, messages_received, messages_sent, tasks_completed, tasks_failed,
                prompt_tokens, completion_tokens
         FROM usage_daily
         WHERE tenant_id = $1
           AND ($2::uuid IS NULL OR agent_id = $2)
           AND ($3::date IS NULL OR day >= $3)
           AND ($4::date IS NULL OR day <= $4)
           AND ($5::date IS NULL OR (day, agent_id) > ($5, $6::uuid))
         ORDER BY day, agent_id LIMIT $7",
    )
    .bind(tenant)
    .bind(filter.agent_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(after.map(|(day, _)| day))
    .bind(after.map(|(_, id)| id))
    .bind(fetch)
    .fetch_all(conn)
    .await
}
