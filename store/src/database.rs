//! Connecting, creating the database, and migrating.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::StoreError;

/// How PostgreSQL plans the prepared statements of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// PostgreSQL's default: after five runs of a statement on a connection, a generic plan
    /// may be cached and reused.
    Cached,
    /// Every run is planned for its parameters and the tables' current sizes
    /// (`plan_cache_mode = force_custom_plan`). For lookups run many times on long-lived
    /// connections against tables that start empty and grow: a cached generic plan is fixed
    /// at the sizes of its fifth run — a sequential scan of a then tiny table, kept while the
    /// table grows, until an ANALYZE invalidates it (never, where autovacuum is off).
    PerRun,
}

impl Planning {
    /// The `plan_cache_mode` setting.
    pub fn plan_cache_mode(self) -> &'static str {
        match self {
            Self::Cached => "auto",
            Self::PerRun => "force_custom_plan",
        }
    }
}

/// Opens a pool to `url`.
///
/// # Errors
/// When the URL is invalid or the server cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    connect_planning(url, max_connections, Planning::Cached).await
}

/// [`connect`], with the connections' statements planned as `planning` says.
///
/// # Errors
/// When the URL is invalid or the server cannot be reached.
pub async fn connect_planning(
    url: &str,
    max_connections: u32,
    planning: Planning,
) -> Result<PgPool, StoreError> {
    let mut options = PgConnectOptions::from_str(url)?
        .log_statements(tracing::log::LevelFilter::Trace)
        .options([("plan_cache_mode", planning.plan_cache_mode())]);
    // TLS to this machine buys nothing and costs CPU on every round trip; a URL that names
    // an sslmode keeps it.
    let loopback = matches!(options.get_host(), "127.0.0.1" | "localhost" | "::1")
        || options.get_host().starts_with('/');
    if loopback && !url.contains("sslmode=") {
        options = options.ssl_mode(PgSslMode::Disable);
    }
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection it hands out: a round trip per acquire, a fifth of the
        // command path's CPU under load. A connection that finished a statement moments ago
        // is alive (HikariCP skips its check the same way); one idle for longer, which is
        // where a server restart or an idle timeout shows up, is still pinged and, when dead,
        // replaced before the caller sees it.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for < RECENTLY_USED {
                    return Ok(true);
                }
                match connection.ping().await {
                    Ok(()) => Ok(true),
                    Err(error) => {
                        tracing::info!(%error, "idle connection failed its ping; replacing it");
                        Ok(false)
                    }
                }
            })
        })
        .connect_with(options)
        .await?)
}

/// How recently a pooled connection must have been used to be handed out without a ping.
const RECENTLY_USED: Duration = Duration::from_secs(1);

/// Creates the database named in `url` when it does not exist yet (connecting to the
/// server's `postgres` database to do so).
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn create_database_if_missing(url: &str) -> Result<(), StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        // Identifiers cannot be bound; quote it as PostgreSQL's quote_ident does.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let created = sqlx::raw_sql(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .await;
        match created {
            Ok(_) => {}
            // Another process created it between our check and our create.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    admin.close().await?;
    Ok(())
}

/// Applies the write side's migrations.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate!("./migrations");
    // The projectors' migrations (versions 1001+) may share this database.
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}
