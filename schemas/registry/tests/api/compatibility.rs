//! Compatibility on registration and the `/compatibility` endpoint.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, record, spawn};

const ID: &str = r#"{"name":"id","type":"string"}"#;

#[tokio::test]
async fn backward_evolution_is_accepted_and_breaking_changes_are_rejected() {
    let registry = spawn().await;
    let v1 = record("Conversation", &[ID]);
    registry.register_ok("conv-value", &v1).await;
    // Adding a field with a default: new readers fill it in for old data.
    let v2 = record(
        "Conversation",
        &[ID, r#"{"name":"channel","type":"string","default":"web"}"#],
    );
    registry.register_ok("conv-value", &v2).await;
    // Adding a field without a default: new readers cannot read old data.
    let no_default = record("Conversation", &[ID, r#"{"name":"owner","type":"string"}"#]);
    let rejected = registry.register("conv-value", &no_default).await;
    assert_error(&rejected, 409, 409);
    assert!(rejected.1["message"]
        .as_str()
        .unwrap()
        .contains("incompatible"));
    // Changing a type.
    let retyped = record("Conversation", &[r#"{"name":"id","type":"int"}"#]);
    assert_error(&registry.register("conv-value", &retyped).await, 409, 409);
    assert_eq!(
        registry.get("/subjects/conv-value/versions").await,
        (StatusCode::OK, json!([1, 2]))
    );

    // With the subject's level at NONE the same change is accepted.
    registry
        .put("/config/conv-value", json!({"compatibility": "NONE"}))
        .await;
    registry.register_ok("conv-value", &no_default).await;
    registry.cleanup().await;
}

#[tokio::test]
async fn transitive_levels_check_every_version() {
    let registry = spawn().await;
    let v1 = record("Billing", &[r#"{"name":"amount","type":"int"}"#]);
    // Dropping a field is backward compatible (readers ignore it) …
    let v2 = record("Billing", &[]);
    // … and re-adding it with another type and a default reads v2 data but not v1 data.
    let v3 = record(
        "Billing",
        &[r#"{"name":"amount","type":"string","default":""}"#],
    );
    for subject in ["plain-value", "transitive-value"] {
        registry.register_ok(subject, &v1).await;
        registry.register_ok(subject, &v2).await;
    }
    registry
        .put(
            "/config/transitive-value",
            json!({"compatibility": "BACKWARD_TRANSITIVE"}),
        )
        .await;
    registry.register_ok("plain-value", &v3).await;
    assert_error(&registry.register("transitive-value", &v3).await, 409, 409);
    registry.cleanup().await;
}

#[tokio::test]
async fn forward_and_full_levels_check_the_other_direction() {
    let registry = spawn().await;
    let v1 = record("Agent", &[ID]);
    // A new required field: forward compatible only (old readers ignore it).
    let required = record("Agent", &[ID, r#"{"name":"model","type":"string"}"#]);
    registry
        .put("/config/fwd-value", json!({"compatibility": "FORWARD"}))
        .await;
    registry
        .put("/config/full-value", json!({"compatibility": "FULL"}))
        .await;
    registry.register_ok("fwd-value", &v1).await;
    registry.register_ok("full-value", &v1).await;
    registry.register_ok("fwd-value", &required).await;
    assert_error(&registry.register("full-value", &required).await, 409, 409);
    // Removing a field without default: not forward compatible.
    let removed = record("Agent", &[]);
    assert_error(&registry.register("fwd-value", &removed).await, 409, 409);
    registry.cleanup().await;
}

#[tokio::test]
async fn the_compatibility_endpoint_answers_without_registering() {
    let registry = spawn().await;
    let v1 = record("Task", &[ID]);
    registry.register_ok("tasks-value", &v1).await;
    let good = record(
        "Task",
        &[
            ID,
            r#"{"name":"due","type":["null","long"],"default":null}"#,
        ],
    );
    let bad = record("Task", &[ID, r#"{"name":"due","type":"long"}"#]);

    for path in [
        "/compatibility/subjects/tasks-value/versions/latest",
        "/compatibility/subjects/tasks-value/versions/1",
        "/compatibility/subjects/tasks-value/versions",
    ] {
        assert_eq!(
            registry.post(path, json!({"schema": good})).await,
            (StatusCode::OK, json!({"is_compatible": true})),
            "{path}"
        );
        assert_eq!(
            registry.post(path, json!({"schema": bad})).await,
            (StatusCode::OK, json!({"is_compatible": false})),
            "{path}"
        );
    }
    let (status, verbose) = registry
        .post(
            "/compatibility/subjects/tasks-value/versions/latest?verbose=true",
            json!({"schema": bad}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verbose["is_compatible"], false);
    assert!(
        !verbose["messages"].as_array().unwrap().is_empty(),
        "{verbose}"
    );
    let (_, verbose) = registry
        .post(
            "/compatibility/subjects/tasks-value/versions/latest?verbose=true",
            json!({"schema": good}),
        )
        .await;
    assert_eq!(verbose, json!({"is_compatible": true, "messages": []}));

    // Nothing was registered.
    assert_eq!(
        registry.get("/subjects/tasks-value/versions").await,
        (StatusCode::OK, json!([1]))
    );
    // No subject yet: anything is compatible with its latest.
    assert_eq!(
        registry
            .post(
                "/compatibility/subjects/new-value/versions/latest",
                json!({"schema": bad})
            )
            .await,
        (StatusCode::OK, json!({"is_compatible": true}))
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/new-value/versions/1",
                json!({"schema": bad}),
            )
            .await,
        404,
        40401,
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/tasks-value/versions/7",
                json!({"schema": bad}),
            )
            .await,
        404,
        40402,
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/tasks-value/versions/zero",
                json!({"schema": bad}),
            )
            .await,
        422,
        42202,
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/tasks-value/versions/latest",
                json!({"schema": "{"}),
            )
            .await,
        422,
        42201,
    );
    registry.cleanup().await;
}
