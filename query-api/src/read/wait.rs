//! Read-your-writes: wait (bounded) until the projection has applied the token's version.

use projectors::ProjectionName;
use sqlx::PgConnection;
use tokio::time::Instant;
use uuid::Uuid;

use super::snapshot::begin;
use super::{ConsistencyToken, Freshness, Snapshot};
use crate::{ApiError, AppState};

/// Opens the snapshot a request reads from. With an applicable token, the snapshot is
/// taken once the live generation's `stream_versions` shows the token's version (fresh) or
/// when the wait runs out or shutdown starts (stale). Checking inside the very snapshot the
/// handler then reads makes "fresh" true of the rows returned, not just of the check.
///
/// # Errors
/// [`ApiError::NotBuilt`] when the projection has no live generation; database failures.
#[tracing::instrument(skip_all, fields(%projection))]
pub(crate) async fn snapshot(
    state: &AppState,
    tenant: &str,
    projection: ProjectionName,
    token: Option<ConsistencyToken>,
) -> Result<Snapshot, ApiError> {
    let Some(token) = token else {
        return begin(&state.connections, projection).await;
    };
    if !token.aggregate_type.read_by(projection) {
        let snapshot = begin(&state.connections, projection).await?;
        return Ok(snapshot.with_freshness(Freshness::NotApplicable));
    }
    let deadline = Instant::now() + state.consistency_wait;
    loop {
        // The projection's checker decides when the version is there (it checks at once for a
        // new waiter, then on every progress and poll); the snapshot then confirms it.
        let reached = state
            .watches
            .register(projection, tenant, token.aggregate_id, token.version);
        tokio::select! {
            _ = reached => {}
            () = tokio::time::sleep_until(deadline) => {}
            () = state.stopping.cancelled() => {}
        }
        let mut snapshot = begin(&state.connections, projection).await?;
        let applied = applied_version(snapshot.conn(), tenant, token.aggregate_id).await?;
        if applied >= token.version {
            return Ok(snapshot.with_freshness(Freshness::Fresh));
        }
        if Instant::now() >= deadline || state.stopping.is_cancelled() {
            let by = token.version - applied;
            tracing::debug!(%projection, aggregate_id = %token.aggregate_id, by, "answering stale");
            return Ok(snapshot.with_freshness(Freshness::Stale { by }));
        }
        // Woken, but this snapshot does not show it yet (a generation swapped in between):
        // hold no connection while waiting again.
        snapshot.close().await;
    }
}

/// The version of the caller tenant's `aggregate_id` the generation has applied; 0 when it
/// has seen none (another tenant's aggregate looks unseen: nothing about it leaks).
async fn applied_version(
    conn: &mut PgConnection,
    tenant: &str,
    aggregate_id: Uuid,
) -> Result<i64, ApiError> {
    let version: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM stream_versions WHERE aggregate_id = $1 AND tenant_id = $2",
    )
    .bind(aggregate_id)
    .bind(tenant)
    .fetch_optional(conn)
    .await?;
    Ok(version.unwrap_or(0))
}
