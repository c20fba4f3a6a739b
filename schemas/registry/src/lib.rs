//! A Confluent Schema Registry compatible server (the REST subset real clients use:
//! confluent-kafka's `SchemaRegistryClient`, `schema_registry_converter`, Java's
//! `CachedSchemaRegistryClient`), storing its state in PostgreSQL.
//!
//! Only Avro is supported. State lives in the PostgreSQL schema `schema_registry`
//! (including its own `_sqlx_migrations`), so the registry can share a database with
//! other components.
//!
//! Endpoints (Confluent semantics and error codes): `POST /subjects/{s}/versions` (register),
//! `POST /subjects/{s}` (lookup), `GET /subjects`, `GET /subjects/{s}/versions`,
//! `GET /subjects/{s}/versions/{v|latest}` (+ `/schema`, `/referencedby`),
//! `DELETE /subjects/{s}[/versions/{v}][?permanent=true]`, `GET /schemas/ids/{id}`
//! (+ `/schema`, `/subjects`, `/versions`), `GET /schemas/types`,
//! `GET|PUT|DELETE /config[/{s}]`, `POST /compatibility/subjects/{s}/versions[/{v}]`,
//! `GET /contexts`, `GET|PUT /mode[/{s}]` (always READWRITE), `GET /health`.
//!
//! Two registrations are the same schema when their parsed schemas serialize identically
//! (see [`avro::ParsedSchema::normalized`]): whitespace and key order do not matter;
//! defaults, docs and logical types do, as in Confluent.
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
mod store;

pub use compat::CompatibilityLevel;
pub use error::RegistryError;
pub use http::CONTENT_TYPE;
pub use registry::{Registry, SchemaRequest};
pub use server::{migrate, router, RegistryServer, RunningRegistry};
