//! `projectors` command line: run, status, rebuild, dlq. Every flag has an environment variable.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(name = "projectors", about = "AgentHub read-model projectors")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run projections (all by default) until SIGINT/SIGTERM; serves /health, /ready, /metrics.
    Run {
        /// Only these projections (agents, tasks, conversations, billing, usage, audit).
        #[arg(long = "projection")]
        projections: Vec<String>,
    },
    /// Lag per partition of every live projection.
    Status,
    /// Build a new generation from offset 0, check it against the live one, swap atomically.
    /// Several projections (or --all) are rebuilt together, reading the topics once for all;
    /// each is still checked and swapped on its own.
    Rebuild {
        /// The projections to rebuild (agents, tasks, conversations, billing, usage, audit).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        projections: Vec<String>,
        /// Rebuild all six.
        #[arg(long)]
        all: bool,
        /// Swap even when the rebuilt rows differ from the live ones (after a fix to the
        /// projection, or to repair a damaged view); the differences are printed.
        #[arg(long)]
        accept_differences: bool,
    },
    /// Dead letters: list them, or re-apply them.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DlqAction {
    List {
        #[arg(long)]
        projection: Option<String>,
    },
    /// Re-apply one dead letter by id, or all of a projection with --all.
    Retry {
        id: Option<i64>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        projection: Option<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[arg(long, env = "PROJECTORS_LISTEN", default_value = "127.0.0.1:8004")]
    pub listen: SocketAddr,
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/agenthub"
    )]
    pub database_url: String,
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    #[arg(
        long,
        env = "SCHEMA_REGISTRY_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub schema_registry_url: String,
    #[arg(long, env = "TOPIC_PREFIX", default_value = "agenthub")]
    pub topic_prefix: String,
    #[arg(long, env = "TOPIC_REPLICATION", default_value_t = 1)]
    pub topic_replication: i32,
}

impl Settings {
    /// Defaults with the given database, for tests and tools.
    pub fn for_database(database_url: &str) -> Self {
        let mut cli = Cli::parse_from(["projectors"]);
        cli.settings.database_url = database_url.to_owned();
        cli.settings.listen = "127.0.0.1:0".parse().expect("valid address");
        cli.settings
    }
}
