//! Queries the outbox relay runs: read the oldest rows with their events, delete acknowledged
//! ones, park the ones that can never be published (and re-queue them for an operator).

use sqlx::pool::PoolConnection;
use sqlx::{PgExecutor, PgPool, Postgres};

use crate::StoreError;

/// The channel the relay listens on: the command-api notifies it after commits that its own
/// relay does not lead (messaging's `OutboxSignal`).
pub const OUTBOX_CHANNEL: &str = "agenthub_outbox";

/// One event waiting to be published.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The stored event's JSON, as text: the relay reads it straight into the domain type
    /// (no `serde_json::Value` tree per row).
    pub payload: String,
    /// The stored metadata's JSON object (string values), as text.
    pub metadata: String,
    /// When the event was committed, for the commit → publish latency.
    pub enqueued_at: chrono::DateTime<chrono::Utc>,
}

/// An event the relay set aside because it could never be published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParkedRow {
    pub id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub enqueued_at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
    pub parked_at: chrono::DateTime<chrono::Utc>,
}

/// Access to the outbox table.
#[derive(Clone)]
pub struct OutboxBatch {
    pool: PgPool,
}

impl OutboxBatch {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The oldest `limit` rows, in commit order of each aggregate, leaving out `excluding` (the
    /// relay's records that still await the broker's acknowledgement) and every row of an
    /// aggregate with a parked event (its later events wait for the parked one).
    ///
    /// # Errors
    /// On database failure.
    pub async fn oldest(
        &self,
        limit: i64,
        excluding: &[i64],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Self::oldest_on(&self.pool, limit, excluding).await
    }

    /// [`Self::oldest`] on a given connection (the relay reads on its leadership session).
    ///
    /// # Errors
    /// On database failure.
    pub async fn oldest_on<'c>(
        db: impl PgExecutor<'c>,
        limit: i64,
        excluding: &[i64],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            // The batch comes from the outbox's primary key, then each event by the events'
            // primary key: a plan that stays fast without table statistics. A plain join
            // turned into a hash join over all events when autovacuum never ran, and so did
            // this lateral subquery without its `LIMIT 1` (the planner merged it into the join
            // and, guessing the outbox's rows from its pages, dead ones included, chose a
            // sequential scan of `events` for every read; `LIMIT 1` keeps it a probe per row).
            // The excluded rows are left out before the join, so rows in flight cost no event
            // read.
            "SELECT o.id, o.aggregate_type, o.aggregate_id, o.sequence, e.event_type,
                    e.event_version, e.payload::text AS payload, e.metadata::text AS metadata,
                    o.enqueued_at
             FROM (SELECT * FROM outbox
                   WHERE id <> ALL($2)
                     AND NOT EXISTS (SELECT 1 FROM outbox_parked p
                                     WHERE p.aggregate_type = outbox.aggregate_type
                                       AND p.aggregate_id = outbox.aggregate_id)
                   ORDER BY id LIMIT $1) o
             CROSS JOIN LATERAL (
                 SELECT event_type, event_version, payload, metadata FROM events
                 WHERE aggregate_type = o.aggregate_type AND aggregate_id = o.aggregate_id
                   AND sequence = o.sequence
                 LIMIT 1
             ) e
             ORDER BY o.id",
        )
        .bind(limit)
        .bind(excluding)
        .fetch_all(db)
        .await?)
    }

    /// Removes rows the broker acknowledged.
    ///
    /// # Errors
    /// On database failure.
    pub async fn acknowledge(&self, ids: &[i64]) -> Result<(), StoreError> {
        Self::acknowledge_on(&self.pool, ids).await
    }

    /// [`Self::acknowledge`] on a given connection (the relay's acknowledger keeps one).
    ///
    /// # Errors
    /// On database failure.
    pub async fn acknowledge_on<'c>(
        db: impl PgExecutor<'c>,
        ids: &[i64],
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(db)
            .await?;
        Ok(())
    }

    /// A connection of the outbox's pool to keep for a stream of statements: sqlx 0.8 pings
    /// every connection returned to its pool, a round trip per statement otherwise.
    ///
    /// # Errors
    /// When no connection can be had.
    pub async fn connection(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Moves a row that can never be published out of the outbox, with the reason; false when
    /// it is not in the outbox (any more).
    ///
    /// # Errors
    /// On database failure.
    pub async fn park(&self, id: i64, reason: &str) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "WITH moved AS (DELETE FROM outbox WHERE id = $1 RETURNING *)
             INSERT INTO outbox_parked (id, aggregate_type, aggregate_id, sequence, enqueued_at, reason)
             SELECT id, aggregate_type, aggregate_id, sequence, enqueued_at, $2 FROM moved",
        )
        .bind(id)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// The oldest `limit` parked events.
    ///
    /// # Errors
    /// On database failure.
    pub async fn parked(&self, limit: i64) -> Result<Vec<ParkedRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, aggregate_type, aggregate_id, sequence, enqueued_at, reason, parked_at
             FROM outbox_parked ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Puts a parked event back into the outbox under its id (ahead of its aggregate's later
    /// events); false when no such event is parked. The relay tries it again at once (and
    /// parks it again if the cause was not fixed).
    ///
    /// # Errors
    /// On database failure.
    pub async fn requeue(&self, id: i64) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "WITH moved AS (DELETE FROM outbox_parked WHERE id = $1 RETURNING *)
             INSERT INTO outbox (id, aggregate_type, aggregate_id, sequence, enqueued_at)
             SELECT id, aggregate_type, aggregate_id, sequence, enqueued_at FROM moved",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// Puts every parked event back into the outbox under its id; how many. The relay does
    /// this once per leadership term: a newer release may publish what an older leader could
    /// not (an event type it did not know yet, during a rolling deploy).
    ///
    /// # Errors
    /// On database failure.
    pub async fn requeue_all(&self) -> Result<u64, StoreError> {
        let moved = sqlx::query(
            "WITH moved AS (DELETE FROM outbox_parked RETURNING *)
             INSERT INTO outbox (id, aggregate_type, aggregate_id, sequence, enqueued_at)
             SELECT id, aggregate_type, aggregate_id, sequence, enqueued_at FROM moved",
        )
        .execute(&self.pool)
        .await?;
        Ok(moved.rows_affected())
    }

    /// Reclaims the deleted rows' space and index entries. The outbox is a queue: every row is
    /// deleted minutes or milliseconds after its insert, and until a vacuum the relay's read
    /// steps over every dead index entry from the start of the table (33 ms per read at 500
    /// commands/s after 50,000 deletes, measured; autovacuum's defaults wait for 20 % dead rows,
    /// and may be off). `SKIP_LOCKED` makes it a no-op while another vacuum runs; `TRUNCATE
    /// false` keeps it from taking the exclusive lock that shrinking the file needs (which would
    /// stall the commands' inserts for a moment); the freed space is reused anyway.
    ///
    /// # Errors
    /// On database failure.
    pub async fn vacuum(&self) -> Result<(), StoreError> {
        sqlx::query("VACUUM (SKIP_LOCKED, TRUNCATE false) outbox")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many events wait to be published.
    ///
    /// # Errors
    /// On database failure.
    pub async fn backlog(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?)
    }
}
