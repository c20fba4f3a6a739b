//! The partitions of a projection's topics and their high watermarks.

use std::collections::HashMap;

use crate::projections::topics;
use crate::runtime::PartitionKey;
use crate::{ProjectionName, ProjectorError};

/// Every partition of the projection's topics with its high watermark (next offset to be written).
///
/// # Errors
/// When the broker cannot be reached.
pub async fn high_watermarks(
    brokers: &str,
    prefix: &str,
    projection: ProjectionName,
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let names: Vec<String> = topics(projection).iter().map(|t| t.name(prefix)).collect();
    Ok(messaging::watermarks::high_watermarks(brokers, names).await?)
}
