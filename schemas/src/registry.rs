//! Encodes and decodes event records in the Confluent wire format through a schema registry.

use std::collections::HashMap;

use apache_avro::types::Value;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};

use crate::{decode_value, encode_value, AnyEvent, EventMetadata, SchemaError, EVENT_SCHEMAS};

/// Registry-backed codec; schema ids are cached after the first use of each subject.
pub struct RegistryCodec {
    encoder: AvroEncoder,
    decoder: AvroDecoder,
    strategies: HashMap<&'static str, SubjectNameStrategy>,
}

impl RegistryCodec {
    pub fn new(registry_url: &str, topic_prefix: &str) -> Self {
        let strategies = EVENT_SCHEMAS
            .iter()
            .map(|s| {
                let supplied =
                    SuppliedSchema::new(Some(s.record_name()), SchemaType::Avro, s.avsc.to_owned());
                let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
                    s.topic.name(topic_prefix),
                    supplied,
                );
                (s.event_type, strategy)
            })
            .collect();
        Self {
            encoder: AvroEncoder::new(SrSettings::new(registry_url.to_owned())),
            decoder: AvroDecoder::new(SrSettings::new(registry_url.to_owned())),
            strategies,
        }
    }

    /// Registers every event schema (idempotent), so a compatibility problem stops the
    /// relay at start rather than at the first event of that type.
    ///
    /// # Errors
    /// When the registry is unreachable or rejects a schema.
    pub async fn register_all(&self) -> Result<(), SchemaError> {
        for (event_type, strategy) in &self.strategies {
            let subject = strategy.get_subject()?;
            self.encoder
                .get_schema_and_id(&subject, strategy.clone())
                .await
                .map_err(|e| SchemaError::Registry(format!("registering {event_type}: {e}")))?;
        }
        Ok(())
    }

    /// Confluent wire format: magic byte 0, 4-byte schema id, Avro binary.
    ///
    /// # Errors
    /// When the event does not fit its schema or the registry fails.
    pub async fn encode(
        &self,
        metadata: &EventMetadata,
        event: &AnyEvent,
    ) -> Result<Vec<u8>, SchemaError> {
        let value = encode_value(metadata, event)?;
        let strategy = self
            .strategies
            .get(event.event_type())
            .ok_or_else(|| SchemaError::UnknownEventType(event.event_type().to_owned()))?;
        Ok(self.encoder.encode_value(value, strategy).await?)
    }

    /// Decodes a record by the schema id it carries.
    ///
    /// # Errors
    /// When the bytes are not a known event record.
    pub async fn decode(&self, bytes: &[u8]) -> Result<(EventMetadata, AnyEvent), SchemaError> {
        let decoded = self.decoder.decode(Some(bytes)).await?;
        match decoded.value {
            Value::Record(_) => decode_value(decoded.value),
            other => Err(SchemaError::Registry(format!("not a record: {other:?}"))),
        }
    }
}
