//! Commands to the Agent aggregate, carrying raw input the aggregate validates.

use crate::AgentId;

use super::aggregate::AgentStatus;
use crate::TenantId;

/// Model configuration as the caller typed it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfigInput {
    pub provider: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// `None` asks for the industry's template.
    pub system_prompt: Option<String>,
}

/// A partial update: only the given fields change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentConfigPatch {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub system_prompt: Option<String>,
}

impl AgentConfigPatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    CreateAgent {
        name: String,
        industry: String,
        config: AgentConfigInput,
    },
    UpdateAgentConfig(AgentConfigPatch),
    DeployAgent,
    /// Starts the deployment workflow (quota, provisioning) instead of deploying at once.
    RequestAgentDeployment,
    /// The workflow provisioned everything: the agent goes live.
    CompleteAgentDeployment {
        knowledge_base_id: String,
        widget_embed_code: String,
    },
    /// The workflow undid its steps; the agent returns to where it was.
    FailAgentDeployment {
        reason: String,
    },
    PauseAgent {
        reason: Option<String>,
    },
    RetireAgent {
        reason: Option<String>,
    },
}

/// What another aggregate's command needs to know about an agent, looked up by the
/// handler before the command is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub agent_id: AgentId,
    /// `None` when no such agent exists.
    pub tenant: Option<TenantId>,
    pub status: AgentStatus,
}
