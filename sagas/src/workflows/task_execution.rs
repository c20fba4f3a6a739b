//! Task execution: TaskCreated → pick the least-loaded deployed agent → AssignTask → StartTask
//! → the LLM → CompleteTask. LLM errors retry with backoff, then FailTask (which releases the
//! agent). A task not started before its deadline is reassigned (at most 3 times), then failed;
//! one not completed before its deadline is failed.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{compensating_command, Action, Deadline, Transition};
use crate::commands::Sent;
use crate::instances::SagaInstance;
use crate::ports::llm::{ChatMessage, LlmError};
use crate::Context;

pub const TYPE: &str = "task_execution";
const MAX_REASSIGNMENTS: i64 = 3;

fn key(saga: &SagaInstance, step: &str) -> String {
    let round = saga.data["reassignments"].as_i64().unwrap_or(0);
    format!("saga:{}:{step}:{round}", saga.saga_id)
}

fn action(
    name: &str,
    key: Option<String>,
    outcome: &'static str,
    detail: Option<String>,
) -> Action {
    Action {
        action: name.to_owned(),
        idempotency_key: key,
        outcome,
        detail,
    }
}

fn deadline_passed(saga: &SagaInstance) -> bool {
    saga.deadline_at
        .is_some_and(|deadline| deadline <= chrono::Utc::now())
}

