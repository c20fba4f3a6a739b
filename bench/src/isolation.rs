//! Fresh, uniquely named databases and topics for one run, and removing them afterwards.

use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// The names of one run: nothing is shared with other runs or other developers.
#[derive(Debug, Clone)]
pub struct Names {
    /// The command-api's database (and the schema registry's).
    pub database: String,
    /// The baseline's database: only the events and snapshots tables.
    pub baseline_database: String,
    pub topic_prefix: String,
    pub consumer_group: String,
}

impl Names {
    pub fn random() -> Self {
        let run = format!("bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
        Self {
            database: run.clone(),
            baseline_database: format!("{run}_baseline"),
            topic_prefix: run.clone(),
            consumer_group: format!("{run}_probe"),
        }
    }

    pub fn topics(&self) -> Vec<String> {
        schemas::Topic::ALL
            .iter()
            .map(|topic| topic.name(&self.topic_prefix))
            .collect()
    }

    /// The event topics and the projectors' dead-letter topics (made when projectors start).
    pub fn topics_with_dead_letters(&self) -> Vec<String> {
        let dead_letters = projectors::ProjectionName::ALL
            .iter()
            .map(|projection| format!("{}.dlq.{projection}", self.topic_prefix));
        self.topics().into_iter().chain(dead_letters).collect()
    }
}

/// `server` (a URL without database) with `database`.
pub fn database_url(server: &str, database: &str) -> String {
    format!("{}/{database}", server.trim_end_matches('/'))
}

/// Creates `url`'s database and opens a pool on it (no migrations).
///
/// # Errors
/// When PostgreSQL refuses.
pub async fn empty_database(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    store::create_database_if_missing(url)
        .await
        .with_context(|| format!("creating {url}"))?;
    store::connect(url, max_connections)
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// Events committed in the database behind `pool`.
///
/// # Errors
/// On database failure.
pub async fn committed_events(pool: &PgPool) -> anyhow::Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .context("counting events")?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Drops `database` (ending its sessions).
///
/// # Errors
/// When PostgreSQL refuses.
pub async fn drop_database(server: &str, database: &str) -> anyhow::Result<()> {
    let mut admin = PgConnection::connect(&database_url(server, "postgres")).await?;
    let quoted = format!("\"{}\"", database.replace('"', "\"\""));
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .with_context(|| format!("dropping {database}"))?;
    admin.close().await?;
    Ok(())
}

/// Deletes the run's topics from the shared broker.
///
/// # Errors
/// When the broker cannot be reached or refuses.
pub async fn delete_topics(brokers: &str, topics: &[String]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for outcome in admin.delete_topics(&names, &options).await? {
        match outcome {
            Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err((topic, code)) => anyhow::bail!("deleting {topic}: {code:?}"),
        }
    }
    Ok(())
}
