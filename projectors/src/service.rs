//! The projectors service: every selected projection as a supervised task, plus health,
//! readiness and metrics over HTTP.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;
use schemas::RegistryCodec;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::runtime::{run_live, Runtime, Stopped};
use crate::settings::Settings;
use crate::{Generation, ProjectionName};

/// Connects to PostgreSQL (migrating the bookkeeping tables), the registry and the broker.
///
/// # Errors
/// When PostgreSQL cannot be prepared or the clients cannot be configured.
pub async fn runtime(settings: &Settings) -> anyhow::Result<Runtime> {
    store::create_database_if_missing(&settings.database_url)
        .await
        .context("creating the database")?;
    let pool = store::connect(&settings.database_url, settings.database_max_connections).await?;
    crate::generations::migrate(&pool)
        .await
        .context("migrating projector tables")?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &settings.kafka_brokers)
        .create()?;
    ensure_dead_letter_topics(settings).await?;
    Ok(Runtime {
        pool,
        codec: Arc::new(RegistryCodec::new(
            &settings.schema_registry_url,
            &settings.topic_prefix,
        )),
        producer,
        brokers: settings.kafka_brokers.clone(),
        topic_prefix: settings.topic_prefix.clone(),
        metrics: Metrics::default(),
    })
}

/// Creates `<prefix>.dlq.<projection>` for every projection (kept forever, like the event topics).
async fn ensure_dead_letter_topics(settings: &Settings) -> anyhow::Result<()> {
    let kafka = messaging::KafkaSettings {
        brokers: settings.kafka_brokers.clone(),
        topic_prefix: settings.topic_prefix.clone(),
        partitions: 1,
        replication: settings.topic_replication,
        message_timeout: Duration::from_secs(10),
    };
    let names: Vec<String> = ProjectionName::ALL
        .iter()
        .map(|p| format!("{}.dlq.{}", settings.topic_prefix, p.as_str()))
        .collect();
    messaging::ensure_named_topics(&kafka, &names)
        .await
        .context("creating dead-letter topics")
}

/// Runs one projection until shutdown: restarts on the new generation after a swap, and
/// after a failure (with a pause).
pub async fn supervise(runtime: Runtime, projection: ProjectionName, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let outcome = match Generation::live(&runtime.pool, projection).await {
            Ok(generation) => run_live(&runtime, generation, &shutdown).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(Stopped::Shutdown) => return,
            Ok(Stopped::Swapped) => tracing::info!(%projection, "generation swapped; following it"),
            Err(error) => {
                tracing::error!(%projection, %error, "projection failed; restarting");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }
}

/// A bound projectors service.
pub struct Service {
    listener: TcpListener,
    runtime: Runtime,
    projections: Vec<ProjectionName>,
}

impl Service {
    /// # Errors
    /// When the runtime cannot be prepared or the port is taken.
    pub async fn build(
        settings: &Settings,
        projections: Vec<ProjectionName>,
    ) -> anyhow::Result<Self> {
        let runtime = runtime(settings).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        Ok(Self {
            listener,
            runtime,
            projections,
        })
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    /// # Errors
    /// When serving HTTP fails.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        for projection in &self.projections {
            tasks.spawn(supervise(
                self.runtime.clone(),
                *projection,
                shutdown.clone(),
            ));
        }
        let router = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/ready", get(ready))
            .route("/metrics", get(metrics))
            .route_layer(axum::middleware::from_fn_with_state(
                "projectors",
                platform::http::observe,
            ))
            .with_state(self.runtime.clone());
        let stop = shutdown.clone();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await?;
        if tokio::time::timeout(Duration::from_secs(15), async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tasks.abort_all();
        }
        Ok(())
    }
}

async fn ready(State(runtime): State<Runtime>) -> StatusCode {
    match sqlx::query("SELECT 1").execute(&runtime.pool).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn metrics(State(runtime): State<Runtime>) -> (StatusCode, String) {
    let lag = crate::lag::lag(&runtime.pool, &runtime.brokers, &runtime.topic_prefix)
        .await
        .unwrap_or_default();
    let lag: Vec<_> = lag
        .iter()
        .map(|l| {
            (
                l.projection.as_str().to_owned(),
                l.topic.clone(),
                l.partition,
                l.lag(),
            )
        })
        .collect();
    let dead_letters = crate::dlq::pending_counts(&runtime.pool)
        .await
        .unwrap_or_default();
    let mut out = runtime.metrics.render(&lag, &dead_letters);
    out.push_str(&platform::prometheus::render());
    (StatusCode::OK, out)
}
