//! Task rules: created → assigned → in progress → completed | failed; cancel before the end.

use serde::{Deserialize, Serialize};

use super::commands::{Priority, TaskCommand};
use super::events::*;
use crate::agent::{AgentSnapshot, AgentStatus};
use crate::error::Violations;
use crate::text::bounded;
use crate::{AgentId, Aggregate, DomainError, TenantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Absent,
    Created,
    Assigned,
    InProgress,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Created => "created",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Task {
    tenant: Option<TenantId>,
    status: TaskStatus,
    agent_id: Option<AgentId>,
}

impl Task {
    fn refuse(&self, action: &'static str) -> DomainError {
        DomainError::InvalidState {
            action,
            state: self.status.as_str(),
        }
    }

    fn create(
        tenant: &TenantId,
        title: &str,
        description: Option<&str>,
        priority: Option<&str>,
    ) -> Result<TaskEvent, DomainError> {
        let mut violations = Violations::default();
        let title = violations.check("title", bounded(title, 1, 200));
        let description = description
            .map(|d| violations.check("description", bounded(d, 1, 10_000)))
            .unwrap_or(None);
        let priority = violations.check("priority", Priority::parse(priority.unwrap_or("normal")));
        violations.finish()?;
        match (title, priority) {
            (Some(title), Some(priority)) => Ok(TaskEvent::TaskCreated(TaskCreated {
                tenant_id: tenant.clone(),
                title,
                description,
                priority,
            })),
            _ => unreachable!("every missing value recorded a violation"),
        }
    }

    fn assign(&self, tenant: &TenantId, agent: AgentSnapshot) -> Result<TaskEvent, DomainError> {
        if agent.tenant.as_ref() != Some(tenant) {
            return Err(DomainError::field("agent_id", "no such agent"));
        }
        if agent.status != AgentStatus::Deployed {
            return Err(DomainError::field(
                "agent_id",
                format!(
                    "agent is {}, only a deployed agent can take tasks",
                    agent.status.as_str()
                ),
            ));
        }
        if self.agent_id == Some(agent.agent_id) {
            return Err(DomainError::field(
                "agent_id",
                "task is already assigned to this agent",
            ));
        }
        Ok(TaskEvent::TaskAssigned(TaskAssigned {
            agent_id: agent.agent_id,
            previous_agent_id: self.agent_id,
        }))
    }

    fn assigned_agent(&self) -> Result<AgentId, DomainError> {
        self.agent_id.ok_or(DomainError::NotFound)
    }
}

impl Aggregate for Task {
    const TYPE: &'static str = "task";
    type Command = TaskCommand;
    type Event = TaskEvent;

    fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    fn decide(
        &self,
        tenant: &TenantId,
        command: TaskCommand,
    ) -> Result<Vec<TaskEvent>, DomainError> {
        use TaskStatus::{Absent, Assigned, Created, InProgress};
        let event = match (self.status, command) {
            (
                Absent,
                TaskCommand::CreateTask {
                    title,
                    description,
                    priority,
                },
            ) => Self::create(tenant, &title, description.as_deref(), priority.as_deref())?,
            (_, TaskCommand::CreateTask { .. }) => return Err(DomainError::AlreadyExists),
            (Absent, _) => return Err(DomainError::NotFound),
            (Created | Assigned, TaskCommand::AssignTask { agent }) => {
                self.assign(tenant, agent)?
            }
            (_, TaskCommand::AssignTask { .. }) => return Err(self.refuse("assign")),
            (Assigned, TaskCommand::StartTask) => TaskEvent::TaskStarted(TaskStarted {
                agent_id: self.assigned_agent()?,
            }),
            (_, TaskCommand::StartTask) => return Err(self.refuse("start")),
            (InProgress, TaskCommand::CompleteTask { result }) => {
                let result =
                    bounded(&result, 1, 20_000).map_err(|r| DomainError::field("result", r))?;
                TaskEvent::TaskCompleted(TaskCompleted {
                    agent_id: self.assigned_agent()?,
                    result,
                })
            }
            (_, TaskCommand::CompleteTask { .. }) => return Err(self.refuse("complete")),
            (Assigned | InProgress, TaskCommand::FailTask { reason }) => {
                let reason =
                    bounded(&reason, 1, 2_000).map_err(|r| DomainError::field("reason", r))?;
                TaskEvent::TaskFailed(TaskFailed {
                    agent_id: self.assigned_agent()?,
                    reason,
                })
            }
            (_, TaskCommand::FailTask { .. }) => return Err(self.refuse("fail")),
            (Created | Assigned | InProgress, TaskCommand::CancelTask { reason }) => {
                let reason = reason
                    .map(|r| bounded(&r, 1, 2_000).map_err(|e| DomainError::field("reason", e)))
                    .transpose()?;
                TaskEvent::TaskCancelled(TaskCancelled {
                    agent_id: self.agent_id,
                    reason,
                })
            }
            (_, TaskCommand::CancelTask { .. }) => return Err(self.refuse("cancel")),
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: TaskEvent) {
        match event {
            TaskEvent::TaskCreated(e) => {
                self.tenant = Some(e.tenant_id);
                self.status = TaskStatus::Created;
            }
            TaskEvent::TaskAssigned(e) => {
                self.status = TaskStatus::Assigned;
                self.agent_id = Some(e.agent_id);
            }
            TaskEvent::TaskStarted(_) => self.status = TaskStatus::InProgress,
            TaskEvent::TaskCompleted(_) => self.status = TaskStatus::Completed,
            TaskEvent::TaskFailed(_) => self.status = TaskStatus::Failed,
            TaskEvent::TaskCancelled(_) => self.status = TaskStatus::Cancelled,
        }
    }
}
