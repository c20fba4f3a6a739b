//! Saga instances and their step log in PostgreSQL.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SagaInstance {
    pub saga_id: Uuid,
    pub saga_type: String,
    pub correlation_id: String,
    pub tenant_id: String,
    pub status: String,
    pub step: String,
    pub attempts: i32,
    pub data: Value,
    pub deadline_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// W3C trace context of the event that started the saga: its steps and the commands
    /// they send continue that trace.
    pub traceparent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StepRecord {
    pub seq: i32,
    pub step: String,
    pub action: String,
    pub idempotency_key: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// A new saga; a second start for the same type and correlation is a no-op.
pub struct NewSaga<'a> {
    pub saga_type: &'a str,
    pub correlation_id: String,
    pub tenant_id: &'a str,
    pub step: &'a str,
    pub data: Value,
    pub deadline_at: Option<DateTime<Utc>>,
}

/// Starts `saga` in the trace of the event that caused it.
///
/// # Errors
/// On database failure.
pub async fn start(
    db: &mut PgConnection,
    saga: NewSaga<'_>,
    traceparent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO saga_instances (saga_id, saga_type, correlation_id, tenant_id, status, step, data, deadline_at, traceparent)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8) ON CONFLICT (saga_type, correlation_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(saga.saga_type)
    .bind(&saga.correlation_id)
    .bind(saga.tenant_id)
    .bind(saga.step)
    .bind(&saga.data)
    .bind(saga.deadline_at)
    .bind(traceparent.filter(|t| !t.is_empty()))
    .execute(db)
    .await?;
    Ok(())
}

/// Running or compensating sagas whose next attempt or deadline is due, locked for this
/// executor (others skip them).
///
/// # Errors
/// On database failure.
pub async fn claim_due(
    db: &mut PgConnection,
    limit: i64,
) -> Result<Vec<SagaInstance>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM saga_instances
         WHERE status IN ('running', 'compensating')
           AND (next_attempt_at <= now() OR deadline_at <= now())
         ORDER BY created_at, saga_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Writes the instance's new state.
///
/// # Errors
/// On database failure.
pub async fn save(db: &mut PgConnection, saga: &SagaInstance) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE saga_instances SET status = $2, step = $3, attempts = $4, data = $5, deadline_at = $6,
                next_attempt_at = $7, last_error = $8, updated_at = now()
         WHERE saga_id = $1",
    )
    .bind(saga.saga_id)
    .bind(&saga.status)
    .bind(&saga.step)
    .bind(saga.attempts)
    .bind(&saga.data)
    .bind(saga.deadline_at)
    .bind(saga.next_attempt_at)
    .bind(&saga.last_error)
    .execute(db)
    .await?;
    Ok(())
}

/// Appends to the step log.
///
/// # Errors
/// On database failure.
pub async fn log(
    db: &mut PgConnection,
    saga_id: Uuid,
    step: &str,
    action: &str,
    idempotency_key: Option<&str>,
    outcome: &str,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO saga_steps (saga_id, seq, step, action, idempotency_key, outcome, detail)
         VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM saga_steps WHERE saga_id = $1), $2, $3, $4, $5, $6)",
    )
    .bind(saga_id)
    .bind(step)
    .bind(action)
    .bind(idempotency_key)
    .bind(outcome)
    .bind(detail)
    .execute(db)
    .await?;
    Ok(())
}

/// # Errors
/// On database failure.
pub async fn find(
    db: &mut PgConnection,
    saga_id: Uuid,
) -> Result<Option<SagaInstance>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM saga_instances WHERE saga_id = $1")
        .bind(saga_id)
        .fetch_optional(db)
        .await
}

/// # Errors
/// On database failure.
pub async fn steps(db: &mut PgConnection, saga_id: Uuid) -> Result<Vec<StepRecord>, sqlx::Error> {
    sqlx::query_as("SELECT seq, step, action, idempotency_key, outcome, detail, at FROM saga_steps WHERE saga_id = $1 ORDER BY seq")
        .bind(saga_id)
        .fetch_all(db)
        .await
}
