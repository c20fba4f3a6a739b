//! Every failure a handler can have, mapped to problem+json in one place.
//!
//! Bad input is a 400 naming the field; a row of another tenant is a 404 like a missing
//! one; a projection without a live generation (or whose tables are gone) is a 503 with
//! `Retry-After`; anything else is a 500 with a generic body while the cause goes to the log.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use platform::{AuthError, Problem};
use projectors::{ProjectionName, ProjectorError};

/// PostgreSQL's `undefined_table`: the generation's schema or table does not exist.
const UNDEFINED_TABLE: &str = "42P01";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("the caller has no role that may read")]
    Forbidden,
    #[error("bad request: {}", .0.title)]
    BadRequest(Box<Problem>),
    #[error("not found")]
    NotFound,
    #[error("read model {0} not built yet")]
    NotBuilt(ProjectionName),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Projector(ProjectorError),
}

impl ApiError {
    pub(crate) fn bad_request(problem: Problem) -> Self {
        Self::BadRequest(Box::new(problem))
    }
}

impl From<ProjectorError> for ApiError {
    fn from(error: ProjectorError) -> Self {
        match error {
            ProjectorError::Database(error) => Self::Database(error),
            other => Self::Projector(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem(self).into_response()
    }
}

fn not_built(detail: String) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "read-model-not-built",
        "Read model not built yet",
    )
    .detail(detail)
    .header(header::RETRY_AFTER, "5")
}

fn problem(error: ApiError) -> Problem {
    match error {
        ApiError::Unauthenticated(reason) => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(reason.to_string())
        .header(header::WWW_AUTHENTICATE, "Bearer"),
        ApiError::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
            .detail("queries need the admin, operator or viewer role"),
        ApiError::BadRequest(problem) => *problem,
        ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found"),
        ApiError::NotBuilt(projection) => not_built(format!(
            "the {projection} projection has no live generation yet; its projector has not started"
        )),
        ApiError::Database(sqlx::Error::Database(error))
            if error.code().as_deref() == Some(UNDEFINED_TABLE) =>
        {
            tracing::warn!(error = %error, "live generation's tables are missing");
            not_built("the live generation's tables are missing; try again shortly".to_owned())
        }
        ApiError::Database(sqlx::Error::PoolTimedOut) => {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Too busy")
                .detail("no database connection was free in time; try again shortly")
                .header(header::RETRY_AFTER, "1")
        }
        failure @ (ApiError::Database(_) | ApiError::Projector(_)) => {
            tracing::error!(error = %failure, cause = ?failure, "query failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            )
        }
    }
}
