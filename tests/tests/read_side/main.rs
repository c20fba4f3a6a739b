//! Read-side scenarios: projectors against the real PostgreSQL and broker.

mod crash;
mod dead_letters;
mod rebalance;
mod rebuild;
mod republish;
mod support;
