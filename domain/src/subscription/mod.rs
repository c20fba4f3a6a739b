//! The Subscription aggregate: one per tenant, the plan and the agent quota that deployment
//! workflows reserve slots from.

mod aggregate;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Subscription, SubscriptionCommand, SubscriptionId};
pub use events::{
    AgentSlotReleased, AgentSlotReserved, BillingPeriodClosed, SubscriptionActivated,
    SubscriptionEvent,
};
