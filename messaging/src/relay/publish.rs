//! Publishing as a pipeline: the sender keeps reading rows and handing them to the producer
//! while earlier records still await the broker, and the acknowledger awaits the deliveries in
//! send order and deletes the acknowledged rows. (Strict rounds — read, send, await every ack,
//! delete, read again — kept an event committed just after a round started waiting for that
//! round and then its own; see docs/benchmarks.md.)
//!
//! A row is "in flight" from its send until its DELETE has committed, and the sender leaves the
//! in-flight rows out of every read. It copies the in-flight set before it reads, so a row
//! missing from the copy was deleted before the read's snapshot and cannot come back.
//!
//! Each aggregate's order holds: a read returns rows in id order, an aggregate's later event
//! always has the higher id (it can only be written once the earlier one has committed), the
//! idempotent producer keeps each partition's order, and an aggregate's rows are held back
//! while a record of it from an earlier read awaits its acknowledgement. When a delivery fails the
//! sender stops, the acknowledger drains what is still in flight (acknowledging nothing of an
//! aggregate after its failed record), and the relay starts over with a fresh producer, which
//! reads the unacknowledged rows again in order.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use schemas::{RegistryCodec, Topic};
use store::OutboxBatch;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::{row, Producer, RelaySettings};
use crate::{event_headers, MessagingError};

/// At most this many acknowledged rows go into one DELETE.
const ACKNOWLEDGE_BATCH: usize = 2_000;

/// The acknowledger vacuums the outbox after this many deletes (see `OutboxBatch::vacuum`).
const VACUUM_AFTER_DELETES: usize = 5_000;

/// The rows sent and not yet deleted, and their aggregates.
#[derive(Default)]
pub(super) struct InFlight {
    rows: Mutex<Rows>,
    /// Signalled after each DELETE of acknowledged rows.
    drained: Notify,
}

#[derive(Default)]
struct Rows {
    /// Outbox id → aggregate id.
    ids: HashMap<i64, String>,
    /// Aggregate id → how many of its rows are in flight.
    aggregates: HashMap<String, usize>,
    /// Some row was acknowledged and deleted through this set.
    drained_any: bool,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, Rows> {
        // The maps stay consistent whatever panicked while holding them (single updates).
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn len(&self) -> usize {
        self.lock().ids.len()
    }

    /// The ids in flight and the aggregates they belong to.
    pub(super) fn copy(&self) -> (Vec<i64>, HashSet<String>) {
        let rows = self.lock();
        (
            rows.ids.keys().copied().collect(),
            rows.aggregates.keys().cloned().collect(),
        )
    }

    fn insert(&self, id: i64, aggregate_id: &str) {
        let mut rows = self.lock();
        rows.ids.insert(id, aggregate_id.to_owned());
        *rows.aggregates.entry(aggregate_id.to_owned()).or_default() += 1;
    }

    /// Whether any row has been acknowledged and deleted (the broker was reachable).
    pub(super) fn drained_any(&self) -> bool {
        self.lock().drained_any
    }

    fn remove(&self, ids: &[i64]) {
        let mut rows = self.lock();
        rows.drained_any |= !ids.is_empty();
        for id in ids {
            let Some(aggregate_id) = rows.ids.remove(id) else {
                continue;
            };
            if let Some(count) = rows.aggregates.get_mut(&aggregate_id) {
                *count -= 1;
                if *count == 0 {
                    rows.aggregates.remove(&aggregate_id);
                }
            }
        }
    }

    /// Completes after the next DELETE of acknowledged rows (or at once if one happened since
    /// the last call).
    pub(super) async fn drained(&self) {
        self.drained.notified().await;
    }
}

/// A record handed to the producer, awaiting the broker's acknowledgement.
pub(super) struct Sent {
    id: i64,
    aggregate_id: String,
    enqueued_at: DateTime<Utc>,
    delivery: DeliveryFuture,
}

/// What the sender should do after a read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// The read was full and nothing was held back: more rows are likely waiting.
    ReadAgain,
    /// The producer's queue is full: wait until some records are acknowledged.
    WaitForAcknowledgements,
    /// Everything committed so far is in flight: wait for the next commit.
    WaitForCommits,
    /// Rows were held back behind their aggregate's record in flight: wait for the next commit
    /// or the next acknowledgements, whichever comes first.
    WaitForCommitsOrAcknowledgements,
}

