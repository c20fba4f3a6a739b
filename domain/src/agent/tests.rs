//! Given/when/then for every Agent command path.

use super::*;
use crate::testing::{given, other_tenant, tenant};
use crate::{Aggregate, DomainError};

fn input() -> AgentConfigInput {
    AgentConfigInput {
        provider: "openai".into(),
        model: "gpt-4o".into(),
        temperature: 0.7,
        max_tokens: 1_000,
        system_prompt: Some("Be helpful.".into()),
    }
}

fn create() -> AgentCommand {
    AgentCommand::CreateAgent {
        name: "Ada".into(),
        industry: "retail".into(),
        config: input(),
    }
}

fn created() -> AgentEvent {
    let mut state = Agent::default();
    let mut events = state.execute(&tenant(), create()).unwrap();
    state.apply(events[0].clone());
    events.remove(0)
}

fn deployed() -> AgentEvent {
    AgentEvent::AgentDeployed(AgentDeployed {
        deployment: 1,
        knowledge_base_id: None,
        widget_embed_code: None,
    })
}

fn paused() -> AgentEvent {
    AgentEvent::AgentPaused(AgentPaused { reason: None })
}

#[test]
fn create_agent_records_the_validated_config() {
    let AgentEvent::AgentCreated(event) = created() else {
        panic!("not created")
    };
    assert_eq!(event.tenant_id, tenant());
    assert_eq!(event.name.as_str(), "Ada");
    assert_eq!(event.industry, Industry::Retail);
    assert_eq!(event.config.provider, Provider::Openai);
    assert_eq!(event.config.max_tokens.get(), 1_000);
    assert_eq!(event.config.system_prompt.as_str(), "Be helpful.");
}

#[test]
fn create_agent_without_prompt_uses_the_industry_template() {
    let mut config = input();
    config.system_prompt = None;
    let command = AgentCommand::CreateAgent {
        name: "Ada".into(),
        industry: "real_estate".into(),
        config,
    };
    let events = Agent::default().execute(&tenant(), command).unwrap();
    let AgentEvent::AgentCreated(event) = &events[0] else {
        panic!("not created")
    };
    assert!(event.config.system_prompt.as_str().contains("You are Ada"));
    assert!(event.config.system_prompt.as_str().contains("real estate"));
}

#[test]
fn create_agent_reports_every_invalid_field() {
    let command = AgentCommand::CreateAgent {
        name: " ".into(),
        industry: "mining".into(),
        config: AgentConfigInput {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            temperature: 2.5,
            max_tokens: 20_000,
            system_prompt: Some("x".repeat(8_001)),
        },
    };
    given::<Agent>([])
        .when(command)
        .then_expect_invalid_fields(&[
            "name",
            "industry",
            "temperature",
            "max_tokens",
            "system_prompt",
        ]);
}

#[test]
fn create_agent_rejects_unknown_and_retired_models() {
    for (provider, model, field) in [
        ("openai", "gpt-7", "model"),
        ("openai", "gpt-3.5-turbo-0301", "model"),
        ("anthropic", "gpt-4o", "model"),
        ("mistral", "large", "provider"),
    ] {
        let mut config = input();
        config.provider = provider.into();
        config.model = model.into();
        let command = AgentCommand::CreateAgent {
            name: "Ada".into(),
            industry: "retail".into(),
            config,
        };
        given::<Agent>([])
            .when(command)
            .then_expect_invalid_fields(&[field]);
    }
}

#[test]
fn create_agent_twice_is_rejected() {
    given::<Agent>([created()])
        .when(create())
        .then_expect_error(DomainError::AlreadyExists);
}

#[test]
fn commands_to_a_missing_agent_are_not_found() {
    given::<Agent>([])
        .when(AgentCommand::DeployAgent)
        .then_expect_error(DomainError::NotFound);
}

#[test]
fn another_tenants_agent_is_not_found() {
    given::<Agent>([created()])
        .by_tenant(other_tenant())
        .when(AgentCommand::DeployAgent)
        .then_expect_error(DomainError::NotFound);
}

#[test]
fn update_config_merges_the_patch_and_revalidates() {
    let patch = AgentConfigPatch {
        model: Some("gpt-4o-mini".into()),
        temperature: Some(0.1),
        ..Default::default()
    };
    let events = given::<Agent>([created()]);
    let mut state = Agent::default();
    state.apply(created());
    let result = state
        .execute(&tenant(), AgentCommand::UpdateAgentConfig(patch.clone()))
        .unwrap();
    let AgentEvent::AgentConfigUpdated(event) = &result[0] else {
        panic!("not updated")
    };
    assert_eq!(event.config.model, "gpt-4o-mini");
    assert_eq!(event.config.temperature.get(), 0.1);
    assert_eq!(event.name.as_str(), "Ada");
    events
        .when(AgentCommand::UpdateAgentConfig(patch))
        .then_expect_events(result);
}

#[test]
fn update_config_checks_max_tokens_against_the_new_model() {
    let patch = AgentConfigPatch {
        provider: Some("google".into()),
        model: Some("gemini-2.0-flash".into()),
        max_tokens: Some(9_000),
        ..Default::default()
    };
    given::<Agent>([created()])
        .when(AgentCommand::UpdateAgentConfig(patch))
        .then_expect_invalid_fields(&["max_tokens"]);
}

#[test]
fn an_empty_update_is_rejected() {
    given::<Agent>([created()])
        .when(AgentCommand::UpdateAgentConfig(AgentConfigPatch::default()))
        .then_expect_invalid_fields(&["body"]);
}

