//! Watching projections work through a backlog: the target of each projection is the sum of
//! the high watermarks of the topics it reads (taken once, nothing is written meanwhile); its
//! progress is the sum of the next offsets a generation stored in `projection_offsets`.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use projectors::ProjectionName;
use schemas::Topic;
use sqlx::PgPool;
use tokio::time::Instant;

/// How often the stored offsets are read.
const POLL: Duration = Duration::from_millis(100);

/// Records each projection has to apply.
pub type Targets = HashMap<ProjectionName, i64>;

/// Records each projection reads, from where every partition ended when produced.
pub fn from_ends(ends: &HashMap<(Topic, i32), i64>) -> Targets {
    ProjectionName::ALL
        .iter()
        .map(|projection| {
            let reads = projectors::projections::topics(*projection);
            let records = ends
                .iter()
                .filter(|((topic, _), _)| reads.contains(topic))
                .map(|(_, end)| end)
                .sum();
            (*projection, records)
        })
        .collect()
}

/// Records each projection reads, by the topics' high watermarks.
///
/// # Errors
/// When the broker cannot be reached.
pub async fn targets(brokers: &str, prefix: &str) -> anyhow::Result<Targets> {
    let mut targets = Targets::new();
    for projection in ProjectionName::ALL {
        let marks = projectors::partitions::high_watermarks(brokers, prefix, projection)
            .await
            .with_context(|| format!("high watermarks of {projection}'s topics"))?;
        targets.insert(projection, marks.values().sum());
    }
    Ok(targets)
}

/// Records applied by `generation` of each projection, by its stored offsets.
///
/// # Errors
/// On database failure.
pub async fn applied(pool: &PgPool, generation: i32) -> anyhow::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT projection, sum(next_offset)::bigint FROM projection_offsets
         WHERE generation = $1 GROUP BY projection",
    )
    .bind(generation)
    .fetch_all(pool)
    .await
    .context("reading stored offsets")?;
    Ok(rows.into_iter().collect())
}

/// Waits until `generation` of every projection reached its target; answers, per projection,
/// when (since `started`) it got there. After `timeout` it fails, saying how far each got.
///
/// # Errors
/// On database failure or timeout.
pub async fn reached(
    pool: &PgPool,
    generation: i32,
    targets: &Targets,
    started: Instant,
    timeout: Duration,
) -> anyhow::Result<HashMap<ProjectionName, Duration>> {
    let mut done = HashMap::new();
    loop {
        let applied = applied(pool, generation).await?;
        let now = started.elapsed();
        for (projection, target) in targets {
            let so_far = applied.get(projection.as_str()).copied().unwrap_or(0);
            if so_far >= *target {
                done.entry(*projection).or_insert(now);
            }
        }
        if done.len() == targets.len() {
            return Ok(done);
        }
        if now >= timeout {
            let state: Vec<String> = targets
                .iter()
                .map(|(projection, target)| {
                    let so_far = applied.get(projection.as_str()).copied().unwrap_or(0);
                    format!("{projection} {so_far}/{target}")
                })
                .collect();
            anyhow::bail!(
                "generation {generation} not built after {timeout:?}: {}",
                state.join(", ")
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
