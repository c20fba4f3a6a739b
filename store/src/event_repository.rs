//! postgres-es's event repository, with the append replaced by one that writes the outbox
//! rows in the same statement.
//!
//! The choice was a trigger or a wrapped repository. The wrapper wins: postgres-es
//! appends with `BEGIN`, one `INSERT` per event and `COMMIT` (a round trip each), and a
//! PL/pgSQL trigger then added every outbox row one by one. Here a command's events and their
//! outbox rows are one statement (a data-modifying CTE), which PostgreSQL runs atomically in
//! its own implicit transaction: the event rows and outbox rows commit together or not at all,
//! as before, in a single round trip. Only an append that also writes a snapshot needs an
//! explicit transaction. Reads stay postgres-es's own.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

/// The event store's repository: postgres-es reads, appends with their outbox rows.
pub struct OutboxEventRepository {
    reads: PostgresEventRepository,
    pool: PgPool,
}

impl OutboxEventRepository {
    pub fn new(pool: PgPool) -> Self {
        Self {
            reads: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }
}

/// A command's events and their outbox rows in one statement. The outbox ids are taken in
/// sequence order, which is the order the relay publishes an aggregate's events in.
const APPEND: &str = "
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload::json, metadata::json
    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS e(aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    RETURNING aggregate_type, aggregate_id, sequence
)
INSERT INTO outbox (aggregate_type, aggregate_id, sequence)
SELECT aggregate_type, aggregate_id, sequence FROM appended ORDER BY sequence";

async fn append<A: Aggregate>(
    db: &mut PgConnection,
    events: &[SerializedEvent],
) -> Result<(), PersistenceError> {
    let mut types = Vec::with_capacity(events.len());
    let mut ids = Vec::with_capacity(events.len());
    let mut sequences = Vec::with_capacity(events.len());
    let mut event_types = Vec::with_capacity(events.len());
    let mut versions = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    let mut metadata = Vec::with_capacity(events.len());
    for event in events {
        types.push(A::TYPE);
        ids.push(event.aggregate_id.as_str());
        sequences.push(event.sequence as i64);
        event_types.push(event.event_type.as_str());
        versions.push(event.event_version.as_str());
        payloads.push(serde_json::to_string(&event.payload).map_err(unknown)?);
        metadata.push(serde_json::to_string(&event.metadata).map_err(unknown)?);
    }
    sqlx::query(APPEND)
        .bind(types)
        .bind(ids)
        .bind(sequences)
        .bind(event_types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .execute(db)
        .await
        .map_err(persistence)?;
    Ok(())
}

/// As postgres-es maps them: a unique violation (another writer took the sequence, or the
/// idempotency-key trigger refused a used key) is an optimistic-lock conflict.
pub(crate) fn persistence(error: sqlx::Error) -> PersistenceError {
    match &error {
        sqlx::Error::Database(database) if database.code().as_deref() == Some("23505") => {
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            PersistenceError::ConnectionError(Box::new(error))
        }
        _ => PersistenceError::UnknownError(Box::new(error)),
    }
}

fn unknown(error: serde_json::Error) -> PersistenceError {
    PersistenceError::UnknownError(Box::new(error))
}

/// Appends a command's events with their outbox rows, and the snapshot when one is due.
pub(crate) async fn persist<A: Aggregate>(
    db: &mut PgConnection,
    events: &[SerializedEvent],
    snapshot_update: Option<(String, Value, usize)>,
) -> Result<(), PersistenceError> {
    let Some((aggregate_id, snapshot, current_snapshot)) = snapshot_update else {
        return append::<A>(db, events).await;
    };
    let last_sequence = events.last().map_or(0, |e| e.sequence) as i64;
    let mut tx = sqlx::Connection::begin(&mut *db)
        .await
        .map_err(persistence)?;
    append::<A>(&mut tx, events).await?;
    // The snapshot as postgres-es writes it; a concurrent writer that moved it on first
    // makes this update miss, which is a conflict (the transaction then rolls back).
    let written = if current_snapshot == 1 {
        sqlx::query(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(A::TYPE)
        .bind(&aggregate_id)
        .bind(last_sequence)
        .bind(current_snapshot as i64)
        .bind(&snapshot)
        .execute(&mut *tx)
        .await
    } else {
        sqlx::query(
            "UPDATE snapshots SET last_sequence = $3, payload = $6, current_snapshot = $4
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $5",
        )
        .bind(A::TYPE)
        .bind(&aggregate_id)
        .bind(last_sequence)
        .bind(current_snapshot as i64)
        .bind(current_snapshot as i64 - 1)
        .bind(&snapshot)
        .execute(&mut *tx)
        .await
    }
    .map_err(persistence)?;
    if written.rows_affected() != 1 {
        return Err(PersistenceError::OptimisticLockError);
    }
    tx.commit().await.map_err(persistence)?;
    Ok(())
}

impl PersistedEventRepository for OutboxEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let mut db = self.pool.acquire().await.map_err(persistence)?;
        persist::<A>(&mut db, events, snapshot_update).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
