//! Puts a generated history straight onto the topics, as the relay would have published it:
//! Confluent-framed Avro from the registry codec, key = aggregate id, the headers of
//! DESIGN.md. Sends are pipelined (many in flight); an idempotent producer keeps each
//! partition in order.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use anyhow::Context;
use domain::Event;
use messaging::KafkaSettings;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use schemas::{AnyEvent, EventMetadata, RegistryCodec, Topic};
use tokio::time::Instant;

use crate::history::History;

/// Deliveries awaited once this many are outstanding.
const IN_FLIGHT: usize = 50_000;

/// What was produced.
#[derive(Debug)]
pub struct Produced {
    pub per_topic: HashMap<Topic, u64>,
    pub total: u64,
    /// Per topic and partition, the offset after its last record (by the delivery reports).
    pub ends: HashMap<(Topic, i32), i64>,
    pub elapsed: Duration,
}

/// The header `schema_version`, as the relay sets it from the stored event version.
fn event_version(event: &AnyEvent) -> &'static str {
    match event {
        AnyEvent::Agent(e) => e.event_version(),
        AnyEvent::Task(e) => e.event_version(),
        AnyEvent::Conversation(e) => e.event_version(),
        AnyEvent::Invoice(e) => e.event_version(),
        AnyEvent::Subscription(e) => e.event_version(),
    }
}

/// The partition of an aggregate: its id modulo the partitions (UUIDv7 ids end in random
/// bits), so all of an aggregate's events share a partition, as with the relay's keyed sends.
fn partition(metadata: &EventMetadata, partitions: i32) -> i32 {
    let partitions = u128::try_from(partitions.max(1)).unwrap_or(1);
    i32::try_from(metadata.aggregate_id.as_u128() % partitions).unwrap_or(0)
}

/// An encoded record, ready to send (or held back, see [`produce`]).
struct Encoded {
    topic: Topic,
    partition: i32,
    key: String,
    payload: Vec<u8>,
    headers: OwnedHeaders,
}

/// The producer and what it has in flight.
struct Sender {
    producer: FutureProducer,
    names: HashMap<Topic, String>,
    in_flight: VecDeque<(Topic, DeliveryFuture)>,
    ends: HashMap<(Topic, i32), i64>,
}

impl Sender {
    fn new(kafka: &KafkaSettings) -> anyhow::Result<Self> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "20")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "1000000")
            .set("queue.buffering.max.kbytes", "2097151")
            .set("message.timeout.ms", "600000")
            .create()
            .context("creating the history producer")?;
        Ok(Self {
            producer,
            names: Topic::ALL
                .iter()
                .map(|topic| (*topic, topic.name(&kafka.topic_prefix)))
                .collect(),
            in_flight: VecDeque::with_capacity(IN_FLIGHT),
            ends: HashMap::new(),
        })
    }

    /// Awaits the oldest delivery and notes how far its partition got.
    async fn await_oldest(&mut self) -> anyhow::Result<()> {
        let Some((topic, delivery)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        match delivery.await {
            Ok(Ok(delivery)) => {
                let end = self.ends.entry((topic, delivery.partition)).or_default();
                *end = (*end).max(delivery.offset + 1);
                Ok(())
            }
            Ok(Err((error, _))) => Err(error).context("a history record was not acknowledged"),
            Err(cancelled) => Err(cancelled).context("a history delivery was cancelled"),
        }
    }

    async fn await_all(&mut self) -> anyhow::Result<()> {
        while !self.in_flight.is_empty() {
            self.await_oldest().await?;
        }
        Ok(())
    }

    /// Sends one record, waiting for room when the producer's queue is full.
    async fn send(&mut self, encoded: Encoded) -> anyhow::Result<()> {
        let name = self.names[&encoded.topic].clone();
        let mut record = FutureRecord::to(&name)
            .partition(encoded.partition)
            .key(&encoded.key)
            .payload(&encoded.payload)
            .headers(encoded.headers);
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push_back((encoded.topic, delivery));
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    anyhow::ensure!(!self.in_flight.is_empty(), "queue full, nothing in flight");
                    self.await_oldest().await?;
                }
                Err((error, _)) => return Err(error).context("producing a history record"),
            }
        }
        if self.in_flight.len() >= IN_FLIGHT {
            self.await_oldest().await?;
        }
        Ok(())
    }
}

/// Encodes and produces every event of `history`; returns once all are acknowledged.
///
/// Tansu 0.6 (memory storage) reports a partition's high watermark as the base offset of its
/// last batch + 1, short of the real end by that batch's size − 1 (see docs/benchmarks.md);
/// rebuilds and lag read the high watermark. So the last record of every partition is held
/// back and sent alone after everything else was acknowledged: each partition then ends with
/// a batch of one and its high watermark is exact. Order within a partition is unchanged.
///
/// # Errors
/// When an event cannot be encoded or a record is not acknowledged.
pub async fn produce(
    kafka: &KafkaSettings,
    registry_url: &str,
    history: History,
) -> anyhow::Result<Produced> {
    let codec = RegistryCodec::new(registry_url, &kafka.topic_prefix);
    let mut sender = Sender::new(kafka)?;
    let started = Instant::now();
    let mut per_topic: HashMap<Topic, u64> = HashMap::new();
    let mut held: HashMap<(Topic, i32), Encoded> = HashMap::new();
    for item in history {
        let (metadata, event) = item?;
        let payload = codec
            .encode(&metadata, &event)
            .await
            .with_context(|| format!("encoding {}", metadata.event_type))?;
        let topic = Topic::for_aggregate(&metadata.aggregate_type)?;
        let encoded = Encoded {
            topic,
            partition: partition(&metadata, kafka.partitions),
            key: metadata.aggregate_id.to_string(),
            payload,
            headers: messaging::event_headers(&metadata, event_version(&event)),
        };
        *per_topic.entry(topic).or_default() += 1;
        if let Some(previous) = held.insert((topic, encoded.partition), encoded) {
            sender.send(previous).await?;
        }
    }
    sender.await_all().await?;
    for (_, last) in held {
        sender.send(last).await?;
        sender.await_all().await?;
    }
    Ok(Produced {
        total: per_topic.values().sum(),
        per_topic,
        ends: sender.ends,
        elapsed: started.elapsed(),
    })
}
