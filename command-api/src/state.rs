//! What every handler can reach.

use std::sync::Arc;

use domain::agent::Agent;
use domain::conversation::Conversation;
use domain::invoice::Invoice;
use domain::subscription::Subscription;
use domain::task::Task;
use messaging::{BrokerProbe, OutboxSignal};
use platform::Authenticator;
use sqlx::PgPool;
use store::{Repository, WarmConnections};

/// Conversations grow long; a snapshot every this many events bounds their load time.
const CONVERSATION_SNAPSHOT_EVERY: usize = 50;

#[derive(Clone)]
pub struct AppState {
    pub(crate) pool: PgPool,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) probe: BrokerProbe,
    /// Told of every commit, so the relay publishes it without polling.
    pub(crate) outbox: OutboxSignal,
    pub(crate) agents: Arc<Repository<Agent>>,
    pub(crate) tasks: Arc<Repository<Task>>,
    pub(crate) conversations: Arc<Repository<Conversation>>,
    pub(crate) invoices: Arc<Repository<Invoice>>,
    pub(crate) subscriptions: Arc<Repository<Subscription>>,
    /// Connections kept between commands (closed before the pool at shutdown).
    pub(crate) connections: WarmConnections,
}

impl AppState {
    pub(crate) fn new(pool: PgPool, auth: Arc<Authenticator>, probe: BrokerProbe) -> Self {
        // One set of kept connections for every aggregate type's commands.
        let connections = WarmConnections::half_of(pool.clone());
        Self {
            agents: Arc::new(Repository::new(&connections)),
            tasks: Arc::new(Repository::new(&connections)),
            conversations: Arc::new(Repository::snapshotting(
                &connections,
                CONVERSATION_SNAPSHOT_EVERY,
            )),
            invoices: Arc::new(Repository::new(&connections)),
            subscriptions: Arc::new(Repository::new(&connections)),
            connections,
            pool,
            auth,
            probe,
            outbox: OutboxSignal::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}
