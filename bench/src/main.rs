//! Benchmarks of the platform (see docs/benchmarks.md):
//! `cargo run --release -p bench -- commands|broker|rebuild|visible|sagas`.

/// mimalloc instead of the system allocator: the hot paths allocate per record and per
/// request, and glibc malloc cost a quarter of a rebuild's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod acks;
mod api;
mod baseline;
mod broker;
mod cli;
mod commands;
mod consumer;
mod copy;
mod isolation;
mod load;
mod platform;
mod produce;
mod progress;
mod read_side;
mod rebuild;
mod rebuild_report;
mod report;
mod rest;
mod saga_report;
mod stats;
mod task_sagas;
mod vacuum;
mod visible;

use bench::{history, mix};
use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Off by default: the figures are taken without a log subscriber. With RUST_LOG set, the
    // in-process services log as they do in production (JSON on stdout), e.g. to see the cost.
    let _telemetry = std::env::var_os("RUST_LOG")
        .is_some()
        .then(|| ::platform::telemetry::init("bench"));
    match Cli::parse().command {
        Command::Commands(args) => commands::run(args).await,
        Command::Broker(args) => broker::run(args).await,
        Command::Rebuild(args) => rebuild::run(args).await,
        Command::Visible(args) => visible::run(args).await,
        Command::Sagas(args) => task_sagas::run(args).await,
    }
}
