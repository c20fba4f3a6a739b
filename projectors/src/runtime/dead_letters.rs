//! Dead letters: stored with the batch, then forwarded to `<prefix>.dlq.<projection>`.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use sqlx::PgConnection;

use super::batch::Inbound;
use super::Runtime;
use crate::{ProjectionName, ProjectorError};

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub record_key: Option<String>,
    pub payload: Vec<u8>,
    pub headers: serde_json::Value,
    pub error: String,
}

impl DeadLetter {
    pub(super) fn of(record: &Inbound<'_>, error: String) -> Self {
        tracing::warn!(topic = %record.key.topic, partition = record.key.partition, offset = record.offset, %error, "dead letter");
        let headers = record
            .headers()
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::from(v)))
            .collect();
        Self {
            topic: record.key.topic.clone(),
            partition: record.key.partition,
            offset: record.offset,
            record_key: record
                .record_key
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: record.payload.to_vec(),
            headers: serde_json::Value::Object(headers),
            error,
        }
    }
}

/// Stores dead letters in the batch's transaction; returns how many were new.
///
/// # Errors
/// On database failure.
pub(super) async fn record_dead_letters(
    db: &mut PgConnection,
    projection: ProjectionName,
    dead: &[DeadLetter],
) -> Result<usize, ProjectorError> {
    let mut stored = 0;
    for letter in dead {
        let result = sqlx::query(
            "INSERT INTO public.projection_dead_letters
                 (projection, topic, partition, \"offset\", record_key, payload, headers, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(projection.as_str())
        .bind(&letter.topic)
        .bind(letter.partition)
        .bind(letter.offset)
        .bind(&letter.record_key)
        .bind(&letter.payload)
        .bind(&letter.headers)
        .bind(&letter.error)
        .execute(&mut *db)
        .await?;
        stored += result.rows_affected() as usize;
    }
    Ok(stored)
}

/// Publishes stored dead letters not yet on the DLQ topic, with the error and origin in headers.
///
/// # Errors
/// On database or broker failure (they stay pending and are forwarded later).
pub async fn forward_pending(
    runtime: &Runtime,
    projection: ProjectionName,
) -> Result<(), ProjectorError> {
    type Row = (
        i64,
        String,
        i32,
        i64,
        Option<String>,
        Option<Vec<u8>>,
        String,
    );
    let pending: Vec<Row> = sqlx::query_as(
        "SELECT id, topic, partition, \"offset\", record_key, payload, error FROM public.projection_dead_letters
         WHERE projection = $1 AND NOT forwarded ORDER BY id",
    )
    .bind(projection.as_str())
    .fetch_all(&runtime.pool)
    .await?;
    let dlq = format!("{}.dlq.{}", runtime.topic_prefix, projection.as_str());
    for (id, topic, partition, offset, key, payload, error) in pending {
        let (partition_text, offset_text) = (partition.to_string(), offset.to_string());
        let headers = [
            ("error", error.as_str()),
            ("original_topic", &topic),
            ("original_partition", &partition_text),
            ("original_offset", &offset_text),
        ]
        .into_iter()
        .fold(OwnedHeaders::new(), |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        });
        let mut record = FutureRecord::to(&dlq).headers(headers);
        if let Some(key) = &key {
            record = record.key(key);
        }
        if let Some(payload) = &payload {
            record = record.payload(payload);
        }
        runtime
            .producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(error, _)| error)?;
        sqlx::query("UPDATE public.projection_dead_letters SET forwarded = true WHERE id = $1")
            .bind(id)
            .execute(&runtime.pool)
            .await?;
    }
    Ok(())
}
