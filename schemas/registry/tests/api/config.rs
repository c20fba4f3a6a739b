//! Global and per-subject compatibility levels.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn};

#[tokio::test]
async fn global_level_defaults_to_backward_and_can_be_changed() {
    let registry = spawn().await;
    assert_eq!(
        registry.get("/config").await,
        (StatusCode::OK, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        registry
            .put("/config", json!({"compatibility": "FULL"}))
            .await,
        (StatusCode::OK, json!({"compatibility": "FULL"}))
    );
    assert_eq!(
        registry.get("/config").await,
        (StatusCode::OK, json!({"compatibilityLevel": "FULL"}))
    );
    // Lower case is accepted and normalized.
    assert_eq!(
        registry
            .put("/config", json!({"compatibility": "forward_transitive"}))
            .await,
        (
            StatusCode::OK,
            json!({"compatibility": "FORWARD_TRANSITIVE"})
        )
    );
    assert_error(
        &registry
            .put("/config", json!({"compatibility": "SIDEWAYS"}))
            .await,
        422,
        42203,
    );
    assert_eq!(
        registry.delete("/config").await,
        (
            StatusCode::OK,
            json!({"compatibilityLevel": "FORWARD_TRANSITIVE"})
        )
    );
    assert_eq!(
        registry.get("/config").await,
        (StatusCode::OK, json!({"compatibilityLevel": "BACKWARD"}))
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn subject_level_overrides_global_and_is_reported_only_when_set() {
    let registry = spawn().await;
    registry
        .put("/config", json!({"compatibility": "FULL"}))
        .await;
    assert_error(&registry.get("/config/orders-value").await, 404, 40408);
    assert_eq!(
        registry
            .get("/config/orders-value?defaultToGlobal=true")
            .await,
        (StatusCode::OK, json!({"compatibilityLevel": "FULL"}))
    );
    // A subject without versions can get a level.
    assert_eq!(
        registry
            .put("/config/orders-value", json!({"compatibility": "NONE"}))
            .await,
        (StatusCode::OK, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        registry.get("/config/orders-value").await,
        (StatusCode::OK, json!({"compatibilityLevel": "NONE"}))
    );
    assert_eq!(
        registry
            .get("/config/orders-value?defaultToGlobal=true")
            .await,
        (StatusCode::OK, json!({"compatibilityLevel": "NONE"}))
    );
    assert_error(
        &registry
            .put("/config/orders-value", json!({"compatibility": "BOGUS"}))
            .await,
        422,
        42203,
    );
    assert_eq!(
        registry.delete("/config/orders-value").await,
        (StatusCode::OK, json!({"compatibilityLevel": "NONE"}))
    );
    assert_error(&registry.get("/config/orders-value").await, 404, 40408);
    assert_error(&registry.delete("/config/orders-value").await, 404, 40401);
    registry.cleanup().await;
}
