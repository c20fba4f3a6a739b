//! conversations: per agent and channel, and the ordered messages (the agents' memory).

use domain::conversation::ConversationEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;

pub(super) async fn apply(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let AnyEvent::Conversation(event) = event else {
        return Ok(());
    };
    let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
    match event {
        ConversationEvent::ConversationStarted(e) => {
            sqlx::query(
                "INSERT INTO conversations (conversation_id, tenant_id, agent_id, channel, customer_ref, status,
                                            message_count, started_at, updated_at, version)
                 VALUES ($1, $2, $3, $4, $5, 'open', 0, $6, $6, $7) ON CONFLICT (conversation_id) DO NOTHING",
            )
            .bind(id)
            .bind(e.tenant_id.as_str())
            .bind(e.agent_id.as_uuid())
            .bind(e.channel.as_str())
            .bind(&e.customer_ref)
            .bind(at)
            .bind(version)
            .execute(db)
            .await?;
        }
        ConversationEvent::MessageReceived(e) => {
            message(db, meta, e.message_number, "received", &e.text).await?
        }
        ConversationEvent::MessageSent(e) => {
            message(db, meta, e.message_number, "sent", &e.text).await?
        }
        ConversationEvent::ConversationClosed(_) => {
            sqlx::query(
                "UPDATE conversations SET status = 'closed', closed_at = $2, updated_at = $2, version = $3
                 WHERE conversation_id = $1 AND version < $3",
            )
            .bind(id)
            .bind(at)
            .bind(version)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

async fn message(
    db: &mut PgConnection,
    meta: &EventMetadata,
    number: u32,
    direction: &str,
    text: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (conversation_id, message_number, direction, text, occurred_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(meta.aggregate_id)
    .bind(number as i32)
    .bind(direction)
    .bind(text)
    .bind(meta.occurred_at)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "UPDATE conversations SET message_count = $2, updated_at = $3, version = $4
         WHERE conversation_id = $1 AND version < $4",
    )
    .bind(meta.aggregate_id)
    .bind(number as i32)
    .bind(meta.occurred_at)
    .bind(meta.sequence)
    .execute(db)
    .await?;
    Ok(())
}
