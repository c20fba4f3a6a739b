//! The Rust client the platform uses (schema_registry_converter 6) against this registry.

use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::{post_schema, SrSettings};
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedReference, SuppliedSchema,
};
use serde_json::json;

use crate::helpers::{record, spawn};

#[tokio::test]
async fn schema_registry_converter_registers_encodes_and_decodes() {
    let registry = spawn().await;
    let schema = record(
        "AgentDeployed",
        &[
            r#"{"name":"agent_id","type":"string"}"#,
            r#"{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}"#,
        ],
    );
    let encoder = AvroEncoder::new(SrSettings::new(registry.url.clone()));
    let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
        "agenthub.agents".to_owned(),
        SuppliedSchema::new(
            Some("agenthub.test.AgentDeployed".to_owned()),
            SchemaType::Avro,
            schema,
        ),
    );
    let fields = vec![
        ("agent_id", Value::String("a-1".to_owned())),
        ("at", Value::TimestampMillis(1_700_000_000_000)),
    ];
    let bytes = encoder.encode(fields.clone(), strategy).await.unwrap();
    assert_eq!(bytes[0], 0, "magic byte");
    let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
    let (_, subjects) = registry.get(&format!("/schemas/ids/{id}/subjects")).await;
    assert_eq!(
        subjects,
        json!(["agenthub.agents-agenthub.test.AgentDeployed"])
    );

    let decoder = AvroDecoder::new(SrSettings::new(registry.url.clone()));
    let decoded = decoder.decode(Some(&bytes)).await.unwrap();
    let expected = fields
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    assert_eq!(decoded.value, Value::Record(expected));
    registry.cleanup().await;
}

#[tokio::test]
async fn schema_registry_converter_registers_and_resolves_references() {
    let registry = spawn().await;
    let money = r#"{"type":"record","name":"Money","namespace":"agenthub.test","fields":[{"name":"minor_units","type":"long"}]}"#;
    // The converter inlines references it finds by short name in the same namespace
    // (or by `.namespace.Name`), so the reference is written that way.
    let invoice = record("Invoice", &[r#"{"name":"total","type":"Money"}"#]);
    let supplied = SuppliedSchema::new(
        Some("agenthub.test.Invoice".to_owned()),
        SchemaType::Avro,
        invoice,
    )
    .with_references(vec![SuppliedReference::new(
        "agenthub.test.Money".to_owned(),
        "agenthub.test.Money".to_owned(),
        money.to_owned(),
    )]);
    // The converter registers the reference, asks its version, then registers the schema.
    let settings = SrSettings::new(registry.url.clone());
    let registered = post_schema(&settings, "agenthub.billing-value".to_owned(), supplied)
        .await
        .unwrap();
    let (_, by_id) = registry
        .get(&format!("/schemas/ids/{}", registered.id))
        .await;
    assert_eq!(
        by_id["references"],
        json!([{"name": "agenthub.test.Money", "subject": "agenthub.test.Money", "version": 1}])
    );

    // Encode with the self-contained schema; the decoder fetches the schema by id and its
    // references by subject and version.
    let inlined = record(
        "Invoice",
        &[&format!(r#"{{"name":"total","type":{money}}}"#)],
    );
    let value = Value::Record(vec![(
        "total".to_owned(),
        Value::Record(vec![("minor_units".to_owned(), Value::Long(1250))]),
    )]);
    let schema = Schema::parse_str(&inlined).unwrap();
    let mut bytes = vec![0];
    bytes.extend(registered.id.to_be_bytes());
    let writer = GenericDatumWriter::builder(&schema).build().unwrap();
    bytes.extend(writer.write_value_to_vec(value.clone()).unwrap());
    let decoder = AvroDecoder::new(SrSettings::new(registry.url.clone()));
    let decoded = decoder.decode(Some(&bytes)).await.unwrap();
    assert_eq!(decoded.value, value);
    registry.cleanup().await;
}
