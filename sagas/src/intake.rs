//! Intake: the sagas' consumer group turns events into saga instances. Saga rows and the
//! consumer's offsets commit in one transaction (effectively once, as on the read side): on
//! assignment the consumer seeks to the stored offsets, records below them are skipped, a
//! record past them (a gap) is never applied, and starting a saga twice is a no-op.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use domain::agent::AgentEvent;
use domain::conversation::ConversationEvent;
use domain::invoice::InvoiceEvent;
use domain::subscription::SubscriptionEvent;
use domain::task::TaskEvent;
use futures::StreamExt;
use messaging::consumer::{
    OffsetCache, OffsetTracker, PartitionKey, Position, Rewinds, SeekToStoredOffsets,
};
use messaging::StallWatch;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use schemas::{AnyEvent, EventMetadata, RegistryCodec, Topic};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::instances::{self, NewSaga};
use crate::workflows::{agent_deployment, billing_cycle, conversation_reply, task_execution};

/// How often an idle intake looks for partitions that nobody moves forward ([`StallWatch`]).
const STALL_CHECK_EVERY: Duration = Duration::from_secs(10);

/// A consumed record: where it was, its bytes, and the decoded event or why it did not decode.
struct Consumed {
    key: PartitionKey,
    offset: i64,
    payload: Vec<u8>,
    decoded: Result<(EventMetadata, AnyEvent), String>,
}

/// What a batch did to the offsets.
struct Applied {
    next: HashMap<PartitionKey, i64>,
    rewind: HashMap<PartitionKey, i64>,
}

pub struct Intake {
    pub pool: PgPool,
    pub codec: Arc<RegistryCodec>,
    pub brokers: String,
    pub topic_prefix: String,
}

