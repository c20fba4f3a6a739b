//! audit: every event of a tenant, with its payload as JSON.

use chrono::{DateTime, Utc};
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

/// The batch's audit rows, column by column (they are inserted with one `unnest`).
#[derive(Default)]
pub struct Changes {
    event_id: Vec<Uuid>,
    tenant_id: Vec<String>,
    aggregate_type: Vec<String>,
    aggregate_id: Vec<Uuid>,
    sequence: Vec<i64>,
    event_type: Vec<String>,
    occurred_at: Vec<DateTime<Utc>>,
    correlation_id: Vec<String>,
    payload: Vec<String>,
}

impl Changes {
    pub(super) fn add(
        &mut self,
        meta: &EventMetadata,
        event: &AnyEvent,
    ) -> Result<(), sqlx::Error> {
        let payload = event_body(event).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        self.event_id.push(meta.event_id);
        self.tenant_id.push(meta.tenant_id.clone());
        self.aggregate_type.push(meta.aggregate_type.clone());
        self.aggregate_id.push(meta.aggregate_id);
        self.sequence.push(meta.sequence);
        self.event_type.push(meta.event_type.clone());
        self.occurred_at.push(meta.occurred_at);
        self.correlation_id.push(meta.correlation_id.clone());
        self.payload.push(payload);
        Ok(())
    }

    pub(super) async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.event_id.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO audit_events (event_id, tenant_id, aggregate_type, aggregate_id, sequence, event_type,
                                       occurred_at, correlation_id, payload)
             SELECT event_id, tenant_id, aggregate_type, aggregate_id, sequence, event_type, occurred_at,
                    correlation_id, payload::jsonb
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::bigint[], $6::text[],
                         $7::timestamptz[], $8::text[], $9::text[])
                  AS r(event_id, tenant_id, aggregate_type, aggregate_id, sequence, event_type, occurred_at,
                       correlation_id, payload)
             ON CONFLICT DO NOTHING",
        )
        .bind(self.event_id)
        .bind(self.tenant_id)
        .bind(self.aggregate_type)
        .bind(self.aggregate_id)
        .bind(self.sequence)
        .bind(self.event_type)
        .bind(self.occurred_at)
        .bind(self.correlation_id)
        .bind(self.payload)
        .execute(db)
        .await?;
        Ok(())
    }
}

/// The event's fields as JSON, without the enum's tag. serde_json writes an externally
/// tagged variant as `{"EventType":` + its fields + `}` and nothing else, so the fields are
/// that text with the wrapper cut off (no JSON tree is built per audited event).
fn event_body(event: &AnyEvent) -> Result<String, serde_json::Error> {
    let tagged = match event {
        AnyEvent::Agent(e) => serde_json::to_string(e)?,
        AnyEvent::Task(e) => serde_json::to_string(e)?,
        AnyEvent::Conversation(e) => serde_json::to_string(e)?,
        AnyEvent::Invoice(e) => serde_json::to_string(e)?,
        AnyEvent::Subscription(e) => serde_json::to_string(e)?,
    };
    // Event type names are plain identifiers: no escaping in the tag.
    let prefix = format!("{{\"{}\":", event.event_type());
    Ok(
        match tagged
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix('}'))
        {
            Some(body) => body.to_owned(),
            // A unit variant is written as its name alone: it has no fields.
            None => "null".to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::task::{TaskEvent, TaskStarted};
    use domain::AgentId;

    #[test]
    fn the_body_is_the_variant_fields_without_the_tag() {
        let event = AnyEvent::Task(TaskEvent::TaskStarted(TaskStarted {
            agent_id: AgentId::from_uuid(uuid::Uuid::now_v7()).unwrap(),
        }));
        let tagged = serde_json::to_value(match &event {
            AnyEvent::Task(e) => e,
            _ => unreachable!(),
        })
        .unwrap();
        let body: serde_json::Value = serde_json::from_str(&event_body(&event).unwrap()).unwrap();
        assert_eq!(body, tagged["TaskStarted"]);
        assert!(body.is_object());
    }
}
