//! Agent deployment: RequestAgentDeployment → reserve a slot of the tenant's agent quota
//! (which also checks the subscription is active) → provision the knowledge base and web-chat
//! widget → complete the deployment. A failure undoes the completed steps in reverse
//! (deprovision, release the slot) and records why on the agent.

use serde_json::json;

use super::{compensating_command, Action, Deadline, Transition};
use crate::commands::Sent;
use crate::instances::SagaInstance;
use crate::ports::provisioning::ProvisioningError;
use crate::Context;

pub const TYPE: &str = "agent_deployment";

fn key(saga: &SagaInstance, step: &str) -> String {
    format!("saga:{}:{step}", saga.saga_id)
}

fn act(
    name: &str,
    key: Option<String>,
    outcome: &'static str,
    detail: Option<String>,
) -> Vec<Action> {
    vec![Action {
        action: name.to_owned(),
        idempotency_key: key,
        outcome,
        detail,
    }]
}

pub(super) async fn run_step(context: &Context, saga: &SagaInstance) -> (Vec<Action>, Transition) {
    let agent = saga.data["agent_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut data = saga.data.clone();
    let tenant = saga.tenant_id.as_str();
    match saga.step.as_str() {
        "reserve_slot" => {
            let key = key(saga, "reserve_slot");
            match context
                .commands
                .post(
                    tenant,
                    "/v1/subscriptions/slots",
                    &json!({ "agent_id": agent }),
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => {
                    data["slot_reserved"] = json!(true);
                    (
                        act("ReserveAgentSlot", Some(key), "ok", None),
                        Transition::Goto {
                            step: "provision",
                            data,
                            deadline: Deadline::Keep,
                        },
                    )
                }
                Sent::Rejected { status, problem } => {
                    let reason = if status == 404 {
                        "the tenant has no active subscription".to_owned()
                    } else {
                        quota_reason(&problem)
                    };
                    data["reason"] = json!(reason);
                    (
                        act(
                            "ReserveAgentSlot",
                            Some(key),
                            "rejected",
                            Some(format!("{status}: {problem}")),
                        ),
                        Transition::Compensate {
                            step: "record_failure",
                            reason,
                            data,
                        },
                    )
                }
                Sent::Transient(error) => (
                    act(
                        "ReserveAgentSlot",
                        Some(key),
                        "transient",
                        Some(error.clone()),
                    ),
                    Transition::Retry { error },
                ),
            }
        }
        "provision" => match context.provisioner.provision(tenant, &agent).await {
            Ok(provisioned) => {
                data["knowledge_base_id"] = json!(provisioned.knowledge_base_id);
                data["widget_embed_code"] = json!(provisioned.widget_embed_code);
                data["provisioned"] = json!(true);
                (
                    act("provision", None, "ok", None),
                    Transition::Goto {
                        step: "deploy",
                        data,
                        deadline: Deadline::Keep,
                    },
                )
            }
            Err(ProvisioningError::Transient(error)) => (
                act("provision", None, "transient", Some(error.clone())),
                Transition::Retry { error },
            ),
            Err(ProvisioningError::Rejected(error)) => {
                data["reason"] = json!(format!("provisioning refused: {error}"));
                (
                    act("provision", None, "rejected", Some(error.clone())),
                    Transition::Compensate {
                        step: "release_slot",
                        reason: error,
                        data,
                    },
                )
            }
        },
        "deploy" => {
            let key = key(saga, "deploy");
            let body = json!({ "knowledge_base_id": data["knowledge_base_id"], "widget_embed_code": data["widget_embed_code"] });
            match context
                .commands
                .post(
                    tenant,
                    &format!("/v1/agents/{agent}/deployment-completions"),
                    &body,
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => (
                    act("CompleteAgentDeployment", Some(key), "ok", None),
                    Transition::Finish {
                        status: "completed",
                        data,
                    },
                ),
                Sent::Rejected { status, problem } => {
                    data["reason"] = json!(format!("deployment refused: {status}"));
                    (
                        act(
                            "CompleteAgentDeployment",
                            Some(key),
                            "rejected",
                            Some(problem),
                        ),
                        Transition::Compensate {
                            step: "deprovision",
                            reason: format!("deployment refused: {status}"),
                            data,
                        },
                    )
                }
                Sent::Transient(error) => (
                    act(
                        "CompleteAgentDeployment",
                        Some(key),
                        "transient",
                        Some(error.clone()),
                    ),
                    Transition::Retry { error },
                ),
            }
        }
        // Compensations, in reverse order of the steps.
        "deprovision" => match context.provisioner.deprovision(&agent).await {
            Ok(()) => (
                act("deprovision", None, "compensated", None),
                Transition::Goto {
                    step: "release_slot",
                    data,
                    deadline: Deadline::Keep,
                },
            ),
            Err(error) => (
                act("deprovision", None, "transient", Some(error.to_string())),
                Transition::Retry {
                    error: error.to_string(),
                },
            ),
        },
        "release_slot" => {
            // A 409 means the slot is not held (any more): nothing to release.
            let path = format!("/v1/subscriptions/slots/{agent}/release");
            let then = Transition::Goto {
                step: "record_failure",
                data,
                deadline: Deadline::Keep,
            };
            compensating_command(
                context,
                saga,
                "ReleaseAgentSlot",
                &path,
                &json!({}),
                key(saga, "release_slot"),
                then,
            )
            .await
        }
        "record_failure" => {
            let reason = data["reason"]
                .as_str()
                .unwrap_or("deployment failed")
                .to_owned();
            let path = format!("/v1/agents/{agent}/deployment-failures");
            let then = Transition::Finish {
                status: "compensated",
                data,
            };
            compensating_command(
                context,
                saga,
                "FailAgentDeployment",
                &path,
                &json!({ "reason": reason }),
                key(saga, "record_failure"),
                then,
            )
            .await
        }
        other => (
            Vec::new(),
            Transition::Retry {
                error: format!("unknown step {other}"),
            },
        ),
    }
}

fn quota_reason(problem: &str) -> String {
    serde_json::from_str::<serde_json::Value>(problem)
        .ok()
        .and_then(|p| p["errors"][0]["reason"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "the subscription refused a slot".to_owned())
}

/// Retries ran out: undo what was done so far, last step first.
pub(super) fn on_exhausted(saga: &SagaInstance, error: &str) -> Transition {
    let mut data = saga.data.clone();
    data["reason"] = json!(error);
    let step = match saga.step.as_str() {
        "deploy" if saga.data["provisioned"] == json!(true) => "deprovision",
        "provision" | "deploy" => "release_slot",
        _ => "record_failure",
    };
    Transition::Compensate {
        step,
        reason: error.to_owned(),
        data,
    }
}
