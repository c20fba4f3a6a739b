//! One read-only, repeatable-read transaction over a projection's live generation.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use projectors::{ProjectionName, LIVE_SCHEMA_SQL};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

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
pub(crate) struct Snapshot {
    tx: Transaction<'static, Postgres>,
    freshness: Freshness,
}

impl Snapshot {
    pub(super) fn new(tx: Transaction<'static, Postgres>, freshness: Freshness) -> Self {
        Self { tx, freshness }
    }

    /// The connection whose `search_path` is the live generation's schema.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// The JSON answer, or the problem, with the consistency headers either way (a 404 after
    /// a stale wait should say it may be stale).
    pub(crate) fn respond<T: Serialize>(self, result: Result<T, ApiError>) -> Response {
        let mut response = match result {
            Ok(body) => Json(body).into_response(),
            Err(error) => error.into_response(),
        };
        self.freshness.apply(response.headers_mut());
        // Read-only: dropping the transaction rolls it back, which is all there is to do.
        response
    }
}

/// Begins the snapshot and enters the projection's live generation.
///
/// # Errors
/// [`ApiError::NotBuilt`] when the projection has no live generation; database failures.
pub(super) async fn begin(
    pool: &PgPool,
    projection: ProjectionName,
) -> Result<Transaction<'static, Postgres>, ApiError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    // Looks the live generation up and enters it in one round trip (every read pays it).
    let entered: Option<String> = sqlx::query_scalar(&format!(
        "SELECT set_config('search_path', {LIVE_SCHEMA_SQL}, true)
         FROM projection_generations WHERE projection = $1"
    ))
    .bind(projection.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    entered.ok_or(ApiError::NotBuilt(projection))?;
    Ok(tx)
}
