//! One read-only, repeatable-read transaction over a projection's live generation.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use projectors::{ProjectionName, LIVE_SCHEMA_SQL};
use serde::Serialize;
use sqlx::{Executor, PgConnection};
use store::{WarmConnection, WarmConnections};

use crate::ApiError;

/// Whether the answer reflects the consistency token the request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// The request carried no token.
    Unrequested,
    /// The token names an aggregate this projection is not built from.
    NotApplicable,
    /// The projection had applied the token's version.
    Fresh,
    /// The wait ran out; the projection is this many versions behind the token.
    Stale { by: i64 },
}

impl Freshness {
    fn apply(self, headers: &mut HeaderMap) {
        let consistency = match self {
            Self::Unrequested => return,
            Self::NotApplicable => "not-applicable",
            Self::Fresh => "fresh",
            Self::Stale { by } => {
                headers.insert("x-stale-by-versions", HeaderValue::from(by));
                "stale"
            }
        };
        headers.insert("x-consistency", HeaderValue::from_static(consistency));
    }
}

/// Everything one request reads comes from this snapshot: the generation number and the
/// rows are seen at the same instant, so a swap in between is never observed half-way.
///
/// The transaction runs on a kept connection (`store::WarmConnections`): sqlx 0.8 pings every
/// connection given back to its pool, a round trip per request on top of the rollback. It is
/// begun by a plain `BEGIN` sent together with entering the live generation (one round trip
/// for both), so sqlx does not know of it: dropping the snapshot always ends it (`release`).
pub(crate) struct Snapshot {
    conn: Option<WarmConnection>,
    freshness: Freshness,
}

impl Snapshot {
    pub(super) fn with_freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    /// The connection whose `search_path` is the live generation's schema.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_deref_mut()
            .expect("a snapshot holds its connection until dropped")
    }

    /// The JSON answer, or the problem, with the consistency headers either way (a 404 after
    /// a stale wait should say it may be stale).
    pub(crate) fn respond<T: Serialize>(self, result: Result<T, ApiError>) -> Response {
        let mut response = match result {
            Ok(body) => Json(body).into_response(),
            Err(error) => error.into_response(),
        };
        self.freshness.apply(response.headers_mut());
        // Dropped here: the rollback runs after the answer is on its way.
        response
    }

    /// Ends the snapshot now (before waiting again without holding a connection).
    pub(super) async fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            release(conn).await;
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            tokio::spawn(release(conn));
        }
    }
}

/// Rolls the read-only transaction back and keeps the connection for the next request. Also
/// right after a cancelled statement (sqlx first reads what is still owed) or before any
/// `BEGIN` (PostgreSQL only warns). A connection whose rollback fails is closed, never handed
/// on inside a transaction.
async fn release(mut conn: WarmConnection) {
    match (&mut *conn).execute("ROLLBACK").await {
        Ok(_) => conn.finish(),
        Err(error) => {
            tracing::debug!(%error, "ending a snapshot failed; closing its connection");
            conn.discard();
        }
    }
}

/// Begins the snapshot and enters the projection's live generation.
///
/// # Errors
/// [`ApiError::NotBuilt`] when the projection has no live generation; database failures.
pub(super) async fn begin(
    connections: &WarmConnections,
    projection: ProjectionName,
) -> Result<Snapshot, ApiError> {
    let mut snapshot = Snapshot {
        conn: Some(connections.acquire().await?),
        freshness: Freshness::Unrequested,
    };
    // One round trip for both statements (the simple-query protocol takes several; it has no
    // parameters, and the projection's name is one of a fixed set of `[a-z_]` words).
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
         SELECT set_config('search_path', {LIVE_SCHEMA_SQL}, true)
         FROM projection_generations WHERE projection = '{}'",
        projection.as_str()
    );
    // A plain string with no arguments goes as a simple query (as `sqlx::raw_sql` would; its
    // future does not pass axum's `Send` check).
    let entered = snapshot.conn().fetch_all(sql.as_str()).await?;
    if entered.is_empty() {
        return Err(ApiError::NotBuilt(projection));
    }
    Ok(snapshot)
}
