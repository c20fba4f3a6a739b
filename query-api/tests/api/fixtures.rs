//! Read-model rows as a projector would write them (only the columns the tests vary).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

/// A fixed instant plus `minutes`: deterministic orderings.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

pub struct NewAgent<'a> {
    pub tenant: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub industry: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn agent(conn: &mut PgConnection, new: NewAgent<'_>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO agents (agent_id, tenant_id, name, industry, provider, model, temperature,
                             max_tokens, system_prompt, status, deployed_at, created_at,
                             updated_at, version)
         VALUES ($1, $2, $3, $4, 'openai', 'gpt-4o-mini', 0.7, 1024, 'Be helpful.', $5, NULL,
                 $6, $6, 1)",
    )
    .bind(id)
    .bind(new.tenant)
    .bind(new.name)
    .bind(new.industry)
    .bind(new.status)
    .bind(new.created_at)
    .execute(conn)
    .await
    .expect("insert agent");
    id
}

pub async fn agent_task(conn: &mut PgConnection, tenant: &str, agent_id: Uuid, state: &str) {
    sqlx::query(
        "INSERT INTO agent_tasks (task_id, tenant_id, agent_id, state, version)
         VALUES ($1, $2, $3, $4, 1)",
    )
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(agent_id)
    .bind(state)
    .execute(conn)
    .await
    .expect("insert agent task");
}

pub async fn task(
    conn: &mut PgConnection,
    tenant: &str,
    agent_id: Option<Uuid>,
    status: &str,
    created_at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO tasks (task_id, tenant_id, title, description, priority, status, agent_id,
                            result, failure, created_at, updated_at, version)
         VALUES ($1, $2, 'Call back', NULL, 'normal', $3, $4, NULL, NULL, $5, $5, 1)",
    )
    .bind(id)
    .bind(tenant)
    .bind(status)
    .bind(agent_id)
    .bind(created_at)
    .execute(conn)
    .await
    .expect("insert task");
    id
}

pub async fn task_history(conn: &mut PgConnection, task_id: Uuid, sequence: i64, event: &str) {
    sqlx::query(
        "INSERT INTO task_history (task_id, sequence, event_type, status, agent_id, occurred_at)
         VALUES ($1, $2, $3, 'created', NULL, $4)",
    )
    .bind(task_id)
    .bind(sequence)
    .bind(event)
    .bind(at(sequence))
    .execute(conn)
    .await
    .expect("insert task history");
}

pub async fn conversation(
    conn: &mut PgConnection,
    tenant: &str,
    agent_id: Uuid,
    channel: &str,
    status: &str,
    started_at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO conversations (conversation_id, tenant_id, agent_id, channel, customer_ref,
                                    status, message_count, started_at, closed_at, updated_at,
                                    version)
         VALUES ($1, $2, $3, $4, 'customer-1', $5, 0, $6, NULL, $6, 1)",
    )
    .bind(id)
    .bind(tenant)
    .bind(agent_id)
    .bind(channel)
    .bind(status)
    .bind(started_at)
    .execute(conn)
    .await
    .expect("insert conversation");
    id
}

pub async fn message(conn: &mut PgConnection, conversation_id: Uuid, number: i32) {
    let direction = if number % 2 == 1 { "received" } else { "sent" };
    sqlx::query(
        "INSERT INTO messages (conversation_id, message_number, direction, text, occurred_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(conversation_id)
    .bind(number)
    .bind(direction)
    .bind(format!("message {number}"))
    .bind(at(i64::from(number)))
    .execute(conn)
    .await
    .expect("insert message");
}

pub async fn invoice(
    conn: &mut PgConnection,
    tenant: &str,
    status: &str,
    currency: &str,
    total_minor: i64,
    issued_at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO invoices (invoice_id, tenant_id, status, currency, total_minor, period_start,
                               period_end, line_items, payment_reference, void_reason, issued_at,
                               paid_at, voided_at, version)
         VALUES ($1, $2, $3, $4, $5, '2025-02-01', '2025-02-28', $6, NULL, NULL, $7, NULL,
                 NULL, 1)",
    )
    .bind(id)
    .bind(tenant)
    .bind(status)
    .bind(currency)
    .bind(total_minor)
    .bind(json!([{ "description": "messages", "quantity": 1, "unit_price_minor": total_minor }]))
    .bind(issued_at)
    .execute(conn)
    .await
    .expect("insert invoice");
    id
}

pub async fn usage_day(
    conn: &mut PgConnection,
    tenant: &str,
    agent_id: Uuid,
    day: NaiveDate,
    received: i64,
) {
    sqlx::query(
        "INSERT INTO usage_daily (tenant_id, agent_id, day, messages_received, messages_sent,
                                  tasks_completed, tasks_failed)
         VALUES ($1, $2, $3, $4, 0, 0, 0)",
    )
    .bind(tenant)
    .bind(agent_id)
    .bind(day)
    .bind(received)
    .execute(conn)
    .await
    .expect("insert usage");
}

pub struct NewEvent<'a> {
    pub tenant: &'a str,
    pub aggregate_type: &'a str,
    pub aggregate_id: Uuid,
    pub sequence: i64,
    pub event_type: &'a str,
    pub occurred_at: DateTime<Utc>,
}

pub async fn audit_event(conn: &mut PgConnection, new: NewEvent<'_>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO audit_events (event_id, tenant_id, aggregate_type, aggregate_id, sequence,
                                   event_type, occurred_at, correlation_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'corr-1', '{}')",
    )
    .bind(id)
    .bind(new.tenant)
    .bind(new.aggregate_type)
    .bind(new.aggregate_id)
    .bind(new.sequence)
    .bind(new.event_type)
    .bind(new.occurred_at)
    .execute(conn)
    .await
    .expect("insert audit event");
    id
}

/// What the projector runtime records for every applied event (the fixtures' tenant is acme).
pub async fn stream_version(conn: &mut PgConnection, aggregate_id: Uuid, version: i64) {
    sqlx::query(
        "INSERT INTO stream_versions (aggregate_id, tenant_id, version) VALUES ($1, 'acme', $2)
         ON CONFLICT (aggregate_id) DO UPDATE SET version = EXCLUDED.version",
    )
    .bind(aggregate_id)
    .bind(version)
    .execute(conn)
    .await
    .expect("upsert stream version");
}
