//! The Agent aggregate: an AI agent a tenant configures, deploys, pauses and retires.

mod aggregate;
mod catalogue;
mod commands;
mod config;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Agent, AgentStatus};
pub use catalogue::{ModelSpec, Provider, CATALOGUE};
pub use commands::{AgentCommand, AgentConfigInput, AgentConfigPatch, AgentSnapshot};
pub use config::{AgentConfig, AgentName, Industry, MaxTokens, SystemPrompt, Temperature};
pub use events::{
    AgentConfigUpdated, AgentCreated, AgentDeployed, AgentDeploymentFailed,
    AgentDeploymentRequested, AgentEvent, AgentPaused, AgentRetired,
};
