//! Wake-ups for waiting requests: projectors may `NOTIFY projection_progress, '<projection>'`
//! in the transaction that applies a batch; one listener per process turns that into a
//! check of the requests waiting on that projection (`watch`). Polling stays the fallback, so
//! a projector that never notifies only makes waits end up to one poll interval later.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::watch::Watches;

/// The channel projectors notify on; the payload is the projection's name.
pub(crate) const PROGRESS_CHANNEL: &str = "projection_progress";

/// Listens until `shutdown`; reconnects after failures (waiters keep polling meanwhile).
pub(crate) async fn listen(pool: PgPool, watches: Arc<Watches>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let error = tokio::select! {
            () = shutdown.cancelled() => return,
            Err(error) = relay(&pool, &watches) => error,
        };
        tracing::warn!(%error, "progress listener failed; polling until it reconnects");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Turns notifications into wake-ups until the connection fails.
async fn relay(pool: &PgPool, watches: &Watches) -> Result<Infallible, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(PROGRESS_CHANNEL).await?;
    loop {
        let notification = listener.recv().await?;
        watches.progressed(notification.payload());
    }
}
