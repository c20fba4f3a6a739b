//! The requests waiting for a consistency token, checked together: one checker per projection
//! reads the applied versions of every aggregate waited for in one query, whenever a request
//! starts waiting or the projection reports progress (and every poll interval while anyone
//! waits, in case a notification is lost), and wakes only the requests whose version is there.
//!
//! Why not let each request re-check on every notification: a projection notifies once per
//! batch, so at a few hundred commands/s each of the tens of waiting requests re-read its own
//! version about a hundred times a second, five statements a time — the read side's
//! PostgreSQL then spent its CPU on the waiting rather than on the projecting. A woken request
//! checks its version once, inside the snapshot it answers from.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use projectors::{Generation, ProjectionName};
use store::WarmConnections;
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// One waiting request.
struct Waiter {
    tenant: String,
    version: i64,
    reached: oneshot::Sender<()>,
}

/// The waiting requests of one projection and the wake-up of its checker.
#[derive(Default)]
struct Watch {
    waiting: Mutex<HashMap<Uuid, Vec<Waiter>>>,
    /// A permit is kept when nobody waits on it, so progress reported during a check is
    /// checked again right after.
    progressed: Notify,
}

impl Watch {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Waiter>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The aggregates still waited for; drops the waiters that gave up.
    fn waited_for(&self) -> Vec<Uuid> {
        let mut waiting = self.waiting();
        waiting.retain(|_, waiters| {
            waiters.retain(|waiter| !waiter.reached.is_closed());
            !waiters.is_empty()
        });
        waiting.keys().copied().collect()
    }

    /// Wakes every waiter.
    fn wake_all(&self) {
        for (_, waiters) in self.waiting().drain() {
            for waiter in waiters {
                let _ = waiter.reached.send(());
            }
        }
    }

    /// Wakes the waiters whose aggregate (of their tenant) reached their version.
    fn applied(&self, versions: &[(Uuid, String, i64)]) {
        let mut waiting = self.waiting();
        for (id, tenant, version) in versions {
            let Some(waiters) = waiting.get_mut(id) else {
                continue;
            };
            let (reached, still): (Vec<_>, Vec<_>) = std::mem::take(waiters)
                .into_iter()
                .partition(|waiter| waiter.tenant == *tenant && waiter.version <= *version);
            *waiters = still;
            for waiter in reached {
                let _ = waiter.reached.send(());
            }
            if waiters.is_empty() {
                waiting.remove(id);
            }
        }
    }
}

/// Every projection's waiting requests.
#[derive(Default)]
pub(crate) struct Watches {
    projections: [Watch; ProjectionName::ALL.len()],
}

impl Watches {
    fn of(&self, projection: ProjectionName) -> &Watch {
        let index = ProjectionName::ALL
            .iter()
            .position(|p| *p == projection)
            .unwrap_or_default();
        &self.projections[index]
    }

    /// Completes once the checker saw `version` of the tenant's `aggregate_id` applied by
    /// `projection`, or saw the projection not built at all (the reader then says so). Dropping
    /// the receiver withdraws the wait.
    pub(crate) fn register(
        &self,
        projection: ProjectionName,
        tenant: &str,
        aggregate_id: Uuid,
        version: i64,
    ) -> oneshot::Receiver<()> {
        let (reached, receiver) = oneshot::channel();
        let watch = self.of(projection);
        watch
            .waiting()
            .entry(aggregate_id)
            .or_default()
            .push(Waiter {
                tenant: tenant.to_owned(),
                version,
                reached,
            });
        // Checked at once (together with whoever else registered meanwhile).
        watch.progressed.notify_one();
        receiver
    }

    /// A projection reported progress (the payload names it; unknown names wake every check).
    pub(crate) fn progressed(&self, payload: &str) {
        match ProjectionName::parse(payload) {
            Ok(projection) => self.of(projection).progressed.notify_one(),
            Err(_) => self
                .projections
                .iter()
                .for_each(|watch| watch.progressed.notify_one()),
        }
    }
}

/// Checks `projection`'s waiting requests on every progress, and every `poll` while any wait,
/// until `shutdown`. A failed check is logged and tried again at the next occasion; the
/// requests meanwhile answer stale when their wait runs out.
pub(crate) async fn check(
    connections: WarmConnections,
    watches: std::sync::Arc<Watches>,
    projection: ProjectionName,
    poll: Duration,
    shutdown: CancellationToken,
) {
    let watch = watches.of(projection);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = watch.progressed.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
        let ids = watch.waited_for();
        if ids.is_empty() {
            continue;
        }
        match applied_versions(&connections, projection, ids).await {
            Ok(Some(versions)) => watch.applied(&versions),
            // Nothing to wait for: every reader answers that the read model is not built.
            Ok(None) => watch.wake_all(),
            Err(error) => {
                tracing::warn!(%error, %projection, "checking waiting reads failed");
            }
        }
    }
}

