//! The high watermarks (next offset to be written) of topics' partitions, asked of the broker.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;

use crate::consumer::PartitionKey;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A metadata client for watermarks (blocking calls; run them off the async threads).
///
/// # Errors
/// When the client cannot be created.
pub fn metadata_client(brokers: &str) -> Result<BaseConsumer, KafkaError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
}

/// Every partition of `topics` with its high watermark.
///
/// # Errors
/// When the broker cannot be reached.
pub async fn high_watermarks(
    brokers: &str,
    topics: Vec<String>,
) -> Result<HashMap<PartitionKey, i64>, KafkaError> {
    let brokers = brokers.to_owned();
    tokio::task::spawn_blocking(move || {
        let client = metadata_client(&brokers)?;
        let mut marks = HashMap::new();
        for topic in topics {
            let metadata = client.fetch_metadata(Some(&topic), TIMEOUT)?;
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                let (_, high) = client.fetch_watermarks(&topic, partition.id(), TIMEOUT)?;
                marks.insert(
                    PartitionKey {
                        topic: topic.clone(),
                        partition: partition.id(),
                    },
                    high,
                );
            }
        }
        Ok(marks)
    })
    .await
    .expect("watermark task does not panic")
}
