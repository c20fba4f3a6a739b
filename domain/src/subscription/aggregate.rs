//! Subscription rules: activated once with a plan; a slot per deployed agent, never more than
//! the quota; a slot is released only by the agent holding it.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::*;
use crate::error::Violations;
use crate::invoice::BillingPeriod;
use crate::text::bounded;
use crate::{AgentId, Aggregate, DomainError, TenantId};

/// A tenant has one subscription; its id is derived from the tenant (UUIDv5), so every
/// service finds it without a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(Uuid);

const SUBSCRIPTION_NAMESPACE: Uuid = Uuid::from_u128(0x2d9f_64b1_8c3e_4f4a_b1a7_90c2_5e6d_7f80);

impl SubscriptionId {
    pub fn for_tenant(tenant: &TenantId) -> Self {
        Self(Uuid::new_v5(
            &SUBSCRIPTION_NAMESPACE,
            tenant.as_str().as_bytes(),
        ))
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionCommand {
    ActivateSubscription {
        plan: String,
        agent_quota: u32,
    },
    ReserveAgentSlot {
        agent_id: AgentId,
    },
    ReleaseAgentSlot {
        agent_id: AgentId,
    },
    /// Ends a billing period; the billing saga invoices it.
    CloseBillingPeriod {
        period_start: NaiveDate,
        period_end: NaiveDate,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Subscription {
    tenant: Option<TenantId>,
    agent_quota: u32,
    slots: BTreeSet<AgentId>,
    last_closed_end: Option<NaiveDate>,
}

impl Aggregate for Subscription {
    const TYPE: &'static str = "subscription";
    type Command = SubscriptionCommand;
    type Event = SubscriptionEvent;

    fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    fn decide(
        &self,
        tenant: &TenantId,
        command: SubscriptionCommand,
    ) -> Result<Vec<SubscriptionEvent>, DomainError> {
        let event = match (self.tenant.is_some(), command) {
            (false, SubscriptionCommand::ActivateSubscription { plan, agent_quota }) => {
                let mut violations = Violations::default();
                let plan = violations.check("plan", bounded(&plan, 1, 50));
                if !(1..=10_000).contains(&agent_quota) {
                    violations.add("agent_quota", "must be 1-10000");
                }
                violations.finish()?;
                let plan = plan.unwrap_or_default();
                SubscriptionEvent::SubscriptionActivated(SubscriptionActivated {
                    tenant_id: tenant.clone(),
                    plan,
                    agent_quota,
                })
            }
            (true, SubscriptionCommand::ActivateSubscription { .. }) => {
                return Err(DomainError::AlreadyExists)
            }
            (false, _) => return Err(DomainError::NotFound),
            (true, SubscriptionCommand::ReserveAgentSlot { agent_id }) => {
                if self.slots.contains(&agent_id) {
                    return Err(DomainError::InvalidState {
                        action: "reserve a slot",
                        state: "already holding one",
                    });
                }
                if self.slots.len() >= self.agent_quota as usize {
                    return Err(DomainError::field(
                        "agent_id",
                        format!("the agent quota of {} is used up", self.agent_quota),
                    ));
                }
                SubscriptionEvent::AgentSlotReserved(AgentSlotReserved { agent_id })
            }
            (
                true,
                SubscriptionCommand::CloseBillingPeriod {
                    period_start,
                    period_end,
                },
            ) => {
                if period_end < period_start {
                    return Err(DomainError::field(
                        "period_end",
                        "must not be before period_start",
                    ));
                }
                if let Some(last) = self.last_closed_end.filter(|last| period_start <= *last) {
                    return Err(DomainError::field(
                        "period_start",
                        format!("must be after the last closed period, which ended {last}"),
                    ));
                }
                SubscriptionEvent::BillingPeriodClosed(BillingPeriodClosed {
                    period: BillingPeriod {
                        start: period_start,
                        end: period_end,
                    },
                })
            }
            (true, SubscriptionCommand::ReleaseAgentSlot { agent_id }) => {
                if !self.slots.contains(&agent_id) {
                    return Err(DomainError::InvalidState {
                        action: "release a slot",
                        state: "not holding one",
                    });
                }
                SubscriptionEvent::AgentSlotReleased(AgentSlotReleased { agent_id })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: SubscriptionEvent) {
        match event {
            SubscriptionEvent::SubscriptionActivated(e) => {
                self.tenant = Some(e.tenant_id);
                self.agent_quota = e.agent_quota;
            }
            SubscriptionEvent::AgentSlotReserved(e) => {
                self.slots.insert(e.agent_id);
            }
            SubscriptionEvent::AgentSlotReleased(e) => {
                self.slots.remove(&e.agent_id);
            }
            SubscriptionEvent::BillingPeriodClosed(e) => self.last_closed_end = Some(e.period.end),
        }
    }
}
