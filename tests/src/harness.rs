//! A whole write side for one test: database, schema registry, command-api with its relay.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use command_api::{App, Settings};
use schema_registry::{RegistryServer, RunningRegistry};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{database_server, shared_brokers, JWT_SECRET};

/// Creates and migrates a database of the test's own; returns its URL and a pool.
pub async fn fresh_database(label: &str) -> (String, PgPool) {
    let url = format!(
        "{}/{label}_{}",
        database_server(),
        uuid::Uuid::new_v4().simple()
    );
    store::create_database_if_missing(&url)
        .await
        .expect("create database");
    let pool = store::connect(&url, 5).await.expect("connect");
    store::migrate(&pool).await.expect("migrate");
    (url, pool)
}

pub struct PlatformOptions {
    pub brokers: String,
    pub relay_enabled: bool,
    pub relay_message_timeout: Duration,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        Self {
            brokers: shared_brokers(),
            relay_enabled: true,
            relay_message_timeout: Duration::from_secs(10),
        }
    }
}

pub struct Platform {
    pub database_url: String,
    pub pool: PgPool,
    pub registry: RunningRegistry,
    pub topic_prefix: String,
    pub brokers: String,
    pub base_url: String,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    app: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Platform {
    /// Starts a command-api (with its relay) in this process.
    pub async fn start(label: &str, options: PlatformOptions) -> Self {
        ::platform::telemetry::init_for_tests();
        let (database_url, pool) = fresh_database(label).await;
        let registry_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind registry");
        let registry = RegistryServer::build(pool.clone(), registry_listener)
            .await
            .expect("registry")
            .spawn();
        let topic_prefix = format!("__{label}_{}", uuid::Uuid::new_v4().simple());
        let mut platform = Self {
            database_url,
            pool,
            registry,
            topic_prefix,
            brokers: options.brokers.clone(),
            base_url: String::new(),
            client: reqwest::Client::new(),
            shutdown: CancellationToken::new(),
            app: None,
        };
        let mut settings = platform.settings();
        settings.relay_enabled = options.relay_enabled;
        settings.relay_message_timeout_ms = options.relay_message_timeout.as_millis() as u64;
        let app = App::build(settings).await.expect("command-api builds");
        platform.base_url = format!("http://{}", app.address());
        platform.app = Some(tokio::spawn(app.run(platform.shutdown.clone())));
        platform
    }

    /// Settings pointing at this platform's database, registry, broker and topics.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::for_database(&self.database_url, JWT_SECRET);
        settings.kafka_brokers = self.brokers.clone();
        settings.schema_registry_url = self.registry.url().to_owned();
        settings.topic_prefix = self.topic_prefix.clone();
        settings.topic_partitions = 3;
        settings.shutdown_grace_seconds = 5;
        // Tests run side by side against one server (max_connections 100): small pools.
        settings.database_max_connections = 5;
        settings
    }

    /// The environment a command-api process needs to join this platform.
    pub fn environment(&self, listen: &str) -> Vec<(String, String)> {
        let s = self.settings();
        [
            ("COMMAND_API_LISTEN", listen.to_owned()),
            ("DATABASE_URL", s.database_url),
            ("KAFKA_BROKERS", s.kafka_brokers),
            ("SCHEMA_REGISTRY_URL", s.schema_registry_url),
            ("TOPIC_PREFIX", s.topic_prefix),
            ("JWT_SECRET", JWT_SECRET.to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A token for `tenant` with `roles`.
    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        let auth = ::platform::Authenticator::hs256(JWT_SECRET.to_owned().into());
        auth.mint("tester", tenant, roles, 3_600)
            .expect("hs256 mints")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs JSON as an admin of `tenant`; returns status and body.
    pub async fn post(
        &self,
        tenant: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(self.token(tenant, &["admin"]))
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Outbox rows not published yet.
    pub async fn outbox_backlog(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Waits until the relay has published everything committed so far.
    pub async fn wait_for_empty_outbox(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let backlog = self.outbox_backlog().await;
            if backlog == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "outbox still holds {backlog} rows after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every stored event as (aggregate id, sequence, event type), in store order.
    pub async fn stored_events(&self) -> Vec<(String, i64, String)> {
        sqlx::query_as(
            "SELECT aggregate_id, sequence, event_type FROM events ORDER BY aggregate_id, sequence",
        )
        .fetch_all(&self.pool)
        .await
        .expect("events")
    }

    /// Stops the in-process command-api gracefully.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(app) = self.app.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), app).await;
        }
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A child process killed (SIGKILL) when the guard drops, so a failing test leaves no
/// service running behind it.
pub struct KillOnDrop(pub std::process::Child);

impl KillOnDrop {
    /// Kills the process now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The command-api binary, built on demand so a test can run and SIGKILL a real process.
pub fn command_api_binary() -> PathBuf {
    workspace_binary("command-api")
}

/// A binary of this workspace (package and binary share the name), built when missing.
///
/// Only when missing: `scripts/test` builds the binaries first, and a build from inside a test
/// run (`cargo build --workspace --bins`, whose features differ from the test build's) relinks
/// them and took 40 s, which a test's own deadlines do not allow for. So after changing a
/// service, run `cargo build --workspace --bins` before running a test on its own.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile dir");
    let binary = profile_dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "-p", name, "--bin", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building {name} failed");
    }
    binary
}

/// Settings for a projectors service joining `platform`.
pub fn projector_settings(platform: &Platform) -> projectors::settings::Settings {
    let mut settings = projectors::settings::Settings::for_database(&platform.database_url);
    settings.database_max_connections = 5;
    settings.kafka_brokers = platform.brokers.clone();
    settings.schema_registry_url = platform.registry.url().to_owned();
    settings.topic_prefix = platform.topic_prefix.clone();
    settings
}
