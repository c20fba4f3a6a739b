//! audit: every event of a tenant, with its payload as JSON.

use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;

pub(super) async fn apply(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_value(event_body(event))
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query(
        "INSERT INTO audit_events (event_id, tenant_id, aggregate_type, aggregate_id, sequence, event_type,
                                   occurred_at, correlation_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(meta.event_id)
    .bind(&meta.tenant_id)
    .bind(&meta.aggregate_type)
    .bind(meta.aggregate_id)
    .bind(meta.sequence)
    .bind(&meta.event_type)
    .bind(meta.occurred_at)
    .bind(&meta.correlation_id)
    .bind(payload)
    .execute(db)
    .await?;
    Ok(())
}

fn event_body(event: &AnyEvent) -> serde_json::Value {
    let tagged = match event {
        AnyEvent::Agent(e) => serde_json::to_value(e),
        AnyEvent::Task(e) => serde_json::to_value(e),
        AnyEvent::Conversation(e) => serde_json::to_value(e),
        AnyEvent::Invoice(e) => serde_json::to_value(e),
        AnyEvent::Subscription(e) => serde_json::to_value(e),
    };
    match tagged {
        Ok(serde_json::Value::Object(mut map)) => {
            map.remove(event.event_type()).unwrap_or_default()
        }
        _ => serde_json::Value::Null,
    }
}
