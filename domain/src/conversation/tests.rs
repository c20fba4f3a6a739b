//! Given/when/then for every Conversation command path.

use uuid::Uuid;

use super::*;
use crate::agent::{AgentSnapshot, AgentStatus};
use crate::testing::{given, other_tenant, tenant};
use crate::{AgentId, DomainError};

fn agent_id() -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(0x0190_b6c4_7e4c_7000_8000_0000_0000_0001)).unwrap()
}

fn agent(status: AgentStatus) -> AgentSnapshot {
    AgentSnapshot {
        agent_id: agent_id(),
        tenant: Some(tenant()),
        status,
    }
}

fn start() -> ConversationCommand {
    ConversationCommand::StartConversation {
        agent: agent(AgentStatus::Deployed),
        channel: "whatsapp".into(),
        customer_ref: "+15551234567".into(),
    }
}

fn started() -> ConversationEvent {
    ConversationEvent::ConversationStarted(ConversationStarted {
        tenant_id: tenant(),
        agent_id: agent_id(),
        channel: Channel::Whatsapp,
        customer_ref: "+15551234567".into(),
    })
}

fn received(n: u32) -> ConversationEvent {
    ConversationEvent::MessageReceived(MessageReceived {
        message_number: n,
        text: "hi".into(),
    })
}

fn closed() -> ConversationEvent {
    ConversationEvent::ConversationClosed(ConversationClosed { reason: None })
}

#[test]
fn start_with_a_deployed_agent() {
    given::<Conversation>([])
        .when(start())
        .then_expect_events(vec![started()]);
    given::<Conversation>([started()])
        .when(start())
        .then_expect_error(DomainError::AlreadyExists);
}

#[test]
fn start_rejects_bad_agent_channel_and_customer() {
    given::<Conversation>([])
        .when(ConversationCommand::StartConversation {
            agent: agent(AgentStatus::Draft),
            channel: "fax".into(),
            customer_ref: String::new(),
        })
        .then_expect_invalid_fields(&["agent_id", "channel", "customer_ref"]);
    let foreign = AgentSnapshot {
        tenant: Some(other_tenant()),
        ..agent(AgentStatus::Deployed)
    };
    given::<Conversation>([])
        .when(ConversationCommand::StartConversation {
            agent: foreign,
            channel: "web".into(),
            customer_ref: "c-1".into(),
        })
        .then_expect_invalid_fields(&["agent_id"]);
}

#[test]
fn messages_are_numbered_in_order_across_directions() {
    given::<Conversation>([started()])
        .when(ConversationCommand::ReceiveMessage { text: "hi".into() })
        .then_expect_events(vec![received(1)]);
    given::<Conversation>([started(), received(1)])
        .when(ConversationCommand::SendReply {
            text: "hello!".into(),
            usage: None,
        })
        .then_expect_events(vec![ConversationEvent::MessageSent(MessageSent {
            message_number: 2,
            text: "hello!".into(),
            prompt_tokens: None,
            completion_tokens: None,
        })]);
}

#[test]
fn a_reply_records_the_tokens_it_cost() {
    given::<Conversation>([started(), received(1)])
        .when(ConversationCommand::SendReply {
            text: "hello!".into(),
            usage: Some(TokenUsage {
                prompt_tokens: 812,
                completion_tokens: 64,
            }),
        })
        .then_expect_events(vec![ConversationEvent::MessageSent(MessageSent {
            message_number: 2,
            text: "hello!".into(),
            prompt_tokens: Some(812),
            completion_tokens: Some(64),
        })]);
}

#[test]
fn token_counts_above_any_context_window_are_rejected() {
    given::<Conversation>([started(), received(1)])
        .when(ConversationCommand::SendReply {
            text: "hello!".into(),
            usage: Some(TokenUsage {
                prompt_tokens: MAX_TOKENS_PER_REPLY + 1,
                completion_tokens: u32::MAX,
            }),
        })
        .then_expect_invalid_fields(&["usage.prompt_tokens", "usage.completion_tokens"]);
}

#[test]
fn message_text_is_1_to_4096_characters() {
    given::<Conversation>([started()])
        .when(ConversationCommand::ReceiveMessage {
            text: "é".repeat(4_096),
        })
        .then_expect_events(vec![ConversationEvent::MessageReceived(MessageReceived {
            message_number: 1,
            text: "é".repeat(4_096),
        })]);
    for text in [String::new(), "  ".into(), "a".repeat(4_097)] {
        given::<Conversation>([started()])
            .when(ConversationCommand::SendReply { text, usage: None })
            .then_expect_invalid_fields(&["text"]);
    }
}

#[test]
fn nothing_after_close() {
    given::<Conversation>([started()])
        .when(ConversationCommand::CloseConversation {
            reason: Some("resolved".into()),
        })
        .then_expect_events(vec![ConversationEvent::ConversationClosed(
            ConversationClosed {
                reason: Some("resolved".into()),
            },
        )]);
    let closed_error = DomainError::InvalidState {
        action: "add to a conversation",
        state: "closed",
    };
    given::<Conversation>([started(), closed()])
        .when(ConversationCommand::ReceiveMessage { text: "hi".into() })
        .then_expect_error(closed_error.clone());
    given::<Conversation>([started(), closed()])
        .when(ConversationCommand::SendReply {
            text: "hi".into(),
            usage: None,
        })
        .then_expect_error(closed_error);
    given::<Conversation>([started(), closed()])
        .when(ConversationCommand::CloseConversation { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "close",
            state: "closed",
        });
}

#[test]
fn missing_or_foreign_conversations_are_not_found() {
    given::<Conversation>([])
        .when(ConversationCommand::ReceiveMessage { text: "hi".into() })
        .then_expect_error(DomainError::NotFound);
    given::<Conversation>([started()])
        .by_tenant(other_tenant())
        .when(ConversationCommand::ReceiveMessage { text: "hi".into() })
        .then_expect_error(DomainError::NotFound);
}
