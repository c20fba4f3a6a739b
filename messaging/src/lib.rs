//! Kafka for the platform: the idempotent producer, topic creation, the record headers of
//! DESIGN.md, and the outbox relay that publishes committed events in order.

pub mod consumer;
mod error;
mod headers;
mod kafka;
mod probe;
pub mod relay;
mod stall;
pub mod watermarks;

pub use error::MessagingError;
pub use headers::{event_headers, header_str};
pub use kafka::{ensure_named_topics, ensure_topics, idempotent_producer, KafkaSettings};
pub use probe::BrokerProbe;
pub use relay::{OutboxRelay, OutboxSignal, RelaySettings, PUBLISH_LATENCY_SECONDS};
pub use stall::StallWatch;
