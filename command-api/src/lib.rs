//! The command side's HTTP API: REST commands become aggregate commands, their events are
//! stored with outbox rows in one transaction, and the outbox relay (in this process, one
//! active instance across processes) publishes them to Kafka.

mod dispatch;
mod error;
mod extract;
mod openapi;
mod routes;
mod settings;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use messaging::{BrokerProbe, KafkaSettings, OutboxRelay, RelaySettings};
use platform::Authenticator;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use settings::Settings;
pub use state::AppState;

/// A built, bound, not yet running command-api.
pub struct App {
    listener: TcpListener,
    state: AppState,
    settings: Settings,
}

impl App {
    /// Connects, migrates and binds; nothing is served until [`App::run`].
    ///
    /// # Errors
    /// When the database cannot be prepared, the JWT key is missing, or the port is taken.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let authenticator = Arc::new(Authenticator::configure(
            settings.jwt_secret.clone(),
            settings.jwt_public_key_file.as_deref(),
        )?);
        store::create_database_if_missing(&settings.database_url)
            .await
            .context("creating the database")?;
        let pool = store::connect(&settings.database_url, settings.database_max_connections)
            .await
            .context("connecting to PostgreSQL")?;
        store::migrate(&pool)
            .await
            .context("migrating the event store")?;
        let probe = BrokerProbe::new(&settings.kafka_brokers)?;
        let state = AppState::new(pool, authenticator, probe);
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        Ok(Self {
            listener,
            state,
            settings,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown`, then drains in-flight requests (bounded) and stops the relay.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        if self.settings.relay_enabled {
            let relay = OutboxRelay::new(self.state.pool.clone(), relay_settings(&self.settings))
                .with_signal(self.state.outbox.clone());
            tasks.spawn(relay.run(shutdown.clone()));
        }
        tasks.spawn(
            self.state
                .outbox
                .clone()
                .forward(self.state.pool.clone(), shutdown.clone()),
        );
        let grace = Duration::from_secs(self.settings.shutdown_grace_seconds);
        let request_timeout = Duration::from_secs(self.settings.request_timeout_seconds);
        let router = routes::router(self.state.clone(), request_timeout);
        let serve_shutdown = shutdown.clone();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { serve_shutdown.cancelled().await })
            .await
            .context("serving HTTP")?;
        shutdown.cancel();
        if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop in time; aborting them");
            tasks.abort_all();
        }
        // Connections kept between commands are out of the pool, which waits for them.
        self.state.connections.close();
        self.state.pool.close().await;
        Ok(())
    }
}

fn relay_settings(settings: &Settings) -> RelaySettings {
    RelaySettings {
        kafka: KafkaSettings {
            brokers: settings.kafka_brokers.clone(),
            topic_prefix: settings.topic_prefix.clone(),
            partitions: settings.topic_partitions,
            replication: settings.topic_replication,
            message_timeout: Duration::from_millis(settings.relay_message_timeout_ms),
        },
        schema_registry_url: settings.schema_registry_url.clone(),
        batch_size: settings.relay_batch_size,
        // Only a fallback: commits wake the relay (messaging/src/relay/signal.rs).
        poll_interval: Duration::from_millis(250),
    }
}
