//! tasks: current state per task and the history of its state changes.

use domain::task::TaskEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;

pub(super) async fn apply(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let AnyEvent::Task(event) = event else {
        return Ok(());
    };
    let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
    let status = match event {
        TaskEvent::TaskCreated(e) => {
            sqlx::query(
                "INSERT INTO tasks (task_id, tenant_id, title, description, priority, status, created_at, updated_at, version)
                 VALUES ($1, $2, $3, $4, $5, 'created', $6, $6, $7) ON CONFLICT (task_id) DO NOTHING",
            )
            .bind(id)
            .bind(e.tenant_id.as_str())
            .bind(&e.title)
            .bind(&e.description)
            .bind(e.priority.as_str())
            .bind(at)
            .bind(version)
            .execute(&mut *db)
            .await?;
            "created"
        }
        TaskEvent::TaskAssigned(e) => {
            change(db, meta, "assigned", Some(e.agent_id.as_uuid()), None, None).await?
        }
        TaskEvent::TaskStarted(_) => change(db, meta, "in_progress", None, None, None).await?,
        TaskEvent::TaskCompleted(e) => {
            change(db, meta, "completed", None, Some(&e.result), None).await?
        }
        TaskEvent::TaskFailed(e) => change(db, meta, "failed", None, None, Some(&e.reason)).await?,
        TaskEvent::TaskCancelled(e) => {
            change(db, meta, "cancelled", None, None, e.reason.as_deref()).await?
        }
    };
    let agent = match event {
        TaskEvent::TaskAssigned(e) => Some(e.agent_id.as_uuid()),
        TaskEvent::TaskStarted(e) => Some(e.agent_id.as_uuid()),
        TaskEvent::TaskCompleted(e) => Some(e.agent_id.as_uuid()),
        TaskEvent::TaskFailed(e) => Some(e.agent_id.as_uuid()),
        TaskEvent::TaskCancelled(e) => e.agent_id.map(|a| a.as_uuid()),
        TaskEvent::TaskCreated(_) => None,
    };
    sqlx::query(
        "INSERT INTO task_history (task_id, sequence, event_type, status, agent_id, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(version)
    .bind(&meta.event_type)
    .bind(status)
    .bind(agent)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

async fn change(
    db: &mut PgConnection,
    meta: &EventMetadata,
    status: &'static str,
    agent: Option<uuid::Uuid>,
    result: Option<&str>,
    failure: Option<&str>,
) -> Result<&'static str, sqlx::Error> {
    sqlx::query(
        "UPDATE tasks SET status = $2, agent_id = coalesce($3, agent_id), result = coalesce($4, result),
                failure = coalesce($5, failure), updated_at = $6, version = $7
         WHERE task_id = $1 AND version < $7",
    )
    .bind(meta.aggregate_id)
    .bind(status)
    .bind(agent)
    .bind(result)
    .bind(failure)
    .bind(meta.occurred_at)
    .bind(meta.sequence)
    .execute(db)
    .await?;
    Ok(status)
}
