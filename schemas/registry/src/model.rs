//! The registry's records: stored schemas, subject versions, references and version selectors.

use serde::{Deserialize, Serialize};

use crate::error::RegistryError;

/// A reference from a schema to a named type registered under another subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The referenced type's full name, as used inside the referencing schema.
    pub name: String,
    /// The subject the referenced schema is registered under.
    pub subject: String,
    /// Its version there (`-1` means the latest).
    pub version: i32,
}

/// A stored schema.
#[derive(Debug, Clone)]
pub struct SchemaRow {
    /// Global schema id.
    pub id: i32,
    /// `AVRO`.
    pub schema_type: String,
    /// The text as first registered.
    pub text: String,
    /// Its references.
    pub refs: Vec<SchemaReference>,
}

/// One version of a subject and its schema.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// The subject.
    pub subject: String,
    /// The version number, from 1.
    pub version: i32,
    /// Soft-deleted?
    pub deleted: bool,
    /// The schema.
    pub schema: SchemaRow,
}

/// A version path segment: a number or the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    /// `latest` or `-1`.
    Latest,
    /// A version number (>= 1).
    Number(i32),
}

impl VersionSpec {
    /// Parses `latest` (any case), `-1` or a positive 32-bit number, like Confluent.
    ///
    /// # Errors
    /// [`RegistryError::InvalidVersion`] for anything else.
    pub fn parse(segment: &str) -> Result<Self, RegistryError> {
        let trimmed = segment.trim();
        if trimmed.eq_ignore_ascii_case("latest") {
            return Ok(Self::Latest);
        }
        match trimmed.parse::<i32>() {
            Ok(-1) => Ok(Self::Latest),
            Ok(n) if n >= 1 => Ok(Self::Number(n)),
            _ => Err(RegistryError::InvalidVersion(segment.to_owned())),
        }
    }

    /// The version as a reference stores it (`-1` for latest).
    pub fn from_reference(version: i32) -> Self {
        if version == -1 {
            Self::Latest
        } else {
            Self::Number(version)
        }
    }
}

impl std::fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_like_confluent() {
        assert_eq!(VersionSpec::parse("latest").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("LATEST").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("-1").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("3").unwrap(), VersionSpec::Number(3));
        for bad in ["0", "-2", "abc", "2147483648", ""] {
            assert!(matches!(
                VersionSpec::parse(bad),
                Err(RegistryError::InvalidVersion(_))
            ));
        }
    }
}
