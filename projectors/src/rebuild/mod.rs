//! Zero-downtime rebuild: build a new generation from offset 0 into its own schema while the
//! live one serves, bring it to exactly the live generation's offsets, compare them, swap.
//! Several projections rebuilt together share one read of the topics ([`load`]).

mod compare;
mod load;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use messaging::consumer::Rewinds;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::{PgConnection, PgPool};

use crate::partitions::{high_watermarks_of, read_by};
use crate::runtime::{apply_batch, stored_offsets, Inbound, PartitionKey, Runtime};
use crate::{Generation, ProjectionName, ProjectorError};
use compare::compare;
use load::Target;

/// How long the rebuild waits for a lagging live projection to reach the new generation.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a rebuild did.
#[derive(Debug)]
pub struct Rebuilt {
    pub projection: ProjectionName,
    pub from: i32,
    pub to: i32,
    pub events: usize,
    /// From the start of the rebuild (of all the projections rebuilt together) until this one
    /// was swapped in and its old generation dropped.
    pub elapsed: Duration,
    /// Per table where the rebuilt rows differ from the old live ones (only with
    /// [`Check::AcceptDifferences`]).
    pub differences: Vec<String>,
}

/// What the comparison with the live generation decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Any difference fails the rebuild and swaps nothing: the rebuild is a replay of the same
    /// projection code, so a difference means one of the two is wrong.
    MustMatch,
    /// Differences are reported and swapped in: the projection's code was fixed or changed,
    /// or the live view was damaged, and the rebuilt one is the one wanted.
    AcceptDifferences,
}

/// Rebuilds `projection` and requires it to match the live generation; `progress` draws a
/// progress bar with events/s and ETA.
///
/// # Errors
/// On broker or database failure, or when the check finds a difference (nothing swapped).
pub async fn rebuild(
    runtime: &Runtime,
    projection: ProjectionName,
    progress: bool,
) -> Result<Rebuilt, ProjectorError> {
    rebuild_checked(runtime, projection, progress, Check::MustMatch).await
}

/// Rebuilds `projection`, deciding on differences with the live generation as `check` says.
///
/// # Errors
/// On broker or database failure, or with [`Check::MustMatch`] when the check finds a
/// difference (nothing swapped).
pub async fn rebuild_checked(
    runtime: &Runtime,
    projection: ProjectionName,
    progress: bool,
    check: Check,
) -> Result<Rebuilt, ProjectorError> {
    rebuild_together(runtime, &[projection], progress, check)
        .await?
        .pop()
        .map(|(_, rebuilt)| rebuilt)
        .unwrap_or_else(|| {
            Err(ProjectorError::CheckFailed(format!(
                "{projection} was not rebuilt"
            )))
        })
}

/// Rebuilds several projections at once, each exactly as [`rebuild_checked`] does, but reading
/// and decoding the topics once for all of them. Each is checked and swapped on its own: one
/// whose check fails keeps its live generation while the others swap. One result per
/// projection, in the order of `projections` (a name given twice is rebuilt once).
///
/// # Errors
/// On broker or database failure before or during the bulk load, for all of them (nothing
/// swapped); a failure after it is that projection's result.
pub async fn rebuild_together(
    runtime: &Runtime,
    projections: &[ProjectionName],
    progress: bool,
    check: Check,
) -> Result<Vec<(ProjectionName, Result<Rebuilt, ProjectorError>)>, ProjectorError> {
    let started = Instant::now();
    let mut distinct: Vec<ProjectionName> = Vec::new();
    for &projection in projections {
        if !distinct.contains(&projection) {
            distinct.push(projection);
        }
    }
    // Each new generation is its own schema and row of `projection_generations`: set up side
    // by side.
    let building = futures::future::try_join_all(
        distinct
            .iter()
            .map(|projection| Building::begin(runtime, *projection)),
    )
    .await?;
    // What the bulk load reads up to: the high watermarks once the new generations exist,
    // asked of the broker once for all their topics.
    let marks = high_watermarks_of(&runtime.brokers, &runtime.topic_prefix, &distinct).await?;
    let targets: Vec<Target> = building
        .iter()
        .map(|b| Target {
            generation: b.new,
            until: read_by(&marks, &runtime.topic_prefix, b.live.projection),
        })
        .collect();
    let bar = progress_bar(progress, load::union(&targets).values().sum());
    // Bulk: everything up to those high watermarks, by loaders of disjoint partitions.
    let events = load::load_all(runtime, &targets, &bar).await?;
    bar.finish_and_clear();
    let completions = building.into_iter().zip(targets).zip(events).map(
        |((building, target), events)| async move {
            let projection = building.live.projection;
            let rebuilt = building
                .complete(runtime, &target.until, events, check, started)
                .await;
            (projection, rebuilt)
        },
    );
    Ok(futures::future::join_all(completions).await)
}

/// A projection whose new generation is being built.
struct Building {
    live: Generation,
    new: Generation,
}

