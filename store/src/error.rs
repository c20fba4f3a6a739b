//! The store's one error type: rejections and conflicts kept apart from failures.

use domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The domain refused the command.
    #[error(transparent)]
    Rejected(#[from] DomainError),
    /// `If-Match` named another version than the stored one.
    #[error("expected version {expected}, current version is {current}")]
    VersionMismatch { expected: u64, current: u64 },
    /// Another write to the same aggregate (or with the same idempotency key) won the race.
    #[error("concurrent write to the same aggregate or idempotency key")]
    Conflict,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("event store: {0}")]
    EventStore(String),
}

impl From<cqrs_es::AggregateError<DomainError>> for StoreError {
    fn from(error: cqrs_es::AggregateError<DomainError>) -> Self {
        match error {
            cqrs_es::AggregateError::UserError(rejection) => Self::Rejected(rejection),
            cqrs_es::AggregateError::AggregateConflict => Self::Conflict,
            other => Self::EventStore(other.to_string()),
        }
    }
}
