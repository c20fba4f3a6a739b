//! The JSON body of a command, with its hash for idempotency.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use platform::Problem;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

/// Largest accepted body; larger ones are refused with 413 before they are read.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) struct CommandBody<T> {
    pub value: T,
    /// SHA-256 of method, path and body: a retried request must match it exactly.
    pub request_hash: String,
}

fn is_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned> FromRequest<AppState> for CommandBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::bad_request(
                        Problem::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "body-too-large",
                            "Body too large",
                        )
                        .detail(format!("bodies are limited to {MAX_BODY_BYTES} bytes")),
                    )
                } else {
                    ApiError::bad_request(
                        Problem::new(
                            StatusCode::BAD_REQUEST,
                            "unreadable-body",
                            "Unreadable body",
                        )
                        .detail(rejection.body_text()),
                    )
                }
            })?;
        // Action endpoints (deploy, start, ...) may be called without a body.
        let json: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else if is_json(content_type.as_deref()) {
            &bytes
        } else {
            return Err(ApiError::bad_request(
                Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                )
                .detail("send the body as application/json"),
            ));
        };
        let value = parse(json)?;
        let mut hasher = Sha256::new();
        for part in [
            method.as_str().as_bytes(),
            b" ",
            path.as_bytes(),
            b"\n",
            json,
        ] {
            hasher.update(part);
        }
        let request_hash = format!("{:x}", hasher.finalize());
        Ok(Self {
            value,
            request_hash,
        })
    }
}

fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(
                Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
                    .detail(inner.to_string()),
            );
        }
        let message = inner.to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let field = match message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None => path,
        };
        let reason = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError::bad_request(
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid command",
            )
            .field(field, reason),
        )
    })
}
