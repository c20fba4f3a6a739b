//! One batch: read-model changes, offsets and dead letters in ONE transaction.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use chrono::{DateTime, Utc};

use rdkafka::message::{BorrowedMessage, Headers, Message};
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use tracing::Instrument as _;
use uuid::Uuid;

use super::dead_letters::{record_dead_letters, DeadLetter};
use messaging::consumer::{OffsetTracker, Position};

use super::offsets::{lock_offsets, save_offsets, PartitionKey};
use super::Runtime;
use crate::projections;
use crate::{Generation, ProjectorError};

/// A consumed record, borrowed from the consumer's message for as long as its batch is
/// applied: nothing is copied per record, and the headers, which only a dead letter needs, are
/// read (librdkafka parses them on first access) only then.
#[derive(Debug, Clone)]
pub struct Inbound<'m> {
    pub key: PartitionKey,
    pub offset: i64,
    pub record_key: Option<&'m [u8]>,
    pub payload: &'m [u8],
    /// Where the headers come from: the consumed message, or none (a dead letter re-applied
    /// from the table).
    pub message: Option<&'m BorrowedMessage<'m>>,
}

impl<'m> Inbound<'m> {
    pub fn from_message(message: &'m BorrowedMessage<'m>) -> Self {
        Self {
            key: PartitionKey {
                topic: message.topic().to_owned(),
                partition: message.partition(),
            },
            offset: message.offset(),
            record_key: message.key(),
            payload: message.payload().unwrap_or_default(),
            message: Some(message),
        }
    }

    /// The record's headers as text (values read as UTF-8, lossily).
    pub fn headers(&self) -> Vec<(String, String)> {
        let Some(headers) = self.message.and_then(Message::headers) else {
            return Vec::new();
        };
        headers
            .iter()
            .map(|h| {
                (
                    h.key.to_owned(),
                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                )
            })
            .collect()
    }
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub applied: usize,
    /// Already applied (offset below the stored one, or an aggregate version seen before).
    pub skipped: usize,
    pub dead_letters: usize,
    /// When each applied event occurred (its metadata's time), for the projection's delay
    /// histogram; live batches only (a rebuild's events are old by design).
    pub occurred_at: Vec<DateTime<Utc>>,
    pub next_offsets: HashMap<PartitionKey, i64>,
    /// Partitions whose records started after the stored offset (the consumer was positioned
    /// past records never applied): nothing of them was applied; seek back to the offset.
    pub rewind: HashMap<PartitionKey, i64>,
}

/// Applies a batch to `generation`. `until` (rebuild) excludes records at or beyond the
/// given offsets; `live` is false for a rebuild, whose batches neither trace their events nor
/// wake read-your-writes waits (a notifying commit serialises with every other notifying
/// commit). A record failing to apply is retried alone inside a savepoint; if it still fails
/// it becomes a dead letter and the batch goes on.
///
/// # Errors
/// On database failure (nothing of the batch is then committed).
pub async fn apply_batch(
    runtime: &Runtime,
    db: &mut PgConnection,
    generation: Generation,
    batch: &[Inbound<'_>],
    until: Option<&HashMap<PartitionKey, i64>>,
    live: bool,
) -> Result<BatchOutcome, ProjectorError> {
    let batch: Vec<&Inbound<'_>> = batch
        .iter()
        .filter(|r| {
            until.is_none_or(|limits| limits.get(&r.key).is_some_and(|limit| r.offset < *limit))
        })
        .collect();
    let decoded = decode(runtime, batch.iter().map(|r| r.payload)).await?;
    let decoded: Vec<&Decoded> = decoded.iter().collect();
    apply_decoded_batch(db, generation, &batch, &decoded, live).await
}

/// Decodes each record's payload (a record that cannot be decoded becomes its error, for its
/// dead letter).
///
/// # Errors
/// When the schema registry cannot be reached: the batch is tried again, nothing is
/// dead-lettered.
pub async fn decode<'p>(
    runtime: &Runtime,
    payloads: impl ExactSizeIterator<Item = &'p [u8]>,
) -> Result<Vec<Decoded>, ProjectorError> {
    let mut decoded = Vec::with_capacity(payloads.len());
    for payload in payloads {
        match runtime.codec.decode(payload).await {
            // The registry is down, not the record broken: retry the batch, dead-letter nothing.
            Err(error) if error.is_transient() => return Err(error.into()),
            other => decoded.push(other.map_err(|e| e.to_string())),
        }
    }
    Ok(decoded)
}

