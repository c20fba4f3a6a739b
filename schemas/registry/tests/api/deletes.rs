//! Soft and permanent deletes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, record, spawn};

#[tokio::test]
async fn subjects_are_soft_deleted_then_permanently_deleted() {
    let registry = spawn().await;
    let v1 = record("Deal", &[r#"{"name":"id","type":"string"}"#]);
    let id = registry.register_ok("deals-value", &v1).await;

    assert_error(
        &registry
            .delete("/subjects/deals-value?permanent=true")
            .await,
        404,
        40405,
    );
    assert_eq!(
        registry.delete("/subjects/deals-value").await,
        (StatusCode::OK, json!([1]))
    );
    assert_error(&registry.delete("/subjects/deals-value").await, 404, 40404);
    assert_eq!(registry.get("/subjects").await, (StatusCode::OK, json!([])));
    assert_eq!(
        registry.get("/subjects?deleted=true").await,
        (StatusCode::OK, json!(["deals-value"]))
    );
    assert_error(
        &registry.get("/subjects/deals-value/versions").await,
        404,
        40401,
    );
    assert_eq!(
        registry
            .get("/subjects/deals-value/versions?deleted=true")
            .await,
        (StatusCode::OK, json!([1]))
    );
    // Consumers can still decode old records.
    assert_eq!(
        registry.get(&format!("/schemas/ids/{id}")).await.0,
        StatusCode::OK
    );
    // Registering again makes a new version with the same id.
    assert_eq!(registry.register_ok("deals-value", &v1).await, id);
    assert_eq!(
        registry.get("/subjects/deals-value/versions").await,
        (StatusCode::OK, json!([2]))
    );

    assert_eq!(
        registry.delete("/subjects/deals-value").await,
        (StatusCode::OK, json!([2]))
    );
    assert_eq!(
        registry
            .delete("/subjects/deals-value?permanent=true")
            .await,
        (StatusCode::OK, json!([1, 2]))
    );
    assert_error(&registry.delete("/subjects/deals-value").await, 404, 40401);
    registry.cleanup().await;
}

#[tokio::test]
async fn versions_are_soft_deleted_then_permanently_deleted() {
    let registry = spawn().await;
    let v1 = record("Lead", &[r#"{"name":"id","type":"string"}"#]);
    let v2 = record(
        "Lead",
        &[
            r#"{"name":"id","type":"string"}"#,
            r#"{"name":"n","type":"int","default":0}"#,
        ],
    );
    registry.register_ok("leads-value", &v1).await;
    registry.register_ok("leads-value", &v2).await;

    assert_error(
        &registry
            .delete("/subjects/leads-value/versions/1?permanent=true")
            .await,
        404,
        40407,
    );
    assert_eq!(
        registry.delete("/subjects/leads-value/versions/1").await,
        (StatusCode::OK, json!(1))
    );
    assert_error(
        &registry.delete("/subjects/leads-value/versions/1").await,
        404,
        40406,
    );
    assert_error(
        &registry.get("/subjects/leads-value/versions/1").await,
        404,
        40402,
    );
    assert_eq!(
        registry
            .get("/subjects/leads-value/versions/1?deleted=true")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        registry.get("/subjects/leads-value/versions").await,
        (StatusCode::OK, json!([2]))
    );
    assert_eq!(
        registry
            .delete("/subjects/leads-value/versions/1?permanent=true")
            .await,
        (StatusCode::OK, json!(1))
    );
    assert_error(
        &registry.delete("/subjects/leads-value/versions/9").await,
        404,
        40402,
    );
    assert_error(
        &registry.delete("/subjects/nobody/versions/1").await,
        404,
        40401,
    );
    assert_eq!(
        registry
            .delete("/subjects/leads-value/versions/latest")
            .await,
        (StatusCode::OK, json!(2))
    );
    registry.cleanup().await;
}
