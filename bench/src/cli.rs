//! Command-line flags.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Benchmarks of the AgentHub platform")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// REST throughput, commit → Kafka publish latency at a fixed rate, and an in-process
    /// cqrs-es + postgres-es baseline, all in one run on fresh databases and topics.
    Commands(CommandsArgs),
    /// The broker alone: produce at a fixed rate with the relay's producer settings and
    /// measure ack and end-to-end latency, to tell the broker's share from the platform's.
    Broker(BrokerArgs),
    /// The read side: a full rebuild of all six projections from offset 0 over a generated
    /// history, against a raw COPY of the same rows into the same tables.
    Rebuild(RebuildArgs),
    /// Command → visible in the query API, at a fixed rate of create-task commands.
    Visible(VisibleArgs),
    /// Task-execution sagas against the local providers: completed/s and TaskCreated →
    /// TaskCompleted latency.
    Sagas(SagasArgs),
}

/// Where the platform's dependencies are (shared by every subcommand that starts services).
#[derive(Debug, Clone, Args)]
pub struct Servers {
    /// PostgreSQL server URL without a database name; bench databases are created on it.
    #[arg(
        long,
        env = "BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Keep the bench database and topics afterwards (for inspection).
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    /// Events in the generated history (spread over the four topics).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=100_000_000))]
    pub events: u64,
    /// Give up on a phase after this many seconds.
    #[arg(long, default_value_t = 3_600)]
    pub timeout: u64,
    #[command(flatten)]
    pub servers: Servers,
}

#[derive(Debug, Clone, Args)]
pub struct VisibleArgs {
    /// Create-task commands per second offered (open loop).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Seconds the paced phase lasts.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    #[command(flatten)]
    pub servers: Servers,
}

#[derive(Debug, Clone, Args)]
pub struct SagasArgs {
    /// Tasks to create, one task-execution saga each.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub sagas: u64,
    /// Create-task commands per second (open loop); 0 creates them as fast as the REST API
    /// takes them (closed loop of --clients clients).
    #[arg(long, default_value_t = 0)]
    pub rate: u32,
    /// Concurrent clients creating tasks.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub clients: u32,
    /// Deployed agents the sagas spread the tasks over.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub agents: u32,
    /// Saga executor workers (SAGA_WORKERS, the service's default is 8).
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// Run all six projections, not only the agents projection the saga reads.
    #[arg(long)]
    pub all_projections: bool,
    /// Give up waiting for the sagas after this many seconds (the count that finished is
    /// reported).
    #[arg(long, default_value_t = 1_800)]
    pub timeout: u64,
    #[command(flatten)]
    pub servers: Servers,
}

#[derive(Debug, Clone, Args)]
pub struct CommandsArgs {
    /// Concurrent clients (HTTP clients, paced senders and baseline workers alike).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub clients: u32,
    /// Seconds each measured phase lasts.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Commands per second offered in the publish-latency phase.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    /// PostgreSQL server URL without a database name; bench databases are created on it.
    #[arg(
        long,
        env = "BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Seconds to wait for the consumer to see every committed event after a phase.
    #[arg(long, default_value_t = 120)]
    pub drain_timeout: u64,
    /// The probe consumer's fetch.wait.max.ms (see docs/benchmarks.md: on Tansu it is added
    /// to every consumed record's latency).
    #[arg(long, default_value_t = 1)]
    pub fetch_wait_ms: u32,
    /// Diagnostic: run VACUUM ANALYZE on the outbox and events tables every this many seconds,
    /// standing in for autovacuum where the server has it off (0: never, the default).
    #[arg(long, default_value_t = 0)]
    pub vacuum_every: u64,
    /// Diagnostic: give the baseline the command-api's full schema (outbox trigger with
    /// pg_notify) instead of the bare events and snapshots tables.
    #[arg(long)]
    pub baseline_with_outbox_trigger: bool,
    /// Keep the bench databases and topics afterwards (for inspection).
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Records per second.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The probe consumer's fetch.wait.max.ms.
    #[arg(long, default_value_t = 1)]
    pub fetch_wait_ms: u32,
    /// Keep the probe's topics afterwards.
    #[arg(long)]
    pub keep: bool,
}
