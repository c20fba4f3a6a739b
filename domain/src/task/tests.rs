//! Given/when/then for every Task command path.

use uuid::Uuid;

use super::*;
use crate::agent::{AgentSnapshot, AgentStatus};
use crate::testing::{given, other_tenant, tenant};
use crate::{AgentId, DomainError};

fn agent_id(n: u128) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(
        0x0190_b6c4_7e4c_7000_8000_0000_0000_0000 | n,
    ))
    .unwrap()
}

fn agent(n: u128, status: AgentStatus) -> AgentSnapshot {
    AgentSnapshot {
        agent_id: agent_id(n),
        tenant: Some(tenant()),
        status,
    }
}

fn created() -> TaskEvent {
    TaskEvent::TaskCreated(TaskCreated {
        tenant_id: tenant(),
        title: "Answer the backlog".into(),
        description: None,
        priority: Priority::Normal,
    })
}

fn assigned(n: u128) -> TaskEvent {
    TaskEvent::TaskAssigned(TaskAssigned {
        agent_id: agent_id(n),
        previous_agent_id: None,
    })
}

fn started() -> TaskEvent {
    TaskEvent::TaskStarted(TaskStarted {
        agent_id: agent_id(1),
    })
}

#[test]
fn create_task_defaults_to_normal_priority() {
    given::<Task>([])
        .when(TaskCommand::CreateTask {
            title: " Answer the backlog ".into(),
            description: None,
            priority: None,
        })
        .then_expect_events(vec![created()]);
}

#[test]
fn create_task_rejects_bad_fields() {
    given::<Task>([])
        .when(TaskCommand::CreateTask {
            title: String::new(),
            description: Some("x".repeat(10_001)),
            priority: Some("asap".into()),
        })
        .then_expect_invalid_fields(&["title", "description", "priority"]);
    given::<Task>([created()])
        .when(TaskCommand::CreateTask {
            title: "again".into(),
            description: None,
            priority: None,
        })
        .then_expect_error(DomainError::AlreadyExists);
}

#[test]
fn assign_to_a_deployed_agent_of_the_same_tenant() {
    given::<Task>([created()])
        .when(TaskCommand::AssignTask {
            agent: agent(1, AgentStatus::Deployed),
        })
        .then_expect_events(vec![assigned(1)]);
}

#[test]
fn reassign_records_the_previous_agent() {
    given::<Task>([created(), assigned(1)])
        .when(TaskCommand::AssignTask {
            agent: agent(2, AgentStatus::Deployed),
        })
        .then_expect_events(vec![TaskEvent::TaskAssigned(TaskAssigned {
            agent_id: agent_id(2),
            previous_agent_id: Some(agent_id(1)),
        })]);
    given::<Task>([created(), assigned(1)])
        .when(TaskCommand::AssignTask {
            agent: agent(1, AgentStatus::Deployed),
        })
        .then_expect_invalid_fields(&["agent_id"]);
}

#[test]
fn assign_rejects_undeployed_missing_and_foreign_agents() {
    given::<Task>([created()])
        .when(TaskCommand::AssignTask {
            agent: agent(1, AgentStatus::Paused),
        })
        .then_expect_invalid_fields(&["agent_id"]);
    let missing = AgentSnapshot {
        agent_id: agent_id(1),
        tenant: None,
        status: AgentStatus::Absent,
    };
    given::<Task>([created()])
        .when(TaskCommand::AssignTask { agent: missing })
        .then_expect_invalid_fields(&["agent_id"]);
    let foreign = AgentSnapshot {
        tenant: Some(other_tenant()),
        ..agent(1, AgentStatus::Deployed)
    };
    given::<Task>([created()])
        .when(TaskCommand::AssignTask { agent: foreign })
        .then_expect_invalid_fields(&["agent_id"]);
}

#[test]
fn start_only_an_assigned_task() {
    given::<Task>([created(), assigned(1)])
        .when(TaskCommand::StartTask)
        .then_expect_events(vec![started()]);
    given::<Task>([created()])
        .when(TaskCommand::StartTask)
        .then_expect_error(DomainError::InvalidState {
            action: "start",
            state: "created",
        });
}

#[test]
fn complete_only_a_task_in_progress() {
    given::<Task>([created(), assigned(1), started()])
        .when(TaskCommand::CompleteTask {
            result: "done".into(),
        })
        .then_expect_events(vec![TaskEvent::TaskCompleted(TaskCompleted {
            agent_id: agent_id(1),
            result: "done".into(),
        })]);
    given::<Task>([created(), assigned(1)])
        .when(TaskCommand::CompleteTask {
            result: "done".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "complete",
            state: "assigned",
        });
    given::<Task>([created(), assigned(1), started()])
        .when(TaskCommand::CompleteTask { result: " ".into() })
        .then_expect_invalid_fields(&["result"]);
}

#[test]
fn fail_an_assigned_or_running_task() {
    let failed = TaskEvent::TaskFailed(TaskFailed {
        agent_id: agent_id(1),
        reason: "LLM down".into(),
    });
    given::<Task>([created(), assigned(1), started()])
        .when(TaskCommand::FailTask {
            reason: "LLM down".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    given::<Task>([created(), assigned(1), started(), failed])
        .when(TaskCommand::FailTask {
            reason: "again".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "fail",
            state: "failed",
        });
    given::<Task>([created()])
        .when(TaskCommand::FailTask { reason: "x".into() })
        .then_expect_error(DomainError::InvalidState {
            action: "fail",
            state: "created",
        });
}

#[test]
fn cancel_before_the_end_only() {
    given::<Task>([created()])
        .when(TaskCommand::CancelTask { reason: None })
        .then_expect_events(vec![TaskEvent::TaskCancelled(TaskCancelled {
            agent_id: None,
            reason: None,
        })]);
    let completed = TaskEvent::TaskCompleted(TaskCompleted {
        agent_id: agent_id(1),
        result: "ok".into(),
    });
    given::<Task>([created(), assigned(1), started(), completed])
        .when(TaskCommand::CancelTask { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "cancel",
            state: "completed",
        });
}

#[test]
fn tasks_of_another_tenant_or_missing_are_not_found() {
    given::<Task>([created()])
        .by_tenant(other_tenant())
        .when(TaskCommand::StartTask)
        .then_expect_error(DomainError::NotFound);
    given::<Task>([])
        .when(TaskCommand::StartTask)
        .then_expect_error(DomainError::NotFound);
}
