//! Loading aggregates and appending their events through postgres-es.

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::EventStore;
use domain::Aggregate;
use sqlx::PgPool;

use crate::event_repository::OutboxEventRepository;
use crate::{CommandMetadata, Es, StoreError, Stored};

/// The result of an accepted command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The aggregate's version (its last event's sequence) after the command.
    pub version: u64,
}

/// The event store of one aggregate type.
pub struct Repository<A: Aggregate> {
    store: PersistedEventStore<OutboxEventRepository, Es<A>>,
}

impl<A: Aggregate> Repository<A> {
    /// Event-sourced: every load replays the whole stream.
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: PersistedEventStore::new_event_store(OutboxEventRepository::new(pool)),
        }
    }

    /// Snapshotted every `events_per_snapshot` events, for aggregates with long streams.
    pub fn snapshotting(pool: PgPool, events_per_snapshot: usize) -> Self {
        let repo = OutboxEventRepository::new(pool);
        Self {
            store: PersistedEventStore::new_snapshot_store(repo, events_per_snapshot),
        }
    }

    /// The aggregate and its version (0 when it has no events).
    ///
    /// # Errors
    /// On database failure or an unreadable stream.
    pub async fn load(&self, id: &str) -> Result<(A, u64), StoreError> {
        let context = self.store.load_aggregate(id).await?;
        Ok((context.aggregate.0, context.current_sequence as u64))
    }

    /// Decides the command on the current state and appends the events, with their outbox
    /// rows and idempotency key, in one transaction.
    ///
    /// # Errors
    /// A rejection, a version mismatch (`expected_version`), a conflict with a concurrent
    /// write, or a database failure.
    #[tracing::instrument(skip_all, fields(aggregate_type = A::TYPE, aggregate_id = id))]
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        expected_version: Option<u64>,
        metadata: CommandMetadata,
    ) -> Result<Committed, StoreError> {
        let context = self.store.load_aggregate(id).await?;
        let current = context.current_sequence as u64;
        if let Some(expected) = expected_version.filter(|expected| *expected != current) {
            return Err(StoreError::VersionMismatch { expected, current });
        }
        // Decide on an unmodified state: postgres-es's snapshot store applies the new events
        // to the loaded state itself when it writes a snapshot, so the state must not have
        // seen them yet (cqrs-es's own `EventSink` would apply them twice).
        let events = context.aggregate.0.execute(&metadata.tenant, command)?;
        let count = events.len() as u64;
        let stored = events.into_iter().map(Stored).collect();
        self.store
            .commit(stored, context, metadata.into_map())
            .await?;
        Ok(Committed {
            version: current + count,
        })
    }
}
