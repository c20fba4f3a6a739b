//! How far each live projection is behind its topics, per partition.

use sqlx::PgPool;

use crate::partitions::high_watermarks;
use crate::runtime::stored_offsets;
use crate::{Generation, ProjectionName, ProjectorError};

/// One row of `projectors status`.
#[derive(Debug, Clone)]
pub struct PartitionLag {
    pub projection: ProjectionName,
    pub generation: i32,
    pub topic: String,
    pub partition: i32,
    pub applied_until: i64,
    pub high_watermark: i64,
}

impl PartitionLag {
    pub fn lag(&self) -> i64 {
        (self.high_watermark - self.applied_until).max(0)
    }
}

/// Lag of every partition of every live projection.
///
/// # Errors
/// On database or broker failure.
pub async fn lag(
    pool: &PgPool,
    brokers: &str,
    prefix: &str,
) -> Result<Vec<PartitionLag>, ProjectorError> {
    let mut rows = Vec::new();
    for projection in ProjectionName::ALL {
        let generation = Generation::live(pool, projection).await?;
        let stored = stored_offsets(pool, generation).await?;
        let mut marks: Vec<_> = high_watermarks(brokers, prefix, projection)
            .await?
            .into_iter()
            .collect();
        marks.sort();
        for (key, high) in marks {
            rows.push(PartitionLag {
                projection,
                generation: generation.number,
                applied_until: stored.get(&key).copied().unwrap_or(0),
                topic: key.topic,
                partition: key.partition,
                high_watermark: high,
            });
        }
    }
    Ok(rows)
}
