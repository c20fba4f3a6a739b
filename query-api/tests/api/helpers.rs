//! One query-api per test, on its own database, with helpers to write read-model rows.

use std::collections::HashSet;

use projectors::{Generation, ProjectionName};
use query_api::{App, Settings};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "query-api-test-secret-of-decent-length";

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    database_url: String,
    client: reqwest::Client,
    auth: platform::Authenticator,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// An answer: status, headers and the JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("a page has items")
    }

    /// The ids of a page's items.
    pub fn ids(&self) -> Vec<String> {
        ids(self.items())
    }

    /// Asserts a problem+json answer with `status`.
    pub fn assert_problem_status(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status.as_u16());
    }

    /// Asserts a problem+json answer with `status` naming `field`.
    pub fn assert_problem(&self, status: StatusCode, field: &str) {
        self.assert_problem_status(status);
        let fields: Vec<&str> = self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{field} not in {:?}", self.body);
    }
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            item["id"]
                .as_str()
                .or_else(|| item["event_id"].as_str())
                .expect("items have an id")
                .to_owned()
        })
        .collect()
}

fn database_server() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Creates the test's database (with the projectors' bookkeeping tables), then starts
    /// the app on a free port with `configure`d settings.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        platform::telemetry::init_for_tests();
        let database_url = format!(
            "{}/test_query_{}",
            database_server(),
            uuid::Uuid::new_v4().simple()
        );
        store::create_database_if_missing(&database_url)
            .await
            .expect("create database");
        let pool = store::connect(&database_url, 5).await.expect("connect");
        let mut settings = Settings::for_database(&database_url, SECRET);
        settings.database_max_connections = 5;
        configure(&mut settings);
        let app = App::build(settings).await.expect("build the app");
        let base = format!("http://{}", app.address());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base,
            pool,
            database_url,
            client: reqwest::Client::new(),
            auth: platform::Authenticator::hs256(SecretString::from(SECRET)),
            shutdown,
            task,
        }
    }

    /// Makes generation 1 of `projection` live, with its (empty) tables.
    pub async fn build(&self, projection: ProjectionName) -> Generation {
        let generation = Generation::live(&self.pool, projection)
            .await
            .expect("generation 1");
        self.ensure_stream_versions(generation).await;
        generation
    }

    /// Creates generation `number`'s tables without making it live.
    pub async fn create(&self, projection: ProjectionName, number: i32) -> Generation {
        let generation = Generation { projection, number };
        generation
            .create(&self.pool)
            .await
            .expect("create generation");
        self.ensure_stream_versions(generation).await;
        generation
    }

    /// What the projector runtime's rebuild does at the end: an atomic swap.
    pub async fn swap(&self, generation: Generation) {
        sqlx::query("UPDATE projection_generations SET live_generation = $2 WHERE projection = $1")
            .bind(generation.projection.as_str())
            .bind(generation.number)
            .execute(&self.pool)
            .await
            .expect("swap");
    }

    /// The projector runtime keeps this table; the tests create it where it is missing.
    async fn ensure_stream_versions(&self, generation: Generation) {
        let mut tx = self.write(generation).await;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS stream_versions
             (aggregate_id uuid PRIMARY KEY, tenant_id text NOT NULL, version bigint NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .expect("stream_versions");
        tx.commit().await.expect("commit");
    }

    /// A transaction whose unqualified table names are `generation`'s.
    pub async fn write(&self, generation: Generation) -> Transaction<'static, Postgres> {
        let mut tx = self.pool.begin().await.expect("begin");
        generation.enter(&mut tx).await.expect("enter generation");
        tx
    }

    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        self.auth
            .mint("tester", tenant, roles, 600)
            .expect("HS256 mints")
    }

    /// A request without credentials.
    pub fn anonymous(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    /// A request of a viewer of `tenant`.
    pub fn request(&self, path: &str, tenant: &str) -> reqwest::RequestBuilder {
        self.anonymous(path)
            .bearer_auth(self.token(tenant, &["viewer"]))
    }

    pub async fn get(&self, path: &str, tenant: &str) -> Reply {
        send(self.request(path, tenant)).await
    }

    /// Follows `next_cursor` from the first page to the last, checking each page's size;
    /// returns every item in the order served.
    pub async fn walk(&self, path: &str, tenant: &str, limit: usize) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let mut page_path = format!("{path}{separator}limit={limit}");
            if let Some(cursor) = &cursor {
                page_path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.get(&page_path, tenant).await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            assert!(page.items().len() <= limit);
            items.extend(page.items().iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => {
                    assert_eq!(page.items().len(), limit, "only a full page has a next");
                    cursor = Some(next.to_owned());
                }
                None => return items,
            }
        }
        panic!("more than 100 pages");
    }

    /// Starts a graceful shutdown (what SIGTERM does); in-flight requests still answer.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Stops the app and drops the test's database.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("app task").expect("app ran");
        self.pool.close().await;
        let admin = store::connect(&format!("{}/postgres", database_server()), 1)
            .await
            .expect("admin connection");
        let name = self.database_url.rsplit('/').next().unwrap_or_default();
        // Test database names are generated hex; quoting keeps it an identifier all the same.
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&admin)
            .await;
        admin.close().await;
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// Asserts `served` holds every id of `expected` exactly once.
pub fn assert_each_once(served: &[Value], expected: &[String]) {
    let served = ids(served);
    let unique: HashSet<&String> = served.iter().collect();
    assert_eq!(unique.len(), served.len(), "an item was served twice");
    let expected: HashSet<&String> = expected.iter().collect();
    assert_eq!(unique, expected);
}
