//! The baseline: the same mix straight on cqrs-es + postgres-es, in process. No HTTP, no JSON
//! request bodies, no auth, no outbox trigger, no relay: what the event store alone costs.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::CqrsFramework;
use domain::agent::{Agent, AgentCommand, AgentConfigInput, AgentConfigPatch};
use domain::task::{Task, TaskCommand};
use domain::TenantId;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use store::Es;
use uuid::Uuid;

use crate::mix::{self, Executor, Step};

/// The `events` and `snapshots` tables of store/migrations/0001_event_store.sql, and nothing
/// else: no outbox table, no trigger, no idempotency keys.
const EVENT_STORE_TABLES: &str = r"
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);
";

type Framework<A> = CqrsFramework<Es<A>, PersistedEventStore<PostgresEventRepository, Es<A>>>;

fn framework<A: domain::Aggregate>(pool: &PgPool) -> Framework<A> {
    let store = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
    CqrsFramework::new(store, Vec::new(), ())
}

/// Executes the mix through cqrs-es; clones share the frameworks and the pool.
#[derive(Clone)]
pub struct InProcess {
    tasks: Arc<Framework<Task>>,
    agents: Arc<Framework<Agent>>,
    tenant: TenantId,
}

impl InProcess {
    /// Creates the two event store tables in `pool`'s (empty) database; with `outbox_trigger`
    /// (a diagnostic) the command-api's full schema instead, so that every append also fills the
    /// outbox, claims no idempotency key (none is sent) and notifies, as in the command-api.
    ///
    /// # Errors
    /// When the tables cannot be created.
    pub async fn prepare(pool: &PgPool, outbox_trigger: bool) -> anyhow::Result<Self> {
        if outbox_trigger {
            store::migrate(pool)
                .await
                .context("migrating the baseline's database")?;
        } else {
            sqlx::raw_sql(EVENT_STORE_TABLES)
                .execute(pool)
                .await
                .context("creating the baseline's events and snapshots tables")?;
        }
        Ok(Self {
            tasks: Arc::new(framework(pool)),
            agents: Arc::new(framework(pool)),
            tenant: TenantId::parse(crate::platform::TENANT).map_err(anyhow::Error::msg)?,
        })
    }

    /// What the command-api stores with every event (store::CommandMetadata), minus the
    /// idempotency key, so events weigh the same.
    fn metadata(&self) -> HashMap<String, String> {
        let trace = Uuid::new_v4().simple().to_string();
        let span = &Uuid::new_v4().simple().to_string()[..16];
        HashMap::from([
            ("tenant_id".to_owned(), self.tenant.as_str().to_owned()),
            (
                "occurred_at".to_owned(),
                Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            ),
            ("correlation_id".to_owned(), Uuid::new_v4().to_string()),
            ("actor".to_owned(), crate::platform::SUBJECT.to_owned()),
            ("traceparent".to_owned(), format!("00-{trace}-{span}-01")),
        ])
    }
}

impl Executor for InProcess {
    async fn execute(&self, step: &Step) -> anyhow::Result<Option<String>> {
        let tenant = self.tenant.clone();
        let metadata = self.metadata();
        let failed = |error: cqrs_es::AggregateError<domain::DomainError>| {
            anyhow::anyhow!("{step:?}: {error}")
        };
        match step {
            Step::CreateTask => {
                let id = Uuid::now_v7().to_string();
                let command = TaskCommand::CreateTask {
                    title: mix::TASK_TITLE.to_owned(),
                    description: None,
                    priority: Some(mix::TASK_PRIORITY.to_owned()),
                };
                self.tasks
                    .execute_with_metadata(&id, (tenant, command), metadata)
                    .await
                    .map_err(failed)?;
                Ok(Some(id))
            }
            Step::CancelTask(id) => {
                let command = TaskCommand::CancelTask {
                    reason: Some(mix::CANCEL_REASON.to_owned()),
                };
                self.tasks
                    .execute_with_metadata(id, (tenant, command), metadata)
                    .await
                    .map_err(failed)?;
                Ok(None)
            }
            Step::CreateAgent => {
                let id = Uuid::now_v7().to_string();
                let command = AgentCommand::CreateAgent {
                    name: mix::AGENT_NAME.to_owned(),
                    industry: mix::AGENT_INDUSTRY.to_owned(),
                    config: AgentConfigInput {
                        provider: mix::AGENT_PROVIDER.to_owned(),
                        model: mix::AGENT_MODEL.to_owned(),
                        temperature: mix::AGENT_TEMPERATURE,
                        max_tokens: mix::AGENT_MAX_TOKENS,
                        system_prompt: None,
                    },
                };
                self.agents
                    .execute_with_metadata(&id, (tenant, command), metadata)
                    .await
                    .map_err(failed)?;
                Ok(Some(id))
            }
            Step::UpdateAgent(id) => {
                let patch = AgentConfigPatch {
                    temperature: Some(mix::UPDATED_TEMPERATURE),
                    ..AgentConfigPatch::default()
                };
                let command = AgentCommand::UpdateAgentConfig(patch);
                self.agents
                    .execute_with_metadata(id, (tenant, command), metadata)
                    .await
                    .map_err(failed)?;
                Ok(None)
            }
        }
    }
}
