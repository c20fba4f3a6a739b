//! Dead letters of every projection: the list, and re-applying one.
//!
//! The retry is the projectors' own (`projectors::dlq::retry`, what `projectors dlq retry <id>`
//! runs): the record is decoded through the schema registry and applied to the projection's
//! live generation; the aggregate version check makes a second retry a no-op.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use platform::Problem;
use projectors::metrics::Metrics;
use projectors::runtime::Runtime;
use projectors::ProjectionName;
use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;
use schemas::RegistryCodec;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AdminCaller;
use super::error::{not_found, AdminError};
use crate::extract::{one_of, Checks, Params};
use crate::page::{fetch_size, Page};
use crate::AppState;

const TAG: &str = "admin-dead-letters:id";
const STATES: &[&str] = &["pending", "retried", "all"];

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct DeadLetter {
    pub id: i64,
    pub projection: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The record's key: the aggregate id.
    pub record_key: Option<String>,
    pub error: String,
    pub failed_at: DateTime<Utc>,
    /// When a retry applied it; `null` while it waits.
    pub retried_at: Option<DateTime<Utc>>,
    /// Whether it was also published to `<prefix>.dlq.<projection>`.
    pub forwarded: bool,
    pub payload_bytes: i32,
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeadLetterParams {
    /// agents, tasks, conversations, billing, usage or audit.
    projection: Option<String>,
    /// pending (default: not retried yet), retried or all.
    state: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RetryOutcome {
    /// `retried` (applied now) or `already-retried` (nothing done).
    pub outcome: String,
    pub dead_letter: DeadLetter,
}

fn projection(text: &str) -> Result<ProjectionName, String> {
    ProjectionName::parse(text).map_err(|_| {
        "must be one of agents, tasks, conversations, billing, usage, audit".to_owned()
    })
}

/// The columns of [`DeadLetter`]; a macro so the queries stay string literals.
macro_rules! columns {
    () => {
        "id, projection, topic, partition, \"offset\", record_key, error, failed_at, retried_at,
         forwarded, coalesce(octet_length(payload), 0) AS payload_bytes, headers"
    };
}

/// Dead letters of every projection, newest first.
#[utoipa::path(get, path = "/v1/admin/dead-letters", operation_id = "admin_dead_letters", tag = "admin",
    params(DeadLetterParams),
    responses((status = 200, body = Page<DeadLetter>),
        (status = 400, description = "invalid parameter"),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
    Params(params): Params<DeadLetterParams>,
) -> Result<Json<Page<DeadLetter>>, AdminError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let projection = checks.optional("projection", params.projection.as_deref(), projection);
    let wanted = checks
        .optional("state", params.state.as_deref(), one_of(STATES))
        .unwrap_or("pending");
    let before: Option<i64> = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let rows: Vec<DeadLetter> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM public.projection_dead_letters
         WHERE ($1::text IS NULL OR projection = $1)
           AND ($2 = 'all' OR ($2 = 'pending') = (retried_at IS NULL))
           AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(projection.map(ProjectionName::as_str))
    .bind(wanted)
    .bind(before)
    .bind(fetch_size(limit))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, TAG, |d: &DeadLetter| {
        d.id
    })))
}

async fn find(state: &AppState, id: i64) -> Result<Option<DeadLetter>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM public.projection_dead_letters WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await
}

/// Re-applies one dead letter to its projection's live generation.
#[utoipa::path(post, path = "/v1/admin/dead-letters/{id}/retry", operation_id = "admin_retry_dead_letter",
    tag = "admin", params(("id" = i64, Path, description = "The dead letter's id")),
    responses((status = 200, body = RetryOutcome, description = "applied now, or applied before"),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 404, description = "no such dead letter"),
        (status = 422, description = "the record still does not decode or apply"),
        (status = 503, description = "the schema registry is unreachable")))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<RetryOutcome>, AdminError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let letter = find(&state, id).await?.ok_or_else(not_found)?;
    if letter.retried_at.is_some() {
        return Ok(Json(RetryOutcome {
            outcome: "already-retried".to_owned(),
            dead_letter: letter,
        }));
    }
    tracing::info!(id, projection = %letter.projection, operator = %caller.claims.sub, "retrying dead letter");
    let runtime = retry_runtime(&state)?;
    if !projectors::dlq::retry(&runtime, id).await? {
        return Err(still_failing(&state, &letter).await);
    }
    let letter = find(&state, id).await?.ok_or_else(not_found)?;
    Ok(Json(RetryOutcome {
        outcome: "retried".to_owned(),
        dead_letter: letter,
    }))
}

/// What `projectors::dlq::retry` needs. Built per retry (an operator action, rare): its
/// producer is never used by a retry, and dropping it keeps no broker connection open.
fn retry_runtime(state: &AppState) -> Result<Runtime, AdminError> {
    let admin = &state.admin;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &admin.brokers)
        .create()
        .map_err(projectors::ProjectorError::from)?;
    Ok(Runtime {
        pool: state.pool.clone(),
        codec: Arc::new(RegistryCodec::new(&admin.registry_url, &admin.topic_prefix)),
        producer,
        brokers: admin.brokers.clone(),
        topic_prefix: admin.topic_prefix.clone(),
        metrics: Metrics::default(),
    })
}

/// Why a retry did not apply: the registry is down (try later), or the record itself.
async fn still_failing(state: &AppState, letter: &DeadLetter) -> AdminError {
    let registry = &state.admin.registry_url;
    let probe = state
        .admin
        .http
        .get(format!("{}/subjects", registry.trim_end_matches('/')))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    if !probe.is_ok_and(|answer| answer.status().is_success()) {
        return AdminError::unavailable(
            "schema-registry-unavailable",
            "Schema registry unavailable",
            format!("the schema registry at {registry} did not answer; the record cannot be decoded until it does"),
        );
    }
    AdminError::problem(
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "dead-letter-still-failing",
            "The record still does not apply",
        )
        .detail(format!(
            "dead letter {} still does not decode or apply to the live generation of {}; the reason is in the query-api's log",
            letter.id, letter.projection
        )),
    )
}
