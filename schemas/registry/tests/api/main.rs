//! HTTP tests of the schema registry against the real PostgreSQL at 127.0.0.1:5432
//! (override with `SCHEMA_REGISTRY_TEST_DATABASE_URL`). Each test gets its own database.

mod compatibility;
mod config;
mod converter;
mod deletes;
mod errors;
mod helpers;
mod migrations;
mod register;
mod versions;
