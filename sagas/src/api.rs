//! The operator API: sagas by status, one saga with its step log, retry and cancel (admin only).
//! Tenant isolation as everywhere: another tenant's saga is a 404.

// Problems are returned by value: they are built only on the error path of operator requests.
#![allow(clippy::result_large_err)]

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::{Authenticator, Claims, Problem, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::instances::{self, SagaInstance};

#[derive(Clone)]
struct Api {
    pool: PgPool,
    auth: Arc<Authenticator>,
}

pub fn router(pool: PgPool, auth: Arc<Authenticator>) -> Router {
    Router::new()
        .route("/v1/sagas", get(list))
        .route("/v1/sagas/{id}", get(show))
        .route("/v1/sagas/{id}/retry", post(retry))
        .route("/v1/sagas/{id}/cancel", post(cancel))
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            "sagas",
            platform::http::observe,
        ))
        .with_state(Api { pool, auth })
}

fn caller(api: &Api, headers: &HeaderMap) -> Result<Claims, Problem> {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    api.auth.verify_header(header).map_err(|reason| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(reason.to_string())
    })
}

fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
}

fn internal(error: sqlx::Error) -> Problem {
    tracing::error!(%error, "saga API failed");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
    )
}

#[derive(Deserialize)]
struct Filter {
    status: Option<String>,
    limit: Option<i64>,
}

const STATUSES: [&str; 6] = [
    "running",
    "compensating",
    "completed",
    "compensated",
    "parked",
    "cancelled",
];

async fn list(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Result<Json<serde_json::Value>, Problem> {
    let claims = caller(&api, &headers)?;
    if let Some(status) = filter.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(
            Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid query").field(
                "status",
                format!("'{status}' is not one of {}", STATUSES.join(", ")),
            ),
        );
    }
    let limit = filter.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(
            Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid query")
                .field("limit", "must be 1-200"),
        );
    }
    let sagas: Vec<SagaInstance> = sqlx::query_as(
        "SELECT * FROM saga_instances WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY updated_at DESC, saga_id LIMIT $3",
    )
    .bind(&claims.tenant)
    .bind(&filter.status)
    .bind(limit)
    .fetch_all(&api.pool)
    .await
    .map_err(internal)?;
    Ok(Json(json!({ "items": sagas })))
}

async fn owned(api: &Api, claims: &Claims, id: &str) -> Result<SagaInstance, Problem> {
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let mut db = api.pool.acquire().await.map_err(internal)?;
    match instances::find(&mut db, id).await.map_err(internal)? {
        Some(saga) if saga.tenant_id == claims.tenant => Ok(saga),
        _ => Err(not_found()),
    }
}

async fn show(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let claims = caller(&api, &headers)?;
    let saga = owned(&api, &claims, &id).await?;
    let mut db = api.pool.acquire().await.map_err(internal)?;
    let steps = instances::steps(&mut db, saga.saga_id)
        .await
        .map_err(internal)?;
    Ok(Json(json!({ "saga": saga, "steps": steps })))
}

async fn operate(
    api: &Api,
    headers: &HeaderMap,
    id: &str,
    sql: &str,
    allowed: &[&str],
) -> Result<Response, Problem> {
    let claims = caller(api, headers)?;
    if !claims.has_role(Role::Admin) {
        return Err(
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail("operating sagas needs the admin role"),
        );
    }
    let saga = owned(api, &claims, id).await?;
    if !allowed.contains(&saga.status.as_str()) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "invalid-state",
            "Not allowed in the current state",
        )
        .detail(format!("the saga is {}", saga.status)));
    }
    // The change and its step-log row in one transaction: the UPDATE holds the saga's row, so
    // an executor cannot claim the saga and log a step with the same `seq` in between (that
    // race answered 500 with a duplicate `saga_steps` key).
    let mut db = api.pool.begin().await.map_err(internal)?;
    sqlx::query(sql)
        .bind(saga.saga_id)
        .execute(&mut *db)
        .await
        .map_err(internal)?;
    let action = if sql.contains("'cancelled'") {
        "cancel"
    } else {
        "retry"
    };
    instances::log(
        &mut db,
        saga.saga_id,
        &saga.step,
        action,
        None,
        "operator",
        Some(&claims.sub),
    )
    .await
    .map_err(internal)?;
    db.commit().await.map_err(internal)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

async fn retry(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    // A parked saga was compensating: it resumes its compensation from its current step.
    let sql = "UPDATE saga_instances SET status = 'compensating', attempts = 0, next_attempt_at = now(), updated_at = now() WHERE saga_id = $1";
    operate(&api, &headers, &id, sql, &["parked"]).await
}

async fn cancel(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let sql = "UPDATE saga_instances SET status = 'cancelled', deadline_at = NULL, updated_at = now() WHERE saga_id = $1";
    operate(
        &api,
        &headers,
        &id,
        sql,
        &["running", "compensating", "parked"],
    )
    .await
}

/// PostgreSQL reachable (the sagas' state and their deadlines live there).
async fn ready(State(api): State<Api>) -> (StatusCode, Json<Value>) {
    let database = sqlx::query("SELECT 1").execute(&api.pool).await.is_ok();
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({ "database": database })))
}

async fn metrics(State(api): State<Api>) -> Result<String, Problem> {
    let counts: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT saga_type, status, count(*) FROM saga_instances GROUP BY saga_type, status ORDER BY 1, 2")
            .fetch_all(&api.pool)
            .await
            .map_err(internal)?;
    let mut out =
        String::from("# HELP sagas Saga instances by type and status.\n# TYPE sagas gauge\n");
    for (saga_type, status, count) in counts {
        let _ = writeln!(
            out,
            "sagas{{type=\"{saga_type}\",status=\"{status}\"}} {count}"
        );
    }
    let dead_letters: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_dead_letters")
        .fetch_one(&api.pool)
        .await
        .map_err(internal)?;
    let _ = writeln!(
        out,
        "# HELP saga_dead_letters Records the saga intake could not decode.\n# TYPE saga_dead_letters gauge\nsaga_dead_letters {dead_letters}"
    );
    out.push_str(&platform::prometheus::render());
    Ok(out)
}
