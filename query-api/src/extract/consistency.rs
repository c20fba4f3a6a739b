//! The consistency token a command answered with: `X-Consistency-Token` or `?consistency_token=`.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use platform::Problem;
use serde::Deserialize;

use crate::read::ConsistencyToken;
use crate::{ApiError, AppState};

pub(crate) const HEADER: &str = "X-Consistency-Token";
pub(crate) const QUERY: &str = "consistency_token";

/// The token to wait for, if the request carries one (the header wins over the query).
pub(crate) struct Consistency(pub Option<ConsistencyToken>);

#[derive(Deserialize)]
struct TokenQuery {
    consistency_token: Option<String>,
}

fn invalid(field: &str, reason: String) -> ApiError {
    ApiError::bad_request(
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-consistency-token",
            "Invalid consistency token",
        )
        .field(field, reason),
    )
}

impl FromRequestParts<AppState> for Consistency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(HEADER) {
            let text = value
                .to_str()
                .map_err(|_| invalid(HEADER, "must be visible ASCII".to_owned()))?;
            let token = ConsistencyToken::parse(text).map_err(|reason| invalid(HEADER, reason))?;
            return Ok(Self(Some(token)));
        }
        // Other parameters are the handler's business; only this one is read here.
        let text = Query::<TokenQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(q)| q.consistency_token);
        let token = text
            .map(|text| ConsistencyToken::parse(&text).map_err(|reason| invalid(QUERY, reason)))
            .transpose()?;
        Ok(Self(token))
    }
}