/// One read of the outbox: the oldest rows not in flight, and the aggregates that had a row
/// in flight when it was read.
pub(super) struct Read {
    pub rows: Vec<store::OutboxRow>,
    pub busy: HashSet<String>,
}

/// Hands the rows just read to the producer in id order, passing each to the acknowledger.
pub(super) async fn send(
    Read { rows, busy }: Read,
    outbox: &OutboxBatch,
    producer: &Producer,
    codec: &RegistryCodec,
    settings: &RelaySettings,
    in_flight: &InFlight,
    acknowledger: &mpsc::UnboundedSender<Sent>,
) -> Result<Next, MessagingError> {
    let mut held_back = false;
    // Aggregates whose event was parked during this read: their later rows wait with it.
    let mut parked = HashSet::new();
    for row in &rows {
        // An aggregate with a record of an earlier read still in flight waits for it: if that
        // record failed (a broker outage longer than the message timeout), a later one sent
        // meanwhile could land before its retry, and consumers would drop the earlier event as
        // a duplicate. Rows of one aggregate within a read go out together, as in one batch.
        if busy.contains(&row.aggregate_id) {
            held_back = true;
            continue;
        }
        if parked.contains(&row.aggregate_id) {
            continue;
        }
        let record = match prepare(row, codec, settings).await {
            Ok(record) => record,
            Err(Unpublishable::Never(reason)) => {
                park(outbox, row, &reason, &mut parked).await?;
                continue;
            }
            Err(Unpublishable::NotNow(error)) => return Err(error),
        };
        let record = FutureRecord::to(&record.topic)
            .key(&row.aggregate_id)
            .payload(&record.payload)
            .headers(record.headers);
        let delivery = match producer.send_result(record) {
            Ok(delivery) => delivery,
            // The rest of the read is not sent and not in flight: the next read returns it,
            // still in order, once the broker has acknowledged some of the queue.
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                tracing::debug!("producer queue full");
                return Ok(Next::WaitForAcknowledgements);
            }
            // Larger than the producer's message.max.bytes: it would be refused every time.
            Err((
                error @ KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge),
                _,
            )) => {
                park(outbox, row, &error.to_string(), &mut parked).await?;
                continue;
            }
            // Anything else (a producer in a fatal state) fails this producer: what is in
            // flight is still awaited, then the relay backs off.
            Err((error, _)) => {
                tracing::warn!(%error, outbox_id = row.id, "record not accepted by the producer");
                return Err(error.into());
            }
        };
        in_flight.insert(row.id, &row.aggregate_id);
        let sent = Sent {
            id: row.id,
            aggregate_id: row.aggregate_id.clone(),
            enqueued_at: row.enqueued_at,
            delivery,
        };
        if acknowledger.send(sent).is_err() {
            // The acknowledger has stopped (its DELETE failed); the sender stops next.
            return Ok(Next::WaitForAcknowledgements);
        }
    }
    // Held-back rows come back in the next read, so reading again before an acknowledgement
    // could only spin on them (a full read of one busy aggregate's backlog, say).
    Ok(if held_back {
        Next::WaitForCommitsOrAcknowledgements
    } else if rows.len() as i64 == settings.batch_size {
        Next::ReadAgain
    } else {
        Next::WaitForCommits
    })
}

/// A record ready for the producer.
struct Prepared {
    topic: String,
    payload: Vec<u8>,
    headers: rdkafka::message::OwnedHeaders,
}

/// Why a row cannot be sent.
enum Unpublishable {
    /// However often it is tried: the row does not decode or its event does not encode.
    Never(String),
    /// Not now (the schema registry is unreachable): the relay backs off and tries again.
    NotNow(MessagingError),
}

