//! The outbox relay: publishes committed events to Kafka, in order, exactly one active instance.
//!
//! Leadership is a PostgreSQL session advisory lock: the leader holds it on a dedicated
//! connection, a standby polls for it, and a leader that dies (or loses that connection)
//! releases it with its session. The leader is woken in process by the commits of its own
//! process and by LISTEN/NOTIFY for the commits of others (see `signal`), polls as a fallback,
//! and publishes as a pipeline: it keeps sending while earlier records await the broker (see
//! `publish`). It backs off (backon) while the broker is down; commands keep being accepted
//! meanwhile and the backlog drains when the broker returns.

mod leadership;
mod publish;
mod row;
mod signal;

pub use publish::PUBLISH_LATENCY_SECONDS;
pub use signal::OutboxSignal;

use publish::{InFlight, Next};

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use rdkafka::producer::{FutureProducer, Producer as _};
use schemas::RegistryCodec;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use store::{OutboxBatch, OUTBOX_CHANNEL};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{ensure_topics, idempotent_producer, KafkaSettings, MessagingError};

#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub kafka: KafkaSettings,
    pub schema_registry_url: String,
    /// Rows read and published per round.
    pub batch_size: i64,
    /// Fallback poll when no notification arrives.
    pub poll_interval: Duration,
}

pub struct OutboxRelay {
    pool: PgPool,
    settings: RelaySettings,
    codec: Arc<RegistryCodec>,
    signal: OutboxSignal,
}

/// Reads' worth of records that may await acknowledgement at once (bounds the relay's memory
/// when the broker is slow).
const MAX_READS_IN_FLIGHT: usize = 4;

fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(3))
        .with_jitter()
        .without_max_times()
        .build()
}

impl OutboxRelay {
    pub fn new(pool: PgPool, settings: RelaySettings) -> Self {
        let codec = RegistryCodec::new(&settings.schema_registry_url, &settings.kafka.topic_prefix);
        Self {
            pool,
            settings,
            codec: Arc::new(codec),
            signal: OutboxSignal::default(),
        }
    }

    /// Wakes this relay on the commits signalled to `signal` (the command handlers' copy).
    #[must_use]
    pub fn with_signal(mut self, signal: OutboxSignal) -> Self {
        self.signal = signal;
        self
    }

