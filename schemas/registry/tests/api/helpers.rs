//! A registry per test: a fresh database, a server on 127.0.0.1:0 and an HTTP client.

use std::str::FromStr;

use reqwest::{Method, StatusCode};
use schema_registry::{RegistryServer, RunningRegistry};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgPool};
use tokio::net::TcpListener;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A running registry over its own database.
pub struct TestRegistry {
    pub url: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    running: RunningRegistry,
    admin: PgConnectOptions,
    database: String,
}

fn server_options() -> PgConnectOptions {
    let url = std::env::var("SCHEMA_REGISTRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
    PgConnectOptions::from_str(&url).expect("a valid PostgreSQL URL")
}

/// Creates an empty database; returns the admin options, its name and a pool on it.
pub async fn create_database() -> (PgConnectOptions, String, PgPool) {
    let admin = server_options().database("postgres");
    let database = uuid::Uuid::new_v4().to_string();
    let mut conn = admin.connect().await.expect("PostgreSQL at 127.0.0.1:5432");
    // An identifier we generated, not a value: it cannot be bound as a parameter.
    conn.execute(format!(r#"CREATE DATABASE "{database}""#).as_str())
        .await
        .expect("create the test database");
    conn.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(admin.clone().database(&database))
        .await
        .expect("connect to the test database");
    (admin, database, pool)
}

/// Drops a database made by [`create_database`].
pub async fn drop_database(admin: &PgConnectOptions, database: &str) {
    let mut conn = admin.connect().await.expect("admin connection");
    conn.execute(format!(r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#).as_str())
        .await
        .expect("drop the test database");
}

/// Creates a database, migrates it and serves a registry on it.
pub async fn spawn() -> TestRegistry {
    let (admin, database, pool) = create_database().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = RegistryServer::build(pool.clone(), listener)
        .await
        .expect("build the registry");
    let running = server.spawn();
    TestRegistry {
        url: running.url().to_owned(),
        client: reqwest::Client::new(),
        pool,
        running,
        admin,
        database,
    }
}

/// An Avro record schema named `name` with these fields (JSON text of each).
pub fn record(name: &str, fields: &[&str]) -> String {
    format!(
        r#"{{"type":"record","name":"{name}","namespace":"agenthub.test","fields":[{}]}}"#,
        fields.join(",")
    )
}

impl TestRegistry {
    /// Sends a request with the registry's content type; returns status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the registry answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Registers `schema` under `subject`.
    pub async fn register(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": schema}),
        )
        .await
    }

    /// Registers `schema` under `subject`, expecting success; returns its id.
    pub async fn register_ok(&self, subject: &str, schema: &str) -> i64 {
        let (status, body) = self.register(subject, schema).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["id"].as_i64().expect("an id")
    }

    /// Stops the server and drops the test database.
    pub async fn cleanup(self) {
        self.running.stop().await.expect("the server stops cleanly");
        self.pool.close().await;
        let mut conn = self.admin.connect().await.expect("admin connection");
        conn.execute(
            format!(
                r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                self.database
            )
            .as_str(),
        )
        .await
        .expect("drop the test database");
    }
}

/// Asserts a Confluent error answer.
pub fn assert_error(answer: &(StatusCode, Value), status: u16, error_code: i64) {
    assert_eq!(answer.0.as_u16(), status, "{}", answer.1);
    assert_eq!(
        answer.1["error_code"].as_i64(),
        Some(error_code),
        "{}",
        answer.1
    );
    assert!(answer.1["message"].is_string(), "{}", answer.1);
}
