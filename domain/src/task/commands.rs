//! Commands to the Task aggregate.

use serde::{Deserialize, Serialize};

use crate::agent::AgentSnapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    const ALL: [Self; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    /// # Errors
    /// When the name is not a priority.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| format!("must be one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaskCommand {
    CreateTask {
        title: String,
        description: Option<String>,
        priority: Option<String>,
    },
    /// The handler looked the agent up; the aggregate checks it may take the task.
    AssignTask {
        agent: AgentSnapshot,
    },
    StartTask,
    CompleteTask {
        result: String,
    },
    FailTask {
        reason: String,
    },
    CancelTask {
        reason: Option<String>,
    },
}