async fn prepare(
    row: &store::OutboxRow,
    codec: &RegistryCodec,
    settings: &RelaySettings,
) -> Result<Prepared, Unpublishable> {
    let never = |error: &dyn std::fmt::Display| Unpublishable::Never(error.to_string());
    let (metadata, event) = row::read(row).map_err(|error| never(&error))?;
    let topic = Topic::for_aggregate(&row.aggregate_type).map_err(|error| never(&error))?;
    let payload = codec
        .encode(&metadata, &event)
        .await
        .map_err(|error| match error {
            error if error.is_transient() => Unpublishable::NotNow(error.into()),
            error => never(&error),
        })?;
    Ok(Prepared {
        topic: topic.name(&settings.kafka.topic_prefix),
        payload,
        headers: event_headers(&metadata, &row.event_version),
    })
}

/// Sets a row aside that can never be published, so the rest of the outbox flows; its
/// aggregate's later rows stay in the outbox until an operator re-queues it.
async fn park(
    outbox: &OutboxBatch,
    row: &store::OutboxRow,
    reason: &str,
    parked: &mut HashSet<String>,
) -> Result<(), MessagingError> {
    outbox.park(row.id, reason).await?;
    parked.insert(row.aggregate_id.clone());
    metrics::counter!("relay_parked_total").increment(1);
    tracing::error!(
        outbox_id = row.id,
        aggregate_type = %row.aggregate_type,
        aggregate_id = %row.aggregate_id,
        sequence = row.sequence,
        reason,
        "event parked: it cannot be published; its aggregate's later events wait until it is re-queued"
    );
    Ok(())
}

/// Awaits the sent records in send order and deletes the acknowledged rows, one DELETE for
/// all the acknowledgements that have arrived meanwhile. Returns when the sender has dropped
/// its end and every record is settled; cancels `failed` at the first failure, so the sender
/// stops sending.
pub(super) async fn acknowledge(
    outbox: OutboxBatch,
    mut sent: mpsc::UnboundedReceiver<Sent>,
    in_flight: Arc<InFlight>,
    failed: CancellationToken,
) -> Result<(), MessagingError> {
    let mut settled = Settled::default();
    let mut waiting: Option<Sent> = None;
    loop {
        let mut record = match waiting.take() {
            Some(record) => record,
            None => match sent.recv().await {
                Some(record) => record,
                None => break,
            },
        };
        let outcome = (&mut record.delivery).await;
        settled.record(&record, outcome_of(outcome), &failed);
        // Whatever the broker has acknowledged meanwhile goes into the same DELETE.
        while settled.acknowledged.len() < ACKNOWLEDGE_BATCH {
            let Ok(mut next) = sent.try_recv() else { break };
            match (&mut next.delivery).now_or_never() {
                Some(outcome) => settled.record(&next, outcome_of(outcome), &failed),
                None => {
                    waiting = Some(next);
                    break;
                }
            }
        }
        if let Err(error) = settled.delete(&outbox, &in_flight).await {
            failed.cancel();
            return Err(error);
        }
    }
    settled.delete(&outbox, &in_flight).await?;
    if settled.failed > 0 {
        return Err(MessagingError::NotAcknowledged {
            failed: settled.failed,
            total: settled.total,
        });
    }
    Ok(())
}

/// A delivery's outcome: `Err` with the reason when the broker did not acknowledge it.
fn outcome_of(outcome: <DeliveryFuture as std::future::Future>::Output) -> Result<(), String> {
    match outcome {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((error, _))) => Err(error.to_string()),
        Err(_) => Err("the producer dropped the record".to_owned()),
    }
}

