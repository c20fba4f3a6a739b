//! tasks: current state per task and the history of its state changes.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::task::TaskEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

/// A task created in this batch, with the batch's later changes folded in.
struct NewTask {
    tenant_id: String,
    title: String,
    description: Option<String>,
    priority: &'static str,
    change: Change,
    created_at: DateTime<Utc>,
}

/// A state change; several of one task in a batch fold into one (the last status, the last
/// agent, result and failure given, the last time and version).
struct Change {
    status: &'static str,
    agent_id: Option<Uuid>,
    result: Option<String>,
    failure: Option<String>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl Change {
    fn then(&mut self, later: Change) {
        if later.version <= self.version {
            return;
        }
        self.status = later.status;
        self.agent_id = later.agent_id.or(self.agent_id);
        self.result = later.result.or(self.result.take());
        self.failure = later.failure.or(self.failure.take());
        self.updated_at = later.updated_at;
        self.version = later.version;
    }
}

enum Pending {
    Created(NewTask),
    Changed(Change),
}

struct History {
    task_id: Uuid,
    sequence: i64,
    event_type: String,
    status: &'static str,
    agent_id: Option<Uuid>,
    occurred_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Changes {
    // Ordered by id: rows are written (and locked) in the same order by every batch.
    tasks: BTreeMap<Uuid, Pending>,
    history: Vec<History>,
}

impl Changes {
    pub(super) fn add(&mut self, meta: &EventMetadata, event: &AnyEvent) {
        let AnyEvent::Task(event) = event else {
            return;
        };
        let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
        let change = |status, agent_id, result: Option<&str>, failure: Option<&str>| Change {
            status,
            agent_id,
            result: result.map(str::to_owned),
            failure: failure.map(str::to_owned),
            updated_at: at,
            version,
        };
        let (status, agent) = match event {
            TaskEvent::TaskCreated(e) => {
                let created = NewTask {
                    tenant_id: e.tenant_id.as_str().to_owned(),
                    title: e.title.clone(),
                    description: e.description.clone(),
                    priority: e.priority.as_str(),
                    change: change("created", None, None, None),
                    created_at: at,
                };
                self.tasks.insert(id, Pending::Created(created));
                ("created", None)
            }
            TaskEvent::TaskAssigned(e) => {
                let agent = Some(e.agent_id.as_uuid());
                self.change(id, change("assigned", agent, None, None));
                ("assigned", agent)
            }
            TaskEvent::TaskStarted(e) => {
                self.change(id, change("in_progress", None, None, None));
                ("in_progress", Some(e.agent_id.as_uuid()))
            }
            TaskEvent::TaskCompleted(e) => {
                self.change(id, change("completed", None, Some(&e.result), None));
                ("completed", Some(e.agent_id.as_uuid()))
            }
            TaskEvent::TaskFailed(e) => {
                self.change(id, change("failed", None, None, Some(&e.reason)));
                ("failed", Some(e.agent_id.as_uuid()))
            }
            TaskEvent::TaskCancelled(e) => {
                self.change(id, change("cancelled", None, None, e.reason.as_deref()));
                ("cancelled", e.agent_id.map(|a| a.as_uuid()))
            }
        };
        self.history.push(History {
            task_id: id,
            sequence: version,
            event_type: meta.event_type.clone(),
            status,
            agent_id: agent,
            occurred_at: at,
        });
    }

    fn change(&mut self, id: Uuid, change: Change) {
        match self.tasks.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(Pending::Changed(change));
            }
            Entry::Occupied(mut slot) => match slot.get_mut() {
                Pending::Created(task) => task.change.then(change),
                Pending::Changed(earlier) => earlier.then(change),
            },
        }
    }

    pub(super) async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        let mut created = Vec::new();
        let mut changed = Vec::new();
        for (id, pending) in self.tasks {
            match pending {
                Pending::Created(task) => created.push((id, task)),
                Pending::Changed(change) => changed.push((id, change)),
            }
        }
        insert_created(db, created).await?;
        update_changed(db, changed).await?;
        insert_history(db, self.history).await
    }
}

