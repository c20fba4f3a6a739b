//! The metadata every event record carries inside its Avro value.

use apache_avro::types::Value;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::SchemaError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMetadata {
    pub event_id: Uuid,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// Position in the aggregate's stream, from 1.
    pub sequence: i64,
    pub tenant_id: String,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub traceparent: Option<String>,
}

/// The namespace of event ids: UUIDv5 of `<aggregate_type>/<aggregate_id>/<sequence>`, so a
/// re-published event keeps its id.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a1c_9e0e_4b8f_4d0a_9f3e_5d27_a1b2_c3d4);

impl EventMetadata {
    pub fn event_id_for(aggregate_type: &str, aggregate_id: &Uuid, sequence: i64) -> Uuid {
        let name = format!("{aggregate_type}/{aggregate_id}/{sequence}");
        Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
    }

    pub(crate) fn to_value(&self) -> Value {
        let optional = |text: &Option<String>| match text {
            Some(t) => Value::Union(1, Box::new(Value::String(t.clone()))),
            None => Value::Union(0, Box::new(Value::Null)),
        };
        Value::Record(vec![
            ("event_id".into(), Value::Uuid(self.event_id)),
            ("event_type".into(), Value::String(self.event_type.clone())),
            (
                "aggregate_type".into(),
                Value::String(self.aggregate_type.clone()),
            ),
            ("aggregate_id".into(), Value::Uuid(self.aggregate_id)),
            ("sequence".into(), Value::Long(self.sequence)),
            ("tenant_id".into(), Value::String(self.tenant_id.clone())),
            (
                "occurred_at".into(),
                Value::TimestampMicros(self.occurred_at.timestamp_micros()),
            ),
            (
                "correlation_id".into(),
                Value::String(self.correlation_id.clone()),
            ),
            ("causation_id".into(), optional(&self.causation_id)),
            ("traceparent".into(), optional(&self.traceparent)),
        ])
    }

    pub(crate) fn from_value(value: Value) -> Result<Self, SchemaError> {
        let bad = |reason: &str| SchemaError::Mapping {
            event_type: "EventMetadata".into(),
            reason: reason.to_owned(),
        };
        let Value::Record(fields) = value else {
            return Err(bad("not a record"));
        };
        let mut meta = Self {
            event_id: Uuid::nil(),
            event_type: String::new(),
            aggregate_type: String::new(),
            aggregate_id: Uuid::nil(),
            sequence: 0,
            tenant_id: String::new(),
            occurred_at: DateTime::<Utc>::UNIX_EPOCH,
            correlation_id: String::new(),
            causation_id: None,
            traceparent: None,
        };
        for (name, value) in fields {
            match (name.as_str(), unwrap_union(value)) {
                ("event_id", Value::Uuid(u)) => meta.event_id = u,
                ("aggregate_id", Value::Uuid(u)) => meta.aggregate_id = u,
                ("event_type", Value::String(s)) => meta.event_type = s,
                ("aggregate_type", Value::String(s)) => meta.aggregate_type = s,
                ("tenant_id", Value::String(s)) => meta.tenant_id = s,
                ("correlation_id", Value::String(s)) => meta.correlation_id = s,
                ("sequence", Value::Long(n)) => meta.sequence = n,
                ("occurred_at", Value::TimestampMicros(t)) => {
                    meta.occurred_at = DateTime::from_timestamp_micros(t)
                        .ok_or_else(|| bad("occurred_at out of range"))?;
                }
                ("causation_id", Value::String(s)) => meta.causation_id = Some(s),
                ("traceparent", Value::String(s)) => meta.traceparent = Some(s),
                ("causation_id" | "traceparent", Value::Null) => {}
                (other, _) => return Err(bad(&format!("unexpected field {other}"))),
            }
        }
        Ok(meta)
    }
}

fn unwrap_union(value: Value) -> Value {
    match value {
        Value::Union(_, inner) => *inner,
        other => other,
    }
}
