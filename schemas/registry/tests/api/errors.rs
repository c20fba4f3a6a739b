//! Invalid requests.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, spawn};

#[tokio::test]
async fn invalid_schemas_are_rejected_with_42201() {
    let registry = spawn().await;
    for schema in [
        "{not json",
        r#"{"type":"record","name":"NoFields"}"#,
        r#"{"type":"nonsense"}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"Unknown"}]}"#,
        "",
    ] {
        assert_error(&registry.register("bad-value", schema).await, 422, 42201);
    }
    assert_error(
        &registry
            .post(
                "/subjects/bad-value/versions",
                json!({"schema": r#"syntax = "proto3";"#, "schemaType": "PROTOBUF"}),
            )
            .await,
        422,
        42201,
    );
    assert_error(
        &registry
            .post("/subjects/bad-value/versions", json!({}))
            .await,
        422,
        42201,
    );
    // Nothing was stored.
    assert_error(
        &registry.get("/subjects/bad-value/versions").await,
        404,
        40401,
    );
    registry.cleanup().await;
}

#[tokio::test]
async fn malformed_bodies_and_unknown_routes_get_json_errors() {
    let registry = spawn().await;
    let response = registry
        .client
        .post(format!("{}/subjects/x/versions", registry.url))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], 400);

    assert_error(&registry.get("/nowhere").await, 404, 404);
    assert_error(&registry.get("/schemas/ids/abc").await, 404, 404);
    assert_error(
        &registry.call(Method::PATCH, "/subjects", None).await,
        405,
        405,
    );
    registry.cleanup().await;
}
