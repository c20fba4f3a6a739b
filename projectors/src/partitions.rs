//! The partitions of a projection's topics and their high watermarks.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::projections::topics;
use crate::runtime::PartitionKey;
use crate::{ProjectionName, ProjectorError};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A metadata client for watermarks (blocking calls; run them off the async threads).
pub fn metadata_client(brokers: &str) -> Result<BaseConsumer, ProjectorError> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?)
}

/// Every partition of the projection's topics with its high watermark (next offset to be written).
///
/// # Errors
/// When the broker cannot be reached.
pub async fn high_watermarks(
    brokers: &str,
    prefix: &str,
    projection: ProjectionName,
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let brokers = brokers.to_owned();
    let names: Vec<String> = topics(projection).iter().map(|t| t.name(prefix)).collect();
    tokio::task::spawn_blocking(move || {
        let client = metadata_client(&brokers)?;
        let mut marks = HashMap::new();
        for topic in names {
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
