//! Event <-> Avro value mapping.
//!
//! The domain's serde shape is the Avro shape by construction (field names and enum symbols
//! match the `.avsc` files), so a payload goes through JSON and is then *resolved* against its
//! schema: the resolution checks every field, type and symbol, and fails on any drift.

use apache_avro::types::Value;
use domain::agent::AgentEvent;
use domain::conversation::ConversationEvent;
use domain::invoice::InvoiceEvent;
use domain::subscription::SubscriptionEvent;
use domain::task::TaskEvent;
use domain::{Aggregate, Event};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::{event_schema, EventMetadata, SchemaError};

/// An event of any aggregate, as read from the store or a topic.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    Agent(AgentEvent),
    Task(TaskEvent),
    Conversation(ConversationEvent),
    Invoice(InvoiceEvent),
    Subscription(SubscriptionEvent),
}

impl AnyEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Agent(e) => e.event_type(),
            Self::Task(e) => e.event_type(),
            Self::Conversation(e) => e.event_type(),
            Self::Invoice(e) => e.event_type(),
            Self::Subscription(e) => e.event_type(),
        }
    }

    pub fn aggregate_type(&self) -> &'static str {
        match self {
            Self::Agent(_) => domain::agent::Agent::TYPE,
            Self::Task(_) => domain::task::Task::TYPE,
            Self::Conversation(_) => domain::conversation::Conversation::TYPE,
            Self::Invoice(_) => domain::invoice::Invoice::TYPE,
            Self::Subscription(_) => domain::subscription::Subscription::TYPE,
        }
    }

    /// Reads an event as postgres-es stored it (the serde JSON of the aggregate's event enum).
    ///
    /// # Errors
    /// When the aggregate type is unknown or the payload does not match it.
    pub fn from_stored(aggregate_type: &str, payload: Json) -> Result<Self, SchemaError> {
        Ok(match aggregate_type {
            "agent" => Self::Agent(serde_json::from_value(payload)?),
            "task" => Self::Task(serde_json::from_value(payload)?),
            "conversation" => Self::Conversation(serde_json::from_value(payload)?),
            "invoice" => Self::Invoice(serde_json::from_value(payload)?),
            "subscription" => Self::Subscription(serde_json::from_value(payload)?),
            other => return Err(SchemaError::UnknownAggregateType(other.to_owned())),
        })
    }

    /// [`AnyEvent::from_stored`] from the stored JSON text, without a `Value` in between.
    ///
    /// # Errors
    /// When the aggregate type is unknown or the payload does not match it.
    pub fn from_stored_text(aggregate_type: &str, payload: &str) -> Result<Self, SchemaError> {
        Ok(match aggregate_type {
            "agent" => Self::Agent(serde_json::from_str(payload)?),
            "task" => Self::Task(serde_json::from_str(payload)?),
            "conversation" => Self::Conversation(serde_json::from_str(payload)?),
            "invoice" => Self::Invoice(serde_json::from_str(payload)?),
            "subscription" => Self::Subscription(serde_json::from_str(payload)?),
            other => return Err(SchemaError::UnknownAggregateType(other.to_owned())),
        })
    }

    /// The externally tagged serde JSON `{"EventType": {...}}`, split into tag and body.
    fn tagged_body(&self) -> Result<Json, SchemaError> {
        let tagged = match self {
            Self::Agent(e) => serde_json::to_value(e)?,
            Self::Task(e) => serde_json::to_value(e)?,
            Self::Conversation(e) => serde_json::to_value(e)?,
            Self::Invoice(e) => serde_json::to_value(e)?,
            Self::Subscription(e) => serde_json::to_value(e)?,
        };
        match tagged {
            Json::Object(mut map) if map.len() == 1 => {
                Ok(map.remove(self.event_type()).unwrap_or(Json::Null))
            }
            _ => Err(mapping(
                self.event_type(),
                "event does not serialize as a tagged object",
            )),
        }
    }
}

fn mapping(event_type: &str, reason: impl ToString) -> SchemaError {
    SchemaError::Mapping {
        event_type: event_type.to_owned(),
        reason: reason.to_string(),
    }
}

/// Builds the Avro value of an event record, validated against the event's schema.
///
/// # Errors
/// When the event does not fit its schema.
pub fn encode_value(metadata: &EventMetadata, event: &AnyEvent) -> Result<Value, SchemaError> {
    let event_type = event.event_type();
    let schema = event_schema(event_type)?.schema();
    let Json::Object(body) = event.tagged_body()? else {
        return Err(mapping(event_type, "event body is not an object"));
    };
    let mut fields = vec![("metadata".to_owned(), metadata.to_value())];
    for (name, json) in body {
        let value = Value::try_from(json).map_err(|e| mapping(event_type, e))?;
        fields.push((name, value));
    }
    Value::Record(fields)
        .resolve(schema)
        .map_err(|e| mapping(event_type, e))
}

/// Reads an event record decoded with its writer schema.
///
/// The body goes straight from the Avro value into the domain type with apache-avro's serde
/// deserializer. Projectors read records with [`crate::read_event`], which needs no value
/// at all and falls back to this.
///
/// # Errors
/// When the value is not an event record this build knows.
pub fn decode_value(value: Value) -> Result<(EventMetadata, AnyEvent), SchemaError> {
    let Value::Record(fields) = value else {
        return Err(mapping("?", "record value expected"));
    };
    let mut metadata = None;
    let mut body = Vec::with_capacity(fields.len());
    for (name, field) in fields {
        if name == "metadata" {
            metadata = Some(EventMetadata::from_value(field)?);
        } else {
            body.push((name, field));
        }
    }
    let metadata = metadata.ok_or_else(|| mapping("?", "metadata field missing"))?;
    // apache-avro's serde reads an enum variant from a record whose first field, `type`, names
    // the variant and whose second, `value`, holds its fields.
    let tagged = Value::Record(vec![
        (
            "type".to_owned(),
            Value::String(metadata.event_type.clone()),
        ),
        ("value".to_owned(), Value::Record(body)),
    ]);
    let event_type = metadata.event_type.as_str();
    let event = match metadata.aggregate_type.as_str() {
        "agent" => AnyEvent::Agent(from_avro(event_type, &tagged)?),
        "task" => AnyEvent::Task(from_avro(event_type, &tagged)?),
        "conversation" => AnyEvent::Conversation(from_avro(event_type, &tagged)?),
        "invoice" => AnyEvent::Invoice(from_avro(event_type, &tagged)?),
        "subscription" => AnyEvent::Subscription(from_avro(event_type, &tagged)?),
        other => return Err(SchemaError::UnknownAggregateType(other.to_owned())),
    };
    Ok((metadata, event))
}

fn from_avro<T: DeserializeOwned>(event_type: &str, value: &Value) -> Result<T, SchemaError> {
    apache_avro::from_value(value).map_err(|e| mapping(event_type, e))
}