impl Intake {
    /// Consumes until shutdown.
    ///
    /// # Errors
    /// On broker, registry or database failure; the caller restarts it (nothing of the failed
    /// batch was committed, and the new consumer starts from the stored offsets).
    pub async fn run(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let known = OffsetCache::default();
        known.replace(self.stored_offsets().await?);
        let consumer: StreamConsumer<SeekToStoredOffsets> = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}.sagas", self.topic_prefix))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // The rebalance timeout the group coordinator waits for members to rejoin: a member
            // SIGKILLed mid-rebalance otherwise holds its partitions for the 5-minute default.
            // Longer than the projectors' 30 s: a batch can wait on a saga row that a worker
            // holds through an LLM call (60 s client timeout), and must not be evicted then.
            .set("max.poll.interval.ms", "120000")
            // Tansu holds a fetch for the whole wait even when records are there: keep it short.
            .set("fetch.wait.max.ms", "10")
            .create_with_context(SeekToStoredOffsets::new(known.clone(), "sagas"))?;
        let topics = [
            Topic::Agents,
            Topic::Tasks,
            Topic::Conversations,
            Topic::Billing,
        ]
        .map(|t| t.name(&self.topic_prefix));
        consumer.subscribe(&topics.each_ref().map(String::as_str))?;
        let mut batches = consumer.stream().ready_chunks(200);
        let mut rewinds = Rewinds::default();
        let mut stalls = StallWatch::new(STALL_CHECK_EVERY);
        loop {
            let chunk = tokio::select! {
                chunk = batches.next() => chunk,
                () = shutdown.cancelled() => return Ok(()),
                // Idle: keep the copy the rebalance callback reads fresh.
                () = tokio::time::sleep(Duration::from_secs(1)) => Some(Vec::new()),
            };
            let Some(chunk) = chunk else { return Ok(()) };
            if chunk.is_empty() {
                let stored = self.stored_offsets().await?;
                stalls
                    .check(&consumer, &self.brokers, &stored, "sagas")
                    .await;
                known.replace(stored);
                continue;
            }
            let mut records = Vec::with_capacity(chunk.len());
            for message in chunk {
                let message = message?;
                let payload = message.payload().unwrap_or_default().to_vec();
                let decoded = match self.codec.decode(&payload).await {
                    // The registry is down, not the record broken: retry, skip nothing.
                    Err(error) if error.is_transient() => return Err(error.into()),
                    Err(error) => Err(error.to_string()),
                    Ok(pair) => Ok(pair),
                };
                records.push(Consumed {
                    key: PartitionKey {
                        topic: message.topic().to_owned(),
                        partition: message.partition(),
                    },
                    offset: message.offset(),
                    payload,
                    decoded,
                });
            }
            let applied = self.apply(&records).await?;
            known.replace(self.stored_offsets().await?);
            rewinds.progressed(applied.next.keys());
            rewinds.rewind(&consumer, &applied.rewind);
            // A hint for the next member of the group; PostgreSQL stays the truth.
            let mut hint = TopicPartitionList::new();
            for (key, offset) in applied.next {
                hint.add_partition_offset(&key.topic, key.partition, Offset::Offset(offset))?;
            }
            if hint.count() > 0 {
                consumer.commit(&hint, CommitMode::Async)?;
            }
        }
    }

    async fn stored_offsets(&self) -> Result<HashMap<PartitionKey, i64>, sqlx::Error> {
        stored_offsets(&self.pool, false).await
    }

    /// Applies a batch in one transaction; when an event breaks a constraint, the batch is
    /// applied again with each event in a savepoint, so only that event becomes a dead letter
    /// and the intake goes on (one bad event must not stop every tenant's sagas).
    async fn apply(&self, records: &[Consumed]) -> anyhow::Result<Applied> {
        match self.apply_batch(records, false).await {
            Err(error) if is_rejected_by_database(&error) => {
                tracing::warn!(%error, "a saga change was refused; isolating the batch's events");
                self.apply_batch(records, true).await
            }
            other => other,
        }
    }

    async fn apply_batch(&self, records: &[Consumed], isolate: bool) -> anyhow::Result<Applied> {
        let mut tx = self.pool.begin().await?;
        let stored = stored_offsets(&mut *tx, true).await?;
        let mut tracker = OffsetTracker::new(&stored);
        for record in records {
            if tracker.place(&record.key, record.offset) != Position::Next {
                continue;
            }
            let (meta, event) = match &record.decoded {
                Ok(decoded) => decoded,
                Err(error) => {
                    dead_letter(&mut tx, record, error).await?;
                    continue;
                }
            };
            if !isolate {
                react(&mut tx, meta, event).await?;
                continue;
            }
            let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
            match react(&mut savepoint, meta, event).await {
                Ok(()) => savepoint.commit().await?,
                Err(error) if is_refusal(&error) => {
                    savepoint.rollback().await?;
                    let reason = format!("{} refused: {error}", meta.event_type);
                    dead_letter(&mut tx, record, &reason).await?;
                }
                Err(other) => return Err(other.into()),
            }
        }
        let (next, rewind) = tracker.finish();
        for (key, offset) in &next {
            sqlx::query(
                "INSERT INTO saga_offsets (topic, partition, next_offset) VALUES ($1, $2, $3)
                 ON CONFLICT (topic, partition) DO UPDATE SET next_offset = greatest(saga_offsets.next_offset, EXCLUDED.next_offset)",
            )
            .bind(&key.topic)
            .bind(key.partition)
            .bind(offset)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Applied { next, rewind })
    }
}

/// The intake's stored next offsets; `lock` holds them until the transaction ends, so two
/// intakes can never apply the same partition at once (e.g. during a rebalance).
async fn stored_offsets<'c>(
    db: impl sqlx::PgExecutor<'c>,
    lock: bool,
) -> Result<HashMap<PartitionKey, i64>, sqlx::Error> {
    let sql = if lock {
        "SELECT topic, partition, next_offset FROM saga_offsets ORDER BY topic, partition FOR UPDATE"
    } else {
        "SELECT topic, partition, next_offset FROM saga_offsets"
    };
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(sql).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(topic, partition, next)| (PartitionKey { topic, partition }, next))
        .collect())
}

/// A constraint or data error of PostgreSQL (the event's content), not an outage.
fn is_rejected_by_database(error: &anyhow::Error) -> bool {
    error.downcast_ref::<sqlx::Error>().is_some_and(is_refusal)
}

/// SQLSTATE classes 22 (data exception) and 23 (integrity constraint): retrying the same
/// event gives the same answer. Deadlocks, timeouts and lost connections are retried instead.
fn is_refusal(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(error) = error else {
        return false;
    };
    error
        .code()
        .is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
}

