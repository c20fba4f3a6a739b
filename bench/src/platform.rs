//! The platform under test, in this process: the schema registry and the command-api (with
//! its outbox relay) on a fresh database, publishing under the run's topic prefix.

use std::time::Duration;

use anyhow::Context;
use command_api::{App, Settings};
use messaging::KafkaSettings;
use schema_registry::{RegistryServer, RunningRegistry};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::isolation::{self, Names};

/// The token's subject and tenant.
pub const SUBJECT: &str = "bench";
pub const TENANT: &str = "bench-tenant";

/// How long the app gets to stop before the bench goes on without it.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Platform {
    /// The bench's own small pool on the app's database (for counting events).
    pub pool: PgPool,
    /// The app's database; the read side and the sagas share it.
    pub url: String,
    pub base_url: String,
    pub token: String,
    /// The HS256 secret the app verifies tokens with (the query API and sagas use it too).
    pub secret: String,
    pub settings: Settings,
    registry: RunningRegistry,
    shutdown: CancellationToken,
    app: JoinHandle<anyhow::Result<()>>,
}

impl Platform {
    /// Creates and migrates the database, starts the registry and the command-api.
    ///
    /// # Errors
    /// When any of them cannot start.
    pub async fn start(server: &str, brokers: &str, names: &Names) -> anyhow::Result<Self> {
        let url = isolation::database_url(server, &names.database);
        let pool = isolation::empty_database(&url, 3).await?;
        store::migrate(&pool)
            .await
            .context("migrating the event store")?;
        let registry = start_registry(&url).await?;

        let secret = Uuid::new_v4().simple().to_string();
        let mut settings = Settings::for_database(&url, &secret);
        settings.kafka_brokers = brokers.to_owned();
        settings.schema_registry_url = registry.url().to_owned();
        settings.topic_prefix = names.topic_prefix.clone();
        let app = App::build(settings.clone())
            .await
            .context("building the command-api")?;
        let base_url = format!("http://{}", app.address());
        let token = app
            .state()
            .authenticator()
            .mint(SUBJECT, TENANT, &["admin"], 3600)
            .context("minting a token")?;
        let shutdown = CancellationToken::new();
        let app = tokio::spawn(app.run(shutdown.clone()));
        Ok(Self {
            pool,
            url,
            base_url,
            token,
            secret,
            settings,
            registry,
            shutdown,
            app,
        })
    }

    /// The topics as the relay creates them (so the probe can subscribe before the first event).
    pub fn kafka_settings(&self) -> KafkaSettings {
        KafkaSettings {
            brokers: self.settings.kafka_brokers.clone(),
            topic_prefix: self.settings.topic_prefix.clone(),
            partitions: self.settings.topic_partitions,
            replication: self.settings.topic_replication,
            message_timeout: Duration::from_millis(self.settings.relay_message_timeout_ms),
        }
    }

    pub fn registry_url(&self) -> &str {
        self.registry.url()
    }

    /// Stops the app (cancelling its token), then the registry.
    ///
    /// # Errors
    /// When the app failed or did not stop in time.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(STOP_TIMEOUT, self.app).await;
        self.pool.close().await;
        let registry = self
            .registry
            .stop()
            .await
            .context("stopping the schema registry");
        stopped
            .context("the command-api did not stop in time")?
            .context("the command-api task panicked")?
            .context("the command-api failed")?;
        registry
    }
}

/// The schema registry in process, on its own pool on `url`'s database, on a free port.
///
/// # Errors
/// When it cannot connect, migrate or bind.
pub async fn start_registry(url: &str) -> anyhow::Result<RunningRegistry> {
    let registry_pool = store::connect(url, 4)
        .await
        .context("the registry's pool")?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the registry")?;
    Ok(RegistryServer::build(registry_pool, listener)
        .await
        .context("starting the schema registry")?
        .spawn())
}
