//! Process managers. Sagas react to events (their own consumer group, effectively once like the
//! read side), keep their state and step log in PostgreSQL, and act by sending commands to the
//! command API with idempotency keys derived from saga id and step. Transient failures retry
//! with exponential backoff; business failures and passed deadlines run compensations; a
//! compensation that keeps failing parks the saga for an operator.

pub mod api;
pub mod commands;
pub mod executor;
pub mod instances;
pub mod intake;
pub mod ports;
pub mod service;
pub mod settings;
pub mod workflows;

use std::time::Duration;

use commands::CommandClient;
use ports::llm::Llm;
use ports::payments::Payments;
use ports::provisioning::Provisioner;
use sqlx::PgPool;
use workflows::billing_cycle::Prices;

/// Timeouts of the workflows.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// An assigned task must be started within this, or it is reassigned.
    pub start_deadline: chrono::Duration,
    /// A started task must be completed within this, or it fails.
    pub completion_deadline: chrono::Duration,
    /// Attempts of one step before giving up (running) or parking (compensating).
    pub max_attempts: i32,
    pub max_backoff: Duration,
}

/// What workflows can reach.
#[derive(Clone)]
pub struct Context {
    pub pool: PgPool,
    pub commands: CommandClient,
    pub llm: Llm,
    pub provisioner: Provisioner,
    pub payments: Payments,
    pub prices: Prices,
    pub timing: Timing,
}

/// Applies the sagas' tables.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
}
