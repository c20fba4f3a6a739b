//! Projection generations: schemas holding one version of a projection's tables.

use std::fmt;

use sqlx::{Executor, PgPool, Postgres, Transaction};

use crate::ProjectorError;

/// The six projections of the read side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectionName {
    Agents,
    Tasks,
    Conversations,
    Billing,
    Usage,
    Audit,
}

impl ProjectionName {
    pub const ALL: [Self; 6] = [
        Self::Agents,
        Self::Tasks,
        Self::Conversations,
        Self::Billing,
        Self::Usage,
        Self::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agents => "agents",
            Self::Tasks => "tasks",
            Self::Conversations => "conversations",
            Self::Billing => "billing",
            Self::Usage => "usage",
            Self::Audit => "audit",
        }
    }

    /// # Errors
    /// When the name is not a projection.
    pub fn parse(name: &str) -> Result<Self, ProjectorError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| ProjectorError::UnknownProjection(name.to_owned()))
    }

    /// The tables of one generation, compared table by table after a rebuild.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Self::Agents => &["agents", "agent_tasks", "stream_versions"],
            Self::Tasks => &["tasks", "task_history", "stream_versions"],
            Self::Conversations => &["conversations", "messages", "stream_versions"],
            Self::Billing => &["invoices", "stream_versions"],
            Self::Usage => &["usage_daily", "usage_owners", "stream_versions"],
            Self::Audit => &["audit_events", "stream_versions"],
        }
    }

    /// The DDL of one generation (run with the generation's schema as search_path).
    pub fn ddl(self) -> &'static str {
        match self {
            Self::Agents => include_str!("../sql/agents.sql"),
            Self::Tasks => include_str!("../sql/tasks.sql"),
            Self::Conversations => include_str!("../sql/conversations.sql"),
            Self::Billing => include_str!("../sql/billing.sql"),
            Self::Usage => include_str!("../sql/usage.sql"),
            Self::Audit => include_str!("../sql/audit.sql"),
        }
    }

    /// Idempotent changes that bring a generation created by an earlier build to the tables
    /// of [`ProjectionName::ddl`] (columns added with defaults only; anything else takes a
    /// rebuild into a new generation).
    pub fn upgrades(self) -> Option<&'static str> {
        match self {
            Self::Usage => Some(include_str!("../sql/usage.upgrade.sql")),
            _ => None,
        }
    }
}

impl fmt::Display for ProjectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generation of one projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    pub projection: ProjectionName,
    pub number: i32,
}

/// [`Generation::schema`] of a projection's live generation as a SQL expression over a
/// `projection_generations` row, for readers that enter it in the same statement that looks
/// it up.
pub const LIVE_SCHEMA_SQL: &str = "'rm_' || projection || '_g' || live_generation";

impl Generation {
    /// The schema holding this generation's tables; only `[a-z0-9_]`, so safe as an identifier.
    /// (Keep [`LIVE_SCHEMA_SQL`] building the same name.)
    pub fn schema(&self) -> String {
        format!("rm_{}_g{}", self.projection.as_str(), self.number)
    }

    /// Points the transaction's unqualified table names at this generation.
    ///
    /// # Errors
    /// On database failure.
    pub async fn enter(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), ProjectorError> {
        sqlx::query("SELECT set_config('search_path', $1, true)")
            .bind(self.schema())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Creates the schema and tables (empty) if they do not exist, or upgrades them.
    ///
    /// # Errors
    /// On database failure.
    pub async fn create(&self, pool: &PgPool) -> Result<(), ProjectorError> {
        let mut tx = pool.begin().await?;
        // Serialise concurrent creators of the same generation.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(self.schema())
            .execute(&mut *tx)
            .await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(self.schema())
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            // The schema name is built from a fixed projection name and an integer: no quoting needed.
            let create = format!("CREATE SCHEMA {}", self.schema());
            (&mut *tx).execute(create.as_str()).await?;
            self.enter(&mut tx).await?;
            // Several statements: sent with the simple query protocol.
            (&mut *tx).execute(self.projection.ddl()).await?;
        } else if let Some(upgrades) = self.projection.upgrades() {
            self.enter(&mut tx).await?;
            (&mut *tx).execute(upgrades).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops the generation's schema and its stored offsets.
    ///
    /// # Errors
    /// On database failure.
    pub async fn drop(&self, pool: &PgPool) -> Result<(), ProjectorError> {
        let mut tx = pool.begin().await?;
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema());
        (&mut *tx).execute(drop.as_str()).await?;
        sqlx::query("DELETE FROM projection_offsets WHERE projection = $1 AND generation = $2")
            .bind(self.projection.as_str())
            .bind(self.number)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The generation serving queries, creating generation 1 on first use.
    ///
    /// # Errors
    /// On database failure.
    pub async fn live(pool: &PgPool, projection: ProjectionName) -> Result<Self, ProjectorError> {
        sqlx::query(
            "INSERT INTO projection_generations (projection, live_generation) VALUES ($1, 1)
             ON CONFLICT (projection) DO NOTHING",
        )
        .bind(projection.as_str())
        .execute(pool)
        .await?;
        let number: i32 = sqlx::query_scalar(
            "SELECT live_generation FROM projection_generations WHERE projection = $1",
        )
        .bind(projection.as_str())
        .fetch_one(pool)
        .await?;
        let generation = Self { projection, number };
        generation.create(pool).await?;
        Ok(generation)
    }
}

/// Applies the projectors' bookkeeping migrations.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &PgPool) -> Result<(), ProjectorError> {
    let mut migrator = sqlx::migrate!("./migrations");
    // The write side's migrations may share this database: ignore each other's history.
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}