/// Applies a batch already decoded ([`decode`]; `decoded[i]` is `batch[i]`'s), as
/// [`apply_batch`] does: a rebuild of several projections decodes each record once for all.
///
/// # Errors
/// On database failure (nothing of the batch is then committed).
pub async fn apply_decoded_batch(
    db: &mut PgConnection,
    generation: Generation,
    batch: &[&Inbound<'_>],
    decoded: &[&Decoded],
    live: bool,
) -> Result<BatchOutcome, ProjectorError> {
    // Batches of different partitions can share a row (a usage day gets messages and tasks),
    // so two of them may deadlock: that is the moment's fault, not a record's, and the whole
    // batch is tried again (nothing of the losing attempt was committed).
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_max_times(5)
        .build();
    loop {
        let attempt = match apply_decoded(&mut *db, generation, batch, decoded, false, live).await {
            Err(ProjectorError::Database(error)) if is_apply_error(&error) => {
                // Some record broke a constraint: isolate records so only the culprit is dead-lettered.
                apply_decoded(&mut *db, generation, batch, decoded, true, live).await
            }
            other => other,
        };
        match attempt {
            Err(error) if is_conflict(&error) => {
                let Some(after) = delays.next() else {
                    return Err(error);
                };
                tracing::warn!(projection = %generation.projection, %error, ?after, "batch conflicted with another transaction; trying it again");
                tokio::time::sleep(after).await;
            }
            other => return other,
        }
    }
}

/// A change the database refused because of the record (a constraint, an encoding), as
/// opposed to a conflict with another transaction, a generation dropped by a rebuild's swap
/// (undefined table or schema: the runner restarts on the new one) or a failure of the
/// database itself.
fn is_apply_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(error) => {
            let code = error.code();
            !(is_conflict_code(code.as_deref()) || is_generation_dropped_code(code.as_deref()))
        }
        sqlx::Error::Encode(_) => true,
        _ => false,
    }
}

/// The generation's tables or schema are gone: a rebuild swapped another one in and dropped
/// this one after its readers' transactions ended.
pub(crate) fn is_generation_dropped(error: &ProjectorError) -> bool {
    matches!(error, ProjectorError::Database(sqlx::Error::Database(error)) if is_generation_dropped_code(error.code().as_deref()))
}

/// undefined_table and invalid_schema_name: what a statement on a dropped generation gets.
pub fn is_generation_dropped_code(code: Option<&str>) -> bool {
    matches!(code, Some("42P01" | "3F000"))
}

fn is_conflict(error: &ProjectorError) -> bool {
    matches!(error, ProjectorError::Database(sqlx::Error::Database(error)) if is_conflict_code(error.code().as_deref()))
}

/// deadlock_detected and serialization_failure.
fn is_conflict_code(code: Option<&str>) -> bool {
    matches!(code, Some("40P01" | "40001"))
}

/// A record decoded, or why it could not be.
pub type Decoded = Result<(EventMetadata, AnyEvent), String>;

