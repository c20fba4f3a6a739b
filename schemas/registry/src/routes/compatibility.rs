//! `/compatibility/...`: would this schema be accepted?

use axum::extract::{Path, Query, State};
use serde::Serialize;

use super::{flag, Params};
use crate::error::RegistryError;
use crate::http::{JsonBody, SrJson};
use crate::model::VersionSpec;
use crate::registry::{Registry, SchemaRequest};

/// The answer; `messages` only with `?verbose=true`.
#[derive(Serialize)]
pub struct CompatibilityAnswer {
    is_compatible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<String>>,
}

fn answer(messages: Vec<String>, params: &Params) -> SrJson<CompatibilityAnswer> {
    SrJson(CompatibilityAnswer {
        is_compatible: messages.is_empty(),
        messages: flag(params, "verbose").then_some(messages),
    })
}

/// `POST /compatibility/subjects/{subject}/versions/{version}[?verbose=true]`: against one
/// version (`latest` of a subject without versions is compatible).
pub async fn against_version(
    State(registry): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
    JsonBody(request): JsonBody<SchemaRequest>,
) -> Result<SrJson<CompatibilityAnswer>, RegistryError> {
    let spec = VersionSpec::parse(&version)?;
    let messages = registry
        .test_compatibility(&subject, Some(spec), request)
        .await?;
    Ok(answer(messages, &params))
}

/// `POST /compatibility/subjects/{subject}/versions[?verbose=true]`: against the versions
/// the subject's level checks on registration (latest, or all for `_TRANSITIVE`).
pub async fn against_subject(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
    JsonBody(request): JsonBody<SchemaRequest>,
) -> Result<SrJson<CompatibilityAnswer>, RegistryError> {
    let messages = registry.test_compatibility(&subject, None, request).await?;
    Ok(answer(messages, &params))
}
