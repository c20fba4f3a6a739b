//! Billing cycle: a closed period is invoiced from the recorded usage and charged; a declined
//! payment marks the invoice overdue and pauses the tenant's agents until it is paid.

use std::time::{Duration, Instant};

use chrono::Utc;
use domain::subscription::SubscriptionId;
use domain::TenantId;
use serde_json::{json, Value};

use crate::support::World;

/// An active subscription, a deployed agent and a conversation of `messages` messages that
/// the usage read model has counted; returns (subscription id, agent id).
async fn usage(world: &World, messages: usize) -> (String, String) {
    let (status, _) = world
        .platform
        .post(
            "acme",
            "/v1/subscriptions",
            json!({ "plan": "pro", "agent_quota": 5 }),
        )
        .await;
    assert_eq!(status, 201);
    let agent = world.deployed_agent().await;
    let (_, conversation) = world
        .platform
        .post(
            "acme",
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "sms", "customer_ref": "+4412345" }),
        )
        .await;
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    for n in 0..messages {
        let path = format!("/v1/conversations/{conversation}/messages");
        assert_eq!(
            world
                .platform
                .post("acme", &path, json!({ "text": format!("question {n}") }))
                .await
                .0,
            200
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let generation =
            projectors::Generation::live(&world.platform.pool, projectors::ProjectionName::Usage)
                .await
                .unwrap();
        // Every message and the saga's reply to it (whose tokens are billed) counted.
        let counted: (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
            "SELECT sum(messages_received)::bigint, sum(messages_sent)::bigint
             FROM {}.usage_daily WHERE tenant_id = 'acme'",
            generation.schema()
        ))
        .fetch_one(&world.platform.pool)
        .await
        .unwrap();
        if counted == (Some(messages as i64), Some(messages as i64)) {
            break;
        }
        if Instant::now() >= deadline {
            let sagas: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT saga_type, status, step, last_error FROM saga_instances ORDER BY created_at",
            )
            .fetch_all(&world.platform.pool)
            .await
            .unwrap();
            panic!("usage not counted: {counted:?}; sagas {sagas:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (
        SubscriptionId::for_tenant(&TenantId::parse("acme").unwrap()).to_string(),
        agent,
    )
}

async fn close_today(world: &World, subscription: &str) -> String {
    let today = Utc::now().date_naive();
    let body = json!({ "period_start": today.to_string(), "period_end": today.to_string() });
    let (status, answer) = world
        .platform
        .post("acme", "/v1/subscriptions/billing-periods", body)
        .await;
    assert_eq!(status, 200, "{answer}");
    format!("{subscription}:{today}")
}

async fn invoice_of(world: &World, saga: &str) -> String {
    let data: Value =
        sqlx::query_scalar("SELECT data FROM saga_instances WHERE correlation_id = $1")
            .bind(saga)
            .fetch_one(&world.platform.pool)
            .await
            .unwrap();
    data["invoice_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_period_is_invoiced_from_usage_and_paid() {
    let world = World::start("billok").await;
    world.run_sagas(world.saga_settings()).await;
    let (subscription, _) = usage(&world, 3).await;
    let saga = close_today(&world, &subscription).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "completed"
    );
    let invoice = invoice_of(&world, &saga).await;
    assert_eq!(
        world.events_of(&invoice).await,
        ["InvoiceIssued", "InvoicePaid"]
    );
    let issued: Value = sqlx::query_scalar("SELECT payload::jsonb -> 'InvoiceIssued' FROM events WHERE aggregate_id = $1 AND sequence = 1")
        .bind(&invoice)
        .fetch_one(&world.platform.pool)
        .await
        .unwrap();
    let messages = issued["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["description"] == "Customer messages")
        .cloned()
        .unwrap();
    assert_eq!(messages["quantity"], 3);
    // The replies' LLM tokens, per started thousand at 1 minor unit.
    let generation =
        projectors::Generation::live(&world.platform.pool, projectors::ProjectionName::Usage)
            .await
            .unwrap();
    let tokens: i64 = sqlx::query_scalar(&format!(
        "SELECT sum(prompt_tokens + completion_tokens)::bigint FROM {}.usage_daily WHERE tenant_id = 'acme'",
        generation.schema()
    ))
    .fetch_one(&world.platform.pool)
    .await
    .unwrap();
    assert!(tokens > 0);
    let thousands = (tokens + 999) / 1_000;
    let token_line = issued["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["description"] == "LLM tokens (per 1,000)")
        .cloned()
        .unwrap_or_else(|| panic!("no token line in {issued}"));
    assert_eq!(token_line["quantity"], thousands);
    assert_eq!(issued["total_minor"], 4_900 + 3 * 2 + thousands);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_declined_payment_pauses_the_agents_until_the_invoice_is_paid() {
    let world = World::start("billdeclined").await;
    let mut settings = world.saga_settings();
    settings.local_payments_decline_all = true;
    world.run_sagas(settings).await;
    let (subscription, agent) = usage(&world, 2).await;
    let saga = close_today(&world, &subscription).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "compensated"
    );
    let invoice = invoice_of(&world, &saga).await;
    assert_eq!(
        world.events_of(&invoice).await,
        ["InvoiceIssued", "InvoiceOverdue"]
    );
    assert_eq!(
        world.events_of(&agent).await.last().map(String::as_str),
        Some("AgentPaused")
    );

    // The tenant pays by other means: the agents come back.
    let total: i64 = sqlx::query_scalar(
        "SELECT (payload::jsonb -> 'InvoiceIssued' ->> 'total_minor')::bigint FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(&invoice)
    .fetch_one(&world.platform.pool)
    .await
    .unwrap();
    let body =
        json!({ "amount_minor": total, "currency": "EUR", "payment_reference": "bank-transfer-1" });
    let (status, answer) = world
        .platform
        .post("acme", &format!("/v1/invoices/{invoice}/payments"), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        world
            .saga_outcome(&invoice, Duration::from_secs(60))
            .await
            .0,
        "completed"
    );
    assert_eq!(
        world.events_of(&agent).await,
        [
            "AgentCreated",
            "AgentDeployed",
            "AgentPaused",
            "AgentDeployed"
        ]
    );
}
