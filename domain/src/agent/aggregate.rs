//! Agent rules: draft → deployed ⇄ paused → retired (terminal).

use serde::{Deserialize, Serialize};

use super::commands::{AgentCommand, AgentConfigInput, AgentConfigPatch};
use super::config::{AgentConfig, AgentName, Industry, SystemPrompt};
use super::events::*;
use crate::error::Violations;
use crate::text::bounded;
use crate::{Aggregate, DomainError, TenantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// No agent: the stream is empty.
    #[default]
    Absent,
    Draft,
    /// A deployment workflow is provisioning it (quota, knowledge base, widget).
    Deploying,
    Deployed,
    Paused,
    Retired,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Draft => "draft",
            Self::Deploying => "deploying",
            Self::Deployed => "deployed",
            Self::Paused => "paused",
            Self::Retired => "retired",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Agent {
    tenant: Option<TenantId>,
    status: AgentStatus,
    name: Option<AgentName>,
    industry: Option<Industry>,
    config: Option<AgentConfig>,
    deployments: u32,
    /// Where a failed deployment returns to.
    before_deployment: Option<AgentStatus>,
}

impl Agent {
    pub fn status(&self) -> AgentStatus {
        self.status
    }

    fn create(
        tenant: &TenantId,
        name: &str,
        industry: &str,
        input: AgentConfigInput,
    ) -> Result<AgentEvent, DomainError> {
        let mut violations = Violations::default();
        let name = violations.check("name", AgentName::parse(name));
        let industry = violations.check("industry", Industry::parse(industry));
        let prompt = match (&input.system_prompt, &name, industry) {
            (Some(given), _, _) => SystemPrompt::parse(given),
            (None, Some(name), Some(industry)) => {
                SystemPrompt::parse(&industry.prompt_template(name))
            }
            // The template needs a valid name and industry, whose violations are recorded.
            (None, _, _) => SystemPrompt::parse("pending"),
        };
        let config = AgentConfig::parse(
            &input.provider,
            &input.model,
            input.temperature,
            input.max_tokens,
            prompt,
            &mut violations,
        );
        violations.finish()?;
        match (name, industry, config) {
            (Some(name), Some(industry), Some(config)) => {
                Ok(AgentEvent::AgentCreated(AgentCreated {
                    tenant_id: tenant.clone(),
                    name,
                    industry,
                    config,
                }))
            }
            _ => unreachable!("every missing value recorded a violation"),
        }
    }

    fn update(&self, patch: AgentConfigPatch) -> Result<AgentEvent, DomainError> {
        if patch.is_empty() {
            return Err(DomainError::field("body", "must change at least one field"));
        }
        let (Some(current_name), Some(current)) = (&self.name, &self.config) else {
            return Err(DomainError::NotFound);
        };
        let mut violations = Violations::default();
        let name = match &patch.name {
            Some(text) => violations.check("name", AgentName::parse(text)),
            None => Some(current_name.clone()),
        };
        let prompt = match &patch.system_prompt {
            Some(text) => SystemPrompt::parse(text),
            None => Ok(current.system_prompt.clone()),
        };
        let config = AgentConfig::parse(
            patch
                .provider
                .as_deref()
                .unwrap_or(current.provider.as_str()),
            patch.model.as_deref().unwrap_or(&current.model),
            patch.temperature.unwrap_or(current.temperature.get()),
            patch.max_tokens.unwrap_or(current.max_tokens.get()),
            prompt,
            &mut violations,
        );
        violations.finish()?;
        match (name, config) {
            (Some(name), Some(config)) => Ok(AgentEvent::AgentConfigUpdated(AgentConfigUpdated {
                name,
                config,
            })),
            _ => unreachable!("every missing value recorded a violation"),
        }
    }

    fn check_deployable(&self) -> Result<(), DomainError> {
        let config = self.config.as_ref().ok_or(DomainError::NotFound)?;
        config
            .check_deployable()
            .map_err(|r| DomainError::field("config.model", r))
    }

    fn refuse(&self, action: &'static str) -> DomainError {
        DomainError::InvalidState {
            action,
            state: self.status.as_str(),
        }
    }
}

fn reason(text: Option<String>) -> Result<Option<String>, DomainError> {
    text.map(|t| bounded(&t, 1, 1_000).map_err(|r| DomainError::field("reason", r)))
        .transpose()
}

impl Aggregate for Agent {
    const TYPE: &'static str = "agent";
    type Command = AgentCommand;
    type Event = AgentEvent;

    fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    fn decide(
        &self,
        tenant: &TenantId,
        command: AgentCommand,
    ) -> Result<Vec<AgentEvent>, DomainError> {
        use AgentStatus::{Absent, Deployed, Deploying, Draft, Paused, Retired};
        let event = match (self.status, command) {
            (
                Absent,
                AgentCommand::CreateAgent {
                    name,
                    industry,
                    config,
                },
            ) => Self::create(tenant, &name, &industry, config)?,
            (_, AgentCommand::CreateAgent { .. }) => return Err(DomainError::AlreadyExists),
            (Absent, _) => return Err(DomainError::NotFound),
            (Retired, AgentCommand::UpdateAgentConfig(_)) => return Err(self.refuse("update")),
            (_, AgentCommand::UpdateAgentConfig(patch)) => self.update(patch)?,
            (Draft | Paused, AgentCommand::DeployAgent) => {
                self.check_deployable()?;
                AgentEvent::AgentDeployed(AgentDeployed {
                    deployment: self.deployments + 1,
                    knowledge_base_id: None,
                    widget_embed_code: None,
                })
            }
            (_, AgentCommand::DeployAgent) => return Err(self.refuse("deploy")),
            (Draft | Paused, AgentCommand::RequestAgentDeployment) => {
                self.check_deployable()?;
                AgentEvent::AgentDeploymentRequested(AgentDeploymentRequested {
                    deployment: self.deployments + 1,
                })
            }
            (_, AgentCommand::RequestAgentDeployment) => {
                return Err(self.refuse("request a deployment"))
            }
            (
                Deploying,
                AgentCommand::CompleteAgentDeployment {
                    knowledge_base_id,
                    widget_embed_code,
                },
            ) => {
                let knowledge_base_id = bounded(&knowledge_base_id, 1, 200)
                    .map_err(|r| DomainError::field("knowledge_base_id", r))?;
                let widget_embed_code = bounded(&widget_embed_code, 1, 2_000)
                    .map_err(|r| DomainError::field("widget_embed_code", r))?;
                AgentEvent::AgentDeployed(AgentDeployed {
                    deployment: self.deployments + 1,
                    knowledge_base_id: Some(knowledge_base_id),
                    widget_embed_code: Some(widget_embed_code),
                })
            }
            (_, AgentCommand::CompleteAgentDeployment { .. }) => {
                return Err(self.refuse("complete a deployment"))
            }
            (Deploying, AgentCommand::FailAgentDeployment { reason: text }) => {
                let reason =
                    bounded(&text, 1, 1_000).map_err(|r| DomainError::field("reason", r))?;
                AgentEvent::AgentDeploymentFailed(AgentDeploymentFailed { reason })
            }
            (_, AgentCommand::FailAgentDeployment { .. }) => {
                return Err(self.refuse("fail a deployment"))
            }
            (Deployed, AgentCommand::PauseAgent { reason: text }) => {
                AgentEvent::AgentPaused(AgentPaused {
                    reason: reason(text)?,
                })
            }
            (_, AgentCommand::PauseAgent { .. }) => return Err(self.refuse("pause")),
            // Retiring mid-deployment would strand the workflow's quota slot and provisioning.
            (Deploying, AgentCommand::RetireAgent { .. }) => return Err(self.refuse("retire")),
            (Draft | Deployed | Paused, AgentCommand::RetireAgent { reason: text }) => {
                AgentEvent::AgentRetired(AgentRetired {
                    reason: reason(text)?,
                })
            }
            (Retired, AgentCommand::RetireAgent { .. }) => return Err(self.refuse("retire")),
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: AgentEvent) {
        match event {
            AgentEvent::AgentCreated(e) => {
                self.tenant = Some(e.tenant_id);
                self.status = AgentStatus::Draft;
                self.name = Some(e.name);
                self.industry = Some(e.industry);
                self.config = Some(e.config);
            }
            AgentEvent::AgentConfigUpdated(e) => {
                self.name = Some(e.name);
                self.config = Some(e.config);
            }
            AgentEvent::AgentDeployed(e) => {
                self.status = AgentStatus::Deployed;
                self.deployments = e.deployment;
                self.before_deployment = None;
            }
            AgentEvent::AgentDeploymentRequested(_) => {
                self.before_deployment = Some(self.status);
                self.status = AgentStatus::Deploying;
            }
            AgentEvent::AgentDeploymentFailed(_) => {
                self.status = self.before_deployment.take().unwrap_or(AgentStatus::Draft);
            }
            AgentEvent::AgentPaused(_) => self.status = AgentStatus::Paused,
            AgentEvent::AgentRetired(_) => self.status = AgentStatus::Retired,
        }
    }
}
