//! command-api settings: flags, each with an environment variable (DESIGN.md names).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use secrecy::SecretString;

#[derive(Debug, Clone, Parser)]
#[command(name = "command-api", about = "AgentHub command API and outbox relay")]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "COMMAND_API_LISTEN", default_value = "127.0.0.1:8001")]
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
    #[arg(long, env = "TOPIC_PARTITIONS", default_value_t = 3)]
    pub topic_partitions: i32,
    #[arg(long, env = "TOPIC_REPLICATION", default_value_t = 1)]
    pub topic_replication: i32,
    /// HS256 secret for bearer tokens (required unless an RS256 public key is given).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// PEM file with an RS256 public key; takes precedence over JWT_SECRET.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Run the outbox relay in this process (one instance leads, others stand by).
    #[arg(long, env = "RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,
    #[arg(long, env = "RELAY_BATCH_SIZE", default_value_t = 500)]
    pub relay_batch_size: i64,
    /// Milliseconds the producer retries one record before the relay backs off and retries.
    #[arg(long, env = "RELAY_MESSAGE_TIMEOUT_MS", default_value_t = 10_000)]
    pub relay_message_timeout_ms: u64,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
}

impl Settings {
    /// Defaults with the given database and secret, for tests and tools.
    pub fn for_database(database_url: &str, jwt_secret: &str) -> Self {
        let mut settings = Self::parse_from(["command-api"]);
        settings.database_url = database_url.to_owned();
        settings.jwt_secret = Some(SecretString::from(jwt_secret.to_owned()));
        settings.listen = "127.0.0.1:0".parse().expect("valid address");
        settings
    }
}
