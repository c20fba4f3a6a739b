//! Readiness: can the broker be reached right now?

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::MessagingError;

/// A metadata-only client, created once and reused by every readiness check.
#[derive(Clone)]
pub struct BrokerProbe {
    client: Arc<BaseConsumer>,
}

impl BrokerProbe {
    /// # Errors
    /// When the client configuration is refused.
    pub fn new(brokers: &str) -> Result<Self, MessagingError> {
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()?;
        Ok(Self {
            client: Arc::new(client),
        })
    }

    /// Whether broker metadata arrives within `timeout`.
    pub async fn reachable(&self, timeout: Duration) -> bool {
        let client = self.client.clone();
        tokio::task::spawn_blocking(move || client.fetch_metadata(None, timeout).is_ok())
            .await
            .unwrap_or(false)
    }
}
