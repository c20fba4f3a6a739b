//! The admin console's endpoints: who may call them, the page, the OpenAPI document; the
//! modules below test each endpoint against a real PostgreSQL (and, for sagas, the real
//! sagas operator API; for lag, the real broker).

#[path = "admin_dead_letters.rs"]
mod dead_letters;
#[path = "admin_events.rs"]
mod events;
#[path = "admin_outbox.rs"]
mod outbox;
#[path = "admin_projections.rs"]
mod projections;
#[path = "admin_sagas.rs"]
mod sagas;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::helpers::{send, Reply, TestApp, SECRET};

/// A broker address nothing listens on.
pub const CLOSED_BROKER: &str = "127.0.0.1:1";

/// A query-api with the event store's and the sagas' tables in its database, the real sagas
/// operator API beside it, and a broker that is down unless `brokers` names one.
pub struct Console {
    pub app: TestApp,
    sagas: JoinHandle<()>,
}

impl Console {
    pub async fn start() -> Self {
        Self::start_with(CLOSED_BROKER, "agenthub", |_| {}).await
    }

    pub async fn start_with(
        brokers: &str,
        prefix: &str,
        configure: impl FnOnce(&mut query_api::Settings),
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sagas_url = format!("http://{}", listener.local_addr().expect("address"));
        let app = TestApp::start_with(|settings| {
            settings.kafka_brokers = brokers.to_owned();
            settings.topic_prefix = prefix.to_owned();
            settings.sagas_url = sagas_url;
            // Nothing listens there unless a test starts a registry.
            settings.schema_registry_url = "http://127.0.0.1:1".to_owned();
            configure(settings);
        })
        .await;
        store::migrate(&app.pool).await.expect("event store tables");
        ::sagas::migrate(&app.pool).await.expect("saga tables");
        let auth = Arc::new(platform::Authenticator::hs256(SecretString::from(SECRET)));
        let router = ::sagas::api::router(app.pool.clone(), auth);
        let sagas = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { app, sagas }
    }

    /// `method path` with a token of tenant acme holding `roles`.
    pub async fn call(&self, method: Method, path: &str, roles: &[&str]) -> Reply {
        let request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.app.base))
            .bearer_auth(self.app.token("acme", roles));
        send(request).await
    }

    /// `GET path` as an admin of tenant acme.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, &["admin"]).await
    }

    pub async fn post(&self, path: &str) -> Reply {
        self.call(Method::POST, path, &["admin"]).await
    }

    pub async fn stop(self) {
        self.sagas.abort();
        self.app.stop().await;
    }
}

const ENDPOINTS: [(&str, &str); 12] = [
    ("GET", "/v1/admin/projections"),
    ("GET", "/v1/admin/lag"),
    ("GET", "/v1/admin/dead-letters"),
    ("POST", "/v1/admin/dead-letters/1/retry"),
    ("GET", "/v1/admin/outbox/parked"),
    ("POST", "/v1/admin/outbox/parked/1/requeue"),
    ("GET", "/v1/admin/sagas"),
    (
        "GET",
        "/v1/admin/sagas/0196f3a0-0000-7000-8000-0000000005a1",
    ),
    (
        "POST",
        "/v1/admin/sagas/0196f3a0-0000-7000-8000-0000000005a1/retry",
    ),
    (
        "POST",
        "/v1/admin/sagas/0196f3a0-0000-7000-8000-0000000005a1/cancel",
    ),
    (
        "GET",
        "/v1/admin/aggregates/0196f3a0-0000-7000-8000-00000000a001/events",
    ),
    ("GET", "/v1/admin/timeseries"),
];

#[tokio::test]
async fn every_admin_endpoint_needs_a_token_with_the_admin_role() {
    let console = Console::start().await;
    let client = reqwest::Client::new();
    for (method, path) in ENDPOINTS {
        let method: Method = method.parse().unwrap();
        let url = format!("{}{path}", console.app.base);
        let anonymous = send(client.request(method.clone(), &url)).await;
        anonymous.assert_problem_status(StatusCode::UNAUTHORIZED);
        assert_eq!(
            anonymous.header("www-authenticate"),
            Some("Bearer"),
            "{path}"
        );
        let forged = send(
            client
                .request(method.clone(), &url)
                .bearer_auth("not.a.jwt"),
        )
        .await;
        forged.assert_problem_status(StatusCode::UNAUTHORIZED);
        for role in ["viewer", "operator"] {
            let answer = console.call(method.clone(), path, &[role]).await;
            answer.assert_problem_status(StatusCode::FORBIDDEN);
            assert!(
                answer.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("admin role"),
                "{path}: {:?}",
                answer.body
            );
        }
    }
    // With the admin role the same calls get past authentication.
    let projections = console.get("/v1/admin/projections").await;
    assert_eq!(projections.status, StatusCode::OK, "{:?}", projections.body);
    console.stop().await;
}

#[tokio::test]
async fn the_console_page_is_public_self_contained_and_locked_down() {
    let console = Console::start().await;
    let page = reqwest::get(format!("{}/admin", console.app.base))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let policy = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'sha256-",
        "style-src 'sha256-",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-frame-options"), "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>AgentHub · Admin console</title>"));
    assert!(html.contains("sessionStorage"), "the token is kept per tab");
    assert!(!html.contains("{{"), "every placeholder was filled");
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(external), "{external}");
    }
    // Known paths answer other methods with a problem, not an empty 405.
    let wrong = send(reqwest::Client::new().post(format!("{}/admin", console.app.base))).await;
    wrong.assert_problem_status(StatusCode::METHOD_NOT_ALLOWED);
    let wrong = console.get("/v1/admin/dead-letters/1/retry").await;
    wrong.assert_problem_status(StatusCode::METHOD_NOT_ALLOWED);
    console.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_admin_endpoints_as_platform_wide() {
    let console = Console::start().await;
    let openapi = send(console.app.anonymous("/openapi.json")).await;
    assert_eq!(openapi.status, StatusCode::OK);
    let paths = &openapi.body["paths"];
    for (method, path) in ENDPOINTS {
        let template = path
            .replace("/1/", "/{id}/")
            .replace("0196f3a0-0000-7000-8000-0000000005a1", "{id}")
            .replace("0196f3a0-0000-7000-8000-00000000a001", "{id}");
        let operation = &paths[&template][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {template}");
        assert_eq!(operation["tags"][0], "admin", "{template}");
        assert!(operation["responses"]["403"].is_object(), "{template}");
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            !parameters
                .iter()
                .any(|p| p["name"] == "X-Consistency-Token"),
            "{template} reads no read model"
        );
    }
    assert!(paths["/admin"]["get"].is_object());
    let tag = openapi.body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "admin")
        .expect("an admin tag")
        .clone();
    let description = tag["description"].as_str().unwrap();
    assert!(description.contains("Platform-wide"), "{description}");
    assert!(description.contains("not scoped to the token's tenant"));
    console.stop().await;
}
