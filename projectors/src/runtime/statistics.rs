//! Planner statistics of a live generation's tables, kept current by the projection itself.
//!
//! A live generation starts empty and grows. A runner's statements are prepared on a
//! connection it keeps, and PostgreSQL settles on a generic plan for each after a few runs;
//! planned while the tables were nearly empty, with no statistics, that plan reads
//! `stream_versions` (and the tables a batch updates) by sequential scans, and it is kept
//! until the statistics change. Autovacuum's analyze fixes that where it runs and keeps up;
//! where it is off or behind, a projection slowed down as it grew (measured: an initial build of
//! 1,000,000 events took 166.75 s instead of 35.42 s, with thousands of sequential scans
//! reading tens of millions of rows). So the runner analyzes its own tables once they changed
//! by as much as autovacuum's default threshold would wait for (50 rows + 10 %). An `ANALYZE`
//! also invalidates the plans cached on them, so the next run of each statement is planned on
//! real figures; where autovacuum already analyzed, nothing is left to do. Plans made on a
//! table's first figures stay good as it grows (index probes), so a table growing fast is
//! analyzed again only as it doubles or after a minute.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Executor as _, PgPool};

use crate::{Generation, ProjectorError};

/// How often a runner looks whether its tables need analyzing.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// A runner's analyzer: checks at most every [`CHECK_EVERY`], analyzes in the background on a
/// connection of its own (an `ANALYZE` does not block the batches' writes), one at a time.
pub struct Analyzer {
    pool: PgPool,
    generation: Generation,
    last_check: Instant,
    running: Arc<AtomicBool>,
}

impl Analyzer {
    pub fn new(pool: PgPool, generation: Generation) -> Self {
        Self {
            pool,
            generation,
            // The first check comes after the first batches, not before them.
            last_check: Instant::now(),
            running: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts a check (and the analyses it finds due) unless one ran recently or still runs.
    pub fn maybe_start(&mut self) {
        if self.last_check.elapsed() < CHECK_EVERY || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.last_check = Instant::now();
        let (pool, generation, running) =
            (self.pool.clone(), self.generation, self.running.clone());
        tokio::spawn(async move {
            if let Err(error) = analyze_stale(&pool, generation).await {
                tracing::warn!(%error, projection = %generation.projection, "analyzing the read model's tables failed");
            }
            running.store(false, Ordering::Release);
        });
    }
}

/// Analyzes the generation's tables changed by more than 50 rows + 10 % since their last
/// analyze (autovacuum's default threshold), and not analyzed in the last minute unless they
/// changed by more rows than they hold: a table gets its first figures within seconds, while a
/// table filling fast (a projection catching up) is analyzed as it doubles, not every check
/// (each `ANALYZE` samples up to 30,000 rows). Answers how many it analyzed.
///
/// # Errors
/// On database failure.
pub async fn analyze_stale(pool: &PgPool, generation: Generation) -> Result<usize, ProjectorError> {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_stat_user_tables
         WHERE schemaname = $1
           AND n_mod_since_analyze > 50 + 0.1 * greatest(n_live_tup, 0)
           AND (greatest(last_analyze, last_autoanalyze) IS NULL
                OR greatest(last_analyze, last_autoanalyze) < now() - interval '1 minute'
                OR n_mod_since_analyze > greatest(n_live_tup, 0))",
    )
    .bind(generation.schema())
    .fetch_all(pool)
    .await?;
    for table in &stale {
        // The schema name is [a-z0-9_]; the table's name comes from the catalog: quoted.
        let analyze = format!(
            "ANALYZE {}.\"{}\"",
            generation.schema(),
            table.replace('"', "\"\"")
        );
        pool.execute(analyze.as_str()).await?;
    }
    Ok(stale.len())
}
