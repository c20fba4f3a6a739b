//! The real HTTP adapters against a stand-in for the third-party service (an LLM provider and
//! a provisioning service cannot be reached from here): request shape, parsing, error classes.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, post};
use axum::{Json, Router};
use sagas::ports::llm::{ChatMessage, Llm, LlmError};
use sagas::ports::provisioning::{Provisioner, ProvisioningError};
use serde_json::{json, Value};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

async fn completions(headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk-test") {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    match body["messages"][0]["content"].as_str() {
        Some("overloaded") => (StatusCode::TOO_MANY_REQUESTS, Json(json!({}))),
        Some("bad") => (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid" }))),
        _ => (
            StatusCode::OK,
            Json(json!({
                "choices": [{ "message": { "role": "assistant", "content": format!("echo from {}", body["model"].as_str().unwrap()) } }],
                "usage": { "prompt_tokens": 7, "completion_tokens": 3 }
            })),
        ),
    }
}

fn ask(text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage {
        role: "user".into(),
        content: text.into(),
    }]
}

#[tokio::test]
async fn the_openai_compatible_adapter_speaks_chat_completions() {
    let base = serve(Router::new().route("/v1/chat/completions", post(completions))).await;
    let llm = Llm::OpenAiCompatible {
        client: reqwest::Client::new(),
        base_url: base,
        api_key: "sk-test".into(),
        model: "gpt-4o-mini".into(),
    };
    let completion = llm.complete("gpt-4o", &ask("hello")).await.unwrap();
    assert_eq!(
        (
            completion.text.as_str(),
            completion.prompt_tokens,
            completion.completion_tokens
        ),
        ("echo from gpt-4o", 7, 3)
    );
    assert!(matches!(
        llm.complete("", &ask("overloaded")).await,
        Err(LlmError::Transient(_))
    ));
    assert!(matches!(
        llm.complete("", &ask("bad")).await,
        Err(LlmError::Rejected(_))
    ));
}

#[tokio::test]
async fn the_provisioning_adapter_provisions_and_deprovisions() {
    let router = Router::new()
        .route(
            "/v1/provisionings",
            post(|Json(body): Json<Value>| async move {
                Json(json!({ "knowledge_base_id": format!("kb-{}", body["agent_id"].as_str().unwrap()), "widget_embed_code": "<script></script>" }))
            }),
        )
        .route("/v1/provisionings/{agent}", delete(|| async { StatusCode::NOT_FOUND }));
    let provisioner = Provisioner::http(&serve(router).await);
    let provisioned = provisioner.provision("acme", "a-1").await.unwrap();
    assert_eq!(provisioned.knowledge_base_id, "kb-a-1");
    // Deprovisioning something already gone is fine (compensations may run twice).
    provisioner.deprovision("a-1").await.unwrap();
    let down = Provisioner::http("http://127.0.0.1:1");
    assert!(matches!(
        down.provision("acme", "a-1").await,
        Err(ProvisioningError::Transient(_))
    ));
}

#[tokio::test]
async fn the_payment_adapter_charges_with_the_idempotency_key() {
    use sagas::ports::payments::{PaymentError, Payments};
    let router = Router::new().route(
        "/v1/charges",
        post(|headers: HeaderMap, Json(body): Json<Value>| async move {
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if body["amount_minor"].as_i64() == Some(13) {
                return (
                    StatusCode::PAYMENT_REQUIRED,
                    Json(json!({ "error": "card declined" })),
                );
            }
            if body["amount_minor"].as_i64() == Some(503) {
                return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
            }
            (
                StatusCode::OK,
                Json(json!({ "payment_reference": format!("ch_{key}") })),
            )
        }),
    );
    let payments = Payments::http(&serve(router).await, "sk");
    assert_eq!(
        payments.charge("inv-1", 1_000, "EUR", "k1").await,
        Ok("ch_k1".to_owned())
    );
    assert_eq!(
        payments.charge("inv-1", 13, "EUR", "k2").await,
        Err(PaymentError::Declined("card declined".into()))
    );
    assert!(matches!(
        payments.charge("inv-1", 503, "EUR", "k3").await,
        Err(PaymentError::Transient(_))
    ));
}
