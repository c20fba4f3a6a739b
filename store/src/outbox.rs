//! Queries the outbox relay runs: read the oldest rows with their events, delete acknowledged ones.

use serde_json::Value as Json;
use sqlx::PgPool;

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
    pub payload: Json,
    pub metadata: Json,
    /// When the event was committed, for the commit → publish latency.
    pub enqueued_at: chrono::DateTime<chrono::Utc>,
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
    /// relay's records that still await the broker's acknowledgement).
    ///
    /// # Errors
    /// On database failure.
    pub async fn oldest(
        &self,
        limit: i64,
        excluding: &[i64],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            // The batch comes from the outbox's primary key, then each event by the events'
            // primary key: a plan that stays fast without table statistics (a plain join
            // turned into a hash join over all events when autovacuum never ran). The excluded
            // rows are left out before the join, so rows in flight cost no event read.
            "SELECT o.id, o.aggregate_type, o.aggregate_id, o.sequence, e.event_type,
                    e.event_version, e.payload, e.metadata, o.enqueued_at
             FROM (SELECT * FROM outbox WHERE id <> ALL($2) ORDER BY id LIMIT $1) o
             CROSS JOIN LATERAL (
                 SELECT event_type, event_version, payload, metadata FROM events
                 WHERE aggregate_type = o.aggregate_type AND aggregate_id = o.aggregate_id
                   AND sequence = o.sequence
             ) e
             ORDER BY o.id",
        )
        .bind(limit)
        .bind(excluding)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes rows the broker acknowledged.
    ///
    /// # Errors
    /// On database failure.
    pub async fn acknowledge(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await?;
        Ok(())
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
