//! Publishing outbox rows as a pipeline: new rows are read and handed to the producer while
//! earlier ones still wait for their acknowledgement, so an event committed during a round
//! does not wait for that round to end (the relay used to read, send, await every ack and
//! delete in strict rounds).
//!
//! Rows are deleted only when the broker acknowledged them AND no earlier row of the same
//! aggregate failed. After a failure nothing more is sent; what is in flight is settled, and
//! the caller starts over with a fresh producer from the oldest row left, so a retry
//! re-publishes an aggregate's events in their order and only unacknowledged ones repeat.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use futures::FutureExt as _;
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use schemas::{RegistryCodec, Topic};
use store::OutboxBatch;

use super::{row, Producer, RelaySettings};
use crate::{event_headers, MessagingError};

/// A row handed to the producer and not yet settled.
struct InFlight {
    id: i64,
    aggregate_id: String,
    enqueued_at: chrono::DateTime<chrono::Utc>,
    delivery: DeliveryFuture,
    /// Set once the delivery completed: acknowledged or not.
    acknowledged: Option<bool>,
}

pub(super) struct Pipeline {
    outbox: OutboxBatch,
    in_flight: VecDeque<InFlight>,
    /// Aggregates with a row that was not acknowledged: none of their later rows is deleted.
    failed_aggregates: HashSet<String>,
    failed: usize,
    attempted: usize,
}

impl Pipeline {
    pub(super) fn new(outbox: OutboxBatch) -> Self {
        Self {
            outbox,
            in_flight: VecDeque::new(),
            failed_aggregates: HashSet::new(),
            failed: 0,
            attempted: 0,
        }
    }

    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// True after a row was not acknowledged: send nothing more, settle what is in flight.
    pub(super) fn is_failing(&self) -> bool {
        self.failed > 0
    }

    /// Reads the oldest rows not in flight (up to the batch size in flight in all) and hands
    /// them to the producer; returns how many were sent.
    ///
    /// # Errors
    /// On database, registry or unreadable-row failures.
    pub(super) async fn fill(
        &mut self,
        producer: &Producer,
        codec: &RegistryCodec,
        settings: &RelaySettings,
    ) -> Result<usize, MessagingError> {
        let room = settings.batch_size - self.in_flight.len() as i64;
        if room <= 0 || self.is_failing() {
            return Ok(0);
        }
        let in_flight: Vec<i64> = self.in_flight.iter().map(|r| r.id).collect();
        let rows = self.outbox.oldest_except(room, &in_flight).await?;
        let mut sent = 0;
        for row in &rows {
            let (metadata, event) = row::read(row)?;
            let payload = codec.encode(&metadata, &event).await?;
            let topic =
                Topic::for_aggregate(&row.aggregate_type)?.name(&settings.kafka.topic_prefix);
            let record = FutureRecord::to(&topic)
                .key(&row.aggregate_id)
                .payload(&payload)
                .headers(event_headers(&metadata, &row.event_version));
            match producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push_back(InFlight {
                        id: row.id,
                        aggregate_id: row.aggregate_id.clone(),
                        enqueued_at: row.enqueued_at,
                        delivery,
                        acknowledged: None,
                    });
                    sent += 1;
                }
                // The producer queue is full: the rest is read again once acks make room.
                Err((error, _)) => {
                    tracing::debug!(%error, "producer queue full");
                    break;
                }
            }
        }
        self.attempted += sent;
        Ok(sent)
    }

    /// Completes when the oldest row in flight has its answer from the broker (never, when
    /// nothing is in flight). Cancel-safe: the answer is kept for [`Pipeline::settle`].
    pub(super) async fn oldest_answered(&mut self) {
        let Some(oldest) = self.in_flight.front_mut() else {
            return std::future::pending().await;
        };
        if oldest.acknowledged.is_none() {
            let outcome = (&mut oldest.delivery).await;
            oldest.acknowledged = Some(acknowledged(&outcome, oldest.id));
        }
    }

    /// Deletes the rows answered so far, oldest first, up to the first one still waiting.
    ///
    /// # Errors
    /// On database failure (the rows stay and are published again: duplicates, never gaps).
    pub(super) async fn settle(&mut self) -> Result<(), MessagingError> {
        let mut delete = Vec::new();
        while let Some(oldest) = self.in_flight.front_mut() {
            let answer = match oldest.acknowledged {
                Some(answer) => answer,
                None => match (&mut oldest.delivery).now_or_never() {
                    Some(outcome) => acknowledged(&outcome, oldest.id),
                    None => break,
                },
            };
            let Some(row) = self.in_flight.pop_front() else {
                break;
            };
            if answer && !self.failed_aggregates.contains(&row.aggregate_id) {
                record_latency(row.enqueued_at);
                delete.push(row.id);
            } else {
                self.failed += 1;
                self.failed_aggregates.insert(row.aggregate_id);
            }
        }
        self.outbox.acknowledge(&delete).await?;
        Ok(())
    }

    /// Waits for every row in flight, deletes the acknowledged ones, and reports the failure
    /// that stopped the pipeline, if any.
    ///
    /// # Errors
    /// When a row was not acknowledged, or on database failure.
    pub(super) async fn drain(&mut self, timeout: Duration) -> Result<(), MessagingError> {
        let settled = tokio::time::timeout(timeout, async {
            while !self.is_idle() {
                self.oldest_answered().await;
                self.settle().await?;
            }
            Ok::<(), MessagingError>(())
        })
        .await;
        if let Ok(result) = settled {
            result?;
        }
        if self.is_failing() {
            return Err(MessagingError::NotAcknowledged {
                failed: self.failed + self.in_flight.len(),
                total: self.attempted,
            });
        }
        Ok(())
    }
}

fn acknowledged(
    outcome: &Result<OwnedDeliveryResult, futures::channel::oneshot::Canceled>,
    id: i64,
) -> bool {
    match outcome {
        Ok(Ok(_)) => true,
        Ok(Err((error, _))) => {
            tracing::debug!(%error, outbox_id = id, "record not acknowledged");
            false
        }
        Err(_) => false,
    }
}

/// Commit (the outbox row's enqueue time) to broker acknowledgement, at `/metrics`.
fn record_latency(enqueued_at: chrono::DateTime<chrono::Utc>) {
    let latency = (chrono::Utc::now() - enqueued_at)
        .to_std()
        .unwrap_or(Duration::ZERO);
    metrics::counter!("relay_published_total").increment(1);
    metrics::histogram!("relay_publish_latency_seconds").record(latency.as_secs_f64());
    tracing::trace!(latency_ms = latency.as_millis() as u64, "event published");
}
