//! Compatibility levels and the checks behind them.
//!
//! BACKWARD: the new schema can read data written with the previous one; FORWARD: the
//! previous schema can read data written with the new one; FULL: both. The `_TRANSITIVE`
//! levels check against every live version instead of only the latest. Like Confluent
//! (Avro's Java `SchemaCompatibility`), only a *full* match counts: apache-avro's
//! `Compatibility::Partial` (e.g. a writer enum symbol or union branch the reader lacks)
//! is incompatible.

use std::fmt;
use std::str::FromStr;

use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::Schema;

use crate::error::RegistryError;

/// A subject's (or the global) compatibility level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatibilityLevel {
    /// No checks.
    None,
    /// New schema reads data of the latest version.
    Backward,
    /// New schema reads data of every version.
    BackwardTransitive,
    /// Latest version reads data of the new schema.
    Forward,
    /// Every version reads data of the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every version.
    FullTransitive,
}

impl CompatibilityLevel {
    /// The level in force when nothing was configured.
    pub const DEFAULT: Self = Self::Backward;

    /// The name used on the wire, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether registration checks against all live versions rather than the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    fn checks_backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn checks_forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = RegistryError;

    /// Parses a level name, case-insensitively like Confluent.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "NONE" => Self::None,
            "BACKWARD" => Self::Backward,
            "BACKWARD_TRANSITIVE" => Self::BackwardTransitive,
            "FORWARD" => Self::Forward,
            "FORWARD_TRANSITIVE" => Self::ForwardTransitive,
            "FULL" => Self::Full,
            "FULL_TRANSITIVE" => Self::FullTransitive,
            _ => return Err(RegistryError::InvalidCompatibilityLevel),
        })
    }
}

/// A previous version to check a new schema against.
pub struct Previous<'a> {
    /// Its version number, for messages.
    pub version: i32,
    /// Its parsed schema.
    pub schema: &'a Schema,
}

/// Checks `new` against `previous` under `level`; returns one message per failed check
/// (empty when compatible). The caller chooses `previous` (latest only, or all versions).
pub fn check(level: CompatibilityLevel, new: &Schema, previous: &[Previous<'_>]) -> Vec<String> {
    let mut messages = Vec::new();
    for old in previous {
        if level.checks_backward() {
            if let Some(why) = cannot_read(old.schema, new) {
                messages.push(format!(
                    "{{oldSchemaVersion: {}, direction: 'BACKWARD', description: 'the new schema cannot read data written with version {}: {why}'}}",
                    old.version, old.version
                ));
            }
        }
        if level.checks_forward() {
            if let Some(why) = cannot_read(new, old.schema) {
                messages.push(format!(
                    "{{oldSchemaVersion: {}, direction: 'FORWARD', description: 'version {} cannot read data written with the new schema: {why}'}}",
                    old.version, old.version
                ));
            }
        }
    }
    if !messages.is_empty() {
        messages.push(format!("{{compatibility: '{level}'}}"));
    }
    messages
}

/// Why `reader` cannot read data written with `writer`, or `None` if it always can.
fn cannot_read(writer: &Schema, reader: &Schema) -> Option<String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => None,
        Ok(Compatibility::Partial) => Some(
            "only some values can be read (a writer enum symbol or union branch is missing in the reader)"
                .to_owned(),
        ),
        Err(err) => Some(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(fields: &str) -> Schema {
        Schema::parse_str(&format!(
            r#"{{"type":"record","name":"R","fields":[{fields}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn levels_round_trip() {
        for name in [
            "NONE",
            "BACKWARD",
            "BACKWARD_TRANSITIVE",
            "FORWARD",
            "FORWARD_TRANSITIVE",
            "FULL",
            "FULL_TRANSITIVE",
        ] {
            assert_eq!(name.parse::<CompatibilityLevel>().unwrap().as_str(), name);
        }
        assert_eq!(
            "full".parse::<CompatibilityLevel>().unwrap(),
            CompatibilityLevel::Full
        );
        assert!("SIDEWAYS".parse::<CompatibilityLevel>().is_err());
    }

    #[test]
    fn adding_a_field_with_default_is_full_compatible() {
        let v1 = schema(r#"{"name":"a","type":"int"}"#);
        let v2 = schema(r#"{"name":"a","type":"int"},{"name":"b","type":"string","default":""}"#);
        let prev = [Previous {
            version: 1,
            schema: &v1,
        }];
        assert!(check(CompatibilityLevel::FullTransitive, &v2, &prev).is_empty());
    }

    #[test]
    fn adding_a_field_without_default_is_forward_only() {
        let v1 = schema(r#"{"name":"a","type":"int"}"#);
        let v2 = schema(r#"{"name":"a","type":"int"},{"name":"b","type":"string"}"#);
        let prev = [Previous {
            version: 1,
            schema: &v1,
        }];
        assert!(!check(CompatibilityLevel::Backward, &v2, &prev).is_empty());
        assert!(check(CompatibilityLevel::Forward, &v2, &prev).is_empty());
        assert!(check(CompatibilityLevel::None, &v2, &prev).is_empty());
    }

    #[test]
    fn removing_an_enum_symbol_is_not_backward_compatible() {
        let e = |symbols: &str| {
            Schema::parse_str(&format!(
                r#"{{"type":"enum","name":"E","symbols":[{symbols}]}}"#
            ))
            .unwrap()
        };
        let v1 = e(r#""A","B""#);
        let v2 = e(r#""A""#);
        let prev = [Previous {
            version: 1,
            schema: &v1,
        }];
        assert!(!check(CompatibilityLevel::Backward, &v2, &prev).is_empty());
        assert!(check(CompatibilityLevel::Forward, &v2, &prev).is_empty());
    }
}
