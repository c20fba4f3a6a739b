//! PostgreSQL for the write side: the postgres-es event store, the transactional outbox
//! (written with the events, in the same statement) and idempotency keys.

mod aggregate;
mod connections;
mod database;
mod error;
mod event_repository;
mod idempotency;
mod metadata;
mod on_connection;
mod outbox;
mod repository;

pub use aggregate::{Es, Stored};
pub use connections::{WarmConnection, WarmConnections, RETURN_AFTER_IDLE};
pub use database::{connect, connect_planning, create_database_if_missing, migrate, Planning};
pub use error::StoreError;
pub use event_repository::OutboxEventRepository;
pub use idempotency::{find_idempotent, IdempotentAnswer};
pub use metadata::CommandMetadata;
pub use outbox::{OutboxBatch, OutboxRow, ParkedRow, OUTBOX_CHANNEL};
pub use repository::{Committed, Repository, Target};
