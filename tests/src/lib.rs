//! Test harness: a fresh, isolated platform per test against the real PostgreSQL and broker.
//!
//! Each test gets its own database, its own schema registry (in-process, on port 0) and its
//! own topic prefix, so tests run in parallel against one broker without seeing each other.

mod broker;
mod harness;
mod topics;

pub use broker::{free_port, OwnBroker};
pub use harness::{
    command_api_binary, fresh_database, projector_settings, workspace_binary, KillOnDrop, Platform,
    PlatformOptions,
};
pub use topics::{read_all_records, read_topics, Record};

/// The shared broker `.ci/run` starts (override with `KAFKA_BROKERS`).
pub fn shared_brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// The PostgreSQL server tests create their databases on (override with `TEST_DATABASE_SERVER`).
pub fn database_server() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
