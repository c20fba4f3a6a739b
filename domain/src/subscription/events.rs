//! Facts about subscriptions.

use serde::{Deserialize, Serialize};

use crate::invoice::BillingPeriod;
use crate::{AgentId, Event, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionActivated {
    pub tenant_id: TenantId,
    pub plan: String,
    #[serde(deserialize_with = "crate::counts::count")]
    pub agent_quota: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSlotReserved {
    pub agent_id: AgentId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSlotReleased {
    pub agent_id: AgentId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriodClosed {
    pub period: BillingPeriod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubscriptionEvent {
    SubscriptionActivated(SubscriptionActivated),
    AgentSlotReserved(AgentSlotReserved),
    AgentSlotReleased(AgentSlotReleased),
    BillingPeriodClosed(BillingPeriodClosed),
}

impl Event for SubscriptionEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::SubscriptionActivated(_) => "SubscriptionActivated",
            Self::AgentSlotReserved(_) => "AgentSlotReserved",
            Self::AgentSlotReleased(_) => "AgentSlotReleased",
            Self::BillingPeriodClosed(_) => "BillingPeriodClosed",
        }
    }
}
