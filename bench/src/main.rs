//! Benchmarks of the command path (see docs/benchmarks.md):
//! `cargo run --release -p bench -- commands [--clients N] [--seconds S] [--rate R]`.

mod baseline;
mod broker;
mod cli;
mod commands;
mod consumer;
mod isolation;
mod load;
mod mix;
mod platform;
mod report;
mod rest;
mod stats;
mod vacuum;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Off by default: the figures are taken without a log subscriber. With RUST_LOG set, the
    // in-process services log as they do in production (JSON on stdout), e.g. to see the cost.
    if std::env::var_os("RUST_LOG").is_some() {
        ::platform::telemetry::init("bench");
    }
    match Cli::parse().command {
        Command::Commands(args) => commands::run(args).await,
        Command::Broker(args) => broker::run(args).await,
    }
}
