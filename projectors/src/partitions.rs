//! The partitions of projections' topics and their high watermarks.

use std::collections::{BTreeSet, HashMap};

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
    high_watermarks_of(brokers, prefix, &[projection]).await
}

/// Every partition of the topics any of `projections` reads with its high watermark, asked of
/// the broker once (projections share topics: audit reads all four).
///
/// # Errors
/// When the broker cannot be reached.
pub async fn high_watermarks_of(
    brokers: &str,
    prefix: &str,
    projections: &[ProjectionName],
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let names: BTreeSet<String> = projections
        .iter()
        .flat_map(|projection| topics(*projection).iter().map(|t| t.name(prefix)))
        .collect();
    Ok(messaging::watermarks::high_watermarks(brokers, names.into_iter().collect()).await?)
}

/// The partitions of `marks` that `projection` reads.
pub fn read_by(
    marks: &HashMap<PartitionKey, i64>,
    prefix: &str,
    projection: ProjectionName,
) -> HashMap<PartitionKey, i64> {
    let names: Vec<String> = topics(projection).iter().map(|t| t.name(prefix)).collect();
    marks
        .iter()
        .filter(|(key, _)| names.contains(&key.topic))
        .map(|(key, mark)| (key.clone(), *mark))
        .collect()
}
