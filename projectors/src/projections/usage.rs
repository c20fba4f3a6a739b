//! usage: per agent and day, messages received/sent, tasks completed/failed, and the LLM
//! tokens the replies consumed.
//! Counters are increments, summed per agent and day in memory and added in one upsert; the
//! runtime's per-aggregate version check keeps them exact.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::conversation::ConversationEvent;
use domain::task::TaskEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

/// received, sent, completed, failed, prompt tokens, completion tokens.
type Counts = [i64; 6];

/// Whose usage an event counts for: task events name their agent, messages only their
/// conversation (whose agent was remembered when it started).
enum Owner {
    Agent(Uuid),
    Conversation(Uuid),
}

struct Increment {
    tenant_id: String,
    owner: Owner,
    day: NaiveDate,
    counts: Counts,
}

#[derive(Default)]
pub struct Changes {
    /// Conversations started in this batch and their agents.
    owners: BTreeMap<Uuid, Uuid>,
    increments: Vec<Increment>,
}

impl Changes {
    pub(super) fn add(&mut self, meta: &EventMetadata, event: &AnyEvent) {
        let (owner, counts) = match event {
            AnyEvent::Conversation(ConversationEvent::ConversationStarted(e)) => {
                self.owners
                    .entry(meta.aggregate_id)
                    .or_insert(e.agent_id.as_uuid());
                return;
            }
            AnyEvent::Conversation(ConversationEvent::MessageReceived(_)) => {
                (Owner::Conversation(meta.aggregate_id), [1, 0, 0, 0, 0, 0])
            }
            AnyEvent::Conversation(ConversationEvent::MessageSent(e)) => (
                Owner::Conversation(meta.aggregate_id),
                [
                    0,
                    1,
                    0,
                    0,
                    i64::from(e.prompt_tokens.unwrap_or(0)),
                    i64::from(e.completion_tokens.unwrap_or(0)),
                ],
            ),
            AnyEvent::Task(TaskEvent::TaskCompleted(e)) => {
                (Owner::Agent(e.agent_id.as_uuid()), [0, 0, 1, 0, 0, 0])
            }
            AnyEvent::Task(TaskEvent::TaskFailed(e)) => {
                (Owner::Agent(e.agent_id.as_uuid()), [0, 0, 0, 1, 0, 0])
            }
            _ => return,
        };
        self.increments.push(Increment {
            tenant_id: meta.tenant_id.clone(),
            owner,
            day: meta.occurred_at.date_naive(),
            counts,
        });
    }

    pub(super) async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        remember_owners(db, &self.owners).await?;
        let known = self.known_owners(db).await?;
        let mut totals: BTreeMap<(String, Uuid, NaiveDate), Counts> = BTreeMap::new();
        for increment in self.increments {
            let agent = match increment.owner {
                Owner::Agent(agent) => agent,
                Owner::Conversation(conversation) => match self
                    .owners
                    .get(&conversation)
                    .or_else(|| known.get(&conversation))
                {
                    Some(agent) => *agent,
                    // A conversation whose start this projection never saw: not counted.
                    None => continue,
                },
            };
            let total = totals
                .entry((increment.tenant_id, agent, increment.day))
                .or_default();
            for (sum, add) in total.iter_mut().zip(increment.counts) {
                *sum += add;
            }
        }
        add_totals(db, totals).await
    }

    /// The agents of the conversations this batch counts but did not see start.
    async fn known_owners(
        &self,
        db: &mut PgConnection,
    ) -> Result<HashMap<Uuid, Uuid>, sqlx::Error> {
        let mut wanted: Vec<Uuid> = self
            .increments
            .iter()
            .filter_map(|increment| match increment.owner {
                Owner::Conversation(id) if !self.owners.contains_key(&id) => Some(id),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        wanted.sort_unstable();
        wanted.dedup();
        let rows: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
            "SELECT aggregate_id, agent_id FROM usage_owners WHERE aggregate_id = ANY($1)",
        )
        .bind(wanted)
        .fetch_all(db)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, agent)| agent.map(|agent| (id, agent)))
            .collect())
    }
}

async fn remember_owners(
    db: &mut PgConnection,
    owners: &BTreeMap<Uuid, Uuid>,
) -> Result<(), sqlx::Error> {
    if owners.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = owners.keys().copied().collect();
    let agents: Vec<Uuid> = owners.values().copied().collect();
    sqlx::query(
        "INSERT INTO usage_owners (aggregate_id, agent_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
    )
    .bind(ids)
    .bind(agents)
    .execute(db)
    .await?;
    Ok(())
}

async fn add_totals(
    db: &mut PgConnection,
    totals: BTreeMap<(String, Uuid, NaiveDate), Counts>,
) -> Result<(), sqlx::Error> {
    if totals.is_empty() {
        return Ok(());
    }
    let mut tenants = Vec::with_capacity(totals.len());
    let mut agents = Vec::with_capacity(totals.len());
    let mut days = Vec::with_capacity(totals.len());
    let mut columns: [Vec<i64>; 6] = Default::default();
    for ((tenant, agent, day), counts) in totals {
        tenants.push(tenant);
        agents.push(agent);
        days.push(day);
        for (column, count) in columns.iter_mut().zip(counts) {
            column.push(count);
        }
    }
    let [received, sent, completed, failed, prompt, completion] = columns;
    sqlx::query(
        "INSERT INTO usage_daily (tenant_id, agent_id, day, messages_received, messages_sent, tasks_completed, tasks_failed,
                                  prompt_tokens, completion_tokens)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::bigint[])
         ON CONFLICT (tenant_id, agent_id, day) DO UPDATE SET
             messages_received = usage_daily.messages_received + EXCLUDED.messages_received,
             messages_sent = usage_daily.messages_sent + EXCLUDED.messages_sent,
             tasks_completed = usage_daily.tasks_completed + EXCLUDED.tasks_completed,
             tasks_failed = usage_daily.tasks_failed + EXCLUDED.tasks_failed,
             prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
             completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens",
    )
    .bind(tenants)
    .bind(agents)
    .bind(days)
    .bind(received)
    .bind(sent)
    .bind(completed)
    .bind(failed)
    .bind(prompt)
    .bind(completion)
    .execute(db)
    .await?;
    Ok(())
}
