//! Intake: the sagas' consumer group turns events into saga instances. Saga rows and the
//! consumer's offsets commit in one transaction (effectively once, as on the read side);
//! records below the stored offsets are skipped, and starting a saga twice is a no-op.

use std::collections::HashMap;
use std::sync::Arc;

use domain::agent::AgentEvent;
use domain::conversation::ConversationEvent;
use domain::invoice::InvoiceEvent;
use domain::subscription::SubscriptionEvent;
use domain::task::TaskEvent;
use futures::StreamExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use schemas::{AnyEvent, EventMetadata, RegistryCodec, Topic};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::instances::{self, NewSaga};
use crate::workflows::{agent_deployment, billing_cycle, conversation_reply, task_execution};

/// A consumed record: partition, offset, and the decoded event or why it did not decode.
type Consumed = (
    (String, i32),
    i64,
    Result<(EventMetadata, AnyEvent), String>,
);

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
    /// On broker or database failure; the caller restarts it.
    pub async fn run(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}.sagas", self.topic_prefix))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            // Tansu holds a fetch for the whole wait even when records are there: keep it short.
            .set("fetch.wait.max.ms", "10")
            .create()?;
        let topics = [
            Topic::Agents,
            Topic::Tasks,
            Topic::Conversations,
            Topic::Billing,
        ]
        .map(|t| t.name(&self.topic_prefix));
        consumer.subscribe(&topics.each_ref().map(String::as_str))?;
        let mut batches = consumer.stream().ready_chunks(200);
        loop {
            let chunk = tokio::select! {
                chunk = batches.next() => chunk,
                () = shutdown.cancelled() => return Ok(()),
            };
            let Some(chunk) = chunk else { return Ok(()) };
            let mut records = Vec::with_capacity(chunk.len());
            for message in chunk {
                let message = message?;
                let key = (message.topic().to_owned(), message.partition());
                let decoded = match message.payload() {
                    Some(payload) => self.codec.decode(payload).await.map_err(|e| e.to_string()),
                    None => Err("empty record".to_owned()),
                };
                records.push((key, message.offset(), decoded));
            }
            let next = self.apply(&records).await?;
            let mut hint = TopicPartitionList::new();
            for ((topic, partition), offset) in next {
                hint.add_partition_offset(&topic, partition, Offset::Offset(offset))?;
            }
            if hint.count() > 0 {
                consumer.commit(&hint, CommitMode::Async)?;
            }
        }
    }

    async fn apply(&self, records: &[Consumed]) -> anyhow::Result<HashMap<(String, i32), i64>> {
        let mut tx = self.pool.begin().await?;
        let stored: HashMap<(String, i32), i64> = sqlx::query_as::<_, (String, i32, i64)>(
            "SELECT topic, partition, next_offset FROM saga_offsets ORDER BY topic, partition FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(topic, partition, next)| ((topic, partition), next))
        .collect();
        let mut next = HashMap::new();
        for (key, offset, decoded) in records {
            if *offset < stored.get(key).copied().unwrap_or(0) {
                continue;
            }
            next.insert(key.clone(), offset + 1);
            match decoded {
                Ok((meta, event)) => react(&mut tx, meta, event).await?,
                // The read side's DLQ keeps poison records; sagas only skip them.
                Err(error) => {
                    tracing::warn!(topic = %key.0, partition = key.1, offset, %error, "undecodable record skipped")
                }
            }
        }
        for ((topic, partition), offset) in &next {
            sqlx::query(
                "INSERT INTO saga_offsets (topic, partition, next_offset) VALUES ($1, $2, $3)
                 ON CONFLICT (topic, partition) DO UPDATE SET next_offset = greatest(saga_offsets.next_offset, EXCLUDED.next_offset)",
            )
            .bind(topic)
            .bind(partition)
            .bind(offset)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(next)
    }
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
            instances::start(db, saga).await
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
            instances::start(db, saga).await
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
            instances::start(db, saga).await
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
            instances::start(db, saga).await
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
            instances::start(db, saga).await
        }
        _ => Ok(()),
    }
}