    /// Runs until `shutdown`: standby until leader, then publish until leadership is lost.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut delays = backoff();
        while !shutdown.is_cancelled() {
            let Some(lock) = leadership::acquire(&self.pool, &shutdown).await else {
                return;
            };
            tracing::info!("outbox relay is the leader");
            let led = self.lead(lock, &shutdown).await;
            self.signal.set_leading(false);
            match led {
                Ok(()) => return,
                Err(error) => {
                    let delay = delays.next().unwrap_or(Duration::from_secs(5));
                    tracing::warn!(%error, ?delay, "outbox relay stepped down; standing by");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }

    /// Prepares schemas and topics, then publishes while leader. Broker or registry outages
    /// are waited out here, without giving up leadership.
    async fn lead(
        &self,
        mut lock: leadership::Lock,
        shutdown: &CancellationToken,
    ) -> Result<(), MessagingError> {
        self.retry_until_ready("schema registry", shutdown, || self.codec.register_all())
            .await?;
        self.retry_until_ready("broker topics", shutdown, || {
            ensure_topics(&self.settings.kafka)
        })
        .await?;
        let mut producer = idempotent_producer(&self.settings.kafka)?;
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(OUTBOX_CHANNEL).await?;
        // From here on this process's commits wake us directly (the first round below reads
        // whatever was committed before).
        self.signal.set_leading(true);
        let outbox = OutboxBatch::new(self.pool.clone());
        // Every parked event gets one more try per leadership term: this relay may be a newer
        // release than the one that parked it (a rolling deploy, an event type the old leader
        // did not know). What still cannot be published is parked again, with its reason.
        let requeued = outbox.requeue_all().await?;
        if requeued > 0 {
            tracing::info!(requeued, "parked events re-queued for this leadership term");
        }
        let mut delays = backoff();
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            match self
                .publish(&mut lock, &producer, &outbox, &mut listener, shutdown)
                .await
            {
                Ok(()) => return Ok(()),
                Err(Stop::Leadership(error)) => return Err(error),
                Err(Stop::Publishing { error, progressed }) => {
                    // The backoff starts over after an attempt that got records through, so an
                    // old outage does not lengthen the wait after the next failure.
                    if progressed {
                        delays = backoff();
                    }
                    let delay = delays.next().unwrap_or(Duration::from_secs(5));
                    tracing::warn!(%error, ?delay, "publishing failed; retrying");
                    // Start the next attempt with a fresh producer: an idempotent producer whose
                    // records timed out keeps waiting for a new producer epoch, which a broker
                    // that restarted (Tansu forgets producer state) never grants; a new producer
                    // gets a new id. Re-sent records were unacknowledged, so only they may repeat.
                    if let Some((code, reason)) = producer.client().fatal_error() {
                        tracing::warn!(?code, %reason, "producer failed fatally");
                    }
                    producer = idempotent_producer(&self.settings.kafka)?;
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
    }

    /// Publishes through one producer until shutdown, a failure or lost leadership; returns
    /// only once every record in flight is settled (acknowledged rows deleted).
    async fn publish(
        &self,
        lock: &mut leadership::Lock,
        producer: &Producer,
        outbox: &OutboxBatch,
        listener: &mut PgListener,
        shutdown: &CancellationToken,
    ) -> Result<(), Stop> {
        let in_flight = Arc::new(InFlight::default());
        let failed = CancellationToken::new();
        let (acknowledger, sent) = mpsc::unbounded_channel();
        let acknowledging = tokio::spawn(publish::acknowledge(
            outbox.clone(),
            sent,
            in_flight.clone(),
            failed.clone(),
        ));
        let pipeline = Pipeline {
            in_flight: &in_flight,
            failed: &failed,
            acknowledger: &acknowledger,
        };
        let sending = self
            .send(lock, producer, outbox, listener, shutdown, pipeline)
            .await;
        drop(acknowledger);
        let acknowledged = acknowledging
            .await
            .unwrap_or_else(|error| Err(MessagingError::Acknowledger(error.to_string())));
        let publishing = |error| Stop::Publishing {
            error,
            progressed: in_flight.drained_any(),
        };
        match sending {
            Err(Sending::Leadership(error)) => Err(Stop::Leadership(error)),
            Err(Sending::Publishing(error)) => Err(publishing(error)),
            Ok(()) => acknowledged.map_err(publishing),
        }
    }

    /// The sender's loop: read the rows not in flight, send them, wait for more.
    async fn send(
        &self,
        lock: &mut leadership::Lock,
        producer: &Producer,
        outbox: &OutboxBatch,
        listener: &mut PgListener,
        shutdown: &CancellationToken,
        pipeline: Pipeline<'_>,
    ) -> Result<(), Sending> {
        let Pipeline {
            in_flight,
            failed,
            acknowledger,
        } = pipeline;
        let most_in_flight = usize::try_from(self.settings.batch_size)
            .unwrap_or(usize::MAX)
            .saturating_mul(MAX_READS_IN_FLIGHT);
        loop {
            if shutdown.is_cancelled() || failed.is_cancelled() {
                return Ok(());
            }
            let next = if in_flight.len() >= most_in_flight {
                Next::WaitForAcknowledgements
            } else {
                // The in-flight set is copied before the read (see `publish`'s notes).
                let (sending, busy) = in_flight.copy();
                // On the lock's session: a read that succeeds confirms the leadership, and a
                // failing one is handled as its loss (the lock goes with a broken session).
                let rows =
                    OutboxBatch::oldest_on(lock.session(), self.settings.batch_size, &sending)
                        .await
                        .map_err(|error| Sending::Leadership(error.into()))?;
                publish::send(
                    publish::Read { rows, busy },
                    outbox,
                    producer,
                    &self.codec,
                    &self.settings,
                    in_flight,
                    acknowledger,
                )
                .await
                .map_err(Sending::Publishing)?
            };
            match next {
                Next::ReadAgain => {}
                Next::WaitForAcknowledgements => tokio::select! {
                    () = in_flight.drained() => {}
                    () = failed.cancelled() => {}
                    () = shutdown.cancelled() => {}
                },
                Next::WaitForCommits => {
                    self.wait_for_work(listener, shutdown, failed, None).await;
                }
                Next::WaitForCommitsOrAcknowledgements => {
                    self.wait_for_work(listener, shutdown, failed, Some(in_flight))
                        .await;
                }
            }
        }
    }

    async fn wait_for_work(
        &self,
        listener: &mut PgListener,
        shutdown: &CancellationToken,
        failed: &CancellationToken,
        or_acknowledgements: Option<&InFlight>,
    ) {
        let drained = async {
            match or_acknowledgements {
                Some(in_flight) => in_flight.drained().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = drained => {}
            // A lost listener connection reconnects on the next recv; the poll covers the gap.
            // A recv that keeps failing (e.g. no connection to be had) waits for the poll
            // instead of spinning.
            received = listener.recv() => {
                if let Err(error) = received {
                    tracing::warn!(%error, "outbox listener failed; polling");
                    tokio::select! {
                        () = tokio::time::sleep(self.settings.poll_interval) => {}
                        () = failed.cancelled() => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
            () = self.signal.local_commit() => {}
            () = tokio::time::sleep(self.settings.poll_interval) => {}
            () = failed.cancelled() => {}
            () = shutdown.cancelled() => {}
        }
    }

    async fn retry_until_ready<F, Fut, E>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        attempt: F,
    ) -> Result<(), MessagingError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
        E: std::fmt::Display,
        MessagingError: From<E>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .without_max_times();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|_| !shutdown.is_cancelled())
            .notify(|error: &E, delay| {
                tracing::warn!(%error, ?delay, "{what} not ready; retrying");
            })
            .await
            .map_err(MessagingError::from)
    }

    /// Events committed but not yet acknowledged by the broker.
    ///
    /// # Errors
    /// On database failure.
    pub async fn backlog(pool: &PgPool) -> Result<i64, MessagingError> {
        Ok(OutboxBatch::new(pool.clone()).backlog().await?)
    }
}

/// The sender's side of one producer's pipeline.
#[derive(Clone, Copy)]
struct Pipeline<'a> {
    in_flight: &'a InFlight,
    /// Cancelled by the acknowledger at the first failure.
    failed: &'a CancellationToken,
    acknowledger: &'a mpsc::UnboundedSender<publish::Sent>,
}

/// Why publishing through one producer stopped (other than shutdown).
enum Stop {
    /// The leadership lock's session is gone: step down.
    Leadership(MessagingError),
    /// The broker, the registry or the database failed: back off and retry with a new producer.
    Publishing {
        error: MessagingError,
        /// Records were acknowledged before the failure.
        progressed: bool,
    },
}

/// Why the sender's loop stopped (other than shutdown or the acknowledger's failure).
enum Sending {
    Leadership(MessagingError),
    Publishing(MessagingError),
}

// Keeps the producer type visible to the submodules without re-exporting it.
type Producer = FutureProducer;
