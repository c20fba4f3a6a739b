//! The few REST calls the read-side and saga benchmarks make: create a task, create and deploy
//! an agent, read a task back from the query API with a consistency token.

use std::sync::Arc;

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::mix;

/// A command's answer.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: String,
    pub consistency_token: String,
}

/// What the query API said about a task read with a consistency token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// 200 with `x-consistency: fresh`: the task is visible.
    Visible,
    /// Anything else (the wait ran out, 404 …): not visible yet.
    NotYet,
}

/// One HTTP client (a shared connection pool) with a bearer token.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    bearer: Arc<str>,
}

impl Api {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(256)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            bearer: format!("Bearer {token}").into(),
        })
    }

    async fn command(
        &self,
        url: String,
        body: Value,
        expected: StatusCode,
    ) -> anyhow::Result<Accepted> {
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::AUTHORIZATION, &*self.bearer)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = response.status();
        let bytes = response.bytes().await.context("reading the answer")?;
        if status != expected {
            bail!(
                "POST {url} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let answer: Value = serde_json::from_slice(&bytes).context("the answer is not JSON")?;
        Ok(Accepted {
            id: answer["id"].as_str().context("no id")?.to_owned(),
            consistency_token: answer["consistency_token"]
                .as_str()
                .context("no consistency_token")?
                .to_owned(),
        })
    }

    /// POST /v1/tasks.
    ///
    /// # Errors
    /// When the command-api does not answer 201.
    pub async fn create_task(&self, command_url: &str) -> anyhow::Result<Accepted> {
        self.command(
            format!("{command_url}/v1/tasks"),
            json!({
                "title": mix::TASK_TITLE,
                "description": "Order 1042 arrived damaged; offer a replacement or a refund.",
                "priority": mix::TASK_PRIORITY,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    /// POST /v1/agents, then POST /v1/agents/{id}/deploy.
    ///
    /// # Errors
    /// When either is refused.
    pub async fn deployed_agent(&self, command_url: &str, name: &str) -> anyhow::Result<String> {
        let created = self
            .command(
                format!("{command_url}/v1/agents"),
                json!({
                    "name": name,
                    "industry": mix::AGENT_INDUSTRY,
                    "provider": mix::AGENT_PROVIDER,
                    "model": mix::AGENT_MODEL,
                    "temperature": mix::AGENT_TEMPERATURE,
                    "max_tokens": mix::AGENT_MAX_TOKENS,
                }),
                StatusCode::CREATED,
            )
            .await?;
        self.command(
            format!("{command_url}/v1/agents/{}/deploy", created.id),
            json!({}),
            StatusCode::OK,
        )
        .await?;
        Ok(created.id)
    }

    /// GET /v1/tasks/{id} with `X-Consistency-Token` (the query API waits, bounded, until the
    /// tasks projection has applied the token's version).
    ///
    /// # Errors
    /// When the request cannot be sent or the answer read.
    pub async fn read_task(&self, query_url: &str, accepted: &Accepted) -> anyhow::Result<Read> {
        let url = format!("{query_url}/v1/tasks/{}", accepted.id);
        let response = self
            .http
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, &*self.bearer)
            .header("X-Consistency-Token", &accepted.consistency_token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let fresh = response
            .headers()
            .get("x-consistency")
            .is_some_and(|value| value.as_bytes() == b"fresh");
        let body = response.bytes().await.context("reading the task")?;
        if status != StatusCode::OK || !fresh {
            return Ok(Read::NotYet);
        }
        let task: Value = serde_json::from_slice(&body).context("the task is not JSON")?;
        anyhow::ensure!(
            task["id"].as_str() == Some(accepted.id.as_str()),
            "GET {url} answered another task: {task}"
        );
        Ok(Read::Visible)
    }
}
