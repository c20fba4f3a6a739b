//! Zero-downtime rebuild: build a new generation from offset 0 into its own schema while the
//! live one serves, bring it to exactly the live generation's offsets, compare them, swap.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use messaging::consumer::Rewinds;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::{PgConnection, PgPool};

use crate::partitions::high_watermarks;
use crate::runtime::{apply_batch, stored_offsets, Inbound, PartitionKey, Runtime};
use crate::{Generation, ProjectionName, ProjectorError};

/// How long the rebuild waits for a lagging live projection to reach the new generation.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a rebuild did.
#[derive(Debug)]
pub struct Rebuilt {
    pub from: i32,
    pub to: i32,
    pub events: usize,
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
    let started = Instant::now();
    let live = Generation::live(&runtime.pool, projection).await?;
    let new = reserve(&runtime.pool, live).await?;
    new.drop(&runtime.pool).await?; // a previous, abandoned attempt
    new.create_unindexed(&runtime.pool).await?;

    let targets = high_watermarks(&runtime.brokers, &runtime.topic_prefix, projection).await?;
    let total: i64 = targets.values().sum();
    let bar = progress_bar(progress, total);
    // Bulk: everything up to the high watermarks taken at the start, by loaders of disjoint
    // partitions.
    let loads = shares(&targets, loaders(total))
        .into_iter()
        .map(|share| load(runtime, new, share, &bar));
    let mut events: usize = futures::future::try_join_all(loads)
        .await?
        .into_iter()
        .sum();
    bar.finish_and_clear();
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
        from: live.number,
        to: new.number,
        events,
        elapsed: started.elapsed(),
        differences,
    })
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

/// Loaders of one rebuild, each with its own consumer and its own share of the partitions.
/// Partitions are independent (an aggregate's records are all in one, and the runtime
/// already lets the members of a group apply theirs side by side), and a loader alternates
/// between decoding a batch and waiting for the database to write it: with two, one decodes
/// while the other's batch is written. A larger history gets more, so that when several
/// projections are rebuilt together the largest is not the one left loading alone, with the
/// machine half idle, after the others have finished.
fn loaders(records: i64) -> usize {
    const RECORDS_PER_LOADER: u64 = 250_000;
    const MIN_LOADERS: usize = 2;
    const MAX_LOADERS: usize = 4;
    let records = u64::try_from(records).unwrap_or(0);
    let wanted = usize::try_from(records.div_ceil(RECORDS_PER_LOADER)).unwrap_or(MAX_LOADERS);
    wanted.clamp(MIN_LOADERS, MAX_LOADERS)
}

/// Splits the partitions into at most `n` shares of about as many records each (the largest
/// partition first, each onto the share with the fewest records so far).
fn shares(targets: &HashMap<PartitionKey, i64>, n: usize) -> Vec<HashMap<PartitionKey, i64>> {
    let mut partitions: Vec<(&PartitionKey, &i64)> = targets.iter().collect();
    partitions.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut shares: Vec<(i64, HashMap<PartitionKey, i64>)> = vec![(0, HashMap::new()); n.max(1)];
    for (key, target) in partitions {
        if let Some((records, share)) = shares.iter_mut().min_by_key(|(records, _)| *records) {
            *records += target;
            share.insert(key.clone(), *target);
        }
    }
    shares
        .into_iter()
        .map(|(_, share)| share)
        .filter(|share| !share.is_empty())
        .collect()
}

/// Applies the records of `share`'s partitions from offset 0 up to their targets.
async fn load(
    runtime: &Runtime,
    generation: Generation,
    share: HashMap<PartitionKey, i64>,
    bar: &ProgressBar,
) -> Result<usize, ProjectorError> {
    let consumer = assigned_consumer(runtime, &share.keys().map(|k| (k.clone(), 0)).collect())?;
    let mut rewinds = Rewinds::default();
    let mut events = 0;
    loop {
        let stored = stored_offsets(&runtime.pool, generation).await?;
        bar.set_position(stored.values().sum::<i64>().max(0) as u64);
        if share
            .iter()
            .all(|(key, target)| stored.get(key).copied().unwrap_or(0) >= *target)
        {
            return Ok(events);
        }
        events += consume(runtime, &consumer, &mut rewinds, generation, None).await?;
    }
}

/// Records applied per transaction at most while rebuilding: larger than a live batch, since a
/// batch's rows are written set-wise (a statement per table) and nothing waits on the new
/// generation until it is swapped in.
const REBUILD_BATCH: usize = 2_000;

/// Reads what is ready (waiting up to a second) and applies it to the new generation.
async fn consume(
    runtime: &Runtime,
    consumer: &StreamConsumer,
    rewinds: &mut Rewinds,
    generation: Generation,
    limits: Option<&HashMap<PartitionKey, i64>>,
) -> Result<usize, ProjectorError> {
    let mut stream = consumer.stream().ready_chunks(REBUILD_BATCH);
    let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await else {
        return Ok(0);
    };
    let messages = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
    let inbound: Vec<Inbound<'_>> = messages.iter().map(Inbound::from_message).collect();
    let mut db = runtime.pool.acquire().await?;
    let outcome = apply_batch(runtime, &mut db, generation, &inbound, limits, false).await?;
    runtime.metrics.record(generation.projection, &outcome);
    rewinds.progressed(outcome.next_offsets.keys());
    for (key, offset) in rewinds.plan(&outcome.rewind) {
        consumer.seek(
            &key.topic,
            key.partition,
            Offset::Offset(offset),
            Duration::from_secs(5),
        )?;
    }
    Ok(outcome.applied)
}

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

