//! Projection generations: schemas holding one version of a projection's tables.

use std::fmt;

use futures::{StreamExt, TryStreamExt};
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

    /// The tables of one generation, with the keys their upserts name as conflict targets
    /// (run with the generation's schema as search_path); the other indexes are in
    /// [`ProjectionName::indexes`].
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

    /// The indexes no write needs: the secondary indexes the query API filters and sorts by
    /// (applying an event looks rows up by primary key only), and the keys of the insert-only
    /// tables (audit events, task history, messages: their inserts name no conflict target,
    /// and the applied versions already keep each event to one row). A rebuild builds them
    /// after loading the new generation: maintaining them row by row cost more than building
    /// each once, sorted, and an indexed status column makes every status change a non-HOT
    /// update. A history that breaks one of these keys fails the rebuild there.
    pub fn indexes(self) -> Option<&'static str> {
        match self {
            Self::Agents => Some(include_str!("../sql/agents.indexes.sql")),
            Self::Tasks => Some(include_str!("../sql/tasks.indexes.sql")),
            Self::Conversations => Some(include_str!("../sql/conversations.indexes.sql")),
            Self::Billing => Some(include_str!("../sql/billing.indexes.sql")),
            Self::Usage => None,
            Self::Audit => Some(include_str!("../sql/audit.indexes.sql")),
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

    /// Enters `projection`'s live generation, looked up inside `tx` in the same statement.
    /// A reader that looks the generation up inside its transaction keeps a rebuild from
    /// dropping it until the transaction ends (a rebuild waits for transactions older than
    /// its swap before it drops the old generation); a number looked up before the
    /// transaction began carries no such guarantee.
    ///
    /// # Errors
    /// [`ProjectorError::NotBuilt`] when the projection has no generation yet; database
    /// failures.
    pub async fn enter_live(
        tx: &mut Transaction<'_, Postgres>,
        projection: ProjectionName,
    ) -> Result<Self, ProjectorError> {
        let number: Option<i32> = sqlx::query_scalar(&format!(
            "SELECT live_generation FROM (
                 SELECT live_generation, set_config('search_path', {LIVE_SCHEMA_SQL}, true)
                 FROM public.projection_generations WHERE projection = $1) entered"
        ))
        .bind(projection.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let number = number.ok_or_else(|| ProjectorError::NotBuilt(projection.to_string()))?;
        Ok(Self { projection, number })
    }

    /// Creates the schema, tables and indexes (empty) if they do not exist, or upgrades them.
    ///
    /// # Errors
    /// On database failure.
    pub async fn create(&self, pool: &PgPool) -> Result<(), ProjectorError> {
        self.create_with(pool, true).await
    }

    /// Creates the schema and tables without their secondary indexes, for a rebuild that
    /// loads them first and then calls [`Generation::finish_loading`].
    ///
    /// # Errors
    /// On database failure.
    pub async fn create_unindexed(&self, pool: &PgPool) -> Result<(), ProjectorError> {
        self.create_with(pool, false).await
    }

    /// Builds the indexes of a generation made by [`Generation::create_unindexed`] and
    /// gathers its tables' planner statistics, so the first queries after the swap are
    /// planned on real figures rather than on an empty table's.
    ///
    /// # Errors
    /// [`ProjectorError::CheckFailed`] when the loaded rows break a key; database failures.
    pub async fn finish_loading(&self, pool: &PgPool) -> Result<(), ProjectorError> {
        if let Some(indexes) = self.projection.indexes() {
            let (creates, alters) = index_statements(indexes);
            // Index builds on the same table only share its lock: they run side by side.
            let builds = creates
                .into_iter()
                .map(|statement| async move { self.run_index_statement(pool, &statement).await });
            futures::stream::iter(builds)
                .buffer_unordered(INDEX_BUILDERS)
                .try_collect::<Vec<()>>()
                .await?;
            if !alters.is_empty() {
                self.run_index_statement(pool, &alters.join(";\n")).await?;
            }
        }
        for table in self.projection.tables() {
            // Fixed table names and an integer generation: safe to splice.
            let analyze = format!("ANALYZE {}.{table}", self.schema());
            pool.execute(analyze.as_str()).await?;
        }
        Ok(())
    }

    async fn run_index_statement(
        &self,
        pool: &PgPool,
        statement: &str,
    ) -> Result<(), ProjectorError> {
        let mut tx = pool.begin().await?;
        self.enter(&mut tx).await?;
        // The sorts of the largest indexes (a million audit rows) fit in memory at this size
        // instead of spilling to disk; it is held only while this transaction builds them.
        sqlx::query("SET LOCAL maintenance_work_mem = '128MB'")
            .execute(&mut *tx)
            .await?;
        match (&mut *tx).execute(statement).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
                return Err(ProjectorError::CheckFailed(format!(
                    "the rebuilt {} breaks a key of its tables ({e}); nothing was swapped",
                    self.projection
                )));
            }
            Err(other) => return Err(other.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_with(&self, pool: &PgPool, indexed: bool) -> Result<(), ProjectorError> {
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
            if let Some(indexes) = self.projection.indexes().filter(|_| indexed) {
                (&mut *tx).execute(indexes).await?;
            }
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

/// Index builds of one generation run at once (each may use PostgreSQL's parallel workers too).
const INDEX_BUILDERS: usize = 2;

/// The statements of a [`ProjectionName::indexes`] file: the `CREATE`s, which may run side by
/// side, and the `ALTER`s that attach built indexes as constraints, after them.
fn index_statements(sql: &str) -> (Vec<String>, Vec<String>) {
    let code: Vec<&str> = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect();
    code.join("\n")
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(str::to_owned)
        .partition(|statement| statement.starts_with("CREATE"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_files_split_into_builds_then_constraints() {
        let (creates, alters) = index_statements(ProjectionName::Audit.indexes().unwrap());
        assert_eq!(creates.len(), 3);
        assert!(creates.iter().all(|c| c.starts_with("CREATE")));
        assert_eq!(alters.len(), 1);
        assert!(alters[0].contains("PRIMARY KEY USING INDEX audit_events_pkey"));
        for projection in ProjectionName::ALL {
            let (creates, alters) = index_statements(projection.indexes().unwrap_or_default());
            assert!(
                creates.iter().chain(&alters).all(|s| !s.contains("--")),
                "{projection}: comments stripped"
            );
        }
    }
}
