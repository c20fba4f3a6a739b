//! The Avro contract partners rely on.
//!
//! One `.avsc` per event lives in `schemas/avro/` (namespace `agenthub.events`); each embeds
//! the `EventMetadata` record so a partner holding only the registry and the topic can decode
//! everything. Records use the Confluent wire format with subjects named by
//! TopicRecordNameStrategy (`<topic>-agenthub.events.<EventType>`).

mod catalog;
mod codec;
mod error;
mod metadata;
mod registry;
mod wire;

pub use catalog::{event_schema, EventSchema, Topic, EVENT_SCHEMAS};
pub use codec::{decode_value, encode_value, AnyEvent};
pub use error::SchemaError;
pub use metadata::EventMetadata;
pub use registry::RegistryCodec;
pub use wire::{read_event, read_event_directly};
