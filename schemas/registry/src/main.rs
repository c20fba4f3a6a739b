//! The `schema-registry` binary: settings from flags or environment, migrations, serve
//! until SIGINT/SIGTERM.

/// mimalloc instead of the system allocator: the hot paths allocate per record and per
/// request, and glibc malloc cost a quarter of a rebuild's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use schema_registry::RegistryServer;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// A Confluent-compatible schema registry stored in PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "schema-registry", version, about)]
struct Settings {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/agenthub",
        hide_env_values = true
    )]
    database_url: String,
    /// Address to serve HTTP on (port 0 picks a free port).
    #[arg(long, env = "SCHEMA_REGISTRY_LISTEN", default_value = "127.0.0.1:8081")]
    listen: String,
    /// Maximum PostgreSQL connections.
    #[arg(long, env = "SCHEMA_REGISTRY_DB_MAX_CONNECTIONS", default_value_t = 10)]
    db_max_connections: u32,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::parse();
    init_tracing(settings.log_format);

    let pool = PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&settings.database_url)
        .await
        .context("connecting to PostgreSQL")?;
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let server = RegistryServer::build(pool.clone(), listener)
        .await
        .context("starting the schema registry")?;
    tracing::info!(addr = %server.local_addr(), "schema registry listening");

    server
        .run_until(shutdown_signal())
        .await
        .context("serving HTTP")?;
    pool.close().await;
    tracing::info!("schema registry stopped");
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining requests");
}