async fn insert_created(
    db: &mut PgConnection,
    created: Vec<(Uuid, NewTask)>,
) -> Result<(), sqlx::Error> {
    if created.is_empty() {
        return Ok(());
    }
    let mut columns = TaskColumns::default();
    let mut tenants = Vec::new();
    let mut titles = Vec::new();
    let mut descriptions = Vec::new();
    let mut priorities = Vec::new();
    let mut created_at = Vec::new();
    for (id, task) in created {
        tenants.push(task.tenant_id);
        titles.push(task.title);
        descriptions.push(task.description);
        priorities.push(task.priority);
        created_at.push(task.created_at);
        columns.push(id, task.change);
    }
    sqlx::query(
        "INSERT INTO tasks (task_id, tenant_id, title, description, priority, status, agent_id, result, failure,
                            created_at, updated_at, version)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[],
                              $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::bigint[])
         ON CONFLICT (task_id) DO NOTHING",
    )
    .bind(columns.ids)
    .bind(tenants)
    .bind(titles)
    .bind(descriptions)
    .bind(priorities)
    .bind(columns.statuses)
    .bind(columns.agents)
    .bind(columns.results)
    .bind(columns.failures)
    .bind(created_at)
    .bind(columns.updated_at)
    .bind(columns.versions)
    .execute(db)
    .await?;
    Ok(())
}

async fn update_changed(
    db: &mut PgConnection,
    changed: Vec<(Uuid, Change)>,
) -> Result<(), sqlx::Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut columns = TaskColumns::default();
    for (id, change) in changed {
        columns.push(id, change);
    }
    sqlx::query(
        "UPDATE tasks SET status = c.status, agent_id = coalesce(c.agent_id, tasks.agent_id),
                result = coalesce(c.result, tasks.result), failure = coalesce(c.failure, tasks.failure),
                updated_at = c.updated_at, version = c.version
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[])
              AS c(task_id, status, agent_id, result, failure, updated_at, version)
         WHERE tasks.task_id = c.task_id AND tasks.version < c.version",
    )
    .bind(columns.ids)
    .bind(columns.statuses)
    .bind(columns.agents)
    .bind(columns.results)
    .bind(columns.failures)
    .bind(columns.updated_at)
    .bind(columns.versions)
    .execute(db)
    .await?;
    Ok(())
}

async fn insert_history(db: &mut PgConnection, history: Vec<History>) -> Result<(), sqlx::Error> {
    if history.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(history.len());
    let mut sequences = Vec::with_capacity(history.len());
    let mut types = Vec::with_capacity(history.len());
    let mut statuses = Vec::with_capacity(history.len());
    let mut agents = Vec::with_capacity(history.len());
    let mut times = Vec::with_capacity(history.len());
    for row in history {
        ids.push(row.task_id);
        sequences.push(row.sequence);
        types.push(row.event_type);
        statuses.push(row.status);
        agents.push(row.agent_id);
        times.push(row.occurred_at);
    }
    sqlx::query(
        "INSERT INTO task_history (task_id, sequence, event_type, status, agent_id, occurred_at)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[])
         ON CONFLICT DO NOTHING",
    )
    .bind(ids)
    .bind(sequences)
    .bind(types)
    .bind(statuses)
    .bind(agents)
    .bind(times)
    .execute(db)
    .await?;
    Ok(())
}

/// The columns a state change sets, one array each.
#[derive(Default)]
struct TaskColumns {
    ids: Vec<Uuid>,
    statuses: Vec<&'static str>,
    agents: Vec<Option<Uuid>>,
    results: Vec<Option<String>>,
    failures: Vec<Option<String>>,
    updated_at: Vec<DateTime<Utc>>,
    versions: Vec<i64>,
}

impl TaskColumns {
    fn push(&mut self, id: Uuid, change: Change) {
        self.ids.push(id);
        self.statuses.push(change.status);
        self.agents.push(change.agent_id);
        self.results.push(change.result);
        self.failures.push(change.failure);
        self.updated_at.push(change.updated_at);
        self.versions.push(change.version);
    }
}
