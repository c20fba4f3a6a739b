//! An outbox row (with its stored event) as the metadata and event of a Kafka record.

use chrono::{DateTime, Utc};
use schemas::{AnyEvent, EventMetadata};
use store::OutboxRow;
use uuid::Uuid;

use crate::MessagingError;

pub(super) fn read(row: &OutboxRow) -> Result<(EventMetadata, AnyEvent), MessagingError> {
    let bad = |reason: String| MessagingError::BadOutboxRow { id: row.id, reason };
    let aggregate_id = Uuid::parse_str(&row.aggregate_id).map_err(|e| bad(e.to_string()))?;
    let text = |name: &str| {
        row.metadata
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let occurred_at = text("occurred_at")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad("metadata.occurred_at missing or not RFC 3339".into()))?;
    let metadata = EventMetadata {
        event_id: EventMetadata::event_id_for(&row.aggregate_type, &aggregate_id, row.sequence),
        event_type: row.event_type.clone(),
        aggregate_type: row.aggregate_type.clone(),
        aggregate_id,
        sequence: row.sequence,
        tenant_id: text("tenant_id").ok_or_else(|| bad("metadata.tenant_id missing".into()))?,
        occurred_at,
        correlation_id: text("correlation_id").unwrap_or_default(),
        causation_id: text("causation_id"),
        traceparent: text("traceparent"),
    };
    let event = AnyEvent::from_stored(&row.aggregate_type, row.payload.clone())?;
    Ok((metadata, event))
}
