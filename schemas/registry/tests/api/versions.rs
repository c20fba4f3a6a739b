//! Listing subjects and versions, `latest`, and version errors.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, record, spawn};

#[tokio::test]
async fn versions_are_listed_and_latest_is_the_last_one() {
    let registry = spawn().await;
    let v1 = record("Task", &[r#"{"name":"id","type":"string"}"#]);
    let v2 = record(
        "Task",
        &[
            r#"{"name":"id","type":"string"}"#,
            r#"{"name":"title","type":"string","default":""}"#,
        ],
    );
    let id1 = registry.register_ok("tasks-value", &v1).await;
    let id2 = registry.register_ok("tasks-value", &v2).await;
    assert_ne!(id1, id2);

    assert_eq!(
        registry.get("/subjects/tasks-value/versions").await,
        (StatusCode::OK, json!([1, 2]))
    );
    for latest in ["latest", "-1"] {
        let (status, body) = registry
            .get(&format!("/subjects/tasks-value/versions/{latest}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"subject": "tasks-value", "version": 2, "id": id2, "schema": v2})
        );
    }
    let (status, body) = registry.get("/subjects/tasks-value/versions/1").await;
    assert_eq!((status, body["id"].as_i64()), (StatusCode::OK, Some(id1)));
    let (status, raw) = registry
        .get("/subjects/tasks-value/versions/1/schema")
        .await;
    assert_eq!(
        (status, raw["name"].as_str()),
        (StatusCode::OK, Some("Task"))
    );
    assert_eq!(
        registry.get("/subjects").await,
        (StatusCode::OK, json!(["tasks-value"]))
    );
    assert_eq!(
        registry.get("/subjects?subjectPrefix=nope").await,
        (StatusCode::OK, json!([]))
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn unknown_subjects_versions_and_schemas_have_confluent_error_codes() {
    let registry = spawn().await;
    registry
        .register_ok(
            "known-value",
            &record("Known", &[r#"{"name":"a","type":"int"}"#]),
        )
        .await;
    assert_error(
        &registry.get("/subjects/unknown-value/versions").await,
        404,
        40401,
    );
    assert_error(
        &registry.get("/subjects/unknown-value/versions/1").await,
        404,
        40401,
    );
    assert_error(
        &registry
            .get("/subjects/unknown-value/versions/latest")
            .await,
        404,
        40401,
    );
    assert_error(
        &registry.get("/subjects/known-value/versions/2").await,
        404,
        40402,
    );
    assert_error(&registry.get("/schemas/ids/999").await, 404, 40403);
    assert_error(&registry.get("/schemas/ids/999/versions").await, 404, 40403);
    for bad in ["0", "-2", "abc", "99999999999"] {
        assert_error(
            &registry
                .get(&format!("/subjects/known-value/versions/{bad}"))
                .await,
            422,
            42202,
        );
    }
    registry.cleanup().await;
}
