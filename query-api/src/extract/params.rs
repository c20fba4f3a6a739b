//! The query string, deserialized with a problem+json rejection instead of axum's text one.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use platform::Problem;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// Query parameters as raw text; handlers check each one with [`super::Checks`] so every
/// invalid value is reported with its field.
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| Self(value))
            .map_err(|rejection| {
                ApiError::bad_request(
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "invalid-query",
                        "Invalid query parameters",
                    )
                    .detail(rejection.body_text()),
                )
            })
    }
}
