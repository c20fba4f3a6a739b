//! Sagas through the sagas service's operator API (`SAGAS_URL`), called with the caller's own
//! token: that service decides what the caller may see and do (its tenant's sagas; retry and
//! cancel for admins), so this side only checks input and passes the answers on.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::AdminCaller;
use super::error::{not_found, AdminError};
use crate::extract::{one_of, Checks, Params};
use crate::AppState;

/// The statuses the sagas service knows (sagas/migrations/2001_sagas.sql).
const STATUSES: &[&str] = &[
    "running",
    "compensating",
    "completed",
    "compensated",
    "parked",
    "cancelled",
];
const TIMEOUT: Duration = Duration::from_secs(10);
/// Larger answers are refused rather than buffered.
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SagaParams {
    /// running, compensating, completed, compensated, parked or cancelled (default: all).
    status: Option<String>,
    /// At most this many, 1–200 (default 50), most recently updated first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SagaList {
    /// The tenant whose sagas these are: the sagas service shows a token its own tenant's.
    pub tenant: String,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SagaAction {
    pub saga_id: String,
    /// retry or cancel.
    pub action: String,
    pub accepted: bool,
}

fn limit(text: &str) -> Result<i64, String> {
    crate::page::parse_limit(text)
}

/// Sagas by status, most recently updated first.
#[utoipa::path(get, path = "/v1/admin/sagas", operation_id = "admin_sagas", tag = "admin",
    params(SagaParams),
    responses((status = 200, body = SagaList),
        (status = 400, description = "invalid parameter"),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 502, description = "the sagas service did not answer or failed")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: AdminCaller,
    Params(params): Params<SagaParams>,
) -> Result<Json<SagaList>, AdminError> {
    let mut checks = Checks::default();
    let status = checks.optional("status", params.status.as_deref(), one_of(STATUSES));
    let limit = checks.optional("limit", params.limit.as_deref(), limit);
    checks.finish()?;
    let mut query: Vec<(&str, String)> = vec![("limit", limit.unwrap_or(50).to_string())];
    if let Some(status) = status {
        query.push(("status", status.to_owned()));
    }
    let request = state
        .admin
        .sagas(reqwest::Method::GET, "/v1/sagas")
        .query(&query);
    let (_, body) = send(&state, request, &caller).await?;
    let items = body["items"].as_array().cloned().unwrap_or_default();
    Ok(Json(SagaList {
        tenant: caller.claims.tenant,
        items,
    }))
}

/// One saga with its step log.
#[utoipa::path(get, path = "/v1/admin/sagas/{id}", operation_id = "admin_saga", tag = "admin",
    params(("id" = Uuid, Path, description = "The saga's id")),
    responses((status = 200, description = "`{saga, steps}`", body = Object),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no such saga (or another tenant's)"),
        (status = 502, description = "the sagas service did not answer or failed")))]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let id = saga_id(&id)?;
    let request = state
        .admin
        .sagas(reqwest::Method::GET, &format!("/v1/sagas/{id}"));
    let (_, body) = send(&state, request, &caller).await?;
    Ok(Json(body))
}

/// Resumes a parked saga's compensation.
#[utoipa::path(post, path = "/v1/admin/sagas/{id}/retry", operation_id = "admin_retry_saga", tag = "admin",
    params(("id" = Uuid, Path, description = "The saga's id")),
    responses((status = 202, body = SagaAction),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no such saga (or another tenant's)"),
        (status = 409, description = "only a parked saga can be retried"),
        (status = 502, description = "the sagas service did not answer or failed")))]
pub(crate) async fn retry(
    state: State<AppState>,
    caller: AdminCaller,
    id: Path<String>,
) -> Result<Response, AdminError> {
    operate(state, caller, id, "retry").await
}

/// Cancels a running, compensating or parked saga.
#[utoipa::path(post, path = "/v1/admin/sagas/{id}/cancel", operation_id = "admin_cancel_saga", tag = "admin",
    params(("id" = Uuid, Path, description = "The saga's id")),
    responses((status = 202, body = SagaAction),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no such saga (or another tenant's)"),
        (status = 409, description = "the saga has already ended"),
        (status = 502, description = "the sagas service did not answer or failed")))]
pub(crate) async fn cancel(
    state: State<AppState>,
    caller: AdminCaller,
    id: Path<String>,
) -> Result<Response, AdminError> {
    operate(state, caller, id, "cancel").await
}

async fn operate(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    action: &str,
) -> Result<Response, AdminError> {
    let id = saga_id(&id)?;
    tracing::info!(saga_id = %id, action, operator = %caller.claims.sub, "saga operator action");
    let request = state
        .admin
        .sagas(reqwest::Method::POST, &format!("/v1/sagas/{id}/{action}"));
    send(&state, request, &caller).await?;
    let answer = SagaAction {
        saga_id: id.to_string(),
        action: action.to_owned(),
        accepted: true,
    };
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

fn saga_id(text: &str) -> Result<uuid::Uuid, AdminError> {
    uuid::Uuid::parse_str(text).map_err(|_| not_found())
}

/// Sends with the caller's token; a 2xx answer's JSON (or `null`), else why not.
async fn send(
    state: &AppState,
    request: reqwest::RequestBuilder,
    caller: &AdminCaller,
) -> Result<(StatusCode, Value), AdminError> {
    let base = &state.admin.sagas_url;
    let answer = request
        .header(header::AUTHORIZATION, caller.authorization.clone())
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|error| {
            tracing::warn!(%error, "sagas service did not answer");
            AdminError::bad_gateway(
                "sagas-unavailable",
                "Sagas service unavailable",
                format!(
                    "the sagas service at {base} did not answer ({})",
                    reason(&error)
                ),
            )
        })?;
    let status =
        StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = answer.bytes().await.map_err(|error| {
        AdminError::bad_gateway(
            "sagas-unavailable",
            "Sagas service unavailable",
            format!(
                "the sagas service at {base} broke off its answer ({})",
                reason(&error)
            ),
        )
    })?;
    if bytes.len() > MAX_BODY {
        return Err(AdminError::bad_gateway(
            "sagas-answer-too-large",
            "Sagas service answer too large",
            format!(
                "the answer had {} bytes; at most {MAX_BODY} are read",
                bytes.len()
            ),
        ));
    }
    match status.as_u16() {
        200..=299 => Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))),
        401 | 403 => Err(AdminError::bad_gateway(
            "sagas-refused-token",
            "Sagas service refused the token",
            format!("the sagas service answered {status} to a token this API accepted as admin; do both services have the same JWT settings?"),
        )),
        400..=499 if content_type.starts_with("application/problem+json") => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            Err(AdminError::Upstream(Box::new(response)))
        }
        _ => {
            tracing::warn!(%status, "sagas service failed");
            Err(AdminError::bad_gateway(
                "sagas-failed",
                "Sagas service failed",
                format!("the sagas service answered {status}"),
            ))
        }
    }
}

fn reason(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused or unreachable"
    } else {
        "transport error"
    }
}
