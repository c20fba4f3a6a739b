//! Read-side scenarios: projectors against the real PostgreSQL and broker.

mod crash;
mod dead_letters;
mod lost_commits;
mod mid_batch;
mod read_your_writes;
mod rebalance;
mod rebuild;
mod rebuild_together;
mod republish;
mod set_wise;
mod statistics;
mod support;
mod trace;
