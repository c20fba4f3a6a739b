//! The read side's HTTP API: REST queries over the projections' live generations.
//!
//! Every request reads one projection inside one read-only snapshot of the generation that
//! `projection_generations` names live, so a rebuild's swap is never seen half-way. A query
//! carrying a command's consistency token first waits (bounded) until that projection has
//! applied the token's aggregate version, and says whether its answer is fresh or stale.

mod admin;
mod error;
mod extract;
mod openapi;
mod page;
mod read;
mod routes;
mod settings;
mod state;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use platform::Authenticator;
use projectors::ProjectionName;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use settings::Settings;
pub use state::AppState;

/// A built, bound, not yet running query-api.
pub struct App {
    listener: TcpListener,
    state: AppState,
    settings: Settings,
}

impl App {
    /// Connects, applies the projectors' bookkeeping migrations (so the API can start
    /// before any projector) and binds; nothing is served until [`App::run`].
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
        // Lookups on long-lived connections into tables that grow from empty: see `Planning`.
        let pool = store::connect_planning(
            &settings.database_url,
            settings.database_max_connections,
            store::Planning::PerRun,
        )
        .await
        .context("connecting to PostgreSQL")?;
        projectors::generations::migrate(&pool)
            .await
            .context("migrating the projectors' bookkeeping tables")?;
        let state = AppState::new(pool, authenticator, &settings);
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

    /// Serves until `shutdown`, then cuts consistency waits short, drains in-flight
    /// requests (bounded) and stops the progress listener and the checkers of waiting reads.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let grace = self.settings.shutdown_grace();
        let mut tasks = JoinSet::new();
        tasks.spawn(read::progress::listen(
            self.state.pool.clone(),
            self.state.watches.clone(),
            shutdown.clone(),
        ));
        for projection in ProjectionName::ALL {
            tasks.spawn(read::watch::check(
                self.state.connections.clone(),
                self.state.watches.clone(),
                projection,
                self.state.consistency_poll,
                shutdown.clone(),
            ));
        }
        let stopping = self.state.stopping.clone();
        let signal = shutdown.clone();
        tasks.spawn(async move {
            signal.cancelled().await;
            stopping.cancel();
        });
        // A request may wait for consistency, then read: give it both budgets.
        let request_timeout = self.settings.consistency_wait() + grace;
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
        // Kept connections first: `PgPool::close` waits for every connection out of the pool.
        self.state.connections.close();
        self.state.pool.close().await;
        Ok(())
    }
}
