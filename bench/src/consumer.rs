//! A Kafka consumer on the bench's topics measuring, per record, now − its `occurred_at`
//! header: an upper bound on commit → visible on Kafka (the header is set just before the
//! command's transaction commits).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::stats::{wait_for_count, SharedLatencies};

#[derive(Default)]
struct Seen {
    records: AtomicU64,
    /// Records without a readable `occurred_at` header (counted, not measured).
    unmeasured: AtomicU64,
    latencies: SharedLatencies,
}

pub struct PublishProbe {
    consumer: Arc<StreamConsumer>,
    seen: Arc<Seen>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl PublishProbe {
    /// Subscribes to `topics` from the earliest offset with its own consumer group.
    ///
    /// # Errors
    /// When the consumer cannot be created or subscribed.
    pub fn start(
        brokers: &str,
        group: &str,
        topics: &[String],
        fetch_wait_ms: u32,
    ) -> anyhow::Result<Self> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", group)
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            // Tansu answers a fetch only once fetch.wait.max.ms has passed, even when records
            // arrived meanwhile (librdkafka's default, 500 ms, would dominate every figure):
            // poll often so that the probe adds little to what it measures.
            .set("fetch.min.bytes", "1")
            .set("fetch.wait.max.ms", fetch_wait_ms.to_string())
            .create()
            .context("creating the Kafka consumer")?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .context("subscribing to the bench topics")?;
        let consumer = Arc::new(consumer);
        let seen = Arc::new(Seen::default());
        let stop = CancellationToken::new();
        let task = tokio::spawn(consume(consumer.clone(), seen.clone(), stop.clone()));
        Ok(Self {
            consumer,
            seen,
            stop,
            task,
        })
    }

    /// Stops fetching from the partitions assigned so far (the group has joined once the
    /// warm-up's records were seen). Throughput phases run with the probe paused: on Tansu 0.6
    /// every fetch lists the partition's batches, and a consumer polling every millisecond
    /// spends the broker's CPU, on the same two cores, on what the bench measures, not on the
    /// command path. The records are counted after `resume`.
    ///
    /// # Errors
    /// When the assignment cannot be read or paused.
    pub fn pause(&self) -> anyhow::Result<()> {
        let assignment = self
            .consumer
            .assignment()
            .context("reading the assignment")?;
        anyhow::ensure!(
            assignment.count() > 0,
            "the probe has no partitions assigned yet"
        );
        self.consumer
            .pause(&assignment)
            .context("pausing the probe")
    }

    /// Fetches again from where `pause` stopped.
    ///
    /// # Errors
    /// When the assignment cannot be read or resumed.
    pub fn resume(&self) -> anyhow::Result<()> {
        let assignment = self
            .consumer
            .assignment()
            .context("reading the assignment")?;
        self.consumer
            .resume(&assignment)
            .context("resuming the probe")
    }

    /// Records seen so far.
    pub fn records(&self) -> u64 {
        self.seen.records.load(Ordering::Acquire)
    }

    /// Records seen without a usable `occurred_at` header.
    pub fn unmeasured(&self) -> u64 {
        self.seen.unmeasured.load(Ordering::Acquire)
    }

    /// The latencies recorded since the last call; recording starts afresh.
    pub fn take_latencies(&self) -> Histogram<u64> {
        self.seen.latencies.take()
    }

    /// Waits until at least `target` records were seen; false after `timeout`.
    pub async fn wait_for(&self, target: u64, timeout: Duration) -> bool {
        wait_for_count(|| self.records(), target, timeout).await
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn consume(consumer: Arc<StreamConsumer>, seen: Arc<Seen>, stop: CancellationToken) {
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => return,
            message = consumer.recv() => message,
        };
        let now = Utc::now();
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                eprintln!("consumer: {error}");
                continue;
            }
        };
        let occurred_at = message
            .headers()
            .and_then(|headers| messaging::header_str(headers, "occurred_at"))
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok());
        match occurred_at {
            Some(occurred_at) => {
                let latency = (now - occurred_at.with_timezone(&Utc))
                    .to_std()
                    .unwrap_or_default();
                seen.latencies.record(latency);
            }
            None => {
                seen.unmeasured.fetch_add(1, Ordering::AcqRel);
            }
        }
        seen.records.fetch_add(1, Ordering::AcqRel);
    }
}
