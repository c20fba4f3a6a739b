//! Reading an event record straight from its Avro binary into the domain types.
//!
//! apache-avro's schema-aware serde deserializer reads the datum field by field; no `Value`
//! tree (with a copy of every field name per record) is built. The record's first field is
//! its metadata, which names the event type; the remaining fields are then read as that
//! variant of the aggregate's event enum. [`crate::decode_value`] stays the reference path
//! and the fallback for a record this one cannot read.

use std::fmt;

use chrono::{DateTime, Utc};
use domain::agent::AgentEvent;
use domain::conversation::ConversationEvent;
use domain::invoice::InvoiceEvent;
use domain::subscription::SubscriptionEvent;
use domain::task::TaskEvent;
use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, VariantAccess,
    Visitor,
};
use serde::Deserialize;
use uuid::Uuid;

use apache_avro::reader::datum::GenericDatumReader;

use crate::{decode_value, AnyEvent, EventMetadata, SchemaError};

/// Reads an event record from its Avro binary, written with the schema `reader` was built for
/// (with `human_readable(true)`: the domain's ids and times are text). A record the direct
/// path cannot read is read through an Avro `Value` ([`decode_value`]), which also gives the
/// error for a record neither can.
///
/// # Errors
/// When the bytes are not an event record of that schema this build knows.
pub fn read_event(
    reader: &GenericDatumReader<'_>,
    datum: &[u8],
) -> Result<(EventMetadata, AnyEvent), SchemaError> {
    read_event_directly(reader, datum).or_else(|_| {
        let value = reader
            .read_value(&mut &datum[..])
            .map_err(|e| SchemaError::Registry(format!("record does not fit its schema: {e}")))?;
        decode_value(value)
    })
}

/// [`read_event`] without the fallback (the tests hold every event type to the direct path).
///
/// # Errors
/// When the direct path cannot read the record.
pub fn read_event_directly(
    reader: &GenericDatumReader<'_>,
    datum: &[u8],
) -> Result<(EventMetadata, AnyEvent), SchemaError> {
    let WireEvent(metadata, event) = reader
        .read_deser::<WireEvent>(&mut &datum[..])
        .map_err(|e| SchemaError::Registry(format!("record does not fit its schema: {e}")))?;
    Ok((metadata, event))
}

/// An event record as read from its Avro binary.
struct WireEvent(EventMetadata, AnyEvent);

impl<'de> Deserialize<'de> for WireEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `any`: the record's name differs per event type.
        deserializer.deserialize_any(RecordVisitor)
    }
}

/// The metadata record as the schemas define it (`EventMetadata` in every `.avsc`).
#[derive(Deserialize)]
#[serde(rename = "EventMetadata")]
struct WireMetadata {
    event_id: Uuid,
    event_type: String,
    aggregate_type: String,
    aggregate_id: Uuid,
    sequence: i64,
    tenant_id: String,
    /// timestamp-micros
    occurred_at: i64,
    correlation_id: String,
    causation_id: Option<String>,
    traceparent: Option<String>,
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = WireEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event record whose first field is its metadata")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireEvent, A::Error> {
        if map.next_key::<FieldName>()? != Some(FieldName::Metadata) {
            return Err(de::Error::custom("the first field is not the metadata"));
        }
        let wire: WireMetadata = map.next_value()?;
        let occurred_at = DateTime::<Utc>::from_timestamp_micros(wire.occurred_at)
            .ok_or_else(|| de::Error::custom("occurred_at out of range"))?;
        let rest = Variant {
            name: &wire.event_type,
            map,
        };
        let event = match wire.aggregate_type.as_str() {
            "agent" => AnyEvent::Agent(AgentEvent::deserialize(rest)?),
            "task" => AnyEvent::Task(TaskEvent::deserialize(rest)?),
            "conversation" => AnyEvent::Conversation(ConversationEvent::deserialize(rest)?),
            "invoice" => AnyEvent::Invoice(InvoiceEvent::deserialize(rest)?),
            "subscription" => AnyEvent::Subscription(SubscriptionEvent::deserialize(rest)?),
            other => return Err(de::Error::custom(format!("unknown aggregate type {other}"))),
        };
        let metadata = EventMetadata {
            event_id: wire.event_id,
            event_type: wire.event_type,
            aggregate_type: wire.aggregate_type,
            aggregate_id: wire.aggregate_id,
            sequence: wire.sequence,
            tenant_id: wire.tenant_id,
            occurred_at,
            correlation_id: wire.correlation_id,
            causation_id: wire.causation_id,
            traceparent: wire.traceparent,
        };
        Ok(WireEvent(metadata, event))
    }
}

/// A record field's name, told apart from `metadata` without copying it.
#[derive(PartialEq, Eq)]
enum FieldName {
    Metadata,
    Other,
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = FieldName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<FieldName, E> {
                Ok(if name == "metadata" {
                    FieldName::Metadata
                } else {
                    FieldName::Other
                })
            }
        }
        deserializer.deserialize_identifier(NameVisitor)
    }
}

/// The record's remaining fields as the variant `name` of an externally tagged enum.
struct Variant<'n, A> {
    name: &'n str,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Variant<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<'_, A> {
    type Error = A::Error;
    type Variant = Fields<A>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Fields<A>), A::Error> {
        let variant = seed.deserialize(self.name.into_deserializer())?;
        Ok((variant, Fields(self.map)))
    }
}

/// The variant's fields: the rest of the record.
struct Fields<A>(A);

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Fields<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("events are not tuple variants"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }
}
