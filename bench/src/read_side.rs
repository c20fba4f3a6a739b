//! The read side in this process, next to a [`Platform`]: the projectors service (the chosen
//! projections) and, optionally, the query API, on the platform's database and topics.

use std::time::Duration;

use anyhow::Context;
use projectors::ProjectionName;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;

/// How long the services get to stop before the bench goes on without them.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ReadSide {
    /// The query API's base URL, when it runs.
    pub query_url: Option<String>,
    shutdown: CancellationToken,
    services: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

/// Projector settings on the platform's database, registry and topics.
pub fn projector_settings(platform: &Platform) -> projectors::settings::Settings {
    let mut settings = projectors::settings::Settings::for_database(&platform.url);
    settings.kafka_brokers = platform.settings.kafka_brokers.clone();
    settings.schema_registry_url = platform.registry_url().to_owned();
    settings.topic_prefix = platform.settings.topic_prefix.clone();
    settings
}

impl ReadSide {
    /// Starts the projectors (and the query API when `query_api`).
    ///
    /// # Errors
    /// When a service cannot be built.
    pub async fn start(
        platform: &Platform,
        projections: Vec<ProjectionName>,
        query_api: bool,
    ) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let mut services = Vec::new();
        let projectors =
            projectors::service::Service::build(&projector_settings(platform), projections)
                .await
                .context("building the projectors service")?;
        services.push(("projectors", tokio::spawn(projectors.run(shutdown.clone()))));
        let mut query_url = None;
        if query_api {
            let settings = query_api::Settings::for_database(&platform.url, &platform.secret);
            let app = query_api::App::build(settings)
                .await
                .context("building the query API")?;
            query_url = Some(format!("http://{}", app.address()));
            services.push(("query-api", tokio::spawn(app.run(shutdown.clone()))));
        }
        Ok(Self {
            query_url,
            shutdown,
            services,
        })
    }

    /// Stops every service.
    ///
    /// # Errors
    /// When one failed or did not stop in time.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let mut outcome = Ok(());
        for (name, service) in self.services {
            let stopped = match tokio::time::timeout(STOP_TIMEOUT, service).await {
                Err(_) => Err(anyhow::anyhow!("{name} did not stop in time")),
                Ok(Err(panicked)) => Err(anyhow::anyhow!("{name} panicked: {panicked}")),
                Ok(Ok(result)) => result.with_context(|| format!("{name} failed")),
            };
            if outcome.is_ok() {
                outcome = stopped;
            }
        }
        outcome
    }
}
