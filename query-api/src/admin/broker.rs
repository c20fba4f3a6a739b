//! The topics' high watermarks, for lag: read from the broker at most every few seconds and
//! shared by every console request meanwhile. An unreachable broker is an answer, not a
//! failure: the console shows that lag is unknown and why.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::consumer::Consumer;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use utoipa::ToSchema;

/// How long one reading of the watermarks is reused.
const FRESH_FOR: Duration = Duration::from_secs(2);
/// A broker that does not accept a TCP connection within this is reported down at once,
/// instead of waiting for librdkafka's longer timeouts.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(800);
/// Per metadata or watermark request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// `(topic, partition)`.
pub(crate) type PartitionId = (String, i32);

/// Whether the broker answered, as the console shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BrokerStatus {
    /// The configured bootstrap servers (`KAFKA_BROKERS`).
    pub brokers: String,
    pub reachable: bool,
    /// Why the watermarks could not be read, when they could not.
    pub error: Option<String>,
    /// Topics of the projections that the broker does not have (yet).
    pub missing_topics: Vec<String>,
    /// When the watermarks were read.
    pub checked_at: DateTime<Utc>,
}

/// One reading: the high watermark (next offset to be written) of every partition found.
#[derive(Debug)]
pub(crate) struct Watermarks {
    pub status: BrokerStatus,
    pub marks: HashMap<PartitionId, i64>,
}

impl Watermarks {
    /// The partitions of `topic`, in order, with their high watermarks.
    pub(crate) fn of_topic(&self, topic: &str) -> Vec<(i32, i64)> {
        let mut found: Vec<(i32, i64)> = self
            .marks
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|((_, p), high)| (*p, *high))
            .collect();
        found.sort_unstable();
        found
    }
}

pub(crate) struct Broker {
    brokers: String,
    topics: Vec<String>,
    last: Mutex<Option<(Instant, Arc<Watermarks>)>>,
}

impl Broker {
    pub(crate) fn new(brokers: &str, topics: Vec<String>) -> Self {
        Self {
            brokers: brokers.to_owned(),
            topics,
            last: Mutex::new(None),
        }
    }

    /// The latest reading, taken now if the last one is older than a couple of seconds.
    /// Concurrent callers wait for one reading rather than each asking the broker.
    pub(crate) async fn watermarks(&self) -> Arc<Watermarks> {
        let mut last = self.last.lock().await;
        if let Some((at, marks)) = last.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return marks.clone();
            }
        }
        let marks = Arc::new(self.read().await);
        *last = Some((Instant::now(), marks.clone()));
        marks
    }

    async fn read(&self) -> Watermarks {
        let checked_at = Utc::now();
        let status = |reachable, error: Option<String>, missing_topics| BrokerStatus {
            brokers: self.brokers.clone(),
            reachable,
            error,
            missing_topics,
            checked_at,
        };
        if let Err(reason) = any_accepts(&self.brokers).await {
            return Watermarks {
                status: status(false, Some(reason), Vec::new()),
                marks: HashMap::new(),
            };
        }
        let brokers = self.brokers.clone();
        let topics = self.topics.clone();
        let read = tokio::task::spawn_blocking(move || read_blocking(&brokers, &topics)).await;
        match read {
            Ok(Ok((marks, missing))) => Watermarks {
                status: status(true, None, missing),
                marks,
            },
            Ok(Err(error)) => {
                tracing::warn!(%error, "reading high watermarks failed");
                Watermarks {
                    status: status(false, Some(error.to_string()), Vec::new()),
                    marks: HashMap::new(),
                }
            }
            Err(join) => Watermarks {
                status: status(
                    false,
                    Some(format!("watermark reader failed: {join}")),
                    Vec::new(),
                ),
                marks: HashMap::new(),
            },
        }
    }
}

/// Ok when at least one bootstrap server accepts a TCP connection.
async fn any_accepts(brokers: &str) -> Result<(), String> {
    let mut last_error = format!("no broker address in '{brokers}'");
    for address in brokers.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error)) => last_error = format!("{address}: {error}"),
            Err(_) => last_error = format!("{address}: no answer within {CONNECT_TIMEOUT:?}"),
        }
    }
    Err(last_error)
}

type Reading = (HashMap<PartitionId, i64>, Vec<String>);

fn read_blocking(brokers: &str, topics: &[String]) -> Result<Reading, rdkafka::error::KafkaError> {
    let client = messaging::watermarks::metadata_client(brokers)?;
    let metadata = client.fetch_metadata(None, REQUEST_TIMEOUT)?;
    let mut marks = HashMap::new();
    let mut missing = Vec::new();
    for topic in topics {
        let found = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none());
        let Some(found) = found else {
            missing.push(topic.clone());
            continue;
        };
        for partition in found.partitions() {
            let (_, high) = client.fetch_watermarks(topic, partition.id(), REQUEST_TIMEOUT)?;
            marks.insert((topic.clone(), partition.id()), high);
        }
    }
    Ok((marks, missing))
}
