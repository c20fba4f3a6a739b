//! A realistic event history, made by running commands through the pure aggregates (as the
//! command-api decides them): per "block", one agent created (sometimes reconfigured) and
//! deployed, 20 tasks assigned to it and worked to an end, 3 conversations of 24 messages,
//! one invoice issued and paid. Blocks go round the tenants; the events of a block's
//! aggregates are interleaved, every aggregate's own events stay in order.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::agent::{
    Agent, AgentCommand, AgentConfigInput, AgentConfigPatch, AgentSnapshot, AgentStatus,
};
use domain::conversation::{Conversation, ConversationCommand};
use domain::invoice::{Invoice, InvoiceCommand, LineItemInput};
use domain::task::{Task, TaskCommand};
use domain::{AgentId, Aggregate, TenantId};
use schemas::{AnyEvent, EventMetadata};
use uuid::Uuid;

use crate::mix;

const TENANTS: u64 = 10;
const TASKS_PER_BLOCK: u64 = 20;
const CONVERSATIONS_PER_BLOCK: u64 = 3;
/// Messages per conversation, received and sent alternately.
const MESSAGES: u64 = 24;
const CHANNELS: [&str; 4] = ["web", "whatsapp", "telegram", "sms"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
/// Time between two consecutive events: 1M events span about 231 days (many usage days).
const SPACING_SECONDS: i64 = 20;

/// One aggregate's events, in order, before metadata is attached.
struct Stream {
    aggregate_id: Uuid,
    events: VecDeque<AnyEvent>,
}

/// The aggregates of one block (one tenant, one correlation id).
struct Block {
    tenant: TenantId,
    correlation: String,
    streams: Vec<Stream>,
}

/// The first `limit` events of the history, with the metadata the relay would give them.
pub struct History {
    limit: u64,
    emitted: u64,
    next_block: u64,
    tenant: String,
    correlation: String,
    /// The current block's events: aggregate id, sequence, event.
    pending: VecDeque<(Uuid, i64, AnyEvent)>,
    start: DateTime<Utc>,
}

impl History {
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            emitted: 0,
            next_block: 0,
            tenant: String::new(),
            correlation: String::new(),
            pending: VecDeque::new(),
            start: Utc
                .with_ymd_and_hms(2026, 1, 1, 8, 0, 0)
                .single()
                .unwrap_or_default(),
        }
    }

    fn metadata(&self, aggregate_id: Uuid, sequence: i64, event: &AnyEvent) -> EventMetadata {
        let aggregate_type = event.aggregate_type();
        let offset = i64::try_from(self.emitted).unwrap_or(i64::MAX);
        EventMetadata {
            event_id: EventMetadata::event_id_for(aggregate_type, &aggregate_id, sequence),
            event_type: event.event_type().to_owned(),
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id,
            sequence,
            tenant_id: self.tenant.clone(),
            occurred_at: self.start + Duration::seconds(offset * SPACING_SECONDS),
            correlation_id: self.correlation.clone(),
            causation_id: None,
            traceparent: None,
        }
    }

    /// Queues the next block's events, round-robin over its aggregates.
    fn refill(&mut self) -> anyhow::Result<()> {
        let block = block(self.next_block)?;
        self.next_block += 1;
        self.tenant = block.tenant.as_str().to_owned();
        self.correlation = block.correlation;
        let mut streams: VecDeque<(Stream, i64)> =
            block.streams.into_iter().map(|s| (s, 0)).collect();
        while let Some((mut stream, sequence)) = streams.pop_front() {
            if let Some(event) = stream.events.pop_front() {
                self.pending
                    .push_back((stream.aggregate_id, sequence + 1, event));
                streams.push_back((stream, sequence + 1));
            }
        }
        Ok(())
    }
}

