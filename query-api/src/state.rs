//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use platform::Authenticator;
use sqlx::PgPool;
use store::WarmConnections;
use tokio_util::sync::CancellationToken;

use crate::admin::Admin;
use crate::read::watch::Watches;
use crate::Settings;

#[derive(Clone)]
pub struct AppState {
    pub(crate) pool: PgPool,
    /// Connections of `pool` kept between reads (snapshots, checks of waiting reads).
    pub(crate) connections: WarmConnections,
    pub(crate) auth: Arc<Authenticator>,
    /// Longest a request waits for its consistency token.
    pub(crate) consistency_wait: Duration,
    /// Re-check interval while waiting, in case no notification arrives.
    pub(crate) consistency_poll: Duration,
    /// The requests waiting for a consistency token, woken when their version is applied.
    pub(crate) watches: Arc<Watches>,
    /// Cancelled when shutdown starts: waiting requests answer at once (stale) instead.
    pub(crate) stopping: CancellationToken,
    /// What the admin console's endpoints reach beyond the database: broker, sagas, registry.
    pub(crate) admin: Arc<Admin>,
}

impl AppState {
    pub(crate) fn new(pool: PgPool, auth: Arc<Authenticator>, settings: &Settings) -> Self {
        Self {
            connections: WarmConnections::half_of(pool.clone()),
            pool,
            auth,
            consistency_wait: settings.consistency_wait(),
            consistency_poll: settings.consistency_poll(),
            watches: Arc::new(Watches::default()),
            stopping: CancellationToken::new(),
            admin: Arc::new(Admin::new(settings)),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}
