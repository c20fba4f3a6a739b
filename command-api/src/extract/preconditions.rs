//! `If-Match`, `Idempotency-Key` and tracing headers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use platform::Problem;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) struct Preconditions {
    /// The version the caller last saw; the command fails with 409 if it moved on.
    pub if_match: Option<u64>,
    pub idempotency_key: Option<String>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub traceparent: String,
}

fn bad_header(name: &str, reason: &str) -> ApiError {
    ApiError::bad_request(
        Problem::new(StatusCode::BAD_REQUEST, "invalid-header", "Invalid header")
            .field(name, reason),
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| bad_header(name, "must be visible ASCII"))
        })
        .transpose()
}

/// Accepts `3`, `"3"` and `W/"3"`: the version we hand out as the ETag.
fn parse_if_match(value: &str) -> Result<u64, ApiError> {
    let trimmed = value.trim().trim_start_matches("W/").trim_matches('"');
    trimmed
        .parse()
        .map_err(|_| bad_header("If-Match", "must be the resource version, e.g. \"3\""))
}

impl FromRequestParts<AppState> for Preconditions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let if_match = header(headers, "if-match")?
            .map(parse_if_match)
            .transpose()?;
        let idempotency_key = header(headers, "idempotency-key")?
            .map(|key| {
                let key = key.trim();
                if key.is_empty() || key.len() > 255 {
                    Err(bad_header("Idempotency-Key", "must be 1-255 characters"))
                } else {
                    Ok(key.to_owned())
                }
            })
            .transpose()?;
        let correlation_id = header(headers, "x-correlation-id")?
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned);
        let causation_id = header(headers, "x-request-id")?.map(str::to_owned);
        // The request's span (platform::http::observe) continues the caller's trace when it
        // sent a valid traceparent and starts one otherwise; its events carry that span on.
        let traceparent =
            platform::trace::traceparent(&tracing::Span::current()).unwrap_or_else(new_traceparent);
        Ok(Self {
            if_match,
            idempotency_key,
            correlation_id,
            causation_id,
            traceparent,
        })
    }
}

/// Only when the request span is not recorded (no subscriber installed, e.g. an embedding
/// that did not call `platform::telemetry::init`): a fresh root, so every event has one.
fn new_traceparent() -> String {
    let trace = Uuid::new_v4().simple().to_string();
    let span = &Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}
