//! An outbox row (with its stored event) as the metadata and event of a Kafka record.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use schemas::{AnyEvent, EventMetadata};
use serde::Deserialize;
use store::OutboxRow;
use uuid::Uuid;

use crate::MessagingError;

/// The stored metadata fields a record carries (cqrs-es keeps metadata as a map of strings);
/// borrowed from the row's text unless a value holds escapes.
#[derive(Deserialize)]
struct StoredMetadata<'a> {
    #[serde(borrow)]
    occurred_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tenant_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    correlation_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    causation_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    traceparent: Option<Cow<'a, str>>,
}

pub(super) fn read(row: &OutboxRow) -> Result<(EventMetadata, AnyEvent), MessagingError> {
    let bad = |reason: String| MessagingError::BadOutboxRow { id: row.id, reason };
    let aggregate_id = Uuid::parse_str(&row.aggregate_id).map_err(|e| bad(e.to_string()))?;
    let stored: StoredMetadata<'_> = serde_json::from_str(&row.metadata)
        .map_err(|e| bad(format!("metadata is not an object of strings: {e}")))?;
    let occurred_at = stored
        .occurred_at
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad("metadata.occurred_at missing or not RFC 3339".into()))?;
    let metadata = EventMetadata {
        event_id: EventMetadata::event_id_for(&row.aggregate_type, &aggregate_id, row.sequence),
        event_type: row.event_type.clone(),
        aggregate_type: row.aggregate_type.clone(),
        aggregate_id,
        sequence: row.sequence,
        tenant_id: stored
            .tenant_id
            .ok_or_else(|| bad("metadata.tenant_id missing".into()))?
            .into_owned(),
        occurred_at,
        correlation_id: stored.correlation_id.unwrap_or_default().into_owned(),
        causation_id: stored.causation_id.map(Cow::into_owned),
        traceparent: stored.traceparent.map(Cow::into_owned),
    };
    let event = AnyEvent::from_stored_text(&row.aggregate_type, &row.payload)?;
    Ok((metadata, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metadata: &str, payload: &str) -> OutboxRow {
        OutboxRow {
            id: 7,
            aggregate_type: "task".into(),
            aggregate_id: "0193a0a0-0000-7000-8000-000000000001".into(),
            sequence: 1,
            event_type: "TaskCancelled".into(),
            event_version: "1.0".into(),
            payload: payload.into(),
            metadata: metadata.into(),
            enqueued_at: Utc::now(),
        }
    }

    #[test]
    fn metadata_and_event_are_read_from_the_stored_text_escapes_included() {
        let (metadata, event) = read(&row(
            r#"{"tenant_id":"acme","occurred_at":"2026-12-06T10:00:00Z","correlation_id":"c\"1","actor":"x"}"#,
            r#"{"TaskCancelled":{"reason":null}}"#,
        ))
        .unwrap();
        assert_eq!(metadata.tenant_id, "acme");
        assert_eq!(metadata.correlation_id, "c\"1");
        assert_eq!(metadata.causation_id, None);
        assert_eq!(metadata.sequence, 1);
        assert_eq!(event.event_type(), "TaskCancelled");
    }

    #[test]
    fn a_row_that_does_not_read_says_which_and_why() {
        for (metadata, payload) in [
            ("[]", r#"{"TaskCancelled":{"reason":null}}"#),
            (
                r#"{"tenant_id":"acme"}"#,
                r#"{"TaskCancelled":{"reason":null}}"#,
            ),
            (
                r#"{"tenant_id":"acme","occurred_at":"2026-12-06T10:00:00Z"}"#,
                r#"{"NoSuchEvent":{}}"#,
            ),
        ] {
            let error = read(&row(metadata, payload)).unwrap_err();
            assert!(
                matches!(error, MessagingError::BadOutboxRow { id: 7, .. })
                    || error.to_string().contains("NoSuchEvent"),
                "{error}"
            );
        }
    }
}