async fn apply_decoded(
    db: &mut PgConnection,
    generation: Generation,
    batch: &[&Inbound<'_>],
    decoded: &[&Decoded],
    isolate: bool,
    live: bool,
) -> Result<BatchOutcome, ProjectorError> {
    let mut tx = sqlx::Connection::begin_with(db, begin_batch(generation, live)).await?;
    let partitions: Vec<PartitionKey> = batch
        .iter()
        .map(|r| r.key.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let stored = lock_offsets(&mut tx, generation, &partitions).await?;
    let mut outcome = BatchOutcome::default();
    let mut dead = Vec::new();
    // Fast path: the applied versions of the batch's aggregates in one query, saved in one.
    let mut versions = if isolate {
        HashMap::new()
    } else {
        applied_versions(&mut tx, decoded).await?
    };
    let mut advanced = HashMap::new();
    // The fast path folds the batch's events per row and writes them set-wise after the loop.
    let mut changes = projections::Changes::new(generation.projection);
    let mut tracker = OffsetTracker::new(&stored);
    for (record, decoded) in batch.iter().zip(decoded) {
        match tracker.place(&record.key, record.offset) {
            Position::Next => {}
            Position::Applied => {
                outcome.skipped += 1;
                continue;
            }
            Position::Gap(_) => continue,
        }
        let (meta, event) = match decoded {
            Ok(pair) => pair,
            Err(error) => {
                dead.push(DeadLetter::of(record, format!("cannot decode: {error}")));
                continue;
            }
        };
        if !isolate {
            let applied = versions.entry(meta.aggregate_id).or_insert(0);
            if meta.sequence <= *applied {
                outcome.skipped += 1;
            } else {
                let apply = changes.add(&mut tx, meta, event);
                if live {
                    let span = event_span(generation, meta);
                    apply.instrument(span.clone()).await?;
                    tracing::debug!(parent: &span, "event projected");
                } else {
                    apply.await?;
                }
                *applied = meta.sequence;
                advanced.insert(meta.aggregate_id, (meta.tenant_id.clone(), meta.sequence));
                outcome.applied += 1;
                if live {
                    outcome.occurred_at.push(meta.occurred_at);
                }
            }
            continue;
        }
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match apply_record(&mut savepoint, generation, meta, event).await {
            Ok(fresh) => {
                savepoint.commit().await?;
                if fresh {
                    outcome.applied += 1;
                    if live {
                        outcome.occurred_at.push(meta.occurred_at);
                    }
                } else {
                    outcome.skipped += 1
                }
            }
            Err(ProjectorError::Database(error)) if is_apply_error(&error) => {
                savepoint.rollback().await?;
                dead.push(DeadLetter::of(
                    record,
                    format!("cannot apply {}: {error}", meta.event_type),
                ));
            }
            Err(other) => return Err(other),
        }
    }
    changes.write(&mut tx).await?;
    (outcome.next_offsets, outcome.rewind) = tracker.finish();
    save_versions(&mut tx, &advanced).await?;
    save_offsets(&mut tx, generation, &outcome.next_offsets).await?;
    outcome.dead_letters = record_dead_letters(&mut tx, generation.projection, &dead).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// `BEGIN` and the batch's settings, sent as one simple query (one round trip instead of
/// three):
/// - the generation's tables for unqualified names;
/// - for a live batch, `synchronous_commit = off` for this transaction: the read model and
///   the offsets it reflects commit together, so a PostgreSQL crash can only lose a suffix of whole batches,
///   rows and offsets alike, and those records are consumed again from the offsets that
///   survived. A commit that waits for its WAL flush also holds PostgreSQL's lock for
///   notifying transactions all that time, so the projections' commits queued behind each
///   other's flushes;
/// - for a live batch, the query API's wake-up for read-your-writes waits (delivered only if
///   the batch commits; one that applied nothing wakes a check that finds nothing new). A
///   rebuild's generation is not read until it is swapped in, so its batches do not notify,
///   and its large batches, which amortise their flush, keep the default commit (committed
///   asynchronously they were not faster in bench rebuild).
///
/// Only fixed text goes into it: the schema name is `[a-z0-9_]` (see `Generation::schema`)
/// and the projection's name one of a fixed set.
fn begin_batch(generation: Generation, live: bool) -> String {
    let live_only = if live {
        format!(
            ", set_config('synchronous_commit', 'off', true), pg_notify('projection_progress', '{}')",
            generation.projection.as_str()
        )
    } else {
        String::new()
    };
    format!(
        "BEGIN; SELECT set_config('search_path', '{}', true){live_only}",
        generation.schema()
    )
}

/// A span continuing the trace of the request that produced the event.
fn event_span(generation: Generation, meta: &EventMetadata) -> tracing::Span {
    let span = tracing::info_span!(
        "project",
        projection = %generation.projection,
        event_type = %meta.event_type,
        aggregate_id = %meta.aggregate_id,
        sequence = meta.sequence,
        trace_id = tracing::field::Empty,
    );
    platform::trace::continue_trace_and_name_it(&span, meta.traceparent.as_deref());
    span
}

/// The versions already applied for the aggregates of a batch, locked until commit.
async fn applied_versions(
    db: &mut PgConnection,
    decoded: &[&Decoded],
) -> Result<HashMap<Uuid, i64>, ProjectorError> {
    let ids: Vec<Uuid> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok().map(|(meta, _)| meta.aggregate_id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT aggregate_id, version FROM stream_versions WHERE aggregate_id = ANY($1) ORDER BY aggregate_id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn save_versions(
    db: &mut PgConnection,
    advanced: &HashMap<Uuid, (String, i64)>,
) -> Result<(), ProjectorError> {
    if advanced.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(advanced.len());
    let mut tenants = Vec::with_capacity(advanced.len());
    let mut versions = Vec::with_capacity(advanced.len());
    for (id, (tenant, version)) in advanced {
        ids.push(*id);
        tenants.push(tenant.as_str());
        versions.push(*version);
    }
    sqlx::query(
        "INSERT INTO stream_versions (aggregate_id, tenant_id, version)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
         ON CONFLICT (aggregate_id) DO UPDATE SET version = EXCLUDED.version
         WHERE stream_versions.version < EXCLUDED.version",
    )
    .bind(ids)
    .bind(tenants)
    .bind(versions)
    .execute(db)
    .await?;
    Ok(())
}

/// Applies an event unless its aggregate already reached that version; true when applied.
///
/// # Errors
/// When the projection's change fails.
pub async fn apply_record(
    db: &mut PgConnection,
    generation: Generation,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<bool, ProjectorError> {
    let fresh: Option<i32> = sqlx::query_scalar(
        "INSERT INTO stream_versions (aggregate_id, tenant_id, version) VALUES ($1, $2, $3)
         ON CONFLICT (aggregate_id) DO UPDATE SET version = EXCLUDED.version
         WHERE stream_versions.version < EXCLUDED.version
         RETURNING 1",
    )
    .bind(meta.aggregate_id)
    .bind(&meta.tenant_id)
    .bind(meta.sequence)
    .fetch_optional(&mut *db)
    .await?;
    if fresh.is_none() {
        return Ok(false);
    }
    projections::apply(generation.projection, db, meta, event).await?;
    Ok(true)
}
