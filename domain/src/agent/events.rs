//! Facts about agents.

use serde::{Deserialize, Serialize};

use super::config::{AgentConfig, AgentName, Industry};
use crate::{Event, TenantId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCreated {
    pub tenant_id: TenantId,
    pub name: AgentName,
    pub industry: Industry,
    pub config: AgentConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfigUpdated {
    pub name: AgentName,
    pub config: AgentConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDeployed {
    /// How many times this agent has been deployed, this one included.
    pub deployment: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPaused {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRetired {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgentEvent {
    AgentCreated(AgentCreated),
    AgentConfigUpdated(AgentConfigUpdated),
    AgentDeployed(AgentDeployed),
    AgentPaused(AgentPaused),
    AgentRetired(AgentRetired),
}

impl Event for AgentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::AgentCreated(_) => "AgentCreated",
            Self::AgentConfigUpdated(_) => "AgentConfigUpdated",
            Self::AgentDeployed(_) => "AgentDeployed",
            Self::AgentPaused(_) => "AgentPaused",
            Self::AgentRetired(_) => "AgentRetired",
        }
    }
}
