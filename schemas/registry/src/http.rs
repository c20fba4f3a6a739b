//! Request and response plumbing shared by the routes: the registry's media type,
//! a JSON body extractor that ignores `Content-Type`, and the fallback handlers.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::RegistryError;

/// The media type Confluent's registry answers with.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// A JSON response with the registry's media type.
pub struct SrJson<T>(pub T);

impl<T: Serialize> IntoResponse for SrJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
                body,
            )
                .into_response(),
            Err(err) => {
                tracing::error!(error = %err, "cannot serialize a registry response");
                axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// A JSON request body, whatever its `Content-Type` says (or if it says nothing):
/// clients send `application/vnd.schemaregistry.v1+json`, `application/vnd.schemaregistry+json`,
/// `application/json`, `application/octet-stream` or no header at all.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = RegistryError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| RegistryError::MalformedRequest(rejection.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|err| RegistryError::MalformedRequest(err.to_string()))
    }
}

/// Answer for routes that do not exist.
pub async fn not_found() -> RegistryError {
    RegistryError::RouteNotFound
}

/// Answer for a known route called with the wrong method.
pub async fn method_not_allowed() -> RegistryError {
    RegistryError::MethodNotAllowed
}
