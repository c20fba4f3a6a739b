//! Facts about conversations.

use serde::{Deserialize, Serialize};

use super::aggregate::Channel;
use crate::{AgentId, Event, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationStarted {
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub channel: Channel,
    pub customer_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReceived {
    /// Position of the message in the conversation, from 1, across both directions.
    #[serde(deserialize_with = "crate::counts::count")]
    pub message_number: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    #[serde(deserialize_with = "crate::counts::count")]
    pub message_number: u32,
    pub text: String,
    /// Tokens the LLM read to write this reply; absent for replies written otherwise (and in
    /// records of schema version 1).
    #[serde(default, deserialize_with = "crate::counts::optional_count")]
    pub prompt_tokens: Option<u32>,
    /// Tokens of the reply the LLM wrote.
    #[serde(default, deserialize_with = "crate::counts::optional_count")]
    pub completion_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationClosed {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConversationEvent {
    ConversationStarted(ConversationStarted),
    MessageReceived(MessageReceived),
    MessageSent(MessageSent),
    ConversationClosed(ConversationClosed),
}

impl Event for ConversationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::ConversationStarted(_) => "ConversationStarted",
            Self::MessageReceived(_) => "MessageReceived",
            Self::MessageSent(_) => "MessageSent",
            Self::ConversationClosed(_) => "ConversationClosed",
        }
    }
}
