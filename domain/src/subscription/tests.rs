//! Given/when/then for every Subscription command path.

use uuid::Uuid;

use super::*;
use crate::testing::{given, other_tenant, tenant};
use crate::{AgentId, DomainError};

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(
        0x0190_b6c4_7e4c_7000_8000_0000_0000_0000 | n,
    ))
    .unwrap()
}

fn activated(quota: u32) -> SubscriptionEvent {
    SubscriptionEvent::SubscriptionActivated(SubscriptionActivated {
        tenant_id: tenant(),
        plan: "pro".into(),
        agent_quota: quota,
    })
}

fn reserved(n: u128) -> SubscriptionEvent {
    SubscriptionEvent::AgentSlotReserved(AgentSlotReserved { agent_id: agent(n) })
}

#[test]
fn activate_once_with_a_plan_and_quota() {
    given::<Subscription>([])
        .when(SubscriptionCommand::ActivateSubscription {
            plan: "pro".into(),
            agent_quota: 2,
        })
        .then_expect_events(vec![activated(2)]);
    given::<Subscription>([])
        .when(SubscriptionCommand::ActivateSubscription {
            plan: " ".into(),
            agent_quota: 0,
        })
        .then_expect_invalid_fields(&["plan", "agent_quota"]);
    given::<Subscription>([activated(2)])
        .when(SubscriptionCommand::ActivateSubscription {
            plan: "pro".into(),
            agent_quota: 2,
        })
        .then_expect_error(DomainError::AlreadyExists);
}

#[test]
fn slots_are_reserved_within_the_quota() {
    given::<Subscription>([activated(2), reserved(1)])
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(2) })
        .then_expect_events(vec![reserved(2)]);
    given::<Subscription>([activated(2), reserved(1), reserved(2)])
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(3) })
        .then_expect_invalid_fields(&["agent_id"]);
    given::<Subscription>([activated(2), reserved(1)])
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(1) })
        .then_expect_error(DomainError::InvalidState {
            action: "reserve a slot",
            state: "already holding one",
        });
    given::<Subscription>([])
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(1) })
        .then_expect_error(DomainError::NotFound);
}

#[test]
fn a_released_slot_can_be_reserved_again() {
    let released = SubscriptionEvent::AgentSlotReleased(AgentSlotReleased { agent_id: agent(1) });
    given::<Subscription>([activated(1), reserved(1)])
        .when(SubscriptionCommand::ReleaseAgentSlot { agent_id: agent(1) })
        .then_expect_events(vec![released.clone()]);
    given::<Subscription>([activated(1), reserved(1), released])
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(2) })
        .then_expect_events(vec![reserved(2)]);
    given::<Subscription>([activated(1)])
        .when(SubscriptionCommand::ReleaseAgentSlot { agent_id: agent(1) })
        .then_expect_error(DomainError::InvalidState {
            action: "release a slot",
            state: "not holding one",
        });
    given::<Subscription>([activated(1)])
        .by_tenant(other_tenant())
        .when(SubscriptionCommand::ReserveAgentSlot { agent_id: agent(1) })
        .then_expect_error(DomainError::NotFound);
}

#[test]
fn billing_periods_close_in_order_without_overlap() {
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
    let close = |start, end| SubscriptionCommand::CloseBillingPeriod {
        period_start: day(start),
        period_end: day(end),
    };
    let closed = SubscriptionEvent::BillingPeriodClosed(BillingPeriodClosed {
        period: crate::invoice::BillingPeriod {
            start: day(1),
            end: day(15),
        },
    });
    given::<Subscription>([activated(1)])
        .when(close(1, 15))
        .then_expect_events(vec![closed.clone()]);
    given::<Subscription>([activated(1), closed.clone()])
        .when(close(10, 31))
        .then_expect_invalid_fields(&["period_start"]);
    given::<Subscription>([activated(1), closed])
        .when(close(20, 16))
        .then_expect_invalid_fields(&["period_end"]);
    given::<Subscription>([])
        .when(close(1, 2))
        .then_expect_error(DomainError::NotFound);
}
