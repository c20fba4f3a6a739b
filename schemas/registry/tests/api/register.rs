//! Registration, lookup, schemas by id, global ids and concurrency.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, record, spawn};

const AGENT_ID: &str = r#"{"name":"agent_id","type":"string"}"#;

#[tokio::test]
async fn registering_the_same_schema_twice_returns_the_same_id_and_one_version() {
    let registry = spawn().await;
    let schema = record("AgentCreated", &[AGENT_ID]);
    let id = registry.register_ok("agents-value", &schema).await;
    // Same schema, other whitespace and key order: the same schema.
    let reformatted = r#"{ "namespace": "agenthub.test", "name": "AgentCreated",
        "fields": [ { "type": "string", "name": "agent_id" } ], "type": "record" }"#;
    assert_eq!(registry.register_ok("agents-value", reformatted).await, id);
    assert_eq!(
        registry.get("/subjects/agents-value/versions").await,
        (StatusCode::OK, json!([1]))
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn ids_are_global_across_subjects() {
    let registry = spawn().await;
    let schema = record("AgentCreated", &[AGENT_ID]);
    let first = registry.register_ok("a-value", &schema).await;
    let second = registry.register_ok("b-value", &schema).await;
    assert_eq!(first, second);
    let other = registry
        .register_ok("c-value", &record("Other", &[AGENT_ID]))
        .await;
    assert_ne!(other, first);
    let (status, versions) = registry
        .get(&format!("/schemas/ids/{first}/versions"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        versions,
        json!([{"subject": "a-value", "version": 1}, {"subject": "b-value", "version": 1}])
    );
    assert_eq!(
        registry
            .get(&format!("/schemas/ids/{first}/subjects"))
            .await,
        (StatusCode::OK, json!(["a-value", "b-value"]))
    );
    assert_eq!(
        registry.get("/subjects").await,
        (StatusCode::OK, json!(["a-value", "b-value", "c-value"]))
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn schemas_are_served_by_id_and_looked_up_by_content() {
    let registry = spawn().await;
    let schema = record("AgentCreated", &[AGENT_ID]);
    let id = registry.register_ok("agents-value", &schema).await;

    let (status, body) = registry.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"schema": schema}));
    // Query parameters clients add are accepted.
    let (status, body) = registry
        .get(&format!(
            "/schemas/ids/{id}?subject=agents-value&format=resolved&deleted=true"
        ))
        .await;
    assert_eq!(
        (status, body["schema"].as_str()),
        (StatusCode::OK, Some(schema.as_str()))
    );
    let (status, raw) = registry.get(&format!("/schemas/ids/{id}/schema")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw["name"], "AgentCreated");

    let (status, found) = registry
        .post("/subjects/agents-value", json!({"schema": schema}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        found,
        json!({"subject": "agents-value", "version": 1, "id": id, "schema": schema})
    );
    let unknown = record("Unknown", &[AGENT_ID]);
    assert_error(
        &registry
            .post("/subjects/agents-value", json!({"schema": unknown}))
            .await,
        404,
        40403,
    );
    assert_error(
        &registry
            .post("/subjects/nobody-value", json!({"schema": schema}))
            .await,
        404,
        40401,
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_schema_end_with_one_id() {
    let registry = spawn().await;
    let schema = record("Raced", &[AGENT_ID]);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, url, schema) = (
            registry.client.clone(),
            registry.url.clone(),
            schema.clone(),
        );
        // Half the calls go to one subject, half to their own subject.
        let subject = if i % 2 == 0 {
            "raced-value".to_owned()
        } else {
            format!("raced-{i}")
        };
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(format!("{url}/subjects/{subject}/versions"))
                .json(&json!({"schema": schema}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        registry.get("/subjects/raced-value/versions").await,
        (StatusCode::OK, json!([1]))
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn any_request_content_type_is_accepted_and_answers_use_the_registry_type() {
    let registry = spawn().await;
    let schema = record("Typed", &[AGENT_ID]);
    let body = json!({"schema": schema}).to_string();
    for content_type in [
        None,
        Some("application/json"),
        Some("application/vnd.schemaregistry+json"),
        Some("application/vnd.schemaregistry.v1+json"),
        Some("application/octet-stream"),
    ] {
        let mut request = registry
            .client
            .post(format!("{}/subjects/typed-value/versions", registry.url))
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{content_type:?}");
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.schemaregistry.v1+json"
        );
    }
    let health = registry
        .client
        .get(format!("{}/health", registry.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    registry.cleanup().await;
}

#[tokio::test]
async fn references_resolve_named_types_of_other_subjects() {
    let registry = spawn().await;
    let money = r#"{"type":"record","name":"Money","namespace":"agenthub.test","fields":[{"name":"minor_units","type":"long"}]}"#;
    registry.register_ok("agenthub.test.Money", money).await;
    let invoice = record(
        "Invoice",
        &[r#"{"name":"total","type":"agenthub.test.Money"}"#],
    );
    let references =
        json!([{"name": "agenthub.test.Money", "subject": "agenthub.test.Money", "version": 1}]);

    // Without the reference the type is unknown.
    assert_error(
        &registry.register("invoices-value", &invoice).await,
        422,
        42201,
    );
    let (status, body) = registry
        .post(
            "/subjects/invoices-value/versions",
            json!({"schema": invoice, "schemaType": "AVRO", "references": references}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (_, by_id) = registry.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id["references"], references);
    assert_eq!(
        registry
            .get("/subjects/agenthub.test.Money/versions/1/referencedby")
            .await,
        (StatusCode::OK, json!([id]))
    );
    // A referenced version cannot be deleted.
    assert_error(
        &registry
            .delete("/subjects/agenthub.test.Money/versions/1")
            .await,
        422,
        42206,
    );
    registry.cleanup().await;
}
