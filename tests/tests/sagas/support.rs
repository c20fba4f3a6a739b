//! A whole platform for saga tests: write side, projectors, sagas.

use std::time::{Duration, Instant};

use projectors::ProjectionName;
use sagas::settings::Settings;
use serde_json::json;
use tests::{projector_settings, Platform, PlatformOptions, JWT_SECRET};
use tokio_util::sync::CancellationToken;

pub struct World {
    pub platform: Platform,
    pub stop: CancellationToken,
}

impl World {
    pub async fn start(label: &str) -> Self {
        let platform = Platform::start(label, PlatformOptions::default()).await;
        let projectors = projectors::service::Service::build(
            &projector_settings(&platform),
            ProjectionName::ALL.to_vec(),
        )
        .await
        .unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(projectors.run(stop.clone()));
        Self { platform, stop }
    }

    pub fn saga_settings(&self) -> Settings {
        let mut settings = Settings::for_database(&self.platform.database_url, JWT_SECRET);
        settings.kafka_brokers = self.platform.brokers.clone();
        settings.schema_registry_url = self.platform.registry.url().to_owned();
        settings.topic_prefix = self.platform.topic_prefix.clone();
        settings.command_api_url = self.platform.base_url.clone();
        settings.workers = 3;
        settings.max_attempts = 5;
        settings.max_backoff_ms = 500;
        settings
    }

    /// Runs a sagas service in this process until the world stops.
    pub async fn run_sagas(&self, settings: Settings) -> CancellationToken {
        let service = sagas::service::Service::build(&settings).await.unwrap();
        let stop = self.stop.child_token();
        tokio::spawn(service.run(stop.clone()));
        stop
    }

    /// A deployed agent of tenant acme, visible in the agents read model.
    pub async fn deployed_agent(&self) -> String {
        let (_, agent) = self
            .platform
            .post("acme", "/v1/agents", json!({ "name": "Ada", "industry": "general", "provider": "openai", "model": "gpt-4o" }))
            .await;
        let id = agent["id"].as_str().unwrap().to_owned();
        assert_eq!(
            self.platform
                .post("acme", &format!("/v1/agents/{id}/deploy"), json!({}))
                .await
                .0,
            200
        );
        // Sagas pick agents from the agents read model: wait until it knows this one.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let generation =
                projectors::Generation::live(&self.platform.pool, ProjectionName::Agents)
                    .await
                    .unwrap();
            let status: Option<String> = sqlx::query_scalar(&format!(
                "SELECT status FROM {}.agents WHERE agent_id = $1::uuid",
                generation.schema()
            ))
            .bind(&id)
            .fetch_optional(&self.platform.pool)
            .await
            .unwrap();
            if status.as_deref() == Some("deployed") {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "agent {id} not deployed in the read model"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn create_task(&self, title: &str) -> String {
        let (status, task) = self
            .platform
            .post("acme", "/v1/tasks", json!({ "title": title }))
            .await;
        assert_eq!(status, 201);
        task["id"].as_str().unwrap().to_owned()
    }

    /// The event types stored for an aggregate, in order.
    pub async fn events_of(&self, id: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(&self.platform.pool)
        .await
        .unwrap()
    }

    /// The trace id each event of aggregate `id` carries in its metadata, in order.
    pub async fn trace_ids_of(&self, id: &str) -> Vec<String> {
        let traceparents: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT metadata::jsonb ->> 'traceparent' FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(&self.platform.pool)
        .await
        .unwrap();
        traceparents
            .iter()
            .map(|t| {
                let t = t.as_deref().expect("every event carries a traceparent");
                ::platform::trace::trace_id_of(t)
                    .unwrap_or_else(|| panic!("malformed traceparent {t}"))
                    .to_owned()
            })
            .collect()
    }

    /// Waits for the saga about `correlation` to reach a terminal status; returns it.
    pub async fn saga_outcome(&self, correlation: &str, timeout: Duration) -> (String, String) {
        let deadline = Instant::now() + timeout;
        loop {
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT status, step FROM saga_instances WHERE correlation_id = $1")
                    .bind(correlation)
                    .fetch_optional(&self.platform.pool)
                    .await
                    .unwrap_or(None);
            if let Some((status, step)) = &row {
                if !matches!(status.as_str(), "running" | "compensating") {
                    return (status.clone(), step.clone());
                }
            }
            assert!(
                Instant::now() < deadline,
                "saga {correlation} not finished: {row:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The actions of a saga's step log, in order.
    pub async fn step_log(&self, correlation: &str) -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT s.action, s.outcome FROM saga_steps s JOIN saga_instances i USING (saga_id)
             WHERE i.correlation_id = $1 ORDER BY s.seq",
        )
        .bind(correlation)
        .fetch_all(&self.platform.pool)
        .await
        .unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
