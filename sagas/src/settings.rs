//! sagas settings: flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use secrecy::SecretString;

#[derive(Debug, Clone, Parser)]
#[command(name = "sagas", about = "AgentHub process managers")]
pub struct Settings {
    /// Health, metrics and the saga operator API.
    #[arg(long, env = "SAGAS_LISTEN", default_value = "127.0.0.1:8003")]
    pub listen: SocketAddr,
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/agenthub"
    )]
    pub database_url: String,
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
    /// Where commands are sent.
    #[arg(long, env = "COMMAND_API_URL", default_value = "http://127.0.0.1:8001")]
    pub command_api_url: String,
    /// Signs the sagas' commands and verifies operator tokens (HS256).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    #[arg(long, env = "SAGA_WORKERS", default_value_t = 8)]
    pub workers: usize,
    #[arg(long, env = "SAGA_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: i32,
    #[arg(long, env = "SAGA_MAX_BACKOFF_MS", default_value_t = 5_000)]
    pub max_backoff_ms: u64,
    #[arg(long, env = "TASK_START_DEADLINE_SECONDS", default_value_t = 60)]
    pub task_start_deadline_seconds: i64,
    #[arg(long, env = "TASK_COMPLETION_DEADLINE_SECONDS", default_value_t = 600)]
    pub task_completion_deadline_seconds: i64,
    /// `local` (deterministic, default) or `openai` (any OpenAI-compatible endpoint).
    #[arg(long, env = "LLM_PROVIDER", default_value = "local")]
    pub llm_provider: String,
    #[arg(long, env = "LLM_BASE_URL", default_value = "http://127.0.0.1:11434")]
    pub llm_base_url: String,
    #[arg(long, env = "LLM_API_KEY", default_value = "", hide_env_values = true)]
    pub llm_api_key: String,
    #[arg(long, env = "LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Local provider: every Nth call fails (0: never).
    #[arg(long, env = "LOCAL_LLM_FAIL_EVERY", default_value_t = 0)]
    pub local_llm_fail_every: u64,
    /// Local provider: every call fails.
    #[arg(long, env = "LOCAL_LLM_ALWAYS_FAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub local_llm_always_fail: bool,
    #[arg(long, env = "LOCAL_LLM_LATENCY_MS", default_value_t = 0)]
    pub local_llm_latency_ms: u64,
    /// A provisioning service; the deterministic local provisioner when absent.
    #[arg(long, env = "PROVISIONING_URL")]
    pub provisioning_url: Option<String>,
    /// Local provisioner: every call fails.
    #[arg(long, env = "LOCAL_PROVISIONING_ALWAYS_FAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub local_provisioning_always_fail: bool,
    /// A payment gateway; the local one (approves everything) when absent.
    #[arg(long, env = "PAYMENTS_URL")]
    pub payments_url: Option<String>,
    #[arg(
        long,
        env = "PAYMENTS_API_KEY",
        default_value = "",
        hide_env_values = true
    )]
    pub payments_api_key: String,
    /// Local gateway: declines every charge.
    #[arg(long, env = "LOCAL_PAYMENTS_DECLINE_ALL", default_value_t = false, action = clap::ArgAction::Set)]
    pub local_payments_decline_all: bool,
    #[arg(long, env = "BILLING_CURRENCY", default_value = "EUR")]
    pub billing_currency: String,
    #[arg(long, env = "BILLING_BASE_FEE_MINOR", default_value_t = 4_900)]
    pub billing_base_fee_minor: i64,
    #[arg(long, env = "BILLING_PER_MESSAGE_MINOR", default_value_t = 2)]
    pub billing_per_message_minor: i64,
    #[arg(long, env = "BILLING_PER_COMPLETED_TASK_MINOR", default_value_t = 10)]
    pub billing_per_completed_task_minor: i64,
    /// Price of 1,000 LLM tokens (prompt and completion alike), billed per started thousand.
    #[arg(long, env = "BILLING_PER_THOUSAND_TOKENS_MINOR", default_value_t = 1)]
    pub billing_per_thousand_tokens_minor: i64,
}

impl Settings {
    /// Defaults with the given database and secret, for tests and tools.
    pub fn for_database(database_url: &str, jwt_secret: &str) -> Self {
        let mut settings = Self::parse_from(["sagas"]);
        settings.database_url = database_url.to_owned();
        settings.jwt_secret = Some(SecretString::from(jwt_secret.to_owned()));
        settings.listen = "127.0.0.1:0".parse().expect("valid address");
        settings
    }
}
