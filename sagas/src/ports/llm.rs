//! The LLM port: chat completions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// Worth retrying: timeouts, 429, 5xx, connection failures.
    #[error("LLM temporarily unavailable: {0}")]
    Transient(String),
    /// Retrying will not help: bad request, refused content.
    #[error("LLM refused: {0}")]
    Rejected(String),
}

/// Failure and latency injection for the local provider.
#[derive(Debug, Clone, Default)]
pub struct LocalBehaviour {
    /// Every Nth call fails transiently (0: never).
    pub fail_every: u64,
    /// Every call fails transiently.
    pub always_fail: bool,
    pub latency: Duration,
}

/// Which LLM the sagas talk to.
#[derive(Clone)]
pub enum Llm {
    /// Deterministic replies built from the prompt; no network.
    Local {
        behaviour: LocalBehaviour,
        calls: Arc<AtomicU64>,
    },
    /// Any OpenAI-compatible `/v1/chat/completions` endpoint.
    OpenAiCompatible {
        client: reqwest::Client,
        base_url: String,
        api_key: String,
        model: String,
    },
}

impl Llm {
    pub fn local(behaviour: LocalBehaviour) -> Self {
        Self::Local {
            behaviour,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// # Errors
    /// Transient or rejected failures of the provider.
    pub async fn complete(
        &self,
        model: &str,
        messages: &[ChatMessage],
    ) -> Result<Completion, LlmError> {
        match self {
            Self::Local { behaviour, calls } => {
                let call = calls.fetch_add(1, Ordering::Relaxed) + 1;
                tokio::time::sleep(behaviour.latency).await;
                if behaviour.always_fail
                    || (behaviour.fail_every > 0 && call % behaviour.fail_every == 0)
                {
                    return Err(LlmError::Transient(format!(
                        "injected failure on call {call}"
                    )));
                }
                Ok(local_reply(model, messages))
            }
            Self::OpenAiCompatible {
                client,
                base_url,
                api_key,
                model: default_model,
            } => {
                let model = if model.is_empty() {
                    default_model.as_str()
                } else {
                    model
                };
                openai(client, base_url, api_key, model, messages).await
            }
        }
    }
}

fn local_reply(model: &str, messages: &[ChatMessage]) -> Completion {
    let last = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map_or("", |m| m.content.as_str());
    let words = |text: &str| text.split_whitespace().count() as u32;
    let text = format!(
        "[{model}] Done: {}",
        last.chars().take(200).collect::<String>()
    );
    Completion {
        prompt_tokens: messages.iter().map(|m| words(&m.content)).sum(),
        completion_tokens: words(&text),
        text,
    }
}

async fn openai(
    client: &reqwest::Client,
    base_url: &str,
    api_key: &str,
    model: &str,
    messages: &[ChatMessage],
) -> Result<Completion, LlmError> {
    let response = client
        .post(format!(
            "{}/v1/chat/completions",
            base_url.trim_end_matches('/')
        ))
        .bearer_auth(api_key)
        .json(&json!({ "model": model, "messages": messages }))
        .send()
        .await
        .map_err(|e| LlmError::Transient(e.to_string()))?;
    let status = response.status();
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(LlmError::Transient(format!("provider answered {status}")));
    }
    if !status.is_success() {
        return Err(LlmError::Rejected(format!("provider answered {status}")));
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| LlmError::Transient(e.to_string()))?;
    let text = body["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| LlmError::Rejected("no choices[0].message.content".into()))?
        .to_owned();
    let tokens = |name: &str| body["usage"][name].as_u64().unwrap_or(0) as u32;
    Ok(Completion {
        text,
        prompt_tokens: tokens("prompt_tokens"),
        completion_tokens: tokens("completion_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(text: &str) -> Vec<ChatMessage> {
        vec![ChatMessage {
            role: "user".into(),
            content: text.into(),
        }]
    }

    #[tokio::test]
    async fn the_local_provider_is_deterministic_and_fails_when_told() {
        let llm = Llm::local(LocalBehaviour {
            fail_every: 2,
            ..Default::default()
        });
        let first = llm
            .complete("gpt-4o", &ask("summarise the ticket"))
            .await
            .unwrap();
        assert_eq!(first, local_reply("gpt-4o", &ask("summarise the ticket")));
        assert!(matches!(
            llm.complete("gpt-4o", &ask("x")).await,
            Err(LlmError::Transient(_))
        ));
        assert!(llm.complete("gpt-4o", &ask("x")).await.is_ok());
    }
}
