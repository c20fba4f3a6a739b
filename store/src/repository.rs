//! Loading aggregates and appending their events through cqrs-es's persisted event store.

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore};
use cqrs_es::EventStore;
use domain::Aggregate;

use crate::connections::WarmConnections;
use crate::event_repository::OutboxEventRepository;
use crate::on_connection::ConnectionEventRepository;
use crate::{CommandMetadata, Es, StoreError, Stored};

/// The result of an accepted command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The aggregate's version (its last event's sequence) after the command.
    pub version: u64,
}

/// Where a command's aggregate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A stored aggregate (or none yet): its stream is loaded first.
    Existing,
    /// An id this process just minted (a UUIDv7 for a create): it can have no events, so
    /// nothing is loaded. Were it ever taken, the append's key would refuse it as a conflict.
    Minted,
}

/// The event store of one aggregate type.
pub struct Repository<A: Aggregate> {
    connections: WarmConnections,
    /// For the replays.
    replays: OutboxEventRepository,
    /// `Some(n)`: snapshotted every n events, for aggregates with long streams.
    events_per_snapshot: Option<usize>,
    aggregate: std::marker::PhantomData<fn() -> A>,
}

impl<A: Aggregate> Repository<A> {
    /// Event-sourced: every load replays the whole stream.
    pub fn new(connections: &WarmConnections) -> Self {
        Self::with_snapshots(connections, None)
    }

    /// Snapshotted every `events_per_snapshot` events, for aggregates with long streams.
    pub fn snapshotting(connections: &WarmConnections, events_per_snapshot: usize) -> Self {
        Self::with_snapshots(connections, Some(events_per_snapshot))
    }

    fn with_snapshots(connections: &WarmConnections, events_per_snapshot: Option<usize>) -> Self {
        Self {
            connections: connections.clone(),
            replays: OutboxEventRepository::new(connections.pool().clone()),
            events_per_snapshot,
            aggregate: std::marker::PhantomData,
        }
    }

    /// The aggregate and its version (0 when it has no events).
    ///
    /// # Errors
    /// On database failure or an unreadable stream.
    pub async fn load(&self, id: &str) -> Result<(A, u64), StoreError> {
        // On a kept connection, like a command's load: no ping on the way back, and no pool
        // slot taken beside the kept ones.
        let mut connection = self.connections.acquire().await?;
        let repo = ConnectionEventRepository::new(&mut connection, &self.replays);
        let context: EventStoreAggregateContext<Es<A>> =
            event_store(repo, self.events_per_snapshot)
                .load_aggregate(id)
                .await?;
        connection.finish();
        Ok((context.aggregate.0, context.current_sequence as u64))
    }

    /// Decides the command on the current state and appends the events, with their outbox
    /// rows and idempotency key, in one transaction. The load and the append run on one
    /// connection, kept for the next command when both went through.
    ///
    /// # Errors
    /// A rejection, a version mismatch (`expected_version`), a conflict with a concurrent
    /// write, or a database failure.
    #[tracing::instrument(skip_all, fields(aggregate_type = A::TYPE, aggregate_id = id))]
    pub async fn execute(
        &self,
        id: &str,
        target: Target,
        command: A::Command,
        expected_version: Option<u64>,
        metadata: CommandMetadata,
    ) -> Result<Committed, StoreError> {
        let mut connection = self.connections.acquire().await?;
        let repo = ConnectionEventRepository::new(&mut connection, &self.replays);
        let store = event_store(repo, self.events_per_snapshot);
        let context: EventStoreAggregateContext<Es<A>> = match target {
            Target::Existing => store.load_aggregate(id).await?,
            Target::Minted => EventStoreAggregateContext {
                aggregate_id: id.to_owned(),
                aggregate: Es::default(),
                current_sequence: 0,
                current_snapshot: None,
            },
        };
        let current = context.current_sequence as u64;
        let decided = match expected_version.filter(|expected| *expected != current) {
            Some(expected) => Err(StoreError::VersionMismatch { expected, current }),
            // Decide on an unmodified state: the snapshot store applies the new events to the
            // loaded state itself when it writes a snapshot, so the state must not have seen
            // them yet (cqrs-es's own `EventSink` would apply them twice).
            None => context
                .aggregate
                .0
                .execute(&metadata.tenant, command)
                .map_err(StoreError::from),
        };
        let events = match decided {
            Ok(events) => events,
            Err(refused) => {
                // Only the load ran, and it went through: the connection is as good as new.
                drop(store);
                connection.finish();
                return Err(refused);
            }
        };
        let count = events.len() as u64;
        let stored = events.into_iter().map(Stored).collect();
        store.commit(stored, context, metadata.into_map()).await?;
        drop(store);
        connection.finish();
        Ok(Committed {
            version: current + count,
        })
    }
}

/// cqrs-es's event store over `repo`, snapshotting every n events when `Some(n)`.
fn event_store<R: PersistedEventRepository, A: Aggregate>(
    repo: R,
    events_per_snapshot: Option<usize>,
) -> PersistedEventStore<R, Es<A>> {
    match events_per_snapshot {
        Some(every) => PersistedEventStore::new_snapshot_store(repo, every),
        None => PersistedEventStore::new_event_store(repo),
    }
}