/// The acknowledger's running account.
#[derive(Default)]
struct Settled {
    /// Acknowledged rows not deleted yet.
    acknowledged: Vec<i64>,
    /// Rows deleted since the last vacuum.
    deleted_since_vacuum: usize,
    /// A vacuum running in the background, if any.
    vacuuming: Option<tokio::task::JoinHandle<()>>,
    /// The connection the DELETEs run on, kept from one to the next (sqlx 0.8 pings every
    /// connection returned to its pool); after a failure the acknowledger stops and takes no
    /// further DELETE on it.
    connection: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    /// Aggregates with a failed record: their later records are not acknowledged either, so a
    /// retry re-publishes the aggregate's events in their order.
    failed_aggregates: HashSet<String>,
    failed: usize,
    total: usize,
}

impl Settled {
    fn record(&mut self, sent: &Sent, outcome: Result<(), String>, failed: &CancellationToken) {
        self.total += 1;
        match outcome {
            Ok(()) if !self.failed_aggregates.contains(&sent.aggregate_id) => {
                self.acknowledged.push(sent.id);
                record_latency(sent.enqueued_at);
            }
            outcome => {
                if let Err(reason) = outcome {
                    tracing::debug!(%reason, outbox_id = sent.id, "record not acknowledged");
                }
                self.failed += 1;
                self.failed_aggregates.insert(sent.aggregate_id.clone());
                failed.cancel();
            }
        }
    }

    /// Deletes the acknowledged rows, then takes them out of flight.
    async fn delete(
        &mut self,
        outbox: &OutboxBatch,
        in_flight: &InFlight,
    ) -> Result<(), MessagingError> {
        if self.acknowledged.is_empty() {
            return Ok(());
        }
        let connection = match &mut self.connection {
            Some(connection) => connection,
            empty => empty.insert(outbox.connection().await?),
        };
        if let Err(error) = OutboxBatch::acknowledge_on(&mut **connection, &self.acknowledged).await
        {
            self.connection = None;
            return Err(error.into());
        }
        {
            in_flight.remove(&self.acknowledged);
        }
        self.deleted_since_vacuum += self.acknowledged.len();
        self.acknowledged.clear();
        in_flight.drained.notify_one();
        self.vacuum_when_due(outbox);
        Ok(())
    }

    /// Starts a vacuum of the outbox in the background when enough rows were deleted and no
    /// vacuum is running; a failed one is only logged (the next is due soon).
    fn vacuum_when_due(&mut self, outbox: &OutboxBatch) {
        if self.deleted_since_vacuum < VACUUM_AFTER_DELETES
            || self
                .vacuuming
                .as_ref()
                .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        self.deleted_since_vacuum = 0;
        let outbox = outbox.clone();
        self.vacuuming = Some(tokio::spawn(async move {
            if let Err(error) = outbox.vacuum().await {
                tracing::warn!(%error, "outbox vacuum failed");
            }
        }));
    }
}

/// The histogram of commit (the outbox row's enqueue time) to broker acknowledgement, in
/// seconds, one sample per acknowledged record.
pub const PUBLISH_LATENCY_SECONDS: &str = "relay_publish_latency_seconds";

/// Commit to broker acknowledgement, at `/metrics`.
fn record_latency(enqueued_at: DateTime<Utc>) {
    let latency = (Utc::now() - enqueued_at)
        .to_std()
        .unwrap_or(Duration::ZERO);
    metrics::counter!("relay_published_total").increment(1);
    metrics::histogram!(PUBLISH_LATENCY_SECONDS).record(latency.as_secs_f64());
    tracing::trace!(latency_ms = latency.as_millis() as u64, "event published");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aggregate_is_busy_until_its_last_row_in_flight_is_deleted() {
        let in_flight = InFlight::default();
        in_flight.insert(1, "a");
        in_flight.insert(2, "a");
        in_flight.insert(3, "b");
        in_flight.remove(&[1, 3]);
        let (ids, busy) = in_flight.copy();
        assert_eq!(ids, vec![2]);
        assert_eq!(busy, HashSet::from(["a".to_owned()]));
        in_flight.remove(&[2, 7]);
        assert_eq!(in_flight.len(), 0);
        assert!(in_flight.copy().1.is_empty());
    }
}
