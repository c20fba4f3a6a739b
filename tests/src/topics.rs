//! Reading back every record a test's topics hold.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use schemas::Topic;

/// One record as a consumer sees it.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Record {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn sequence(&self) -> i64 {
        self.header("sequence")
            .and_then(|s| s.parse().ok())
            .expect("sequence header")
    }
}

/// Reads the four topics from the start until `at_least` records arrived and the topics
/// stayed quiet for a moment, or `timeout` passed.
pub async fn read_all_records(
    brokers: &str,
    prefix: &str,
    at_least: usize,
    timeout: Duration,
) -> Vec<Record> {
    let topics: Vec<String> = Topic::ALL.iter().map(|t| t.name(prefix)).collect();
    read_topics(brokers, &topics, at_least, timeout).await
}

/// Reads the given topics from the start, as [`read_all_records`] does.
pub async fn read_topics(
    brokers: &str,
    topics: &[String],
    at_least: usize,
    timeout: Duration,
) -> Vec<Record> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        // Tansu holds a fetch for the whole wait even when records are there: keep it short.
        .set("fetch.wait.max.ms", "10")
        .create()
        .expect("consumer");
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&names).expect("subscribe");
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    while Instant::now() < deadline {
        let quiet = if records.len() >= at_least {
            Duration::from_millis(1500)
        } else {
            Duration::from_secs(2)
        };
        match tokio::time::timeout(quiet, consumer.recv()).await {
            Ok(Ok(message)) => records.push(Record {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
                key: message
                    .key()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .unwrap_or_default(),
                payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                headers: message
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (
                                    h.key.to_owned(),
                                    String::from_utf8_lossy(h.value.unwrap_or_default())
                                        .into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            Ok(Err(error)) => eprintln!("consumer error (retrying): {error}"),
            Err(_) if records.len() >= at_least => break,
            Err(_) => {}
        }
    }
    records
}
