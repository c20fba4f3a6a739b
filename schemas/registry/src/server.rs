//! Starting the registry: migrations, the router and the HTTP server.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::RegistryError;
use crate::registry::Registry;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Session advisory lock key serializing concurrent `migrate` calls ("SCHEMMIG").
const MIGRATE_LOCK_KEY: i64 = 0x5343_4845_4D4D_4947;

const LOCK: &str = "SELECT pg_advisory_lock($1)";
const UNLOCK: &str = "SELECT pg_advisory_unlock($1)";
const SCHEMA_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'schema_registry')";
const CREATE_SCHEMA: &str = "CREATE SCHEMA schema_registry";
const USE_SCHEMA: &str = "SET search_path TO schema_registry";

/// Applies the registry's embedded migrations (idempotent; safe to call from several
/// processes at once). The migration history is kept in `schema_registry._sqlx_migrations`,
/// apart from the migrations of other components sharing the database.
///
/// # Errors
/// Database failures, or a migration history that does not match this build.
pub async fn migrate(pool: &PgPool) -> Result<(), RegistryError> {
    let mut conn = pool.acquire().await?;
    sqlx::query(LOCK)
        .bind(MIGRATE_LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    let result = migrate_locked(&mut conn).await;
    let unlocked = sqlx::query(UNLOCK)
        .bind(MIGRATE_LOCK_KEY)
        .execute(&mut *conn)
        .await;
    // The session's search_path was changed: never hand this connection back to the pool.
    conn.close_on_drop();
    result?;
    unlocked?;
    Ok(())
}

async fn migrate_locked(conn: &mut PgConnection) -> Result<(), RegistryError> {
    // Checked first rather than `IF NOT EXISTS`, which logs a notice on every start.
    let exists: bool = sqlx::query_scalar(SCHEMA_EXISTS)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        sqlx::query(CREATE_SCHEMA).execute(&mut *conn).await?;
    }
    sqlx::query(USE_SCHEMA).execute(&mut *conn).await?;
    MIGRATOR.run(&mut *conn).await?;
    Ok(())
}

/// The registry's HTTP routes over `pool` (already migrated), ready to serve or nest.
pub fn router(pool: PgPool) -> Router {
    crate::routes::router(Registry::new(pool))
}

/// A registry bound to a listener, not yet serving.
pub struct RegistryServer {
    listener: TcpListener,
    app: Router,
    addr: SocketAddr,
}

impl RegistryServer {
    /// Migrates the database and prepares to serve on `listener` (bind `127.0.0.1:0` in tests).
    ///
    /// # Errors
    /// Migration or database failures; a listener without a local address.
    pub async fn build(pool: PgPool, listener: TcpListener) -> Result<Self, RegistryError> {
        migrate(&pool).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            app: router(pool),
            addr,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:8081`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    ///
    /// # Errors
    /// I/O failures of the listener.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), RegistryError> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }

    /// Serves on a background task until [`RunningRegistry::stop`] or until the handle is
    /// dropped.
    pub fn spawn(self) -> RunningRegistry {
        let (stop, stopped) = oneshot::channel::<()>();
        let addr = self.addr;
        let task = tokio::spawn(self.run_until(async move {
            // A send or a dropped sender both mean stop.
            let _ = stopped.await;
        }));
        RunningRegistry {
            addr,
            url: format!("http://{addr}"),
            stop: Some(stop),
            task,
        }
    }
}

/// A registry serving on a background task.
pub struct RunningRegistry {
    addr: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RegistryError>>,
}

impl RunningRegistry {
    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting, drains in-flight requests and waits for the server task.
    ///
    /// # Errors
    /// The server's own failure, or its task panicking.
    pub async fn stop(mut self) -> Result<(), RegistryError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .map_err(|err| RegistryError::Io(std::io::Error::other(err)))?
    }
}
