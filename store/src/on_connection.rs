//! The event repository of one command: its load and its append on one connection.
//!
//! postgres-es takes a pool connection for every statement, and sqlx pings each one as it goes
//! back (see `connections`). A command loads, decides and appends: here both statements run on
//! the connection the command holds, with the same SQL and row mapping as postgres-es's reads
//! (the sequence bound as a parameter instead of formatted into the text, so the statement is
//! prepared once per connection rather than once per value).

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;
use sqlx::PgConnection;
use tokio::sync::Mutex;

use crate::event_repository::{persist, persistence, OutboxEventRepository};

const SELECT_EVENTS: &str = "
SELECT aggregate_id, sequence, aggregate_type, event_type, event_version, payload, metadata
  FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
  ORDER BY sequence";

const SELECT_SNAPSHOT: &str = "
SELECT aggregate_id, last_sequence, current_snapshot, payload
  FROM snapshots
  WHERE aggregate_type = $1 AND aggregate_id = $2";

type EventRow = (String, i64, String, String, String, Value, Value);

/// Reads and appends on one borrowed connection; replays (not part of a command) go to the
/// pool-backed repository.
pub(crate) struct ConnectionEventRepository<'c> {
    connection: Mutex<&'c mut PgConnection>,
    replays: &'c OutboxEventRepository,
}

impl<'c> ConnectionEventRepository<'c> {
    pub(crate) fn new(
        connection: &'c mut PgConnection,
        replays: &'c OutboxEventRepository,
    ) -> Self {
        Self {
            connection: Mutex::new(connection),
            replays,
        }
    }

    async fn events_after<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: i64,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let mut connection = self.connection.lock().await;
        let rows: Vec<EventRow> = sqlx::query_as(SELECT_EVENTS)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(after)
            .fetch_all(&mut **connection)
            .await
            .map_err(persistence)?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    aggregate_id,
                    sequence,
                    aggregate_type,
                    event_type,
                    event_version,
                    payload,
                    metadata,
                )| {
                    SerializedEvent::new(
                        aggregate_id,
                        sequence as usize,
                        aggregate_type,
                        event_type,
                        event_version,
                        payload,
                        metadata,
                    )
                },
            )
            .collect())
    }
}

impl PersistedEventRepository for ConnectionEventRepository<'_> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events_after::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events_after::<A>(aggregate_id, last_sequence as i64)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let mut connection = self.connection.lock().await;
        let row: Option<(String, i64, i64, Value)> = sqlx::query_as(SELECT_SNAPSHOT)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .fetch_optional(&mut **connection)
            .await
            .map_err(persistence)?;
        Ok(row.map(
            |(aggregate_id, last_sequence, current_snapshot, aggregate)| SerializedSnapshot {
                aggregate_id,
                aggregate,
                current_sequence: last_sequence as usize,
                current_snapshot: current_snapshot as usize,
            },
        ))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let mut connection = self.connection.lock().await;
        persist::<A>(&mut connection, events, snapshot_update).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.replays.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.replays.stream_all_events::<A>().await
    }
}
