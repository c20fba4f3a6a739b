//! The Conversation aggregate: a customer talking to an agent over one channel.
//! Streams grow long, so the store snapshots this aggregate.

mod aggregate;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Channel, Conversation, ConversationCommand, TokenUsage, MAX_TOKENS_PER_REPLY};
pub use events::{
    ConversationClosed, ConversationEvent, ConversationStarted, MessageReceived, MessageSent,
};
