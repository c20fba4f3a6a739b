//! The audit projection: every event of a tenant.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct AuditEntry {
    pub event_id: Uuid,
    /// agent, task, conversation or invoice.
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// The event's version within its aggregate.
    pub sequence: i64,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

pub(crate) struct AuditFilter<'a> {
    pub aggregate_id: Option<Uuid>,
    pub aggregate_type: Option<&'a str>,
    pub event_type: Option<&'a str>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &AuditFilter<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    fetch: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event_id, aggregate_type, aggregate_id, sequence, event_type, occurred_at,
                correlation_id, payload
         FROM audit_events
         WHERE tenant_id = $1
           AND ($2::uuid IS NULL OR aggregate_id = $2)
           AND ($3::text IS NULL OR aggregate_type = $3)
           AND ($4::text IS NULL OR event_type = $4)
           AND ($5::timestamptz IS NULL OR occurred_at >= $5)
           AND ($6::timestamptz IS NULL OR occurred_at < $6)
           AND ($7::timestamptz IS NULL OR (occurred_at, event_id) > ($7, $8::uuid))
         ORDER BY occurred_at, event_id LIMIT $9",
    )
    .bind(tenant)
    .bind(filter.aggregate_id)
    .bind(filter.aggregate_type)
    .bind(filter.event_type)
    .bind(filter.from)
    .bind(filter.to)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(fetch)
    .fetch_all(conn)
    .await
}
