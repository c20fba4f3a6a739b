//! The agents projection: `agents` and the `agent_tasks` they count.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct AgentView {
    pub id: Uuid,
    pub name: String,
    pub industry: String,
    pub provider: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: i32,
    pub system_prompt: String,
    /// draft, deploying, deployed, paused or retired.
    pub status: String,
    pub deployed_at: Option<DateTime<Utc>>,
    /// Set when the deployment workflow provisioned them.
    pub knowledge_base_id: Option<String>,
    pub widget_embed_code: Option<String>,
    /// Why the last deployment workflow failed, if it did.
    pub last_deployment_failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The agent's version this row reflects.
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgentDetail {
    #[serde(flatten)]
    pub agent: AgentView,
    /// Tasks assigned to the agent and not finished.
    pub open_tasks: i64,
    pub completed_tasks: i64,
}

pub(crate) struct AgentFilter<'a> {
    pub status: Option<&'a str>,
    pub industry: Option<&'a str>,
}

/// The list's order, with the key of the last row already seen.
pub(crate) enum AgentOrder {
    CreatedAt {
        descending: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
    },
    Name {
        after: Option<(String, Uuid)>,
    },
}

macro_rules! agents {
    () => {
        "SELECT agent_id AS id, name, industry, provider, model, temperature, max_tokens,
                system_prompt, status, deployed_at, knowledge_base_id, widget_embed_code,
                last_deployment_failure, created_at, updated_at, version
         FROM agents
         WHERE tenant_id = $1
           AND ($2::text IS NULL OR status = $2)
           AND ($3::text IS NULL OR industry = $3)"
    };
}

const BY_CREATED: &str = concat!(
    agents!(),
    " AND ($4::timestamptz IS NULL OR (created_at, agent_id) > ($4, $5::uuid))
      ORDER BY created_at, agent_id LIMIT $6"
);
const BY_CREATED_DESC: &str = concat!(
    agents!(),
    " AND ($4::timestamptz IS NULL OR (created_at, agent_id) < ($4, $5::uuid))
      ORDER BY created_at DESC, agent_id DESC LIMIT $6"
);
const BY_NAME: &str = concat!(
    agents!(),
    " AND ($4::text IS NULL OR (name, agent_id) > ($4, $5::uuid))
      ORDER BY name, agent_id LIMIT $6"
);

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &AgentFilter<'_>,
    order: &AgentOrder,
    fetch: i64,
) -> Result<Vec<AgentView>, sqlx::Error> {
    let query = |sql| {
        sqlx::query_as::<_, AgentView>(sql)
            .bind(tenant)
            .bind(filter.status)
            .bind(filter.industry)
    };
    match order {
        AgentOrder::CreatedAt { descending, after } => {
            let sql = if *descending {
                BY_CREATED_DESC
            } else {
                BY_CREATED
            };
            query(sql)
                .bind(after.map(|(at, _)| at))
                .bind(after.map(|(_, id)| id))
                .bind(fetch)
                .fetch_all(conn)
                .await
        }
        AgentOrder::Name { after } => {
            query(BY_NAME)
                .bind(after.as_ref().map(|(name, _)| name.as_str()))
                .bind(after.as_ref().map(|(_, id)| *id))
                .bind(fetch)
                .fetch_all(conn)
                .await
        }
    }
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<AgentDetail>, sqlx::Error> {
    let agent: Option<AgentView> = sqlx::query_as(concat!(agents!(), " AND agent_id = $4"))
        .bind(tenant)
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(agent) = agent else {
        return Ok(None);
    };
    let (open_tasks, completed_tasks): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'open'),
                count(*) FILTER (WHERE state = 'completed')
         FROM agent_tasks
         WHERE tenant_id = $1 AND agent_id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(Some(AgentDetail {
        agent,
        open_tasks,
        completed_tasks,
    }))
}