impl Building {
    /// Reserves the new generation and creates its tables without the indexes no write needs.
    async fn begin(runtime: &Runtime, projection: ProjectionName) -> Result<Self, ProjectorError> {
        let live = Generation::live(&runtime.pool, projection).await?;
        let new = reserve(&runtime.pool, live).await?;
        new.drop(&runtime.pool).await?; // a previous, abandoned attempt
        new.create_unindexed(&runtime.pool).await?;
        Ok(Self { live, new })
    }

    /// After the bulk load up to `targets`: indexes, then converge on the live generation's
    /// offsets, compare, swap, and drop the old generation.
    async fn complete(
        self,
        runtime: &Runtime,
        targets: &HashMap<PartitionKey, i64>,
        mut events: usize,
        check: Check,
        started: Instant,
    ) -> Result<Rebuilt, ProjectorError> {
        let Self { live, new } = self;
        let projection = live.projection;
        tracing::info!(%projection, generation = new.number, events, elapsed = ?started.elapsed(), "rebuild loaded");
        // The few records the converge step may still apply go through the indexes.
        new.finish_loading(&runtime.pool).await?;
        tracing::info!(%projection, generation = new.number, elapsed = ?started.elapsed(), "rebuild indexed");
        let stored = stored_offsets(&runtime.pool, new).await?;
        let consumer = assigned_consumer(
            runtime,
            &targets
                .keys()
                .map(|k| (k.clone(), stored.get(k).copied().unwrap_or(0)))
                .collect(),
        )?;
        let mut rewinds = Rewinds::default();
        // Converge on the live generation's offsets, compare, swap — under the live offsets' lock.
        let deadline = Instant::now() + CONVERGE_TIMEOUT;
        let differences = loop {
            let mut tx = runtime.pool.begin().await?;
            // One snapshot for the offsets and both generations' rows, so the comparison sees the
            // live generation exactly at the offsets it read.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
            let live_offsets = match lock_all_offsets(&mut tx, live).await {
                Err(ProjectorError::Database(sqlx::Error::Database(e)))
                    if e.code().as_deref() == Some("40001") =>
                {
                    tx.rollback().await?;
                    continue; // the live projector committed meanwhile: look again
                }
                other => other?,
            };
            let new_offsets = stored_offsets(&mut *tx, new).await?;
            let behind: HashMap<PartitionKey, i64> = live_offsets
                .iter()
                .filter(|(key, offset)| new_offsets.get(*key).copied().unwrap_or(0) < **offset)
                .map(|(key, offset)| (key.clone(), *offset))
                .collect();
            let ahead = new_offsets
                .iter()
                .any(|(key, offset)| *offset > live_offsets.get(key).copied().unwrap_or(0));
            if behind.is_empty() && !ahead {
                let differences = compare(&mut tx, &runtime.pool, live, new).await?;
                tracing::info!(%projection, generation = new.number, elapsed = ?started.elapsed(), "rebuild compared");
                if check == Check::MustMatch && !differences.is_empty() {
                    return Err(ProjectorError::CheckFailed(differences.join("; ")));
                }
                swap(&mut tx, live, new).await?;
                tx.commit().await?;
                break differences;
            }
            tx.rollback().await?;
            if Instant::now() > deadline {
                return Err(ProjectorError::CheckFailed(format!(
                    "the live generation of {projection} did not reach the rebuilt offsets in {CONVERGE_TIMEOUT:?}; is its projector running?"
                )));
            }
            if behind.is_empty() {
                // The live projector lags the rebuild: give it time to catch up.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let limits: HashMap<PartitionKey, i64> = live_offsets;
            events += consume(runtime, &consumer, &mut rewinds, new, Some(&limits)).await?;
            // Records past the limits were read and dropped: re-position at what is stored.
            let stored = stored_offsets(&runtime.pool, new).await?;
            reposition(
                &consumer,
                &targets
                    .keys()
                    .map(|k| (k.clone(), stored.get(k).copied().unwrap_or(0)))
                    .collect(),
            )?;
        };
        tracing::info!(%projection, generation = new.number, elapsed = ?started.elapsed(), "rebuild swapped");
        retire(&runtime.pool, live).await?;
        Ok(Rebuilt {
            projection,
            from: live.number,
            to: new.number,
            events,
            elapsed: started.elapsed(),
            differences,
        })
    }
}

/// How long a transaction that began before the swap may keep the old generation from being
/// dropped.
const OLD_READER_WAIT: Duration = Duration::from_secs(10);

/// Drops the old generation once no transaction that began before the swap — a reader whose
/// snapshot or lookup may still name the old generation, and whose next statement would find
/// its tables gone — is open any more, or [`OLD_READER_WAIT`] later at the latest (DROP then
/// still waits for the locks of the queries running on it). Readers look the live generation
/// up inside their transaction (`Generation::enter_live`, the query API's snapshot), or cope
/// with its disappearance between two statements: a live projector restarts on the new
/// generation, the query API's wake-up check looks again. Sessions whose details this role may
/// not see (without the statistics privilege) are not waited for.
async fn retire(pool: &PgPool, old: Generation) -> Result<(), ProjectorError> {
    let swapped: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(pool)
        .await?;
    let deadline = Instant::now() + OLD_READER_WAIT;
    loop {
        let readers: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND backend_type = 'client backend'
               AND pid <> pg_backend_pid() AND xact_start < $1",
        )
        .bind(swapped)
        .fetch_one(pool)
        .await?;
        if readers == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    old.drop(pool).await
}

async fn reserve(pool: &PgPool, live: Generation) -> Result<Generation, ProjectorError> {
    let number: i32 = sqlx::query_scalar(
        "UPDATE public.projection_generations
         SET building_generation = greatest(live_generation, coalesce(building_generation, 0)) + 1
         WHERE projection = $1 RETURNING building_generation",
    )
    .bind(live.projection.as_str())
    .fetch_one(pool)
    .await?;
    Ok(Generation {
        projection: live.projection,
        number,
    })
}

fn progress_bar(visible: bool, total: i64) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.max(0) as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} records  {per_sec}  ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Records applied per transaction at most while converging: larger than a live batch, since a
/// batch's rows are written set-wise (a statement per table) and nothing waits on the new
/// generation until it is swapped in.
const CONVERGE_BATCH: usize = 2_000;