#[test]
fn a_retired_agent_cannot_be_updated() {
    let patch = AgentConfigPatch {
        name: Some("Bob".into()),
        ..Default::default()
    };
    given::<Agent>([
        created(),
        AgentEvent::AgentRetired(AgentRetired { reason: None }),
    ])
    .when(AgentCommand::UpdateAgentConfig(patch))
    .then_expect_error(DomainError::InvalidState {
        action: "update",
        state: "retired",
    });
}

#[test]
fn deploy_from_draft_and_from_paused() {
    given::<Agent>([created()])
        .when(AgentCommand::DeployAgent)
        .then_expect_events(vec![deployed()]);
    given::<Agent>([created(), deployed(), paused()])
        .when(AgentCommand::DeployAgent)
        .then_expect_events(vec![AgentEvent::AgentDeployed(AgentDeployed {
            deployment: 2,
            knowledge_base_id: None,
            widget_embed_code: None,
        })]);
}

#[test]
fn deploy_twice_is_rejected() {
    given::<Agent>([created(), deployed()])
        .when(AgentCommand::DeployAgent)
        .then_expect_error(DomainError::InvalidState {
            action: "deploy",
            state: "deployed",
        });
}

#[test]
fn deploy_is_rejected_when_the_model_retired_since_creation() {
    let AgentEvent::AgentCreated(mut event) = created() else {
        panic!()
    };
    event.config.model = "gpt-4-0314".into();
    given::<Agent>([AgentEvent::AgentCreated(event)])
        .when(AgentCommand::DeployAgent)
        .then_expect_invalid_fields(&["config.model"]);
}

#[test]
fn pause_only_a_deployed_agent() {
    given::<Agent>([created(), deployed()])
        .when(AgentCommand::PauseAgent {
            reason: Some("holiday".into()),
        })
        .then_expect_events(vec![AgentEvent::AgentPaused(AgentPaused {
            reason: Some("holiday".into()),
        })]);
    given::<Agent>([created()])
        .when(AgentCommand::PauseAgent { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "pause",
            state: "draft",
        });
}

#[test]
fn retire_is_terminal() {
    let retired = AgentEvent::AgentRetired(AgentRetired { reason: None });
    given::<Agent>([created(), deployed()])
        .when(AgentCommand::RetireAgent { reason: None })
        .then_expect_events(vec![retired.clone()]);
    given::<Agent>([created(), retired.clone()])
        .when(AgentCommand::RetireAgent { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "retire",
            state: "retired",
        });
    given::<Agent>([created(), retired])
        .when(AgentCommand::DeployAgent)
        .then_expect_error(DomainError::InvalidState {
            action: "deploy",
            state: "retired",
        });
}

fn requested() -> AgentEvent {
    AgentEvent::AgentDeploymentRequested(AgentDeploymentRequested { deployment: 1 })
}

#[test]
fn a_deployment_request_puts_the_agent_in_deploying() {
    given::<Agent>([created()])
        .when(AgentCommand::RequestAgentDeployment)
        .then_expect_events(vec![requested()]);
    given::<Agent>([created(), requested()])
        .when(AgentCommand::RequestAgentDeployment)
        .then_expect_error(DomainError::InvalidState {
            action: "request a deployment",
            state: "deploying",
        });
    given::<Agent>([created(), requested()])
        .when(AgentCommand::DeployAgent)
        .then_expect_error(DomainError::InvalidState {
            action: "deploy",
            state: "deploying",
        });
    given::<Agent>([created(), requested()])
        .when(AgentCommand::PauseAgent { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "pause",
            state: "deploying",
        });
    given::<Agent>([created(), requested()])
        .when(AgentCommand::RetireAgent { reason: None })
        .then_expect_error(DomainError::InvalidState {
            action: "retire",
            state: "deploying",
        });
}

#[test]
fn completing_a_deployment_records_what_was_provisioned() {
    let complete = AgentCommand::CompleteAgentDeployment {
        knowledge_base_id: "kb-1".into(),
        widget_embed_code: "<script src=\"/widget.js\"></script>".into(),
    };
    given::<Agent>([created(), requested()])
        .when(complete.clone())
        .then_expect_events(vec![AgentEvent::AgentDeployed(AgentDeployed {
            deployment: 1,
            knowledge_base_id: Some("kb-1".into()),
            widget_embed_code: Some("<script src=\"/widget.js\"></script>".into()),
        })]);
    given::<Agent>([created()])
        .when(complete)
        .then_expect_error(DomainError::InvalidState {
            action: "complete a deployment",
            state: "draft",
        });
    given::<Agent>([created(), requested()])
        .when(AgentCommand::CompleteAgentDeployment {
            knowledge_base_id: String::new(),
            widget_embed_code: "x".into(),
        })
        .then_expect_invalid_fields(&["knowledge_base_id"]);
}

#[test]
fn a_failed_deployment_returns_the_agent_where_it_was() {
    let failed = AgentEvent::AgentDeploymentFailed(AgentDeploymentFailed {
        reason: "quota".into(),
    });
    given::<Agent>([created(), requested()])
        .when(AgentCommand::FailAgentDeployment {
            reason: "quota".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    // Back in draft: it can be requested again, or deployed directly.
    given::<Agent>([created(), requested(), failed.clone()])
        .when(AgentCommand::DeployAgent)
        .then_expect_events(vec![deployed()]);
    given::<Agent>([
        created(),
        deployed(),
        paused(),
        AgentEvent::AgentDeploymentRequested(AgentDeploymentRequested { deployment: 2 }),
        failed,
    ])
    .when(AgentCommand::RetireAgent { reason: None })
    .then_expect_events(vec![AgentEvent::AgentRetired(AgentRetired {
        reason: None,
    })]);
    given::<Agent>([created()])
        .when(AgentCommand::FailAgentDeployment { reason: "x".into() })
        .then_expect_error(DomainError::InvalidState {
            action: "fail a deployment",
            state: "draft",
        });
}
