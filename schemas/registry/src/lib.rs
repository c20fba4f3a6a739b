//! A Confluent Schema Registry compatible server (the REST subset real clients use:
//! confluent-kafka's `SchemaRegistryClient`, `schema_registry_converter`, Java's
//! `CachedSchemaRegistryClient`), storing its state in PostgreSQL.
//!
//! Only Avro is supported. State lives in the PostgreSQL schema `schema_registry`
//! (including its own `_sqlx_migrations`), so the registry can share a database with
//! other components.
//!
//! In-process use (tests, the relay):
//!
//! ```no_run
//! # async fn demo(pool: sqlx::PgPool) -> Result<(), schema_registry::RegistryError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = schema_registry::RegistryServer::build(pool, listener).await?.spawn();
//! println!("registry at {}", running.url());
//! running.stop().await?;
//! # Ok(()) }
//! ```

pub mod avro;
pub mod compat;
mod error;
mod http;
pub mod model;
mod registry;
mod routes;
mod server;
pub mod store;

pub use compat::CompatibilityLevel;
pub use error::RegistryError;
pub use http::CONTENT_TYPE;
pub use registry::{Registry, SchemaRequest};
pub use server::{migrate, router, RegistryServer, RunningRegistry};
