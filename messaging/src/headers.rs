//! The headers every record carries (DESIGN.md): event_type, event_id, aggregate_id, sequence,
//! tenant_id, occurred_at, traceparent, schema_version.

use chrono::SecondsFormat;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use schemas::EventMetadata;

pub fn event_headers(metadata: &EventMetadata, schema_version: &str) -> OwnedHeaders {
    let event_id = metadata.event_id.to_string();
    let aggregate_id = metadata.aggregate_id.to_string();
    let sequence = metadata.sequence.to_string();
    let occurred_at = metadata
        .occurred_at
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    let pairs = [
        ("event_type", metadata.event_type.as_str()),
        ("event_id", &event_id),
        ("aggregate_id", &aggregate_id),
        ("sequence", &sequence),
        ("tenant_id", &metadata.tenant_id),
        ("occurred_at", &occurred_at),
        ("traceparent", metadata.traceparent.as_deref().unwrap_or("")),
        ("schema_version", schema_version),
    ];
    pairs.into_iter().fold(
        OwnedHeaders::new_with_capacity(pairs.len()),
        |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        },
    )
}

/// A header's value as text, if present and UTF-8.
pub fn header_str<'a>(headers: &'a impl Headers, key: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}
