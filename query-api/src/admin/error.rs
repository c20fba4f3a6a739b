//! Failures of the admin endpoints: the query API's own ones, plus the console's (forbidden
//! without the admin role, the sagas service's answers passed on, unreachable dependencies).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use platform::Problem;

use crate::ApiError;

#[derive(Debug)]
pub(crate) enum AdminError {
    /// Authentication, bad input, not found, database: answered as every query answers them.
    Api(ApiError),
    /// A valid token without the admin role.
    Forbidden,
    /// A problem built for this case (an unreachable dependency, a retry that still fails).
    Problem(Box<Problem>),
    /// The sagas service's own problem answer, passed on unchanged (boxed: errors stay small).
    Upstream(Box<Response>),
}

impl AdminError {
    pub(crate) fn problem(problem: Problem) -> Self {
        Self::Problem(Box::new(problem))
    }

    /// A dependency that did not answer: 502 with what and why.
    pub(crate) fn bad_gateway(kind: &str, title: &str, detail: String) -> Self {
        Self::problem(Problem::new(StatusCode::BAD_GATEWAY, kind, title).detail(detail))
    }

    /// 503 with `Retry-After`: a dependency that is down, and may come back.
    pub(crate) fn unavailable(kind: &str, title: &str, detail: String) -> Self {
        Self::problem(
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, kind, title)
                .detail(detail)
                .header(header::RETRY_AFTER, "5"),
        )
    }
}

impl From<ApiError> for AdminError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<sqlx::Error> for AdminError {
    fn from(error: sqlx::Error) -> Self {
        Self::Api(error.into())
    }
}

impl From<projectors::ProjectorError> for AdminError {
    fn from(error: projectors::ProjectorError) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => error.into_response(),
            Self::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail("the admin console needs a token with the admin role")
                .into_response(),
            Self::Problem(problem) => problem.into_response(),
            Self::Upstream(response) => *response,
        }
    }
}

/// A path id that cannot name anything is as absent as an unknown one (the API's convention).
pub(crate) fn not_found() -> AdminError {
    AdminError::Api(ApiError::NotFound)
}

/// `405` as problem+json, for a known path with another method.
pub(crate) async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
    )
}