/// A record no build of ours can decode, or whose saga change PostgreSQL refused: kept
/// (visible at `/metrics`), never silently dropped.
async fn dead_letter(
    db: &mut PgConnection,
    record: &Consumed,
    error: &str,
) -> Result<(), sqlx::Error> {
    tracing::error!(topic = %record.key.topic, partition = record.key.partition, offset = record.offset, %error, "saga dead letter");
    sqlx::query(
        "INSERT INTO saga_dead_letters (topic, partition, \"offset\", error, payload) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
    )
    .bind(&record.key.topic)
    .bind(record.key.partition)
    .bind(record.offset)
    .bind(error)
    .bind(&record.payload)
    .execute(db)
    .await?;
    Ok(())
}

/// Starts or stops sagas for one event.
async fn react(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    match event {
        AnyEvent::Task(TaskEvent::TaskCreated(created)) => {
            let saga = NewSaga {
                saga_type: task_execution::TYPE,
                correlation_id: meta.aggregate_id.to_string(),
                tenant_id: &meta.tenant_id,
                step: "pick_agent",
                data: json!({
                    "task_id": meta.aggregate_id, "title": created.title, "description": created.description,
                    "reassignments": 0, "tried": [],
                }),
                deadline_at: None,
            };
            instances::start(db, saga, meta.traceparent.as_deref()).await
        }
        // Cancelled by someone else: the saga stops where it is.
        AnyEvent::Task(TaskEvent::TaskCancelled(_)) => {
            sqlx::query(
                "UPDATE saga_instances SET status = 'cancelled', deadline_at = NULL, updated_at = now()
                 WHERE saga_type = $1 AND correlation_id = $2 AND status = 'running'",
            )
            .bind(task_execution::TYPE)
            .bind(meta.aggregate_id.to_string())
            .execute(db)
            .await?;
            Ok(())
        }
        AnyEvent::Agent(AgentEvent::AgentDeploymentRequested(requested)) => {
            let saga = NewSaga {
                saga_type: agent_deployment::TYPE,
                correlation_id: format!("{}:{}", meta.aggregate_id, requested.deployment),
                tenant_id: &meta.tenant_id,
                step: "reserve_slot",
                data: json!({ "agent_id": meta.aggregate_id, "deployment": requested.deployment }),
                deadline_at: None,
            };
            instances::start(db, saga, meta.traceparent.as_deref()).await
        }
        AnyEvent::Subscription(SubscriptionEvent::BillingPeriodClosed(closed)) => {
            let (start, end) = (
                closed.period.start.to_string(),
                closed.period.end.to_string(),
            );
            let saga = NewSaga {
                saga_type: billing_cycle::TYPE,
                correlation_id: format!("{}:{start}", meta.aggregate_id),
                tenant_id: &meta.tenant_id,
                step: "issue",
                data: json!({ "period_start": start, "period_end": end }),
                deadline_at: None,
            };
            instances::start(db, saga, meta.traceparent.as_deref()).await
        }
        // A payment of an invoice whose billing saga paused the agents: resume them.
        AnyEvent::Invoice(InvoiceEvent::InvoicePaid(_)) => {
            let paused: Option<serde_json::Value> = sqlx::query_scalar(
                "SELECT data -> 'agents' FROM saga_instances
                 WHERE saga_type = $1 AND status = 'compensated' AND data ->> 'invoice_id' = $2",
            )
            .bind(billing_cycle::TYPE)
            .bind(meta.aggregate_id.to_string())
            .fetch_optional(&mut *db)
            .await?;
            let Some(agents) = paused else { return Ok(()) };
            let saga = NewSaga {
                saga_type: billing_cycle::RECOVERY,
                correlation_id: meta.aggregate_id.to_string(),
                tenant_id: &meta.tenant_id,
                step: "resume_agents",
                data: json!({ "invoice_id": meta.aggregate_id, "agents": agents }),
                deadline_at: None,
            };
            instances::start(db, saga, meta.traceparent.as_deref()).await
        }
        AnyEvent::Conversation(ConversationEvent::MessageReceived(message)) => {
            let saga = NewSaga {
                saga_type: conversation_reply::TYPE,
                correlation_id: format!("{}:{}", meta.aggregate_id, message.message_number),
                tenant_id: &meta.tenant_id,
                step: "generate",
                data: json!({ "conversation_id": meta.aggregate_id, "message_number": message.message_number }),
                deadline_at: None,
            };
            instances::start(db, saga, meta.traceparent.as_deref()).await
        }
        _ => Ok(()),
    }
}
