//! Sending commands to the command API, as the tenant the saga works for, with an
//! idempotency key derived from the saga and step (a retry never doubles a command).

use std::time::Duration;

use platform::Authenticator;
use serde_json::Value;

/// How a command went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Accepted(Value),
    /// The domain refused it (4xx): retrying will not help.
    Rejected {
        status: u16,
        problem: String,
    },
    /// Try again later with the same key (timeouts, 5xx, connection failures).
    Transient(String),
}

#[derive(Clone)]
pub struct CommandClient {
    http: reqwest::Client,
    base_url: String,
    auth: std::sync::Arc<Authenticator>,
}

impl CommandClient {
    pub fn new(base_url: &str, auth: std::sync::Arc<Authenticator>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client builds");
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth,
        }
    }

    /// POSTs `body` to `path` for `tenant` with `idempotency_key`.
    pub async fn post(
        &self,
        tenant: &str,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Sent {
        let Some(token) = self.auth.mint("saga-runtime", tenant, &["operator"], 300) else {
            return Sent::Transient("no HS256 secret to sign commands with".into());
        };
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .header("idempotency-key", idempotency_key)
            .json(body);
        // The saga step's span: the command's events continue the workflow's trace.
        if let Some(traceparent) = platform::trace::traceparent(&tracing::Span::current()) {
            request = request.header("traceparent", traceparent);
        }
        let response = request.send().await;
        match response {
            Err(error) => Sent::Transient(error.to_string()),
            Ok(response) if response.status().is_success() => {
                Sent::Accepted(response.json().await.unwrap_or(Value::Null))
            }
            Ok(response)
                if response.status().is_server_error() || response.status().as_u16() == 429 =>
            {
                Sent::Transient(format!("command API answered {}", response.status()))
            }
            Ok(response) => {
                let status = response.status().as_u16();
                let problem = response.text().await.unwrap_or_default();
                if status == 409 && is_concurrent_write(&problem) {
                    // Another command on the same aggregate won the race (e.g. two replies to
                    // one conversation): the same command with the same key may well succeed.
                    return Sent::Transient(format!("concurrent write: {problem}"));
                }
                Sent::Rejected { status, problem }
            }
        }
    }
}

/// The command API's problem type for an optimistic-concurrency conflict (not a rule).
fn is_concurrent_write(problem: &str) -> bool {
    serde_json::from_str::<Value>(problem)
        .ok()
        .and_then(|p| p.get("type").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|kind| kind.ends_with("/problems/concurrent-write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_concurrent_write_is_worth_retrying() {
        assert!(is_concurrent_write(
            r#"{"type":"/problems/concurrent-write","title":"Concurrent write","status":409}"#
        ));
        assert!(!is_concurrent_write(
            r#"{"type":"/problems/invalid-state","title":"Not allowed in the current state","status":409}"#
        ));
        assert!(!is_concurrent_write("not json"));
    }
}
