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
    #[serde(deserialize_with = "crate::counts::count")]
    pub deployment: u32,
    /// Set when the deployment workflow provisioned a knowledge base.
    #[serde(default)]
    pub knowledge_base_id: Option<String>,
    /// Set when the deployment workflow generated the web-chat widget.
    #[serde(default)]
    pub widget_embed_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDeploymentRequested {
    #[serde(deserialize_with = "crate::counts::count")]
    pub deployment: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDeploymentFailed {
    pub reason: String,
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
    AgentDeploymentRequested(AgentDeploymentRequested),
    AgentDeploymentFailed(AgentDeploymentFailed),
    AgentPaused(AgentPaused),
    AgentRetired(AgentRetired),
}

impl Event for AgentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::AgentCreated(_) => "AgentCreated",
            Self::AgentConfigUpdated(_) => "AgentConfigUpdated",
            Self::AgentDeployed(_) => "AgentDeployed",
            Self::AgentDeploymentRequested(_) => "AgentDeploymentRequested",
            Self::AgentDeploymentFailed(_) => "AgentDeploymentFailed",
            Self::AgentPaused(_) => "AgentPaused",
            Self::AgentRetired(_) => "AgentRetired",
        }
    }
}