/// The applied versions of `ids` in the live generation; `None` when none is live.
async fn applied_versions(
    connections: &WarmConnections,
    projection: ProjectionName,
    ids: Vec<Uuid>,
) -> Result<Option<Vec<(Uuid, String, i64)>>, sqlx::Error> {
    // One connection for both statements, kept for the next check when they went through
    // (a connection given back to the pool costs a ping).
    let mut conn = connections.acquire().await?;
    let versions = match versions_in_live(&mut conn, projection, &ids).await {
        // A rebuild swapped generations and dropped the one just looked up, between the two
        // statements: the next lookup finds the new one.
        Err(sqlx::Error::Database(error))
            if projectors::runtime::is_generation_dropped_code(error.code().as_deref()) =>
        {
            versions_in_live(&mut conn, projection, &ids).await?
        }
        other => other?,
    };
    conn.finish();
    Ok(versions)
}

async fn versions_in_live(
    conn: &mut sqlx::PgConnection,
    projection: ProjectionName,
    ids: &[Uuid],
) -> Result<Option<Vec<(Uuid, String, i64)>>, sqlx::Error> {
    let live: Option<i32> = sqlx::query_scalar(
        "SELECT live_generation FROM projection_generations WHERE projection = $1",
    )
    .bind(projection.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(number) = live else {
        return Ok(None);
    };
    let schema = Generation { projection, number }.schema();
    // The schema name is built from a fixed projection name and an integer (see `schema`).
    // One primary-key probe per waited-for id, whatever the planner's statistics: as a plain
    // `aggregate_id = ANY($1)`, a few hundred ids made a sequential scan look cheaper, and every
    // check read the whole table (`LIMIT 1` keeps the subquery from being merged into a join).
    sqlx::query_as(&format!(
        "SELECT s.aggregate_id, s.tenant_id, s.version
         FROM unnest($1::uuid[]) AS w(id)
         CROSS JOIN LATERAL (SELECT aggregate_id, tenant_id, version FROM {schema}.stream_versions
                             WHERE aggregate_id = w.id LIMIT 1) s"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_waiters_whose_version_is_applied_for_their_tenant_are_woken() {
        let watches = Watches::default();
        let task = Uuid::now_v7();
        let mut two = watches.register(ProjectionName::Tasks, "acme", task, 2);
        let mut three = watches.register(ProjectionName::Tasks, "acme", task, 3);
        let mut other_tenant = watches.register(ProjectionName::Tasks, "globex", task, 1);
        let watch = watches.of(ProjectionName::Tasks);

        watch.applied(&[(task, "acme".to_owned(), 2)]);

        assert_eq!(two.try_recv(), Ok(()));
        assert!(three.try_recv().is_err());
        assert!(other_tenant.try_recv().is_err());
        assert_eq!(watch.waited_for(), vec![task]);
        watch.applied(&[(task, "acme".to_owned(), 3)]);
        assert_eq!(three.try_recv(), Ok(()));
    }

    #[test]
    fn a_projection_not_built_wakes_every_waiter() {
        let watches = Watches::default();
        let mut one = watches.register(ProjectionName::Tasks, "acme", Uuid::now_v7(), 1);
        let mut two = watches.register(ProjectionName::Tasks, "globex", Uuid::now_v7(), 5);
        let watch = watches.of(ProjectionName::Tasks);
        watch.wake_all();
        assert_eq!(one.try_recv(), Ok(()));
        assert_eq!(two.try_recv(), Ok(()));
        assert!(watch.waited_for().is_empty());
    }

    #[test]
    fn a_withdrawn_wait_is_forgotten() {
        let watches = Watches::default();
        let task = Uuid::now_v7();
        drop(watches.register(ProjectionName::Tasks, "acme", task, 2));
        let watch = watches.of(ProjectionName::Tasks);
        assert!(watch.waited_for().is_empty());
        assert!(watch.waiting().is_empty());
        // Another projection's waits are its own.
        let _kept = watches.register(ProjectionName::Audit, "acme", task, 1);
        assert!(watch.waited_for().is_empty());
        assert_eq!(watches.of(ProjectionName::Audit).waited_for(), vec![task]);
    }
}
