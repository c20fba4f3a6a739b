//! Every failure a handler can have, mapped to problem+json in one place.
//!
//! Rejections are 4xx with specifics; a version mismatch or a lost race is 409 (we answer
//! 409 rather than 503 + Retry-After: the client must re-read before retrying); no database
//! connection in time is 503 + Retry-After (nothing was done; a plain retry is right);
//! anything else is a 500 with a generic body while the cause chain goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use platform::{AuthError, Problem};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("the caller's role may not send commands")]
    Forbidden,
    #[error("bad request: {}", .0.title)]
    BadRequest(Box<Problem>),
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    pub(crate) fn bad_request(problem: Problem) -> Self {
        Self::BadRequest(Box::new(problem))
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self::Store(StoreError::Rejected(error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem(self).into_response()
    }
}

fn problem(error: ApiError) -> Problem {
    match error {
        ApiError::Unauthenticated(reason) => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(reason.to_string())
        .header(axum::http::header::WWW_AUTHENTICATE, "Bearer"),
        ApiError::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
            .detail("commands need the admin or operator role"),
        ApiError::BadRequest(problem) => *problem,
        ApiError::IdempotencyMismatch => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency-Key reused",
        )
        .field("Idempotency-Key", "was first used with a different request")
        .detail("an Idempotency-Key identifies one request; send a new key for a new request"),
        ApiError::Store(StoreError::Rejected(rejection)) => rejected(rejection),
        ApiError::Store(StoreError::VersionMismatch { expected, current }) => {
            Problem::new(StatusCode::CONFLICT, "version-mismatch", "Version mismatch").field(
                "If-Match",
                format!("expected version {expected}, current version is {current}"),
            )
        }
        ApiError::Store(StoreError::Conflict) => {
            Problem::new(StatusCode::CONFLICT, "concurrent-write", "Concurrent write")
                .detail("another command changed this resource at the same time; re-read and retry")
        }
        ApiError::Store(StoreError::Unavailable(cause)) => {
            tracing::warn!(error = %cause, "no database connection for a command");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Too busy")
                .detail("no database connection was free in time; the command was not applied; retry shortly")
                .header(axum::http::header::RETRY_AFTER, "1")
        }
        ApiError::Store(failure) => {
            tracing::error!(error = %failure, cause = ?failure, "command failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            )
            .detail("the command was not applied; it is safe to retry")
        }
    }
}

fn rejected(rejection: DomainError) -> Problem {
    match rejection {
        DomainError::Invalid(violations) => violations.into_iter().fold(
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid command",
            ),
            |problem, v| problem.field(v.field, v.reason),
        ),
        DomainError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found"),
        DomainError::AlreadyExists => {
            Problem::new(StatusCode::CONFLICT, "already-exists", "Already exists")
        }
        DomainError::InvalidState { .. } => Problem::new(
            StatusCode::CONFLICT,
            "invalid-state",
            "Not allowed in the current state",
        )
        .detail(rejection.to_string()),
    }
}
