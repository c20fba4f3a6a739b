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
    /// No connection could be had from the pool (it stayed busy past its acquire timeout, or
    /// it is closing): nothing was done; worth a retry shortly. A server that cannot be reached
    /// is a `Database` error.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("event store: {0}")]
    EventStore(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            unavailable @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => {
                Self::Unavailable(unavailable)
            }
            other => Self::Database(other),
        }
    }
}

impl From<cqrs_es::AggregateError<DomainError>> for StoreError {
    fn from(error: cqrs_es::AggregateError<DomainError>) -> Self {
        match error {
            cqrs_es::AggregateError::UserError(rejection) => Self::Rejected(rejection),
            cqrs_es::AggregateError::AggregateConflict => Self::Conflict,
            // The event repository reports a pool timeout as a connection error (see
            // `event_repository::persistence`); the sqlx error inside says which.
            cqrs_es::AggregateError::DatabaseConnectionError(cause) => {
                match cause.downcast::<sqlx::Error>() {
                    Ok(database) => Self::from(*database),
                    Err(other) => Self::EventStore(other.to_string()),
                }
            }
            other => Self::EventStore(other.to_string()),
        }
    }
}
