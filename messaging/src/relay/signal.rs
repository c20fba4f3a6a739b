//! Waking the relay after a commit, without a `NOTIFY` inside every command's transaction.
//!
//! A `NOTIFY` in the events trigger made every command's commit take PostgreSQL's global
//! notify lock and hold it until its WAL flush, so commits queued behind each other (4k
//! commits/s with it against 12k without, measured with pgbench; see docs/benchmarks.md).
//! Instead, the process that committed wakes its own relay directly when that relay leads,
//! and otherwise sends one `NOTIFY` after the fact on behalf of all the commits made while
//! the previous one was being sent (so a busy standby costs the leader one notification per
//! round trip, not one per command). The relay's poll covers anything else that writes events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::PgPool;
use store::OUTBOX_CHANNEL;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Shared by the command handlers (which call [`OutboxSignal::committed`]) and the relay.
#[derive(Clone, Default)]
pub struct OutboxSignal {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// This process's relay holds the leadership lock.
    leading: AtomicBool,
    local: Notify,
    remote: Notify,
}

impl OutboxSignal {
    /// Events were committed: the relay that leads should look at the outbox.
    pub fn committed(&self) {
        if self.inner.leading.load(Ordering::Acquire) {
            self.inner.local.notify_one();
        } else {
            self.inner.remote.notify_one();
        }
    }

    pub(super) fn set_leading(&self, leading: bool) {
        self.inner.leading.store(leading, Ordering::Release);
    }

    /// Completes when a commit of this process was signalled since the last call.
    pub(super) async fn local_commit(&self) {
        self.inner.local.notified().await;
    }

    /// Sends the coalesced notifications of this process's commits to the leading relay of
    /// another process, until shutdown. A failed `NOTIFY` is only logged: the leader's poll
    /// picks the rows up a moment later.
    pub async fn forward(self, pool: PgPool, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = self.inner.remote.notified() => {}
                () = shutdown.cancelled() => return,
            }
            if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(OUTBOX_CHANNEL)
                .execute(&pool)
                .await
            {
                tracing::warn!(%error, "outbox notification not sent; the relay's poll will find the rows");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_leading_relay_is_woken_in_process() {
        let signal = OutboxSignal::default();
        signal.set_leading(true);
        signal.committed();
        tokio::time::timeout(Duration::from_secs(1), signal.local_commit())
            .await
            .expect("woken");
    }

    #[tokio::test]
    async fn commits_while_standing_by_go_to_the_forwarder_coalesced() {
        let signal = OutboxSignal::default();
        signal.committed();
        signal.committed();
        // One stored permit for both commits, and none for the local relay.
        tokio::time::timeout(Duration::from_secs(1), signal.inner.remote.notified())
            .await
            .expect("forwarded");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), signal.inner.remote.notified())
                .await
                .is_err()
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(50), signal.local_commit())
                .await
                .is_err()
        );
    }
}
