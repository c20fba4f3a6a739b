//! The messaging crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Schema(#[from] schemas::SchemaError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("outbox row {id} is unreadable: {reason}")]
    BadOutboxRow { id: i64, reason: String },
    #[error("the relay's acknowledger stopped: {0}")]
    Acknowledger(String),
    #[error("{failed} of {total} records were not acknowledged by the broker")]
    NotAcknowledged { failed: usize, total: usize },
}
