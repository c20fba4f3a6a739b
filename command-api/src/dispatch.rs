//! Running one command: idempotency, optimistic concurrency, and the answer clients get.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use domain::Aggregate;
use serde::Serialize;
use store::{CommandMetadata, Repository, StoreError, Target};
use utoipa::ToSchema;

use crate::extract::{Commander, Preconditions};
use crate::{ApiError, AppState};

/// The answer to every accepted command.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CommandAccepted {
    /// The aggregate's id.
    pub id: String,
    /// The aggregate's version after the command; send it as `If-Match` to guard the next one.
    pub version: u64,
    /// Give this to the query API to read your own write.
    pub consistency_token: String,
}

/// How the answer is shaped: a create answers 201 with a Location.
#[derive(Clone, Copy)]
pub(crate) enum Outcome {
    /// `target` says whether the id was just minted (nothing to load) or may exist.
    Created {
        collection: &'static str,
        target: Target,
    },
    Changed,
}

impl Outcome {
    fn target(self) -> Target {
        match self {
            Self::Created { target, .. } => target,
            Self::Changed => Target::Existing,
        }
    }
}

/// The token names the aggregate and version a read model must have reached.
fn consistency_token(aggregate_type: &str, id: &str, version: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{aggregate_type}:{id}:{version}"))
}

fn answer(aggregate_type: &str, id: &str, version: u64, outcome: Outcome) -> Response {
    let body = CommandAccepted {
        id: id.to_owned(),
        version,
        consistency_token: consistency_token(aggregate_type, id, version),
    };
    let etag = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header");
    match outcome {
        Outcome::Created { collection, .. } => {
            let location = HeaderValue::from_str(&format!("/v1/{collection}/{id}"))
                .expect("ids are valid header text");
            (
                StatusCode::CREATED,
                [(header::ETAG, etag), (header::LOCATION, location)],
                Json(body),
            )
                .into_response()
        }
        Outcome::Changed => (StatusCode::OK, [(header::ETAG, etag)], Json(body)).into_response(),
    }
}

/// The first answer to this key, if the key was used; 422 if it was used for another request.
async fn replay(
    state: &AppState,
    caller: &Commander,
    key: &str,
    request_hash: &str,
    outcome: Outcome,
) -> Result<Option<Response>, ApiError> {
    let Some(first) = store::find_idempotent(&state.pool, &caller.tenant, key).await? else {
        return Ok(None);
    };
    if first.request_hash != request_hash {
        return Err(ApiError::IdempotencyMismatch);
    }
    let version = u64::try_from(first.version).unwrap_or_default();
    Ok(Some(answer(
        &first.aggregate_type,
        &first.aggregate_id,
        version,
        outcome,
    )))
}

/// Who asks, with which headers and which request hash.
pub(crate) struct CommandRequest {
    pub caller: Commander,
    pub preconditions: Preconditions,
    pub request_hash: String,
}

/// Executes `command` on aggregate `id` for the caller.
pub(crate) async fn dispatch<A: Aggregate>(
    state: &AppState,
    repository: &Repository<A>,
    request: CommandRequest,
    id: &str,
    command: A::Command,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let CommandRequest {
        caller,
        preconditions,
        request_hash,
    } = request;
    let caller = &caller;
    if let Some(key) = &preconditions.idempotency_key {
        if let Some(first) = replay(state, caller, key, &request_hash, outcome).await? {
            return Ok(first);
        }
    }
    let metadata = CommandMetadata {
        tenant: caller.tenant.clone(),
        occurred_at: Utc::now(),
        correlation_id: preconditions.correlation_id,
        causation_id: preconditions.causation_id,
        traceparent: Some(preconditions.traceparent),
        actor: caller.claims.sub.clone(),
        idempotency: preconditions
            .idempotency_key
            .clone()
            .map(|key| (key, request_hash.clone())),
    };
    match repository
        .execute(
            id,
            outcome.target(),
            command,
            preconditions.if_match,
            metadata,
        )
        .await
    {
        Ok(committed) => {
            state.outbox.committed();
            Ok(answer(A::TYPE, id, committed.version, outcome))
        }
        // A concurrent request with the same key won: answer as it did.
        Err(StoreError::Conflict) if preconditions.idempotency_key.is_some() => {
            let key = preconditions.idempotency_key.as_deref().unwrap_or_default();
            match replay(state, caller, key, &request_hash, outcome).await? {
                Some(first) => Ok(first),
                None => Err(StoreError::Conflict.into()),
            }
        }
        Err(error) => Err(error.into()),
    }
}
