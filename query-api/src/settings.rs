//! query-api settings: flags, each with an environment variable (DESIGN.md names).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use secrecy::SecretString;

#[derive(Debug, Clone, Parser)]
#[command(name = "query-api", about = "AgentHub query API over the read models")]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "QUERY_API_LISTEN", default_value = "127.0.0.1:8002")]
    pub listen: SocketAddr,
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/agenthub"
    )]
    pub database_url: String,
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// HS256 secret for bearer tokens (required unless an RS256 public key is given).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// PEM file with an RS256 public key; takes precedence over JWT_SECRET.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Longest a query waits for the read model to reach a consistency token.
    #[arg(long, env = "CONSISTENCY_WAIT_MS", default_value_t = 5_000)]
    pub consistency_wait_ms: u64,
    /// How often a waiting query re-checks the read model when no notification wakes it.
    #[arg(long, env = "CONSISTENCY_POLL_MS", default_value_t = 20)]
    pub consistency_poll_ms: u64,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
    /// Kafka bootstrap servers: the admin console reads the topics' high watermarks for lag.
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Prefix of the topic names (`<prefix>.agents` …), as the projectors use it.
    #[arg(long, env = "TOPIC_PREFIX", default_value = "agenthub")]
    pub topic_prefix: String,
    /// The schema registry: the admin console's dead-letter retry decodes records with it.
    #[arg(
        long,
        env = "SCHEMA_REGISTRY_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub schema_registry_url: String,
    /// The sagas service's operator API, which the admin console calls with the caller's token.
    #[arg(long, env = "SAGAS_URL", default_value = "http://127.0.0.1:8003")]
    pub sagas_url: String,
}

impl Settings {
    /// Defaults with the given database and secret, listening on a free local port;
    /// for tests and tools.
    pub fn for_database(database_url: &str, jwt_secret: &str) -> Self {
        let mut settings = Self::parse_from(["query-api"]);
        settings.database_url = database_url.to_owned();
        settings.jwt_secret = Some(SecretString::from(jwt_secret.to_owned()));
        settings.listen = "127.0.0.1:0".parse().expect("valid address");
        settings
    }

    pub(crate) fn consistency_wait(&self) -> Duration {
        Duration::from_millis(self.consistency_wait_ms)
    }

    pub(crate) fn consistency_poll(&self) -> Duration {
        // Zero would spin; one millisecond is the floor.
        Duration::from_millis(self.consistency_poll_ms.max(1))
    }

    pub(crate) fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}