/// Row counts and per-row checksums, table by table; a description of each table that differs.
/// Each row's checksum is PostgreSQL's 64-bit hash of the whole row (`hash_record_extended`,
/// every column hashed by its type's hash function), hashed once more before a table's are
/// summed (the row hash mixes its columns' hashes linearly, so values swapped between rows
/// could cancel out in the sum). Neither side is sorted nor printed as text: the comparison
/// runs while the live projector waits on its offsets' lock, and the md5 of each row's text
/// took seconds per million rows.
async fn compare(
    db: &mut PgConnection,
    pool: &PgPool,
    live: Generation,
    new: Generation,
) -> Result<Vec<String>, ProjectorError> {
    let mut differences = Vec::new();
    for table in live.projection.tables() {
        // Identifiers come from fixed names and generation numbers: safe to splice.
        let (old, fresh) = (
            format!("{}.{table}", live.schema()),
            format!("{}.{table}", new.schema()),
        );
        let checksum = |t: &str| {
            format!(
                "SELECT count(*), coalesce(sum(hashint8extended(hash_record_extended(x, 0), 0)), 0)::text FROM {t} x"
            )
        };
        // The live side is summed in the locked snapshot; the rebuilt side, which nothing but
        // this rebuild writes and which holds everything it applied, on another connection at
        // the same time (the comparison of a million rows is then as long as one side's sum).
        let (old_sql, new_sql) = (checksum(&old), checksum(&fresh));
        let ((old_count, old_sum), (new_count, new_sum)): ((i64, String), (i64, String)) = tokio::try_join!(
            sqlx::query_as(&old_sql).fetch_one(&mut *db),
            sqlx::query_as(&new_sql).fetch_one(pool),
        )?;
        if old_count != new_count || old_sum != new_sum {
            // Rows of different shapes (a changed table) cannot be compared row by row; the
            // savepoint keeps that failure from aborting the transaction the swap needs.
            sqlx::query("SAVEPOINT compare_rows")
                .execute(&mut *db)
                .await?;
            let differing: Result<i64, sqlx::Error> = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM ((SELECT * FROM {old} EXCEPT SELECT * FROM {fresh}) UNION ALL (SELECT * FROM {fresh} EXCEPT SELECT * FROM {old})) d"
            ))
            .fetch_one(&mut *db)
            .await;
            let rows = match differing {
                Ok(count) => {
                    sqlx::query("RELEASE SAVEPOINT compare_rows")
                        .execute(&mut *db)
                        .await?;
                    format!("{count} rows differ")
                }
                // EXCEPT over different column counts (42601) or types (42804).
                Err(sqlx::Error::Database(error))
                    if matches!(error.code().as_deref(), Some("42601" | "42804")) =>
                {
                    sqlx::query("ROLLBACK TO SAVEPOINT compare_rows")
                        .execute(&mut *db)
                        .await?;
                    "the tables' columns differ".to_owned()
                }
                Err(other) => return Err(other.into()),
            };
            differences.push(format!(
                "{table}: live has {old_count} rows, rebuilt has {new_count}; {rows}"
            ));
        }
    }
    Ok(differences)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(topic: &str, partition: i32) -> PartitionKey {
        PartitionKey {
            topic: topic.to_owned(),
            partition,
        }
    }

    #[test]
    fn larger_histories_get_more_loaders_within_bounds() {
        assert_eq!(loaders(0), 2);
        assert_eq!(loaders(12_000), 2);
        assert_eq!(loaders(486_000), 2);
        assert_eq!(loaders(501_000), 3);
        assert_eq!(loaders(1_000_000), 4);
        assert_eq!(loaders(50_000_000), 4);
    }

    #[test]
    fn shares_hold_every_partition_once_with_records_balanced() {
        let targets: HashMap<PartitionKey, i64> = [
            (key("tasks", 0), 500),
            (key("tasks", 1), 480),
            (key("tasks", 2), 20),
            (key("billing", 0), 0),
            (key("conversations", 0), 510),
        ]
        .into_iter()
        .collect();
        let shares = shares(&targets, 2);
        assert_eq!(shares.len(), 2);
        let mut seen: Vec<PartitionKey> = shares.iter().flat_map(|s| s.keys().cloned()).collect();
        seen.sort();
        let mut all: Vec<PartitionKey> = targets.keys().cloned().collect();
        all.sort();
        assert_eq!(seen, all);
        let mut records: Vec<i64> = shares.iter().map(|s| s.values().sum()).collect();
        records.sort();
        // 510 and 500 open the two shares, 480 joins the lighter (500), 20 and 0 the other:
        // no split of these five has a smaller largest share.
        assert_eq!(records, vec![530, 980]);
    }

    #[test]
    fn fewer_partitions_than_loaders_leave_no_empty_share() {
        let targets: HashMap<PartitionKey, i64> = [(key("billing", 0), 7)].into_iter().collect();
        assert_eq!(shares(&targets, 2), vec![targets.clone()]);
    }
}
