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
//! replaces it.
//!
//! Kept connections still count against the pool's size, and the pool's other users (a
//! relay's lock session and listener, a load outside a command) cannot take them. So at most
//! `keep` are kept; one is kept only while the pool can still serve its other users (it has
//! an idle connection or room to open one); and a kept connection unused for
//! [`RETURN_AFTER_IDLE`] goes back to the pool on a timer — not only when the next command
//! finishes: with no command running, a pool user that arrived after the others took the
//! rest would otherwise wait for a connection nobody uses until its acquire timed out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::time::Instant;

/// A kept connection unused for this long goes back to the pool, for its other users: it
/// bounds how long a pool user waits behind idle kept connections. Not much shorter: the
/// kept connections are a stack, and under a steady closed loop its bottom ones sit idle for
/// a few hundred milliseconds at a time; at 100 ms they went back and forth between the pool
/// and the stack, with the pool's ping each way, and `bench commands` lost 15 % of its REST
/// throughput. It is short enough that a kept connection needs no ping before it is lent: a
/// server restart shows up on the next statement (a connection error) and the pool replaces
/// the connection.
pub const RETURN_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool, and the connections kept out of it between uses.
#[derive(Clone)]
pub struct WarmConnections {
    pool: PgPool,
    kept: Arc<Mutex<Kept>>,
    keep: usize,
    /// Set by [`WarmConnections::close`]: nothing is kept any more.
    closed: Arc<AtomicBool>,
}

struct Kept {
    /// Oldest first.
    connections: Vec<Idle>,
    /// Whether a task returning the idle ones is running (it stops when none is kept).
    returning: bool,
}

struct Idle {
    connection: PoolConnection<Postgres>,
    since: Instant,
}

impl WarmConnections {
    /// Keeps at most `keep` connections of `pool` between uses.
    pub fn new(pool: PgPool, keep: usize) -> Self {
        Self {
            pool,
            kept: Arc::new(Mutex::new(Kept {
                connections: Vec::with_capacity(keep),
                returning: false,
            })),
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
        let newest = self.lock().connections.pop();
        let connection = match newest {
            Some(idle) => idle.connection,
            None => self.pool.acquire().await?,
        };
        Ok(WarmConnection {
            connection: Some(connection),
            home: self.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a connection whose work finished normally, or returns it to the pool when the
    /// pool has nothing left for its other users, `keep` are kept already, or no runtime can
    /// run the timer that returns it once idle.
    fn keep_or_return(&self, connection: PoolConnection<Postgres>) {
        // Every other connection out of the pool (a relay's lock session, a listener, another
        // request): someone may be waiting for this one.
        let pool_has_room = self.pool.num_idle() > 0
            || self.pool.size() < self.pool.options().get_max_connections();
        let runtime = tokio::runtime::Handle::try_current();
        if !pool_has_room || self.closed.load(Ordering::Acquire) || runtime.is_err() {
            return drop(connection);
        }
        let (start_returning, returned) = {
            let mut kept = self.lock();
            if kept.connections.len() >= self.keep {
                (false, Some(connection))
            } else {
                kept.connections.push(Idle {
                    connection,
                    since: Instant::now(),
                });
                (!std::mem::replace(&mut kept.returning, true), None)
            }
        };
        // Dropped outside the lock: sqlx then pings it on its way back.
        drop(returned);
        if let (true, Ok(runtime)) = (start_returning, runtime) {
            runtime.spawn(self.clone().return_idle());
        }
    }

    /// Returns each kept connection to the pool once it has been idle for
    /// [`RETURN_AFTER_IDLE`]; stops when none is kept.
    async fn return_idle(self) {
        loop {
            let (stale, oldest) = {
                let mut kept = self.lock();
                let now = Instant::now();
                let stale = kept
                    .connections
                    .iter()
                    .take_while(|idle| now.duration_since(idle.since) >= RETURN_AFTER_IDLE)
                    .count();
                let stale: Vec<Idle> = kept.connections.drain(..stale).collect();
                let oldest = kept.connections.first().map(|idle| idle.since);
                if oldest.is_none() {
                    kept.returning = false;
                }
                (stale, oldest)
            };
            drop(stale);
            match oldest {
                Some(since) => tokio::time::sleep_until(since + RETURN_AFTER_IDLE).await,
                None => return,
            }
        }
    }

    /// Returns every kept connection to the pool and keeps none from now on. Call it before
    /// closing the pool: `PgPool::close` waits for every connection out of it, kept ones too.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let returned: Vec<Idle> = self.lock().connections.drain(..).collect();
        drop(returned);
    }

    /// How many connections are kept right now.
    pub fn kept(&self) -> usize {
        self.lock().connections.len()
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
