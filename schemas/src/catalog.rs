//! Which schema each event has and which topic each aggregate's events go to.

use std::sync::OnceLock;

use apache_avro::Schema;

use crate::SchemaError;

/// The four topics of DESIGN.md, named `<prefix>.<suffix>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Agents,
    Tasks,
    Conversations,
    Billing,
}

impl Topic {
    pub const ALL: [Self; 4] = [
        Self::Agents,
        Self::Tasks,
        Self::Conversations,
        Self::Billing,
    ];

    pub fn suffix(self) -> &'static str {
        match self {
            Self::Agents => "agents",
            Self::Tasks => "tasks",
            Self::Conversations => "conversations",
            Self::Billing => "billing",
        }
    }

    pub fn name(self, prefix: &str) -> String {
        format!("{prefix}.{}", self.suffix())
    }

    /// # Errors
    /// When the aggregate type has no topic.
    pub fn for_aggregate(aggregate_type: &str) -> Result<Self, SchemaError> {
        match aggregate_type {
            "agent" => Ok(Self::Agents),
            "task" => Ok(Self::Tasks),
            "conversation" => Ok(Self::Conversations),
            "invoice" | "subscription" => Ok(Self::Billing),
            other => Err(SchemaError::UnknownAggregateType(other.to_owned())),
        }
    }
}

/// One event's schema.
#[derive(Debug)]
pub struct EventSchema {
    pub event_type: &'static str,
    pub topic: Topic,
    /// The `.avsc` text as registered.
    pub avsc: &'static str,
}

impl EventSchema {
    /// The fully qualified record name, the second half of the subject.
    pub fn record_name(&self) -> String {
        format!("agenthub.events.{}", self.event_type)
    }

    /// The registry subject under TopicRecordNameStrategy.
    pub fn subject(&self, prefix: &str) -> String {
        format!("{}-{}", self.topic.name(prefix), self.record_name())
    }

    /// The parsed schema (parsed once per process).
    pub fn schema(&self) -> &'static Schema {
        static PARSED: OnceLock<Vec<Schema>> = OnceLock::new();
        let all = PARSED.get_or_init(|| {
            EVENT_SCHEMAS
                .iter()
                .map(|s| {
                    Schema::parse_str(s.avsc).expect("bundled schemas parse (checked by tests)")
                })
                .collect()
        });
        let index = EVENT_SCHEMAS
            .iter()
            .position(|s| s.event_type == self.event_type);
        &all[index.expect("self is an element of EVENT_SCHEMAS")]
    }
}

macro_rules! schemas {
    ($($topic:ident : $($event:ident),+ ;)+) => {
        /// Every event schema, in a stable order.
        pub static EVENT_SCHEMAS: &[EventSchema] = &[
            $($(EventSchema {
                event_type: stringify!($event),
                topic: Topic::$topic,
                avsc: include_str!(concat!("../avro/agenthub.events.", stringify!($event), ".avsc")),
            },)+)+
        ];
    };
}

schemas! {
    Agents: AgentCreated, AgentConfigUpdated, AgentDeployed, AgentPaused, AgentRetired,
        AgentDeploymentRequested, AgentDeploymentFailed;
    Tasks: TaskCreated, TaskAssigned, TaskStarted, TaskCompleted, TaskFailed, TaskCancelled;
    Conversations: ConversationStarted, MessageReceived, MessageSent, ConversationClosed;
    Billing: InvoiceIssued, InvoicePaid, InvoiceVoided, InvoiceOverdue,
        SubscriptionActivated, AgentSlotReserved, AgentSlotReleased, BillingPeriodClosed;
}

/// # Errors
/// When no schema has that event type.
pub fn event_schema(event_type: &str) -> Result<&'static EventSchema, SchemaError> {
    EVENT_SCHEMAS
        .iter()
        .find(|s| s.event_type == event_type)
        .ok_or_else(|| SchemaError::UnknownEventType(event_type.to_owned()))
}