/// Reads what is ready (waiting up to a second) and applies it to the new generation, up to
/// `limits`: the converge step, after the bulk load, for the records the live projector
/// applied since the rebuild began.
async fn consume(
    runtime: &Runtime,
    consumer: &StreamConsumer,
    rewinds: &mut Rewinds,
    generation: Generation,
    limits: Option<&HashMap<PartitionKey, i64>>,
) -> Result<usize, ProjectorError> {
    let mut stream = consumer.stream().ready_chunks(CONVERGE_BATCH);
    let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await else {
        return Ok(0);
    };
    let messages = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
    let inbound: Vec<Inbound<'_>> = messages.iter().map(Inbound::from_message).collect();
    let mut db = runtime.pool.acquire().await?;
    let outcome = apply_batch(runtime, &mut db, generation, &inbound, limits, false).await?;
    runtime.metrics.record(generation.projection, &outcome);
    rewinds.progressed(outcome.next_offsets.keys());
    seek_back(consumer, rewinds, &outcome.rewind)?;
    Ok(outcome.applied)
}

/// Seeks the partitions a batch found positioned past unapplied records back, as `rewinds`
/// plans (further back when the same offset comes up again).
fn seek_back(
    consumer: &StreamConsumer,
    rewinds: &mut Rewinds,
    positions: &HashMap<PartitionKey, i64>,
) -> Result<(), ProjectorError> {
    for (key, offset) in rewinds.plan(positions) {
        consumer.seek(
            &key.topic,
            key.partition,
            Offset::Offset(offset),
            Duration::from_secs(5),
        )?;
    }
    Ok(())
}

/// A consumer outside any group, assigned the partitions at the given offsets.
fn assigned_consumer(
    runtime: &Runtime,
    start: &HashMap<PartitionKey, i64>,
) -> Result<StreamConsumer, ProjectorError> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &runtime.brokers)
        .set(
            "group.id",
            format!(
                "{}.rebuild.{}",
                runtime.topic_prefix,
                uuid::Uuid::new_v4().simple()
            ),
        )
        .set("enable.auto.commit", "false")
        // Tansu holds a fetch for the whole wait even when records are there: keep it short.
        .set("fetch.wait.max.ms", "10")
        // A replay reads whole partitions: fewer, larger fetches (the broker's work per fetch
        // grows with the partition on Tansu 0.6, see docs/benchmarks.md).
        .set("max.partition.fetch.bytes", "8388608")
        .create()?;
    reposition(&consumer, start)?;
    Ok(consumer)
}

fn reposition(
    consumer: &StreamConsumer,
    at: &HashMap<PartitionKey, i64>,
) -> Result<(), ProjectorError> {
    let mut list = TopicPartitionList::new();
    for (key, offset) in at {
        list.add_partition_offset(&key.topic, key.partition, Offset::Offset(*offset))?;
    }
    consumer.assign(&list)?;
    Ok(())
}

async fn lock_all_offsets(
    db: &mut PgConnection,
    generation: Generation,
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT topic, partition, next_offset FROM public.projection_offsets
         WHERE projection = $1 AND generation = $2 ORDER BY topic, partition FOR UPDATE",
    )
    .bind(generation.projection.as_str())
    .bind(generation.number)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(topic, partition, next)| (PartitionKey { topic, partition }, next))
        .collect())
}

async fn swap(
    db: &mut PgConnection,
    live: Generation,
    new: Generation,
) -> Result<(), ProjectorError> {
    sqlx::query(
        "UPDATE public.projection_generations
         SET live_generation = $2, building_generation = NULL, swapped_at = now()
         WHERE projection = $1 AND live_generation = $3",
    )
    .bind(live.projection.as_str())
    .bind(new.number)
    .bind(live.number)
    .execute(db)
    .await?;
    tracing::info!(projection = %live.projection, from = live.number, to = new.number, "generation swapped");
    Ok(())
}
