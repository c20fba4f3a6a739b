//! Single-leader rule for the relay: a session-level PostgreSQL advisory lock.

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio_util::sync::CancellationToken;

use crate::MessagingError;

/// Fixed key shared by every relay instance of one database.
const RELAY_LOCK_KEY: i64 = 0x6167_656e_7468_7562; // "agenthub"

const STANDBY_POLL: Duration = Duration::from_millis(500);

/// Holds the lock for as long as this connection lives.
pub(super) struct Lock {
    connection: PoolConnection<Postgres>,
}

impl Lock {
    /// The lock's own session. A statement that succeeds on it shows the session, and with it
    /// the lock, is still alive: publishing without the lock could duplicate a standby that
    /// has taken over, so the relay reads the outbox here.
    pub(super) fn session(&mut self) -> &mut PgConnection {
        &mut self.connection
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Never return a lock-holding session to the pool: closing it releases the lock.
        self.connection.close_on_drop();
    }
}

/// Waits until this instance holds the lock, or `None` on shutdown.
pub(super) async fn acquire(pool: &PgPool, shutdown: &CancellationToken) -> Option<Lock> {
    let mut announced = false;
    loop {
        match try_acquire(pool).await {
            Ok(Some(lock)) => return Some(lock),
            Ok(None) if !announced => {
                tracing::info!("another outbox relay is the leader; standing by");
                announced = true;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot reach PostgreSQL for relay leadership"),
        }
        tokio::select! {
            () = tokio::time::sleep(STANDBY_POLL) => {}
            () = shutdown.cancelled() => return None,
        }
    }
}

async fn try_acquire(pool: &PgPool) -> Result<Option<Lock>, MessagingError> {
    let mut connection = pool.acquire().await?;
    let acquired: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK_KEY)
        .fetch_one(&mut *connection)
        .await?;
    if !acquired {
        return Ok(None);
    }
    // The outbox read runs on this one session hundreds of times a second for as long as the
    // lock is held: a generic plan cached while `events` was small (a sequential scan) would
    // read the whole table for every row published. The setting ends with the session.
    sqlx::query(&format!(
        "SET plan_cache_mode = {}",
        store::Planning::PerRun.plan_cache_mode()
    ))
    .execute(&mut *connection)
    .await?;
    Ok(Some(Lock { connection }))
}
