//! The schemas crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("no schema for event type '{0}'")]
    UnknownEventType(String),
    #[error("no topic for aggregate type '{0}'")]
    UnknownAggregateType(String),
    #[error("schema {name} does not parse: {source}")]
    InvalidSchema {
        name: String,
        source: apache_avro::Error,
    },
    #[error("event {event_type} does not fit its schema: {reason}")]
    Mapping { event_type: String, reason: String },
    #[error("stored event payload does not deserialize: {0}")]
    StoredPayload(#[from] serde_json::Error),
    #[error("schema registry: {0}")]
    Registry(String),
    /// The registry could not be reached or answered a server error: try again later; the
    /// record itself may be fine.
    #[error("schema registry unavailable: {0}")]
    RegistryUnavailable(String),
}

impl SchemaError {
    /// True when the failure is the registry's, not the record's: consumers retry instead of
    /// treating the record as poison.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RegistryUnavailable(_))
    }
}

impl From<schema_registry_converter::error::SRCError> for SchemaError {
    fn from(error: schema_registry_converter::error::SRCError) -> Self {
        if error.retriable {
            Self::RegistryUnavailable(error.to_string())
        } else {
            Self::Registry(error.to_string())
        }
    }
}
