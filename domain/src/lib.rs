//! The AgentHub domain: aggregates, commands, events and value objects.
//!
//! Everything here is pure: deciding is a function from state and command to events,
//! applying is a function from state and event to state. Callers look up outside data
//! (the clock, ids, other aggregates) and put it in the command. Persistence lives in
//! `store/`, which wraps these aggregates for cqrs-es.

pub mod agent;
pub mod aggregate;
pub mod conversation;
mod counts;
pub mod error;
pub mod ids;
pub mod invoice;
pub mod money;
pub mod subscription;
pub mod task;
pub mod tenant;
pub mod text;

#[cfg(test)]
pub(crate) mod testing;

pub use aggregate::{Aggregate, Event};
pub use error::{DomainError, FieldViolation};
pub use ids::{AgentId, ConversationId, InvoiceId, TaskId};
pub use tenant::TenantId;
