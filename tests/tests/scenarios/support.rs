//! Small request builders shared by the scenarios.

use serde_json::{json, Value};
use tests::Platform;

pub fn agent_body() -> Value {
    json!({ "name": "Ada", "industry": "retail", "provider": "openai", "model": "gpt-4o" })
}

/// Creates and deploys an agent for `tenant`; returns its id.
pub async fn deployed_agent(platform: &Platform, tenant: &str) -> String {
    let (status, created) = platform.post(tenant, "/v1/agents", agent_body()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, body) = platform
        .post(tenant, &format!("/v1/agents/{id}/deploy"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// Issues commands producing every event type; returns how many events they stored.
pub async fn every_event_type(platform: &Platform, tenant: &str) -> usize {
    let agent = deployed_agent(platform, tenant).await;
    let mut steps: Vec<(String, Value)> = vec![
        (
            format!("/v1/agents/{agent}/pause"),
            json!({ "reason": "night" }),
        ),
        (format!("/v1/agents/{agent}/deploy"), json!({})),
    ];
    let mut events = 2;
    let (_, task) = platform
        .post(
            tenant,
            "/v1/tasks",
            json!({ "title": "Call back", "priority": "high" }),
        )
        .await;
    let task = task["id"].as_str().unwrap().to_owned();
    events += 1;
    for (path, body) in [
        ("assign", json!({ "agent_id": agent })),
        ("start", json!({})),
        ("complete", json!({ "result": "done" })),
    ] {
        steps.push((format!("/v1/tasks/{task}/{path}"), body));
    }
    for last in [
        ("fail", json!({ "reason": "LLM down" })),
        ("cancel", json!({})),
    ] {
        let (_, other) = platform
            .post(tenant, "/v1/tasks", json!({ "title": "Other" }))
            .await;
        let other = other["id"].as_str().unwrap().to_owned();
        events += 1;
        steps.push((
            format!("/v1/tasks/{other}/assign"),
            json!({ "agent_id": agent }),
        ));
        steps.push((format!("/v1/tasks/{other}/{}", last.0), last.1));
    }
    let (_, conversation) = platform
        .post(
            tenant,
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "whatsapp", "customer_ref": "+155501" }),
        )
        .await;
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    events += 1;
    steps.push((
        format!("/v1/conversations/{conversation}/messages"),
        json!({ "text": "Hello?" }),
    ));
    steps.push((
        format!("/v1/conversations/{conversation}/replies"),
        json!({ "text": "Hi! How can I help?" }),
    ));
    steps.push((format!("/v1/conversations/{conversation}/close"), json!({})));
    let invoice_body = json!({
        "period_start": "2026-10-01", "period_end": "2026-10-31", "currency": "EUR",
        "line_items": [{ "description": "Seats", "quantity": 3, "unit_amount_minor": 4900 }]
    });
    let (_, paid) = platform
        .post(tenant, "/v1/invoices", invoice_body.clone())
        .await;
    let (_, voided) = platform.post(tenant, "/v1/invoices", invoice_body).await;
    events += 2;
    let paid = paid["id"].as_str().unwrap();
    let voided = voided["id"].as_str().unwrap();
    steps.push((
        format!("/v1/invoices/{paid}/payments"),
        json!({ "amount_minor": 14700, "currency": "EUR", "payment_reference": "pi_1" }),
    ));
    steps.push((
        format!("/v1/invoices/{voided}/void"),
        json!({ "reason": "duplicate" }),
    ));
    steps.push((format!("/v1/agents/{agent}/retire"), json!({})));
    events += later_event_types(platform, tenant, &mut steps).await;
    let patch = platform
        .client
        .patch(platform.url(&format!("/v1/agents/{agent}")))
        .bearer_auth(platform.token(tenant, &["admin"]))
        .json(&json!({ "temperature": 0.2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status().as_u16(), 200);
    events += 1;
    for (path, body) in steps {
        let (status, answer) = platform.post(tenant, &path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        events += 1;
    }
    events
}

/// The subscription, deployment-workflow and overdue events; returns the events stored
/// while preparing (the rest are in `steps`).
async fn later_event_types(
    platform: &Platform,
    tenant: &str,
    steps: &mut Vec<(String, Value)>,
) -> usize {
    let (status, _) = platform
        .post(
            tenant,
            "/v1/subscriptions",
            json!({ "plan": "pro", "agent_quota": 2 }),
        )
        .await;
    assert_eq!(status, 201);
    let create = || async {
        let (_, agent) = platform.post(tenant, "/v1/agents", agent_body()).await;
        agent["id"].as_str().unwrap().to_owned()
    };
    let (failing, completing) = (create().await, create().await);
    let invoice_body = json!({
        "period_start": "2026-11-01", "period_end": "2026-11-30", "currency": "EUR",
        "line_items": [{ "description": "Seats", "quantity": 1, "unit_amount_minor": 4900 }]
    });
    let (_, overdue) = platform.post(tenant, "/v1/invoices", invoice_body).await;
    let overdue = overdue["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/v1/agents/{failing}/deployment-requests"),
        format!("/v1/agents/{completing}/deployment-requests"),
    ] {
        steps.push((path, json!({})));
    }
    steps.push((
        format!("/v1/agents/{failing}/deployment-failures"),
        json!({ "reason": "quota" }),
    ));
    steps.push((
        "/v1/subscriptions/slots".to_owned(),
        json!({ "agent_id": completing }),
    ));
    steps.push((
        format!("/v1/agents/{completing}/deployment-completions"),
        json!({ "knowledge_base_id": "kb-1", "widget_embed_code": "<script></script>" }),
    ));
    steps.push((
        format!("/v1/subscriptions/slots/{completing}/release"),
        json!({}),
    ));
    steps.push((
        format!("/v1/invoices/{overdue}/overdue"),
        json!({ "reason": "card declined" }),
    ));
    steps.push((
        "/v1/subscriptions/billing-periods".to_owned(),
        json!({ "period_start": "2026-11-01", "period_end": "2026-11-30" }),
    ));
    4 // SubscriptionActivated, two AgentCreated, InvoiceIssued
}
