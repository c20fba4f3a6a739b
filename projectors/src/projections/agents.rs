//! agents: list and detail, with the task counts derived from `agent_tasks`.
//!
//! Agent events are few and their updates depend on the row's current state (a failed
//! deployment restores the status before it): they are written as they come. Task events,
//! which are many, fold into one `agent_tasks` row per task and are written set-wise.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use domain::agent::{AgentConfig, AgentEvent};
use domain::task::TaskEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

/// Where a task stands for its agent after the batch's events.
struct TaskState {
    tenant_id: String,
    agent_id: Option<Uuid>,
    state: &'static str,
    version: i64,
}

#[derive(Default)]
pub struct Changes {
    tasks: BTreeMap<Uuid, TaskState>,
}

impl Changes {
    pub(super) async fn add(
        &mut self,
        db: &mut PgConnection,
        meta: &EventMetadata,
        event: &AnyEvent,
    ) -> Result<(), sqlx::Error> {
        match event {
            AnyEvent::Agent(event) => agent(db, meta, event).await,
            AnyEvent::Task(event) => {
                self.task(meta, event);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Tracks which agent holds each task and whether it is open, completed or closed.
    fn task(&mut self, meta: &EventMetadata, event: &TaskEvent) {
        let (agent_id, state) = match event {
            TaskEvent::TaskCreated(_) => (None, "unassigned"),
            TaskEvent::TaskAssigned(e) => (Some(e.agent_id.as_uuid()), "open"),
            TaskEvent::TaskStarted(e) => (Some(e.agent_id.as_uuid()), "open"),
            TaskEvent::TaskCompleted(e) => (Some(e.agent_id.as_uuid()), "completed"),
            TaskEvent::TaskFailed(e) => (Some(e.agent_id.as_uuid()), "closed"),
            TaskEvent::TaskCancelled(e) => (e.agent_id.map(|a| a.as_uuid()), "closed"),
        };
        let later = TaskState {
            tenant_id: meta.tenant_id.clone(),
            agent_id,
            state,
            version: meta.sequence,
        };
        match self.tasks.entry(meta.aggregate_id) {
            Entry::Vacant(slot) => {
                slot.insert(later);
            }
            Entry::Occupied(mut slot) => {
                let earlier = slot.get_mut();
                if later.version > earlier.version {
                    earlier.agent_id = later.agent_id.or(earlier.agent_id);
                    earlier.state = later.state;
                    earlier.version = later.version;
                }
            }
        }
    }

    pub(super) async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.tasks.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(self.tasks.len());
        let mut tenants = Vec::with_capacity(self.tasks.len());
        let mut agents = Vec::with_capacity(self.tasks.len());
        let mut states = Vec::with_capacity(self.tasks.len());
        let mut versions = Vec::with_capacity(self.tasks.len());
        for (id, task) in self.tasks {
            ids.push(id);
            tenants.push(task.tenant_id);
            agents.push(task.agent_id);
            states.push(task.state);
            versions.push(task.version);
        }
        sqlx::query(
            "INSERT INTO agent_tasks (task_id, tenant_id, agent_id, state, version)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bigint[])
             ON CONFLICT (task_id) DO UPDATE SET agent_id = coalesce(EXCLUDED.agent_id, agent_tasks.agent_id),
                 state = EXCLUDED.state, version = EXCLUDED.version
             WHERE agent_tasks.version < EXCLUDED.version",
        )
        .bind(ids)
        .bind(tenants)
        .bind(agents)
        .bind(states)
        .bind(versions)
        .execute(db)
        .await?;
        Ok(())
    }
}

async fn agent(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AgentEvent,
) -> Result<(), sqlx::Error> {
    let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
    match event {
        AgentEvent::AgentCreated(e) => {
            sqlx::query(
                "INSERT INTO agents (agent_id, tenant_id, name, industry, provider, model, temperature,
                                     max_tokens, system_prompt, status, created_at, updated_at, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $10, $11)
                 ON CONFLICT (agent_id) DO NOTHING",
            )
            .bind(id)
            .bind(e.tenant_id.as_str())
            .bind(e.name.as_str())
            .bind(e.industry.as_str())
            .bind(e.config.provider.as_str())
            .bind(&e.config.model)
            .bind(e.config.temperature.get())
            .bind(e.config.max_tokens.get() as i32)
            .bind(e.config.system_prompt.as_str())
            .bind(at)
            .bind(version)
            .execute(db)
            .await?;
        }
        AgentEvent::AgentConfigUpdated(e) => {
            update_config(db, id, e.name.as_str(), &e.config, at, version).await?
        }
        AgentEvent::AgentDeployed(e) => {
            set_status(db, id, "deployed", Some(at), at, version).await?;
            sqlx::query(
                "UPDATE agents SET knowledge_base_id = coalesce($2, knowledge_base_id),
                        widget_embed_code = coalesce($3, widget_embed_code) WHERE agent_id = $1",
            )
            .bind(id)
            .bind(&e.knowledge_base_id)
            .bind(&e.widget_embed_code)
            .execute(&mut *db)
            .await?;
        }
        AgentEvent::AgentDeploymentRequested(_) => {
            sqlx::query(
                "UPDATE agents SET status_before_deployment = status, status = 'deploying', updated_at = $2, version = $3
                 WHERE agent_id = $1 AND version < $3",
            )
            .bind(id)
            .bind(at)
            .bind(version)
            .execute(&mut *db)
            .await?;
        }
        AgentEvent::AgentDeploymentFailed(e) => {
            sqlx::query(
                "UPDATE agents SET status = coalesce(status_before_deployment, 'draft'), status_before_deployment = NULL,
                        last_deployment_failure = $4, updated_at = $2, version = $3
                 WHERE agent_id = $1 AND version < $3",
            )
            .bind(id)
            .bind(at)
            .bind(version)
            .bind(&e.reason)
            .execute(&mut *db)
            .await?;
        }
        AgentEvent::AgentPaused(_) => set_status(db, id, "paused", None, at, version).await?,
        AgentEvent::AgentRetired(_) => set_status(db, id, "retired", None, at, version).await?,
    }
    Ok(())
}

async fn update_config(
    db: &mut PgConnection,
    id: Uuid,
    name: &str,
    config: &AgentConfig,
    at: chrono::DateTime<chrono::Utc>,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agents SET name = $2, provider = $3, model = $4, temperature = $5, max_tokens = $6,
                system_prompt = $7, updated_at = $8, version = $9
         WHERE agent_id = $1 AND version < $9",
    )
    .bind(id)
    .bind(name)
    .bind(config.provider.as_str())
    .bind(&config.model)
    .bind(config.temperature.get())
    .bind(config.max_tokens.get() as i32)
    .bind(config.system_prompt.as_str())
    .bind(at)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

async fn set_status(
    db: &mut PgConnection,
    id: Uuid,
    status: &str,
    deployed_at: Option<chrono::DateTime<chrono::Utc>>,
    at: chrono::DateTime<chrono::Utc>,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agents SET status = $2, deployed_at = coalesce($3, deployed_at), updated_at = $4, version = $5
         WHERE agent_id = $1 AND version < $5",
    )
    .bind(id)
    .bind(status)
    .bind(deployed_at)
    .bind(at)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}
