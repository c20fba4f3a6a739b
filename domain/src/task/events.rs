//! Facts about tasks.

use serde::{Deserialize, Serialize};

use super::commands::Priority;
use crate::{AgentId, Event, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub tenant_id: TenantId,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAssigned {
    pub agent_id: AgentId,
    /// The agent it was taken from, when this is a reassignment.
    pub previous_agent_id: Option<AgentId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStarted {
    pub agent_id: AgentId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCompleted {
    pub agent_id: AgentId,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFailed {
    pub agent_id: AgentId,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCancelled {
    pub agent_id: Option<AgentId>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskEvent {
    TaskCreated(TaskCreated),
    TaskAssigned(TaskAssigned),
    TaskStarted(TaskStarted),
    TaskCompleted(TaskCompleted),
    TaskFailed(TaskFailed),
    TaskCancelled(TaskCancelled),
}

impl Event for TaskEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::TaskCreated(_) => "TaskCreated",
            Self::TaskAssigned(_) => "TaskAssigned",
            Self::TaskStarted(_) => "TaskStarted",
            Self::TaskCompleted(_) => "TaskCompleted",
            Self::TaskFailed(_) => "TaskFailed",
            Self::TaskCancelled(_) => "TaskCancelled",
        }
    }
}
