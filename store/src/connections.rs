//! Pool connections kept out of the pool between commands, so that handing one back costs no
//! round trip.
//!
//! sqlx 0.8 pings every connection returned to its pool (to flush whatever a cancelled
//! statement may have left behind): one more round trip to PostgreSQL per use. On the command
//! path that was a ping per load and another per append — in a profile of `bench commands`,
//! 11.5 % of the command-api process's CPU in `return_to_pool` alone, plus PostgreSQL's side
//! of every ping. A connection whose work finished normally has nothing to flush, so it is
//! kept here for the next command instead; one dropped mid-statement (a cancelled request, a
//! failed statement) is returned to the pool as before, and the pool's ping repairs or
//! replaces it. Kept connections still count against the pool's size: at most `keep` of them
//! are kept, and one is kept only while the pool can still serve its other users (it has an
//! idle connection or room to open one); otherwise it goes back to them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, PgPool, Postgres};

/// A connection unused for this long is pinged before it is handed out (a server restart or
/// an idle timeout shows up there), as the pool does (`store::connect`).
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A kept connection unused for this long goes back to the pool, for its other users.
const RETURN_AFTER_IDLE: Duration = Duration::from_secs(5);

/// The pool, and the connections kept out of it between uses.
#[derive(Clone)]
pub struct WarmConnections {
    pool: PgPool,
    kept: Arc<Mutex<Vec<Kept>>>,
    keep: usize,
    /// Set by [`WarmConnections::close`]: nothing is kept any more.
    closed: Arc<AtomicBool>,
}

struct Kept {
    connection: PoolConnection<Postgres>,
    since: Instant,
}

impl WarmConnections {
    /// Keeps at most `keep` connections of `pool` between uses.
    pub fn new(pool: PgPool, keep: usize) -> Self {
        Self {
            pool,
            kept: Arc::new(Mutex::new(Vec::with_capacity(keep))),
            keep,
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Keeps up to half of the pool's connections.
    pub fn half_of(pool: PgPool) -> Self {
        let keep = (pool.options().get_max_connections() / 2).max(1) as usize;
        Self::new(pool, keep)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The most recently used kept connection, else one from the pool.
    ///
    /// # Errors
    /// When the pool has none to give in time.
    pub async fn acquire(&self) -> Result<WarmConnection, sqlx::Error> {
        while let Some(Kept {
            mut connection,
            since,
        }) = self.take_newest()
        {
            if since.elapsed() < PING_AFTER_IDLE {
                return Ok(self.lend(connection));
            }
            match connection.ping().await {
                Ok(()) => return Ok(self.lend(connection)),
                Err(error) => {
                    tracing::info!(%error, "kept connection failed its ping; closing it");
                    connection.close_on_drop();
                }
            }
        }
        Ok(self.lend(self.pool.acquire().await?))
    }

    fn lend(&self, connection: PoolConnection<Postgres>) -> WarmConnection {
        WarmConnection {
            connection: Some(connection),
            home: self.clone(),
        }
    }

    fn take_newest(&self) -> Option<Kept> {
        self.lock().pop()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a connection whose work finished normally; returns the ones kept too long, and
    /// any beyond `keep`, to the pool (dropped outside the lock: sqlx then pings them).
    fn keep_or_return(&self, connection: PoolConnection<Postgres>) {
        // Every other connection out of the pool (a relay's lock session, a listener, another
        // request): someone may be waiting for this one.
        let pool_has_room = self.pool.num_idle() > 0
            || self.pool.size() < self.pool.options().get_max_connections();
        if !pool_has_room {
            drop(connection);
            return;
        }
        let now = Instant::now();
        let returned: Vec<Kept> = {
            let mut kept = self.lock();
            kept.push(Kept {
                connection,
                since: now,
            });
            // Oldest first: the stale ones are at the front.
            let stale = kept
                .iter()
                .take_while(|k| now.duration_since(k.since) >= RETURN_AFTER_IDLE)
                .count();
            let keep = if self.closed.load(Ordering::Acquire) {
                0
            } else {
                self.keep
            };
            let excess = kept.len().saturating_sub(keep).max(stale);
            kept.drain(..excess).collect()
        };
        drop(returned);
    }

    /// Returns every kept connection to the pool and keeps none from now on. Call it before
    /// closing the pool: `PgPool::close` waits for every connection out of it, kept ones too.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let returned: Vec<Kept> = self.lock().drain(..).collect();
        drop(returned);
    }

    /// How many connections are kept right now.
    pub fn kept(&self) -> usize {
        self.lock().len()
    }
}

/// A connection lent by [`WarmConnections`]. [`WarmConnection::finish`] keeps it for the next
/// use; dropped without it (an error, a cancelled future), it goes back to the pool, whose
/// ping flushes or replaces it.
pub struct WarmConnection {
    connection: Option<PoolConnection<Postgres>>,
    home: WarmConnections,
}

impl WarmConnection {
    /// The work on this connection finished normally (no statement failed or was cut short),
    /// so it can serve the next use as it is.
    pub fn finish(mut self) {
        if let Some(connection) = self.connection.take() {
            self.home.keep_or_return(connection);
        }
    }

    /// The connection may be in a state its next user must not inherit (say, inside a
    /// transaction begun by a plain `BEGIN`, which the pool's ping does not end): close it
    /// instead of handing it back; the pool opens a fresh one when needed.
    pub fn discard(mut self) {
        if let Some(mut connection) = self.connection.take() {
            connection.close_on_drop();
        }
    }
}

impl std::ops::Deref for WarmConnection {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection
            .as_deref()
            .expect("a lent connection is present until finished")
    }
}

impl std::ops::DerefMut for WarmConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection
            .as_deref_mut()
            .expect("a lent connection is present until finished")
    }
}
