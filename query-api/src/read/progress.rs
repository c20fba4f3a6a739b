//! Wake-ups for waiting requests: projectors may `NOTIFY projection_progress, '<projection>'`
//! in the transaction that applies a batch; one listener per process turns that into a
//! wake-up for the requests waiting on that projection. Polling stays the fallback, so a
//! projector that never notifies only makes waits end up to one poll interval later.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use projectors::ProjectionName;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The channel projectors notify on; the payload is the projection's name.
pub(crate) const PROGRESS_CHANNEL: &str = "projection_progress";

/// One wake-up source per projection.
#[derive(Default)]
pub(crate) struct Progress {
    projections: [Notify; ProjectionName::ALL.len()],
}

impl Progress {
    fn index(projection: ProjectionName) -> usize {
        ProjectionName::ALL
            .iter()
            .position(|p| *p == projection)
            .unwrap_or_default()
    }

    /// Completes on the next progress of `projection` reported after this call.
    pub(crate) fn notified(&self, projection: ProjectionName) -> Notified<'_> {
        self.projections[Self::index(projection)].notified()
    }

    /// Wakes the waiters of the named projection; of every projection if the name is unknown.
    fn wake(&self, payload: &str) {
        match ProjectionName::parse(payload) {
            Ok(projection) => self.projections[Self::index(projection)].notify_waiters(),
            Err(_) => self.projections.iter().for_each(Notify::notify_waiters),
        }
    }
}

/// Listens until `shutdown`; reconnects after failures (waiters keep polling meanwhile).
pub(crate) async fn listen(pool: PgPool, progress: Arc<Progress>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let error = tokio::select! {
            () = shutdown.cancelled() => return,
            Err(error) = relay(&pool, &progress) => error,
        };
        tracing::warn!(%error, "progress listener failed; polling until it reconnects");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Turns notifications into wake-ups until the connection fails.
async fn relay(pool: &PgPool, progress: &Progress) -> Result<Infallible, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(PROGRESS_CHANNEL).await?;
    loop {
        let notification = listener.recv().await?;
        progress.wake(notification.payload());
    }
}
