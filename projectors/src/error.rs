//! The projectors crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Schema(#[from] schemas::SchemaError),
    #[error("unknown projection '{0}' (agents, tasks, conversations, billing, usage, audit)")]
    UnknownProjection(String),
    #[error("projection {0} has no live generation yet")]
    NotBuilt(String),
    #[error("rebuild check failed: {0}")]
    CheckFailed(String),
}
