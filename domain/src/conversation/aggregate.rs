//! Conversation rules: started with a deployed agent, messages 1–4,096 chars, nothing after close.

use serde::{Deserialize, Serialize};

use super::events::*;
use crate::agent::{AgentSnapshot, AgentStatus};
use crate::text::bounded;
use crate::{Aggregate, DomainError, TenantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Whatsapp,
    Telegram,
    Messenger,
    Instagram,
    Sms,
}

impl Channel {
    const ALL: [Self; 6] = [
        Self::Web,
        Self::Whatsapp,
        Self::Telegram,
        Self::Messenger,
        Self::Instagram,
        Self::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Whatsapp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
            Self::Sms => "sms",
        }
    }

    /// # Errors
    /// When the name is not a supported channel.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| format!("must be one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

/// Tokens an LLM consumed for one reply (prompt = the context sent, completion = the reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// More than any model's context window: a count above it is a client's mistake.
pub const MAX_TOKENS_PER_REPLY: u32 = 2_000_000;

impl TokenUsage {
    fn validate(self) -> Result<Self, DomainError> {
        let mut violations = Vec::new();
        for (field, count) in [
            ("usage.prompt_tokens", self.prompt_tokens),
            ("usage.completion_tokens", self.completion_tokens),
        ] {
            if count > MAX_TOKENS_PER_REPLY {
                violations.push(crate::FieldViolation::new(
                    field,
                    format!("must be at most {MAX_TOKENS_PER_REPLY}"),
                ));
            }
        }
        if violations.is_empty() {
            Ok(self)
        } else {
            Err(DomainError::Invalid(violations))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConversationCommand {
    StartConversation {
        agent: AgentSnapshot,
        channel: String,
        customer_ref: String,
    },
    ReceiveMessage {
        text: String,
    },
    SendReply {
        text: String,
        /// What generating the reply cost, when an LLM wrote it: billed per token.
        usage: Option<TokenUsage>,
    },
    CloseConversation {
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    #[default]
    Absent,
    Open,
    Closed,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Conversation {
    tenant: Option<TenantId>,
    status: Status,
    messages: u32,
}

fn message_text(text: &str) -> Result<String, DomainError> {
    // Messages keep their whitespace: only the length is checked, on the text as sent.
    crate::text::reject_nul(text).map_err(|reason| DomainError::field("text", reason))?;
    let count = text.chars().count();
    if text.trim().is_empty() || count > 4_096 {
        return Err(DomainError::field(
            "text",
            format!("must be 1-4096 characters (got {count})"),
        ));
    }
    Ok(text.to_owned())
}

impl Conversation {
    fn start(
        tenant: &TenantId,
        agent: AgentSnapshot,
        channel: &str,
        customer_ref: &str,
    ) -> Result<ConversationEvent, DomainError> {
        let mut violations = crate::error::Violations::default();
        if agent.tenant.as_ref() != Some(tenant) {
            violations.add("agent_id", "no such agent");
        } else if agent.status != AgentStatus::Deployed {
            violations.add(
                "agent_id",
                format!("agent is {}, not deployed", agent.status.as_str()),
            );
        }
        let channel = violations.check("channel", Channel::parse(channel));
        let customer_ref = violations.check("customer_ref", bounded(customer_ref, 1, 200));
        violations.finish()?;
        match (channel, customer_ref) {
            (Some(channel), Some(customer_ref)) => Ok(ConversationEvent::ConversationStarted(
                ConversationStarted {
                    tenant_id: tenant.clone(),
                    agent_id: agent.agent_id,
                    channel,
                    customer_ref,
                },
            )),
            _ => unreachable!("every missing value recorded a violation"),
        }
    }
}

impl Aggregate for Conversation {
    const TYPE: &'static str = "conversation";
    type Command = ConversationCommand;
    type Event = ConversationEvent;

    fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    fn decide(
        &self,
        tenant: &TenantId,
        command: ConversationCommand,
    ) -> Result<Vec<ConversationEvent>, DomainError> {
        let closed = DomainError::InvalidState {
            action: "add to a conversation",
            state: "closed",
        };
        let event = match (self.status, command) {
            (
                Status::Absent,
                ConversationCommand::StartConversation {
                    agent,
                    channel,
                    customer_ref,
                },
            ) => Self::start(tenant, agent, &channel, &customer_ref)?,
            (_, ConversationCommand::StartConversation { .. }) => {
                return Err(DomainError::AlreadyExists)
            }
            (Status::Absent, _) => return Err(DomainError::NotFound),
            (Status::Closed, ConversationCommand::CloseConversation { .. }) => {
                return Err(DomainError::InvalidState {
                    action: "close",
                    state: "closed",
                })
            }
            (Status::Closed, _) => return Err(closed),
            (Status::Open, ConversationCommand::ReceiveMessage { text }) => {
                ConversationEvent::MessageReceived(MessageReceived {
                    message_number: self.messages + 1,
                    text: message_text(&text)?,
                })
            }
            (Status::Open, ConversationCommand::SendReply { text, usage }) => {
                let text = message_text(&text)?;
                let usage = usage.map(TokenUsage::validate).transpose()?;
                ConversationEvent::MessageSent(MessageSent {
                    message_number: self.messages + 1,
                    text,
                    prompt_tokens: usage.map(|u| u.prompt_tokens),
                    completion_tokens: usage.map(|u| u.completion_tokens),
                })
            }
            (Status::Open, ConversationCommand::CloseConversation { reason }) => {
                let reason = reason
                    .map(|r| bounded(&r, 1, 1_000).map_err(|e| DomainError::field("reason", e)))
                    .transpose()?;
                ConversationEvent::ConversationClosed(ConversationClosed { reason })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: ConversationEvent) {
        match event {
            ConversationEvent::ConversationStarted(e) => {
                self.tenant = Some(e.tenant_id);
                self.status = Status::Open;
            }
            ConversationEvent::MessageReceived(e) => self.messages = e.message_number,
            ConversationEvent::MessageSent(e) => self.messages = e.message_number,
            ConversationEvent::ConversationClosed(_) => self.status = Status::Closed,
        }
    }
}
