//! The workflows. Each step does one thing (a command or a port call) and says what comes next;
//! the executor persists that, retries transient failures and runs compensations.

pub mod agent_deployment;
pub mod billing_cycle;
pub mod conversation_reply;
pub mod task_execution;

use serde_json::Value;

use crate::commands::Sent;

use crate::instances::SagaInstance;
use crate::Context;

/// What happened in a step, for the step log.
#[derive(Debug, Clone)]
pub struct Action {
    pub action: String,
    pub idempotency_key: Option<String>,
    pub outcome: &'static str,
    pub detail: Option<String>,
}

/// What the executor does after a step.
#[derive(Debug)]
pub enum Transition {
    /// Go on with `step` (attempts start again).
    Goto {
        step: &'static str,
        data: Value,
        deadline: Deadline,
    },
    /// A transient failure: the same step again later, with the same idempotency key.
    Retry { error: String },
    /// A business failure: undo what was done, starting at compensation `step`.
    Compensate {
        step: &'static str,
        reason: String,
        data: Value,
    },
    /// The saga ends with `status`.
    Finish { status: &'static str, data: Value },
}

#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    Keep,
    Clear,
    In(chrono::Duration),
}

/// Runs the current step of `saga`; returns what it did and what comes next.
pub async fn run_step(context: &Context, saga: &SagaInstance) -> (Vec<Action>, Transition) {
    match saga.saga_type.as_str() {
        task_execution::TYPE => task_execution::run_step(context, saga).await,
        agent_deployment::TYPE => agent_deployment::run_step(context, saga).await,
        billing_cycle::TYPE | billing_cycle::RECOVERY => {
            billing_cycle::run_step(context, saga).await
        }
        conversation_reply::TYPE => conversation_reply::run_step(context, saga).await,
        other => (
            Vec::new(),
            Transition::Finish {
                status: "parked",
                data: serde_json::json!({ "error": format!("unknown saga type {other}") }),
            },
        ),
    }
}

/// Where a running saga goes when its retries are exhausted.
pub fn on_exhausted(saga: &SagaInstance, error: &str) -> Transition {
    match saga.saga_type.as_str() {
        task_execution::TYPE => task_execution::on_exhausted(saga, error),
        agent_deployment::TYPE => agent_deployment::on_exhausted(saga, error),
        billing_cycle::TYPE => billing_cycle::on_exhausted(saga, error),
        _ => Transition::Finish {
            status: "parked",
            data: saga.data.clone(),
        },
    }
}

/// Sends a compensating command. It is done when accepted, or when refused with 409 (already
/// undone, or the state moved on so there is nothing left to undo); any other refusal or failure
/// retries with the same key, and the executor parks the saga when the retries run out.
pub(crate) async fn compensating_command(
    context: &Context,
    saga: &SagaInstance,
    command: &str,
    path: &str,
    body: &Value,
    key: String,
    then: Transition,
) -> (Vec<Action>, Transition) {
    let action = |outcome: &'static str, detail: Option<String>| Action {
        action: command.to_owned(),
        idempotency_key: Some(key.clone()),
        outcome,
        detail,
    };
    match context
        .commands
        .post(&saga.tenant_id, path, body, &key)
        .await
    {
        Sent::Accepted(_) | Sent::Rejected { status: 409, .. } => {
            (vec![action("compensated", None)], then)
        }
        Sent::Rejected { status, problem } => {
            let error = format!("{status}: {problem}");
            (
                vec![action("rejected", Some(error.clone()))],
                Transition::Retry { error },
            )
        }
        Sent::Transient(error) => (
            vec![action("transient", Some(error.clone()))],
            Transition::Retry { error },
        ),
    }
}
