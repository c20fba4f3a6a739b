//! The tasks projection: `tasks` and their `task_history`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct TaskView {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// low, normal, high or urgent.
    pub priority: String,
    /// created, assigned, in_progress, completed, failed or cancelled.
    pub status: String,
    pub agent_id: Option<Uuid>,
    pub result: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The task's version this row reflects.
    pub version: i64,
}

/// One state change of a task.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct TaskHistoryEntry {
    pub sequence: i64,
    pub event_type: String,
    pub status: String,
    pub agent_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    /// Every state change, in sequence order.
    pub history: Vec<TaskHistoryEntry>,
}

pub(crate) struct TaskFilter<'a> {
    pub agent_id: Option<Uuid>,
    pub status: Option<&'a str>,
    /// Inclusive.
    pub created_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_before: Option<DateTime<Utc>>,
}

macro_rules! tasks {
    () => {
        "SELECT task_id AS id, title, description, priority, status, agent_id, result, failure,
                created_at, updated_at, version
         FROM tasks
         WHERE tenant_id = $1
           AND ($2::uuid IS NULL OR agent_id = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::timestamptz IS NULL OR created_at >= $4)
           AND ($5::timestamptz IS NULL OR created_at < $5)"
    };
}

const BY_CREATED: &str = concat!(
    tasks!(),
    " AND ($6::timestamptz IS NULL OR (created_at, task_id) > ($6, $7::uuid))
      ORDER BY created_at, task_id LIMIT $8"
);
const BY_CREATED_DESC: &str = concat!(
    tasks!(),
    " AND ($6::timestamptz IS NULL OR (created_at, task_id) < ($6, $7::uuid))
      ORDER BY created_at DESC, task_id DESC LIMIT $8"
);

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &TaskFilter<'_>,
    descending: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    fetch: i64,
) -> Result<Vec<TaskView>, sqlx::Error> {
    sqlx::query_as(if descending {
        BY_CREATED_DESC
    } else {
        BY_CREATED
    })
    .bind(tenant)
    .bind(filter.agent_id)
    .bind(filter.status)
    .bind(filter.created_after)
    .bind(filter.created_before)
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
) -> Result<Option<TaskDetail>, sqlx::Error> {
    let task: Option<TaskView> = sqlx::query_as(concat!(tasks!(), " AND task_id = $6"))
        .bind(tenant)
        .bind(None::<Uuid>)
        .bind(None::<&str>)
        .bind(None::<DateTime<Utc>>)
        .bind(None::<DateTime<Utc>>)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(task) = task else {
        return Ok(None);
    };
    let history = sqlx::query_as(
        "SELECT sequence, event_type, status, agent_id, occurred_at
         FROM task_history WHERE task_id = $1 ORDER BY sequence",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(Some(TaskDetail { task, history }))
}
