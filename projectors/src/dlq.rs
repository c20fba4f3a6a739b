//! `projectors dlq list|retry`: the dead letters of a projection, and re-applying them.

use sqlx::PgPool;

use crate::runtime::{apply_record, Inbound, PartitionKey, Runtime};
use crate::{Generation, ProjectionName, ProjectorError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterRow {
    pub id: i64,
    pub projection: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub error: String,
    pub failed_at: chrono::DateTime<chrono::Utc>,
    pub retried_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Dead letters waiting for a retry, per projection.
///
/// # Errors
/// On database failure.
pub async fn pending_counts(pool: &sqlx::PgPool) -> Result<Vec<(String, i64)>, ProjectorError> {
    Ok(sqlx::query_as(
        "SELECT projection, count(*) FROM public.projection_dead_letters
         WHERE retried_at IS NULL GROUP BY projection ORDER BY projection",
    )
    .fetch_all(pool)
    .await?)
}

/// Dead letters not yet retried successfully, oldest first.
///
/// # Errors
/// On database failure.
pub async fn list(
    pool: &PgPool,
    projection: Option<ProjectionName>,
) -> Result<Vec<DeadLetterRow>, ProjectorError> {
    Ok(sqlx::query_as(
        "SELECT id, projection, topic, partition, \"offset\", error, failed_at, retried_at
         FROM public.projection_dead_letters
         WHERE ($1::text IS NULL OR projection = $1) AND retried_at IS NULL ORDER BY id",
    )
    .bind(projection.map(ProjectionName::as_str))
    .fetch_all(pool)
    .await?)
}

/// Re-applies one dead letter to its projection's live generation; true when it applied
/// (or was already applied) and is now marked retried.
///
/// # Errors
/// On database failure.
pub async fn retry(runtime: &Runtime, id: i64) -> Result<bool, ProjectorError> {
    type Row = (String, String, i32, i64, Option<String>, Option<Vec<u8>>);
    let Some((projection, topic, partition, offset, key, payload)): Option<Row> = sqlx::query_as(
        "SELECT projection, topic, partition, \"offset\", record_key, payload FROM public.projection_dead_letters WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&runtime.pool)
    .await?
    else {
        return Ok(false);
    };
    let generation = Generation::live(&runtime.pool, ProjectionName::parse(&projection)?).await?;
    let payload = payload.unwrap_or_default();
    let record = Inbound {
        key: PartitionKey { topic, partition },
        offset,
        record_key: key.as_deref().map(str::as_bytes),
        payload: &payload,
        message: None,
    };
    let (meta, event) = match runtime.codec.decode(record.payload).await {
        Ok(decoded) => decoded,
        Err(error) => {
            tracing::warn!(id, %error, "dead letter still does not decode");
            return Ok(false);
        }
    };
    // Re-applied outside the offset bookkeeping (the partition moved on long ago); the
    // aggregate version check still makes a second retry a no-op.
    let mut tx = runtime.pool.begin().await?;
    generation.enter(&mut tx).await?;
    match apply_record(&mut tx, generation, &meta, &event).await {
        Ok(_) => {
            sqlx::query(
                "UPDATE public.projection_dead_letters SET retried_at = now() WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        Err(error) => {
            tracing::warn!(id, %error, "dead letter still does not apply");
            Ok(false)
        }
    }
}