impl Iterator for History {
    type Item = anyhow::Result<(EventMetadata, AnyEvent)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.emitted >= self.limit {
            return None;
        }
        if self.pending.is_empty() {
            if let Err(error) = self.refill() {
                return Some(Err(error));
            }
        }
        let (aggregate_id, sequence, event) = self.pending.pop_front()?;
        let metadata = self.metadata(aggregate_id, sequence, &event);
        self.emitted += 1;
        Some(Ok((metadata, event)))
    }
}

/// Runs commands through a fresh aggregate; every command must be accepted.
fn run<A: Aggregate>(
    tenant: &TenantId,
    commands: Vec<A::Command>,
) -> anyhow::Result<Vec<A::Event>> {
    let mut state = A::default();
    let mut all = Vec::new();
    for command in commands {
        let events = state
            .execute(tenant, command)
            .map_err(|error| anyhow::anyhow!("{} refused a history command: {error}", A::TYPE))?;
        for event in events {
            state.apply(event.clone());
            all.push(event);
        }
    }
    Ok(all)
}

fn stream(aggregate_id: Uuid, events: impl IntoIterator<Item = AnyEvent>) -> Stream {
    Stream {
        aggregate_id,
        events: events.into_iter().collect(),
    }
}

/// One agent with its work; `number` varies names, outcomes and channels.
fn block(number: u64) -> anyhow::Result<Block> {
    let tenant =
        TenantId::parse(&format!("tenant-{:02}", number % TENANTS)).map_err(anyhow::Error::msg)?;
    let agent_id = AgentId::from_uuid(Uuid::now_v7()).map_err(anyhow::Error::msg)?;
    let mut streams = vec![stream(
        agent_id.as_uuid(),
        agent(&tenant, number)?.into_iter().map(AnyEvent::Agent),
    )];
    let deployed = AgentSnapshot {
        agent_id,
        tenant: Some(tenant.clone()),
        status: AgentStatus::Deployed,
    };
    for index in 0..TASKS_PER_BLOCK {
        let events = task(&tenant, &deployed, number * TASKS_PER_BLOCK + index)?;
        streams.push(stream(
            Uuid::now_v7(),
            events.into_iter().map(AnyEvent::Task),
        ));
    }
    for index in 0..CONVERSATIONS_PER_BLOCK {
        let events = conversation(&tenant, &deployed, number * CONVERSATIONS_PER_BLOCK + index)?;
        streams.push(stream(
            Uuid::now_v7(),
            events.into_iter().map(AnyEvent::Conversation),
        ));
    }
    streams.push(stream(
        Uuid::now_v7(),
        invoice(&tenant, number)?.into_iter().map(AnyEvent::Invoice),
    ));
    Ok(Block {
        tenant,
        correlation: format!("history-{number}"),
        streams,
    })
}

fn agent(tenant: &TenantId, number: u64) -> anyhow::Result<Vec<domain::agent::AgentEvent>> {
    let mut commands = vec![AgentCommand::CreateAgent {
        name: format!("Agent {number}"),
        industry: mix::AGENT_INDUSTRY.to_owned(),
        config: AgentConfigInput {
            provider: mix::AGENT_PROVIDER.to_owned(),
            model: mix::AGENT_MODEL.to_owned(),
            temperature: mix::AGENT_TEMPERATURE,
            max_tokens: mix::AGENT_MAX_TOKENS,
            system_prompt: None,
        },
    }];
    if number.is_multiple_of(3) {
        commands.push(AgentCommand::UpdateAgentConfig(AgentConfigPatch {
            temperature: Some(mix::UPDATED_TEMPERATURE),
            ..AgentConfigPatch::default()
        }));
    }
    commands.push(AgentCommand::DeployAgent);
    run::<Agent>(tenant, commands)
}

