//! What a command's events carry besides their payload: stored as postgres-es metadata and
//! copied into every Kafka record (headers and the Avro `EventMetadata`).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use domain::TenantId;

#[derive(Debug, Clone)]
pub struct CommandMetadata {
    pub tenant: TenantId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub traceparent: Option<String>,
    /// Subject of the caller's token.
    pub actor: String,
    /// The caller's Idempotency-Key and the hash of its request.
    pub idempotency: Option<(String, String)>,
}

impl CommandMetadata {
    pub(crate) fn into_map(self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("tenant_id".to_owned(), self.tenant.as_str().to_owned()),
            (
                "occurred_at".to_owned(),
                self.occurred_at
                    .to_rfc3339_opts(SecondsFormat::Micros, true),
            ),
            ("correlation_id".to_owned(), self.correlation_id),
            ("actor".to_owned(), self.actor),
        ]);
        let optional = [
            ("causation_id", self.causation_id),
            ("traceparent", self.traceparent),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        }
        // Read by the events trigger, which claims the key in the same transaction.
        if let Some((key, hash)) = self.idempotency {
            map.insert("idempotency_key".to_owned(), key);
            map.insert("request_hash".to_owned(), hash);
        }
        map
    }
}
