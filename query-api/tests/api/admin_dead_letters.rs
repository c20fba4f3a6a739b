//! Dead letters: the list with its filters and pages, and the retry: one that applies (a real
//! Avro record through a real schema registry), one that still fails, a registry that is down.

use chrono::Utc;
use projectors::ProjectionName;
use reqwest::StatusCode;
use schemas::{AnyEvent, EventMetadata, RegistryCodec};
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use uuid::Uuid;

use super::Console;

async fn dead_letter(
    pool: &PgPool,
    projection: &str,
    offset: i64,
    payload: &[u8],
    retried: bool,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO projection_dead_letters
             (projection, topic, partition, \"offset\", record_key, payload, error, retried_at)
         VALUES ($1, 'agenthub.agents', 0, $2, 'key', $3, 'apply: boom',
                 CASE WHEN $4 THEN now() END)
         RETURNING id",
    )
    .bind(projection)
    .bind(offset)
    .bind(payload)
    .bind(retried)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn dead_letters_are_listed_newest_first_with_filters_and_pages() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    let first = dead_letter(pool, "tasks", 1, b"x", false).await;
    let second = dead_letter(pool, "audit", 2, b"xyz", false).await;
    let retried = dead_letter(pool, "tasks", 3, b"", true).await;

    let pending = console.get("/v1/admin/dead-letters").await;
    assert_eq!(pending.status, StatusCode::OK, "{:?}", pending.body);
    let ids: Vec<i64> = pending
        .items()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![second, first], "pending by default, newest first");
    let item = &pending.items()[0];
    assert_eq!(item["projection"], "audit");
    assert_eq!(item["topic"], "agenthub.agents");
    assert_eq!(item["offset"], 2);
    assert_eq!(item["record_key"], "key");
    assert_eq!(item["error"], "apply: boom");
    assert_eq!(item["payload_bytes"], 3);
    assert_eq!(item["retried_at"], serde_json::Value::Null);
    assert!(
        item.get("payload").is_none(),
        "the bytes stay in the database"
    );

    let tasks = console
        .get("/v1/admin/dead-letters?projection=tasks&state=all")
        .await;
    let ids: Vec<i64> = tasks
        .items()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![retried, first]);
    let done = console.get("/v1/admin/dead-letters?state=retried").await;
    assert_eq!(done.items().len(), 1);
    assert!(done.items()[0]["retried_at"].is_string());

    let page = console
        .get("/v1/admin/dead-letters?state=all&limit=2")
        .await;
    assert_eq!(page.items().len(), 2);
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let rest = console
        .get(&format!(
            "/v1/admin/dead-letters?state=all&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest.items().len(), 1);
    assert_eq!(rest.items()[0]["id"], first);
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);

    let bad = console
        .get("/v1/admin/dead-letters?projection=nope&state=maybe&limit=500&cursor=zzz")
        .await;
    for field in ["projection", "state", "limit", "cursor"] {
        bad.assert_problem(StatusCode::BAD_REQUEST, field);
    }
    console.stop().await;
}

fn agent_created(agent: Uuid) -> (EventMetadata, AnyEvent) {
    let event = AnyEvent::from_stored(
        "agent",
        json!({ "AgentCreated": { "tenant_id": "acme", "name": "Ada", "industry": "retail",
            "config": { "provider": "openai", "model": "gpt-4o", "temperature": 0.7,
                        "max_tokens": 1024, "system_prompt": "Be helpful." } } }),
    )
    .expect("a valid stored event");
    let metadata = EventMetadata {
        event_id: EventMetadata::event_id_for("agent", &agent, 1),
        event_type: "AgentCreated".to_owned(),
        aggregate_type: "agent".to_owned(),
        aggregate_id: agent,
        sequence: 1,
        tenant_id: "acme".to_owned(),
        occurred_at: Utc::now(),
        correlation_id: "test".to_owned(),
        causation_id: None,
        traceparent: None,
    };
    (metadata, event)
}

#[tokio::test]
async fn a_retry_applies_the_record_to_the_live_generation_once() {
    // The registry first, so the app can be pointed at it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_url = format!("http://{}", listener.local_addr().unwrap());
    let url = registry_url.clone();
    let console = Console::start_with(super::CLOSED_BROKER, "agenthub", move |settings| {
        settings.schema_registry_url = url;
    })
    .await;
    let registry = schema_registry::RegistryServer::build(console.app.pool.clone(), listener)
        .await
        .unwrap()
        .spawn();
    let codec = RegistryCodec::new(&registry_url, "agenthub");
    let agent = Uuid::now_v7();
    let (metadata, event) = agent_created(agent);
    let payload = codec.encode(&metadata, &event).await.unwrap();
    console.app.build(ProjectionName::Audit).await;
    let id = dead_letter(&console.app.pool, "audit", 17, &payload, false).await;

    let retried = console
        .post(&format!("/v1/admin/dead-letters/{id}/retry"))
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["outcome"], "retried");
    assert!(retried.body["dead_letter"]["retried_at"].is_string());
    let audit = console
        .app
        .get(&format!("/v1/audit?aggregate_id={agent}"), "acme")
        .await;
    assert_eq!(audit.items().len(), 1, "{:?}", audit.body);
    assert_eq!(audit.items()[0]["event_type"], "AgentCreated");

    // Again: nothing to do, said so; the read model is unchanged.
    let again = console
        .post(&format!("/v1/admin/dead-letters/{id}/retry"))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["outcome"], "already-retried");
    let pending = console.get("/v1/admin/dead-letters").await;
    assert!(pending.items().is_empty());

    // A record that does not decode stays a dead letter: 422, the registry being up.
    let broken = dead_letter(&console.app.pool, "audit", 18, b"\0\0\0\x03\xe7junk", false).await;
    let failed = console
        .post(&format!("/v1/admin/dead-letters/{broken}/retry"))
        .await;
    failed.assert_problem_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failed.body["type"], "/problems/dead-letter-still-failing");
    assert_eq!(console.get("/v1/admin/dead-letters").await.items().len(), 1);
    registry.stop().await.unwrap();
    console.stop().await;
}

#[tokio::test]
async fn a_retry_without_the_registry_or_of_an_unknown_id_says_why() {
    let console = Console::start().await;
    let id = dead_letter(&console.app.pool, "audit", 1, b"\0\0\0\0\x01", false).await;
    let down = console
        .post(&format!("/v1/admin/dead-letters/{id}/retry"))
        .await;
    down.assert_problem_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.body["type"], "/problems/schema-registry-unavailable");
    assert_eq!(down.header("retry-after"), Some("5"));

    for missing in ["999999", "abc", "-"] {
        let answer = console
            .post(&format!("/v1/admin/dead-letters/{missing}/retry"))
            .await;
        answer.assert_problem_status(StatusCode::NOT_FOUND);
    }
    console.stop().await;
}
