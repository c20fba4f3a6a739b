//! Health, the root resource, contexts and modes (this registry is always READWRITE).

use axum::extract::Path;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::RegistryError;
use crate::http::{JsonBody, SrJson};

const READWRITE: &str = "READWRITE";

/// `GET /`: Confluent answers an empty object.
pub async fn root() -> SrJson<Value> {
    SrJson(json!({}))
}

/// `GET /health`: 200 while the process serves requests.
pub async fn health() -> SrJson<Value> {
    SrJson(json!({"status": "UP"}))
}

/// `GET /contexts`: only the default context exists.
pub async fn contexts() -> SrJson<[&'static str; 1]> {
    SrJson(["."])
}

/// A mode, in requests and answers.
#[derive(Serialize, Deserialize)]
pub struct Mode {
    mode: String,
}

fn readwrite() -> SrJson<Mode> {
    SrJson(Mode {
        mode: READWRITE.to_owned(),
    })
}

/// `GET /mode`.
pub async fn get_mode() -> SrJson<Mode> {
    readwrite()
}

/// `GET /mode/{subject}`: every subject follows the global mode.
pub async fn get_subject_mode(Path(_subject): Path<String>) -> SrJson<Mode> {
    readwrite()
}

/// `PUT /mode`: only READWRITE is accepted.
///
/// # Errors
/// 42204 for any other mode.
pub async fn put_mode(JsonBody(body): JsonBody<Mode>) -> Result<SrJson<Mode>, RegistryError> {
    if body.mode.eq_ignore_ascii_case(READWRITE) {
        Ok(readwrite())
    } else {
        Err(RegistryError::InvalidMode)
    }
}

/// `PUT /mode/{subject}`: only READWRITE is accepted.
///
/// # Errors
/// 42204 for any other mode.
pub async fn put_subject_mode(
    Path(_subject): Path<String>,
    body: JsonBody<Mode>,
) -> Result<SrJson<Mode>, RegistryError> {
    put_mode(body).await
}
