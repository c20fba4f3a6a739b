//! usage: per agent and day, messages received/sent, tasks completed/failed, and the LLM
//! tokens the replies consumed.
//! Counters are increments; the runtime's per-aggregate version check keeps them exact.

use domain::conversation::ConversationEvent;
use domain::task::TaskEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

enum Counter {
    Received,
    Sent,
    Completed,
    Failed,
}

pub(super) async fn apply(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let counted = match event {
        AnyEvent::Conversation(ConversationEvent::ConversationStarted(e)) => {
            return remember_owner(db, meta.aggregate_id, e.agent_id.as_uuid()).await
        }
        AnyEvent::Conversation(ConversationEvent::MessageReceived(_)) => Counter::Received,
        AnyEvent::Conversation(ConversationEvent::MessageSent(_)) => Counter::Sent,
        AnyEvent::Task(TaskEvent::TaskCompleted(_)) => Counter::Completed,
        AnyEvent::Task(TaskEvent::TaskFailed(_)) => Counter::Failed,
        _ => return Ok(()),
    };
    let agent = match event {
        AnyEvent::Task(TaskEvent::TaskCompleted(e)) => Some(e.agent_id.as_uuid()),
        AnyEvent::Task(TaskEvent::TaskFailed(e)) => Some(e.agent_id.as_uuid()),
        _ => owner(db, meta.aggregate_id).await?,
    };
    let Some(agent) = agent else { return Ok(()) };
    let (received, sent, completed, failed) = match counted {
        Counter::Received => (1_i64, 0_i64, 0_i64, 0_i64),
        Counter::Sent => (0, 1, 0, 0),
        Counter::Completed => (0, 0, 1, 0),
        Counter::Failed => (0, 0, 0, 1),
    };
    let (prompt_tokens, completion_tokens) = match event {
        AnyEvent::Conversation(ConversationEvent::MessageSent(e)) => (
            i64::from(e.prompt_tokens.unwrap_or(0)),
            i64::from(e.completion_tokens.unwrap_or(0)),
        ),
        _ => (0, 0),
    };
    sqlx::query(
        "INSERT INTO usage_daily (tenant_id, agent_id, day, messages_received, messages_sent, tasks_completed, tasks_failed,
                                  prompt_tokens, completion_tokens)
         VALUES ($1, $2, ($3 AT TIME ZONE 'UTC')::date, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, agent_id, day) DO UPDATE SET
             messages_received = usage_daily.messages_received + EXCLUDED.messages_received,
             messages_sent = usage_daily.messages_sent + EXCLUDED.messages_sent,
             tasks_completed = usage_daily.tasks_completed + EXCLUDED.tasks_completed,
             tasks_failed = usage_daily.tasks_failed + EXCLUDED.tasks_failed,
             prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
             completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens",
    )
    .bind(&meta.tenant_id)
    .bind(agent)
    .bind(meta.occurred_at)
    .bind(received)
    .bind(sent)
    .bind(completed)
    .bind(failed)
    .bind(prompt_tokens)
    .bind(completion_tokens)
    .execute(db)
    .await?;
    Ok(())
}

async fn remember_owner(
    db: &mut PgConnection,
    aggregate: Uuid,
    agent: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO usage_owners (aggregate_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(aggregate)
    .bind(agent)
    .execute(db)
    .await?;
    Ok(())
}

async fn owner(db: &mut PgConnection, aggregate: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT agent_id FROM usage_owners WHERE aggregate_id = $1")
        .bind(aggregate)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}