/// Most tasks complete; one in 10 fails, one in 20 is cancelled before anyone works on it.
fn task(
    tenant: &TenantId,
    agent: &AgentSnapshot,
    number: u64,
) -> anyhow::Result<Vec<domain::task::TaskEvent>> {
    let priority = PRIORITIES[usize::try_from(number % 4).unwrap_or(0)];
    let mut commands = vec![TaskCommand::CreateTask {
        title: format!("Call back the customer about order {number}"),
        description: Some(format!(
            "Order {number} arrived damaged; offer a replacement or a refund."
        )),
        priority: Some(priority.to_owned()),
    }];
    match number % 20 {
        19 => commands.push(TaskCommand::CancelTask {
            reason: Some(mix::CANCEL_REASON.to_owned()),
        }),
        outcome => {
            commands.push(TaskCommand::AssignTask {
                agent: agent.clone(),
            });
            commands.push(TaskCommand::StartTask);
            commands.push(if outcome % 10 == 9 {
                TaskCommand::FailTask {
                    reason: "the customer could not be reached".to_owned(),
                }
            } else {
                TaskCommand::CompleteTask {
                    result: format!("Replacement for order {number} shipped; customer agreed."),
                }
            });
        }
    }
    run::<Task>(tenant, commands)
}

fn conversation(
    tenant: &TenantId,
    agent: &AgentSnapshot,
    number: u64,
) -> anyhow::Result<Vec<domain::conversation::ConversationEvent>> {
    let channel = CHANNELS[usize::try_from(number % 4).unwrap_or(0)];
    let mut commands = vec![ConversationCommand::StartConversation {
        agent: agent.clone(),
        channel: channel.to_owned(),
        customer_ref: format!("customer-{number}"),
    }];
    for message in 0..MESSAGES {
        commands.push(if message % 2 == 0 {
            ConversationCommand::ReceiveMessage {
                text: format!("Hello, I ordered item {message} last week and it has not arrived yet. Can you check?"),
            }
        } else {
            ConversationCommand::SendReply {
                text: format!("Thanks for waiting. Parcel {number}-{message} left our warehouse yesterday; it should arrive within two days."),
                usage: None,
            }
        });
    }
    commands.push(ConversationCommand::CloseConversation {
        reason: Some("resolved".to_owned()),
    });
    run::<Conversation>(tenant, commands)
}

/// Paid, except one in 10 voided.
fn invoice(tenant: &TenantId, number: u64) -> anyhow::Result<Vec<domain::invoice::InvoiceEvent>> {
    let month = u32::try_from(number % 12).unwrap_or(0) + 1;
    let start = NaiveDate::from_ymd_opt(2026, month, 1).unwrap_or_default();
    let end = start
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(start);
    let items = vec![
        LineItemInput {
            description: "agent seat".to_owned(),
            quantity: 1,
            unit_amount_minor: 4_900,
        },
        LineItemInput {
            description: "messages (per 1,000)".to_owned(),
            quantity: 3,
            unit_amount_minor: 250,
        },
    ];
    let total: i64 = items
        .iter()
        .map(|item| i64::from(item.quantity) * item.unit_amount_minor)
        .sum();
    let settle = if number % 10 == 9 {
        InvoiceCommand::VoidInvoice {
            reason: "issued twice".to_owned(),
        }
    } else {
        InvoiceCommand::RecordPayment {
            amount_minor: total,
            currency: "EUR".to_owned(),
            payment_reference: format!("pay-{number}"),
        }
    };
    let issue = InvoiceCommand::IssueInvoice {
        period_start: start,
        period_end: end,
        currency: "EUR".to_owned(),
        line_items: items,
    };
    run::<Invoice>(tenant, vec![issue, settle])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn every_aggregate_is_numbered_from_one_without_gaps() {
        let mut last: HashMap<Uuid, i64> = HashMap::new();
        let mut count = 0;
        for item in History::new(1_000) {
            let (meta, event) = item.unwrap();
            let previous = last.insert(meta.aggregate_id, meta.sequence).unwrap_or(0);
            assert_eq!(meta.sequence, previous + 1);
            assert_eq!(meta.event_type, event.event_type());
            count += 1;
        }
        assert_eq!(count, 1_000);
    }

    #[test]
    fn every_event_fits_its_schema() {
        for item in History::new(500) {
            let (meta, event) = item.unwrap();
            schemas::encode_value(&meta, &event).unwrap();
        }
    }
}
