//! Avro parsing for the registry: validating a posted schema, its identity (what makes two
//! registrations "the same schema") and a self-contained form for compatibility checks.

use std::collections::HashMap;

use apache_avro::schema::{Name, RecordField, RecordSchema, UnionSchema};
use apache_avro::Schema;

use crate::error::RegistryError;

/// The only schema type this registry supports.
pub const AVRO: &str = "AVRO";

/// A posted schema, parsed.
#[derive(Debug, Clone)]
pub struct ParsedSchema {
    /// The schema with every non-recursive named reference inlined, ready for
    /// [`apache_avro::schema_compatibility::SchemaCompatibility::can_read`].
    pub resolved: Schema,
    /// apache-avro's JSON serialization of the parsed schema. Unlike the Parsing Canonical
    /// Form it keeps `default`, `doc`, `aliases`, `logicalType` and custom properties, which
    /// matter to readers: this matches Confluent, whose identity is the schema's full
    /// canonical string, not the PCF. Whitespace and key order do not matter.
    pub normalized: String,
}

/// Parses `text` as an Avro schema whose named references are defined in `referenced`
/// (the texts of the referenced schemas, transitively).
///
/// # Errors
/// [`RegistryError::InvalidSchema`] when any of the texts is not a valid Avro schema or a
/// name stays unresolved.
pub fn parse(text: &str, referenced: &[String]) -> Result<ParsedSchema, RegistryError> {
    let invalid = |err: apache_avro::Error| RegistryError::InvalidSchema(err.to_string());
    let (schema, schemata) = if referenced.is_empty() {
        (Schema::parse_str(text).map_err(invalid)?, Vec::new())
    } else {
        Schema::parse_str_with_list(text, referenced).map_err(invalid)?
    };
    let normalized = serde_json::to_string(&schema)
        .map_err(|err| RegistryError::InvalidSchema(err.to_string()))?;
    let mut names = HashMap::new();
    for s in schemata.iter().chain(std::iter::once(&schema)) {
        collect_names(s, &mut names);
    }
    let resolved = inline(&schema, &names, &mut Vec::new())?;
    Ok(ParsedSchema {
        resolved,
        normalized,
    })
}

/// Records every named type defined in `schema`.
fn collect_names(schema: &Schema, names: &mut HashMap<Name, Schema>) {
    match schema {
        Schema::Ref { .. } => {}
        Schema::Record(record) => {
            names.insert(record.name.clone(), schema.clone());
            for field in &record.fields {
                collect_names(&field.schema, names);
            }
        }
        Schema::Array(array) => collect_names(&array.items, names),
        Schema::Map(map) => collect_names(&map.types, names),
        Schema::Union(union) => {
            for variant in union.variants() {
                collect_names(variant, names);
            }
        }
        other => {
            if let Some(name) = other.name() {
                names.insert(name.clone(), other.clone());
            }
        }
    }
}

/// Replaces every reference to a named type by its definition, except references to an
/// enclosing record (recursion). apache-avro's compatibility checker compares a reference
/// only with a reference, so a type reused at a different place in two versions would
/// otherwise look incompatible.
fn inline(
    schema: &Schema,
    names: &HashMap<Name, Schema>,
    enclosing: &mut Vec<Name>,
) -> Result<Schema, RegistryError> {
    Ok(match schema {
        Schema::Ref { name } if enclosing.contains(name) => schema.clone(),
        Schema::Ref { name } => {
            let definition = names
                .get(name)
                .ok_or_else(|| RegistryError::InvalidSchema(format!("unknown type {name}")))?;
            inline(definition, names, enclosing)?
        }
        Schema::Record(record) => {
            enclosing.push(record.name.clone());
            let fields = record
                .fields
                .iter()
                .map(|field| {
                    Ok(RecordField {
                        schema: inline(&field.schema, names, enclosing)?,
                        ..field.clone()
                    })
                })
                .collect::<Result<Vec<_>, RegistryError>>();
            enclosing.pop();
            Schema::Record(RecordSchema {
                fields: fields?,
                ..record.clone()
            })
        }
        Schema::Array(array) => {
            let mut array = array.clone();
            array.items = Box::new(inline(&array.items, names, enclosing)?);
            Schema::Array(array)
        }
        Schema::Map(map) => {
            let mut map = map.clone();
            map.types = Box::new(inline(&map.types, names, enclosing)?);
            Schema::Map(map)
        }
        Schema::Union(union) => {
            let variants = union
                .variants()
                .iter()
                .map(|variant| inline(variant, names, enclosing))
                .collect::<Result<Vec<_>, _>>()?;
            Schema::Union(
                UnionSchema::new(variants)
                    .map_err(|err| RegistryError::InvalidSchema(err.to_string()))?,
            )
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_key_order_do_not_change_identity() {
        let a = parse(
            r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#,
            &[],
        )
        .unwrap();
        let b = parse(
            r#"{ "fields": [ {"type": "int", "name": "x"} ], "name": "A", "type": "record" }"#,
            &[],
        )
        .unwrap();
        assert_eq!(a.normalized, b.normalized);
    }

    #[test]
    fn logical_types_and_defaults_change_identity() {
        let plain = parse(
            r#"{"type":"record","name":"A","fields":[{"name":"t","type":"long"}]}"#,
            &[],
        )
        .unwrap();
        let logical = parse(
            r#"{"type":"record","name":"A","fields":[{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#,
            &[],
        )
        .unwrap();
        assert_ne!(plain.normalized, logical.normalized);
    }

    #[test]
    fn references_are_resolved() {
        let inner = r#"{"type":"record","name":"Inner","namespace":"n","fields":[{"name":"x","type":"int"}]}"#;
        let outer = r#"{"type":"record","name":"Outer","namespace":"n","fields":[{"name":"i","type":"n.Inner"}]}"#;
        let parsed = parse(outer, &[inner.to_owned()]).unwrap();
        let Schema::Record(record) = parsed.resolved else {
            panic!("not a record")
        };
        assert!(matches!(record.fields[0].schema, Schema::Record(_)));
        assert!(parse(outer, &[]).is_err());
    }

    #[test]
    fn garbage_is_invalid() {
        assert!(matches!(
            parse("{not json", &[]),
            Err(RegistryError::InvalidSchema(_))
        ));
        assert!(parse(r#"{"type":"record","name":"A"}"#, &[]).is_err());
    }
}
