//! query-api against a real PostgreSQL: each test has its own database, writes read-model
//! rows straight into a generation's tables and queries them over HTTP.

mod admin;
mod agents;
mod auth;
mod billing;
mod consistency;
mod conversations;
mod fixtures;
mod generations;
mod helpers;
mod tasks;
mod usage_and_audit;