pub(super) async fn run_step(context: &Context, saga: &SagaInstance) -> (Vec<Action>, Transition) {
    let task = saga.data["task_id"].as_str().unwrap_or_default().to_owned();
    let mut data = saga.data.clone();
    match saga.step.as_str() {
        "pick_agent" => match least_loaded_agent(context, saga).await {
            Ok(Some((agent, model))) => {
                data["agent_id"] = json!(agent);
                data["model"] = json!(model);
                let detail = Some(format!("agent {agent}"));
                (
                    vec![action("pick_agent", None, "ok", detail)],
                    Transition::Goto {
                        step: "assign",
                        data,
                        deadline: Deadline::Keep,
                    },
                )
            }
            Ok(None) => (
                Vec::new(),
                Transition::Retry {
                    error: "no deployed agent available".into(),
                },
            ),
            Err(error) => (
                Vec::new(),
                Transition::Retry {
                    error: error.to_string(),
                },
            ),
        },
        "assign" => {
            let key = key(saga, "assign");
            let body = json!({ "agent_id": data["agent_id"] });
            match context
                .commands
                .post(
                    &saga.tenant_id,
                    &format!("/v1/tasks/{task}/assign"),
                    &body,
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => (
                    vec![action("AssignTask", Some(key), "ok", None)],
                    Transition::Goto {
                        step: "start",
                        data,
                        deadline: Deadline::In(context.timing.start_deadline),
                    },
                ),
                Sent::Rejected { status, problem } => {
                    // That agent cannot take it (paused meanwhile, ...): try another one.
                    let tried = data["tried"].as_array().cloned().unwrap_or_default();
                    data["tried"] = json!([tried, vec![data["agent_id"].clone()]].concat());
                    let detail = Some(format!("{status}: {problem}"));
                    (
                        vec![action("AssignTask", Some(key), "rejected", detail)],
                        Transition::Goto {
                            step: "pick_agent",
                            data,
                            deadline: Deadline::Keep,
                        },
                    )
                }
                Sent::Transient(error) => (
                    vec![action(
                        "AssignTask",
                        Some(key),
                        "transient",
                        Some(error.clone()),
                    )],
                    Transition::Retry { error },
                ),
            }
        }
        "start" if deadline_passed(saga) => reassign(saga, data),
        "start" => {
            let key = key(saga, "start");
            match context
                .commands
                .post(
                    &saga.tenant_id,
                    &format!("/v1/tasks/{task}/start"),
                    &json!({}),
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => (
                    vec![action("StartTask", Some(key), "ok", None)],
                    Transition::Goto {
                        step: "generate",
                        data,
                        deadline: Deadline::In(context.timing.completion_deadline),
                    },
                ),
                Sent::Rejected { status, problem } => (
                    vec![action(
                        "StartTask",
                        Some(key),
                        "rejected",
                        Some(format!("{status}: {problem}")),
                    )],
                    Transition::Finish {
                        status: "cancelled",
                        data,
                    },
                ),
                Sent::Transient(error) => (
                    vec![action(
                        "StartTask",
                        Some(key),
                        "transient",
                        Some(error.clone()),
                    )],
                    Transition::Retry { error },
                ),
            }
        }
        "generate" if deadline_passed(saga) => {
            data["reason"] = json!("not completed before its deadline");
            (
                vec![action("deadline", None, "passed", None)],
                Transition::Compensate {
                    step: "fail",
                    reason: "deadline passed".into(),
                    data,
                },
            )
        }
        "generate" => {
            let prompt = format!(
                "{}\n\n{}",
                data["title"].as_str().unwrap_or_default(),
                data["description"].as_str().unwrap_or_default()
            );
            let messages = [ChatMessage {
                role: "user".into(),
                content: prompt,
            }];
            match context
                .llm
                .complete(data["model"].as_str().unwrap_or_default(), &messages)
                .await
            {
                Ok(completion) => {
                    data["result"] = json!(completion.text);
                    data["tokens"] = json!(completion.prompt_tokens + completion.completion_tokens);
                    let detail = Some(format!(
                        "{} tokens",
                        completion.prompt_tokens + completion.completion_tokens
                    ));
                    (
                        vec![action("llm", None, "ok", detail)],
                        Transition::Goto {
                            step: "complete",
                            data,
                            deadline: Deadline::Clear,
                        },
                    )
                }
                Err(LlmError::Transient(error)) => (
                    vec![action("llm", None, "transient", Some(error.clone()))],
                    Transition::Retry { error },
                ),
                Err(LlmError::Rejected(error)) => {
                    data["reason"] = json!(format!("LLM refused: {error}"));
                    (
                        vec![action("llm", None, "rejected", Some(error.clone()))],
                        Transition::Compensate {
                            step: "fail",
                            reason: error,
                            data,
                        },
                    )
                }
            }
        }
        "complete" => {
            let key = key(saga, "complete");
            let body = json!({ "result": data["result"] });
            match context
                .commands
                .post(
                    &saga.tenant_id,
                    &format!("/v1/tasks/{task}/complete"),
                    &body,
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => (
                    vec![action("CompleteTask", Some(key), "ok", None)],
                    Transition::Finish {
                        status: "completed",
                        data,
                    },
                ),
                Sent::Rejected { status, problem } => (
                    vec![action(
                        "CompleteTask",
                        Some(key),
                        "rejected",
                        Some(format!("{status}: {problem}")),
                    )],
                    Transition::Finish {
                        status: "cancelled",
                        data,
                    },
                ),
                Sent::Transient(error) => (
                    vec![action(
                        "CompleteTask",
                        Some(key),
                        "transient",
                        Some(error.clone()),
                    )],
                    Transition::Retry { error },
                ),
            }
        }
        // Compensations.
        "fail" | "cancel" => {
            let (command, path) = if saga.step == "fail" {
                ("FailTask", "fail")
            } else {
                ("CancelTask", "cancel")
            };
            let body = json!({ "reason": data["reason"].as_str().unwrap_or(path) });
            let key = key(saga, path);
            let then = Transition::Finish {
                status: "compensated",
                data,
            };
            compensating_command(
                context,
                saga,
                command,
                &format!("/v1/tasks/{task}/{path}"),
                &body,
                key,
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

/// Not started in time: another agent, at most three times; then the task fails.
fn reassign(saga: &SagaInstance, mut data: Value) -> (Vec<Action>, Transition) {
    let round = data["reassignments"].as_i64().unwrap_or(0) + 1;
    let tried = data["tried"].as_array().cloned().unwrap_or_default();
    data["tried"] = json!([tried, vec![data["agent_id"].clone()]].concat());
    if round > MAX_REASSIGNMENTS {
        data["reason"] = json!(format!(
            "not started before its deadline after {MAX_REASSIGNMENTS} reassignments"
        ));
        let detail = Some(format!("deadline {:?}", saga.deadline_at));
        return (
            vec![action("deadline", None, "passed", detail)],
            Transition::Compensate {
                step: "fail",
                reason: "not started in time".into(),
                data,
            },
        );
    }
    data["reassignments"] = json!(round);
    (
        vec![action(
            "deadline",
            None,
            "reassign",
            Some(format!("round {round}")),
        )],
        Transition::Goto {
            step: "pick_agent",
            data,
            deadline: Deadline::Clear,
        },
    )
}

/// Retries ran out: before an agent holds the task it is cancelled, afterwards it fails.
pub(super) fn on_exhausted(saga: &SagaInstance, error: &str) -> Transition {
    let mut data = saga.data.clone();
    data["reason"] = json!(error);
    let step = if matches!(saga.step.as_str(), "pick_agent" | "assign") {
        "cancel"
    } else {
        "fail"
    };
    Transition::Compensate {
        step,
        reason: error.to_owned(),
        data,
    }
}

/// The tenant's deployed agent with the fewest open tasks, from the agents read model.
async fn least_loaded_agent(
    context: &Context,
    saga: &SagaInstance,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let tried: Vec<Uuid> = saga.data["tried"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default();
    let mut tx = context.pool.begin().await?;
    // The live generation, read on the same connection (a second one per worker could
    // exhaust the pool); no generation yet means no agent is known.
    let live: Option<i32> = sqlx::query_scalar(
        "SELECT live_generation FROM projection_generations WHERE projection = $1",
    )
    .bind(projectors::ProjectionName::Agents.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(number) = live else {
        return Ok(None);
    };
    let generation = projectors::Generation {
        projection: projectors::ProjectionName::Agents,
        number,
    };
    generation
        .enter(&mut tx)
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let agent: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT a.agent_id, a.model FROM agents a
         LEFT JOIN agent_tasks t ON t.agent_id = a.agent_id AND t.state = 'open'
         WHERE a.tenant_id = $1 AND a.status = 'deployed' AND NOT (a.agent_id = ANY($2))
         GROUP BY a.agent_id, a.model ORDER BY count(t.task_id), a.agent_id LIMIT 1",
    )
    .bind(&saga.tenant_id)
    .bind(tried)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn saga_at_start(reassignments: i64) -> SagaInstance {
        SagaInstance {
            saga_id: Uuid::now_v7(),
            saga_type: TYPE.into(),
            correlation_id: "t".into(),
            tenant_id: "acme".into(),
            status: "running".into(),
            step: "start".into(),
            attempts: 0,
            data: json!({ "task_id": "t", "agent_id": "a-1", "reassignments": reassignments, "tried": [] }),
            deadline_at: Some(Utc::now() - chrono::Duration::seconds(1)),
            next_attempt_at: Utc::now(),
            last_error: None,
            traceparent: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_task_not_started_in_time_goes_to_another_agent() {
        let saga = saga_at_start(0);
        assert!(deadline_passed(&saga));
        let (_, transition) = reassign(&saga, saga.data.clone());
        match transition {
            Transition::Goto {
                step: "pick_agent",
                data,
                ..
            } => {
                assert_eq!(data["reassignments"], 1);
                assert_eq!(
                    data["tried"],
                    json!(["a-1"]),
                    "the agent that did not start it is not picked again"
                );
            }
            other => panic!("expected a reassignment, got {other:?}"),
        }
    }

    #[test]
    fn after_three_reassignments_the_task_fails() {
        let saga = saga_at_start(3);
        match reassign(&saga, saga.data.clone()).1 {
            Transition::Compensate {
                step: "fail", data, ..
            } => {
                assert!(data["reason"].as_str().unwrap().contains("3 reassignments"));
            }
            other => panic!("expected the task to fail, got {other:?}"),
        }
    }
}
