//! Encodes and decodes event records in the Confluent wire format through a schema registry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};

use crate::{
    encode_value, event_schema, read_event, AnyEvent, EventMetadata, SchemaError, EVENT_SCHEMAS,
};

/// Registry-backed codec; schema ids are cached after the first use of each subject.
pub struct RegistryCodec {
    encoder: AvroEncoder,
    decoder: AvroDecoder,
    strategies: HashMap<&'static str, SubjectNameStrategy>,
    readers: RwLock<HashMap<u32, Arc<GenericDatumReader<'static>>>>,
    writers: RwLock<HashMap<&'static str, Arc<Writer>>>,
}

/// An event type's registered schema id and a writer of its bundled schema.
struct Writer {
    id: u32,
    datum: GenericDatumWriter<'static>,
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
            readers: RwLock::default(),
            writers: RwLock::default(),
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
        let writer = self.writer(event.event_type()).await?;
        let mut record = Vec::with_capacity(256);
        record.push(0);
        record.extend_from_slice(&writer.id.to_be_bytes());
        writer
            .datum
            .write_value(&mut record, value)
            .map_err(|e| SchemaError::Registry(format!("encoding {}: {e}", event.event_type())))?;
        Ok(record)
    }

    /// The writer of an event type, built on its first record: the schema is registered (or
    /// looked up) once for its id. The converter's own encode cloned the subject strategy,
    /// schema text included, and formatted the subject for every record.
    async fn writer(&self, event_type: &str) -> Result<Arc<Writer>, SchemaError> {
        if let Some(writer) = self
            .writers
            .read()
            .expect("writer cache lock")
            .get(event_type)
        {
            return Ok(writer.clone());
        }
        let bundled = event_schema(event_type)?;
        let strategy = self
            .strategies
            .get(bundled.event_type)
            .ok_or_else(|| SchemaError::UnknownEventType(event_type.to_owned()))?;
        let registered = self
            .encoder
            .get_schema_and_id(&strategy.get_subject()?, strategy.clone())
            .await?;
        let datum = GenericDatumWriter::builder(bundled.schema())
            // `encode_value` resolved the value against this very schema, which validates it.
            .validate(false)
            .build()
            .map_err(|e| SchemaError::Registry(format!("schema of {event_type}: {e}")))?;
        let writer = Arc::new(Writer {
            id: registered.id,
            datum,
        });
        let mut writers = self.writers.write().expect("writer cache lock");
        Ok(writers.entry(bundled.event_type).or_insert(writer).clone())
    }

    /// Decodes a record by the schema id it carries.
    ///
    /// # Errors
    /// When the bytes are not a known event record.
    pub async fn decode(&self, bytes: &[u8]) -> Result<(EventMetadata, AnyEvent), SchemaError> {
        let (id, datum) = wire_parts(bytes)?;
        let reader = self.reader(id).await?;
        read_event(&reader, datum)
    }

    /// The reader of records written with schema `id`, built on first use. The converter's
    /// own `decode` copies the schema's resolved names for every record (a heap allocation
    /// per named type, each time), which made decoding the projectors' largest cost.
    async fn reader(&self, id: u32) -> Result<Arc<GenericDatumReader<'static>>, SchemaError> {
        if let Some(reader) = self.readers.read().expect("reader cache lock").get(&id) {
            return Ok(reader.clone());
        }
        let schema = self.decoder.get_schema(id).await?;
        // Leaked once per schema id and codec, for the reader to borrow for good: a process
        // sees a handful of schema ids, and the converter leaks its resolved schemas the same way.
        let parsed: &'static Schema = Box::leak(Box::new(schema.parsed.clone()));
        let reader =
            // Human-readable: the domain types read their ids and times from the schemas' strings.
            Arc::new(GenericDatumReader::builder(parsed).human_readable(true).build().map_err(|e| {
                SchemaError::Registry(format!("schema {id} does not resolve: {e}"))
            })?);
        let mut readers = self.readers.write().expect("reader cache lock");
        Ok(readers.entry(id).or_insert(reader).clone())
    }
}

/// The schema id and the Avro datum of a record in the Confluent wire format (magic byte 0,
/// the id as 4 big-endian bytes, then the datum).
fn wire_parts(bytes: &[u8]) -> Result<(u32, &[u8]), SchemaError> {
    match bytes {
        [0, a, b, c, d, datum @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), datum)),
        _ => Err(SchemaError::Registry(format!(
            "not in the Confluent wire format (magic byte 0 and a 4-byte schema id): {} bytes starting {:02x?}",
            bytes.len(),
            &bytes[..bytes.len().min(5)]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_parts_split_the_schema_id_from_the_datum() {
        let (id, datum) = wire_parts(&[0, 0, 0, 1, 2, 42, 43]).unwrap();
        assert_eq!((id, datum), (258, &[42, 43][..]));
    }

    #[test]
    fn bytes_without_the_magic_byte_or_an_id_are_refused() {
        for bytes in [&[1, 0, 0, 0, 1, 42][..], &[0, 0, 0][..], &[][..]] {
            let error = wire_parts(bytes).unwrap_err().to_string();
            assert!(error.contains("Confluent wire format"), "{error}");
        }
    }
}
