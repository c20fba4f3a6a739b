//! Conversation reply: MessageReceived → the LLM with the conversation's recent messages as
//! context → SendReply with the tokens the LLM consumed, which MessageSent records and the
//! usage projection sums for billing.

use serde_json::json;
use uuid::Uuid;

use super::{Action, Transition};
use crate::commands::Sent;
use crate::instances::SagaInstance;
use crate::ports::llm::{ChatMessage, LlmError};
use crate::Context;

pub const TYPE: &str = "conversation_reply";
/// Messages of context given to the model.
const CONTEXT_MESSAGES: i64 = 20;

pub(super) async fn run_step(context: &Context, saga: &SagaInstance) -> (Vec<Action>, Transition) {
    let conversation = saga.data["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut data = saga.data.clone();
    match saga.step.as_str() {
        "generate" => {
            let Ok(conversation_id) = Uuid::parse_str(&conversation) else {
                return (
                    Vec::new(),
                    Transition::Finish {
                        status: "parked",
                        data,
                    },
                );
            };
            let history = match recent_messages(context, conversation_id).await {
                Ok(Some(history)) => history,
                // The read model has not caught up with the conversation yet.
                Ok(None) => {
                    return (
                        Vec::new(),
                        Transition::Retry {
                            error: "conversation not in the read model yet".into(),
                        },
                    )
                }
                Err(error) => {
                    return (
                        Vec::new(),
                        Transition::Retry {
                            error: error.to_string(),
                        },
                    )
                }
            };
            let (model, messages) = history;
            match context.llm.complete(&model, &messages).await {
                Ok(completion) => {
                    data["reply"] = json!(completion.text);
                    data["prompt_tokens"] = json!(completion.prompt_tokens);
                    data["completion_tokens"] = json!(completion.completion_tokens);
                    let detail = format!(
                        "{} prompt + {} completion tokens",
                        completion.prompt_tokens, completion.completion_tokens
                    );
                    let action = Action {
                        action: "llm".into(),
                        idempotency_key: None,
                        outcome: "ok",
                        detail: Some(detail),
                    };
                    (
                        vec![action],
                        Transition::Goto {
                            step: "reply",
                            data,
                            deadline: super::Deadline::Keep,
                        },
                    )
                }
                Err(LlmError::Transient(error)) => (Vec::new(), Transition::Retry { error }),
                Err(LlmError::Rejected(error)) => (
                    Vec::new(),
                    Transition::Finish {
                        status: "cancelled",
                        data: json!({ "error": error }),
                    },
                ),
            }
        }
        "reply" => {
            let key = format!("saga:{}:reply", saga.saga_id);
            let body = match (data.get("prompt_tokens"), data.get("completion_tokens")) {
                (Some(prompt), Some(completion)) => json!({
                    "text": data["reply"],
                    "usage": { "prompt_tokens": prompt, "completion_tokens": completion },
                }),
                _ => json!({ "text": data["reply"] }),
            };
            let path = format!("/v1/conversations/{conversation}/replies");
            let (outcome, transition) = match context
                .commands
                .post(&saga.tenant_id, &path, &body, &key)
                .await
            {
                Sent::Accepted(_) => (
                    "ok",
                    Transition::Finish {
                        status: "completed",
                        data,
                    },
                ),
                // Closed meanwhile: nothing to reply to.
                Sent::Rejected { .. } => (
                    "rejected",
                    Transition::Finish {
                        status: "cancelled",
                        data,
                    },
                ),
                Sent::Transient(error) => ("transient", Transition::Retry { error }),
            };
            (
                vec![Action {
                    action: "SendReply".into(),
                    idempotency_key: Some(key),
                    outcome,
                    detail: None,
                }],
                transition,
            )
        }
        other => (
            Vec::new(),
            Transition::Retry {
                error: format!("unknown step {other}"),
            },
        ),
    }
}

/// The agent's model and system prompt plus the conversation's last messages, oldest first;
/// `None` while the read models do not know the conversation.
async fn recent_messages(
    context: &Context,
    conversation: Uuid,
) -> Result<Option<(String, Vec<ChatMessage>)>, anyhow::Error> {
    use projectors::{Generation, ProjectionName};
    // Created on first use; then looked up inside the transaction, which keeps a rebuild's swap
    // from dropping them under the queries.
    Generation::live(&context.pool, ProjectionName::Conversations).await?;
    Generation::live(&context.pool, ProjectionName::Agents).await?;
    let mut tx = context.pool.begin().await?;
    let agents = Generation::enter_live(&mut tx, ProjectionName::Agents).await?;
    Generation::enter_live(&mut tx, ProjectionName::Conversations).await?;
    let Some(agent): Option<Uuid> =
        sqlx::query_scalar("SELECT agent_id FROM conversations WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Ok(None);
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT direction, text FROM (SELECT * FROM messages WHERE conversation_id = $1
         ORDER BY message_number DESC LIMIT $2) recent ORDER BY message_number",
    )
    .bind(conversation)
    .bind(CONTEXT_MESSAGES)
    .fetch_all(&mut *tx)
    .await?;
    agents.enter(&mut tx).await?;
    let agent: Option<(String, String)> =
        sqlx::query_as("SELECT model, system_prompt FROM agents WHERE agent_id = $1")
            .bind(agent)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let Some((model, system_prompt)) = agent else {
        return Ok(None);
    };
    let mut messages = vec![ChatMessage {
        role: "system".into(),
        content: system_prompt,
    }];
    messages.extend(rows.into_iter().map(|(direction, text)| ChatMessage {
        role: if direction == "received" {
            "user".into()
        } else {
            "assistant".into()
        },
        content: text,
    }));
    Ok(Some((model, messages)))
}
