//! Stored offsets: the next offset to apply per partition, kept with the read model.

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::{Generation, ProjectorError};

pub use messaging::consumer::PartitionKey;

/// The stored next offsets of a generation.
///
/// # Errors
/// On database failure.
pub async fn stored_offsets<'c>(
    db: impl sqlx::PgExecutor<'c>,
    generation: Generation,
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT topic, partition, next_offset FROM public.projection_offsets
         WHERE projection = $1 AND generation = $2",
    )
    .bind(generation.projection.as_str())
    .bind(generation.number)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(topic, partition, next)| (PartitionKey { topic, partition }, next))
        .collect())
}

/// The live generation, and one stored offset of a generation (none when it has none yet).
type LiveAndOffset = (i32, Option<String>, Option<i32>, Option<i64>);

/// The generation live now (`None` when the projection has none) and the stored next offsets
/// of `generation`, in one statement: a live runner reads both after every batch.
///
/// # Errors
/// On database failure.
pub async fn live_and_stored_offsets(
    db: &mut PgConnection,
    generation: Generation,
) -> Result<(Option<i32>, HashMap<PartitionKey, i64>), ProjectorError> {
    let rows: Vec<LiveAndOffset> = sqlx::query_as(
        "SELECT g.live_generation, o.topic, o.partition, o.next_offset
         FROM public.projection_generations g
         LEFT JOIN public.projection_offsets o
             ON o.projection = g.projection AND o.generation = $2
         WHERE g.projection = $1",
    )
    .bind(generation.projection.as_str())
    .bind(generation.number)
    .fetch_all(db)
    .await?;
    let live = rows.first().map(|(live, ..)| *live);
    let offsets = rows
        .into_iter()
        .filter_map(|(_, topic, partition, next)| {
            Some((
                PartitionKey {
                    topic: topic?,
                    partition: partition?,
                },
                next?,
            ))
        })
        .collect();
    Ok((live, offsets))
}

/// The stored next offsets of the given partitions, locked until the transaction ends, so
/// two members can never apply the same partition concurrently (e.g. during a rebalance).
///
/// # Errors
/// On database failure.
pub async fn lock_offsets(
    db: &mut PgConnection,
    generation: Generation,
    partitions: &[PartitionKey],
) -> Result<HashMap<PartitionKey, i64>, ProjectorError> {
    let topics: Vec<&str> = partitions.iter().map(|k| k.topic.as_str()).collect();
    let numbers: Vec<i32> = partitions.iter().map(|k| k.partition).collect();
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT topic, partition, next_offset FROM public.projection_offsets
         WHERE projection = $1 AND generation = $2 AND topic = ANY($3) AND partition = ANY($4)
         ORDER BY topic, partition FOR UPDATE",
    )
    .bind(generation.projection.as_str())
    .bind(generation.number)
    .bind(topics)
    .bind(numbers)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(topic, partition, next)| (PartitionKey { topic, partition }, next))
        .collect())
}

/// Saves the next offsets reached by a batch.
///
/// # Errors
/// On database failure.
pub async fn save_offsets(
    db: &mut PgConnection,
    generation: Generation,
    next: &HashMap<PartitionKey, i64>,
) -> Result<(), ProjectorError> {
    let (mut topics, mut partitions, mut offsets) = (Vec::new(), Vec::new(), Vec::new());
    for (key, offset) in next {
        topics.push(key.topic.clone());
        partitions.push(key.partition);
        offsets.push(*offset);
    }
    sqlx::query(
        "INSERT INTO public.projection_offsets (projection, generation, topic, partition, next_offset)
         SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::bigint[])
         ON CONFLICT (projection, generation, topic, partition) DO UPDATE
             SET next_offset = greatest(projection_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()",
    )
    .bind(generation.projection.as_str())
    .bind(generation.number)
    .bind(topics)
    .bind(partitions)
    .bind(offsets)
    .execute(db)
    .await?;
    Ok(())
}
