//! The read side's writers: one consumer group per projection builds PostgreSQL read models
//! from the topics, effectively once (read-model rows and offsets commit together).
//!
//! Each projection has generations: the tables of generation N live in the schema
//! `rm_<projection>_g<N>`; `projection_generations` says which one serves queries. A rebuild
//! fills a new generation from offset 0 while the live one keeps serving, then swaps.

pub mod dlq;
mod error;
pub mod generations;
pub mod lag;
pub mod metrics;
pub mod partitions;
pub mod projections;
pub mod rebuild;
pub mod runtime;
pub mod service;
pub mod settings;

pub use error::ProjectorError;
pub use generations::{Generation, ProjectionName, LIVE_SCHEMA_SQL};
