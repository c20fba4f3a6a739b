//! The mix over HTTP against the command-api, as a real client sends it.

use std::sync::Arc;

use anyhow::{bail, Context};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::mix::{self, Executor, Step};

/// One HTTP client (its own connection pool) with a bearer token.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base_url: Arc<str>,
    bearer: Arc<str>,
}

impl RestClient {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base_url: &str, token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base_url: base_url.into(),
            bearer: format!("Bearer {token}").into(),
        })
    }
}

/// Method, path, body and the status a success answers with.
fn request(step: &Step) -> (Method, String, Value, StatusCode) {
    match step {
        Step::CreateTask => (
            Method::POST,
            "/v1/tasks".to_owned(),
            json!({"title": mix::TASK_TITLE, "priority": mix::TASK_PRIORITY}),
            StatusCode::CREATED,
        ),
        Step::CancelTask(id) => (
            Method::POST,
            format!("/v1/tasks/{id}/cancel"),
            json!({"reason": mix::CANCEL_REASON}),
            StatusCode::OK,
        ),
        Step::CreateAgent => (
            Method::POST,
            "/v1/agents".to_owned(),
            json!({
                "name": mix::AGENT_NAME,
                "industry": mix::AGENT_INDUSTRY,
                "provider": mix::AGENT_PROVIDER,
                "model": mix::AGENT_MODEL,
                "temperature": mix::AGENT_TEMPERATURE,
                "max_tokens": mix::AGENT_MAX_TOKENS,
            }),
            StatusCode::CREATED,
        ),
        Step::UpdateAgent(id) => (
            Method::PATCH,
            format!("/v1/agents/{id}"),
            json!({"temperature": mix::UPDATED_TEMPERATURE}),
            StatusCode::OK,
        ),
    }
}

impl Executor for RestClient {
    async fn execute(&self, step: &Step) -> anyhow::Result<Option<String>> {
        let (method, path, body, expected) = request(step);
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url))
            .header(reqwest::header::AUTHORIZATION, &*self.bearer)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {path}: reading"))?;
        if status != expected {
            bail!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        if expected != StatusCode::CREATED {
            return Ok(None);
        }
        let answer: Value = serde_json::from_slice(&bytes).context("the answer is not JSON")?;
        let id = answer["id"].as_str().context("the answer has no id")?;
        Ok(Some(id.to_owned()))
    }
}
