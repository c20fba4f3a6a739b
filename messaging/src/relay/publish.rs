//! Publishing one batch of outbox rows and acknowledging what the broker accepted.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureRecord;
use schemas::{RegistryCodec, Topic};
use store::OutboxBatch;

use super::{row, Producer, RelaySettings};
use crate::{event_headers, MessagingError};

/// Publishes the oldest rows; returns how many were read.
///
/// All records are handed to the producer before any is awaited (it pipelines them), then
/// rows are deleted only when the broker acknowledged them AND no earlier row of the same
/// aggregate failed, so a retry re-publishes an aggregate's events in their order.
pub(super) async fn batch(
    outbox: &OutboxBatch,
    producer: &Producer,
    codec: &RegistryCodec,
    settings: &RelaySettings,
) -> Result<usize, MessagingError> {
    let rows = outbox.oldest(settings.batch_size).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut deliveries = Vec::with_capacity(rows.len());
    let mut failed_to_queue = false;
    for row in &rows {
        let (metadata, event) = row::read(row)?;
        let payload = codec.encode(&metadata, &event).await?;
        let topic = Topic::for_aggregate(&row.aggregate_type)?.name(&settings.kafka.topic_prefix);
        let record = FutureRecord::to(&topic)
            .key(&row.aggregate_id)
            .payload(&payload)
            .headers(event_headers(&metadata, &row.event_version));
        match producer.send_result(record) {
            Ok(delivery) => deliveries.push(delivery),
            // The producer queue is full: publish what is queued, the rest comes next round.
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                tracing::debug!("producer queue full");
                break;
            }
            // Anything else (a record too large, a producer in a fatal state) is a failed
            // round: what was queued is still awaited below, then the relay backs off.
            Err((error, _)) => {
                tracing::warn!(%error, outbox_id = row.id, "record not accepted by the producer");
                failed_to_queue = true;
                break;
            }
        }
    }

    let mut acknowledged = Vec::with_capacity(deliveries.len());
    let mut failed_aggregates = HashSet::new();
    let total = deliveries.len();
    for (row, delivery) in rows.iter().zip(deliveries) {
        let outcome = delivery.await;
        let ok = matches!(outcome, Ok(Ok(_)));
        if ok && !failed_aggregates.contains(&row.aggregate_id) {
            acknowledged.push(row.id);
            record_latency(row.enqueued_at);
        } else {
            if let Ok(Err((error, _))) = outcome {
                tracing::debug!(%error, outbox_id = row.id, "record not acknowledged");
            }
            failed_aggregates.insert(row.aggregate_id.clone());
        }
    }
    outbox.acknowledge(&acknowledged).await?;
    let failed = total - acknowledged.len() + usize::from(failed_to_queue);
    if failed > 0 {
        return Err(MessagingError::NotAcknowledged { failed, total });
    }
    Ok(rows.len())
}

/// Commit (the outbox row's enqueue time) to broker acknowledgement, at `/metrics`.
fn record_latency(enqueued_at: chrono::DateTime<chrono::Utc>) {
    let latency = (chrono::Utc::now() - enqueued_at)
        .to_std()
        .unwrap_or(Duration::ZERO);
    metrics::counter!("relay_published_total").increment(1);
    metrics::histogram!("relay_publish_latency_seconds").record(latency.as_secs_f64());
    tracing::trace!(latency_ms = latency.as_millis() as u64, "event published");
}
