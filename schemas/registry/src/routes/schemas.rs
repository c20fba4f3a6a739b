//! `/schemas/...`: schemas by global id.
//!
//! A schema stays readable by id even when every version using it was deleted, so
//! consumers can still decode old records.

use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::Value;

use super::{flag, is_avro, Params};
use crate::error::RegistryError;
use crate::http::SrJson;
use crate::model::{SchemaReference, SchemaRow};
use crate::registry::Registry;
use crate::store::schemas as store;

type Reply<T> = Result<SrJson<T>, RegistryError>;

/// A schema by id as Confluent returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaBody {
    #[serde(skip_serializing_if = "is_avro")]
    schema_type: String,
    schema: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<SchemaReference>,
}

/// A (subject, version) pair using a schema.
#[derive(Serialize)]
pub struct SubjectVersion {
    subject: String,
    version: i32,
}

/// `GET /schemas/types`.
pub async fn types() -> SrJson<[&'static str; 1]> {
    SrJson([crate::avro::AVRO])
}

/// Parses an id path segment; Confluent answers a plain 404 for a non-integer.
fn parse_id(id: &str) -> Result<i32, RegistryError> {
    id.trim().parse().map_err(|_| RegistryError::RouteNotFound)
}

async fn load(registry: &Registry, id: &str) -> Result<SchemaRow, RegistryError> {
    let id = parse_id(id)?;
    let mut conn = registry.pool().acquire().await?;
    store::by_id(&mut conn, id)
        .await?
        .ok_or(RegistryError::SchemaIdNotFound(id))
}

/// `GET /schemas/ids/{id}`; `subject`, `format`, `deleted`, `fetchMaxId` are accepted and ignored.
pub async fn by_id(State(registry): State<Registry>, Path(id): Path<String>) -> Reply<SchemaBody> {
    let row = load(&registry, &id).await?;
    Ok(SrJson(SchemaBody {
        schema_type: row.schema_type,
        schema: row.text,
        references: row.refs,
    }))
}

/// The schema text as the JSON document it is.
pub(super) fn raw_schema(text: &str) -> Reply<Value> {
    serde_json::from_str(text)
        .map(SrJson)
        .map_err(|err| RegistryError::InvalidSchema(err.to_string()))
}

/// `GET /schemas/ids/{id}/schema`: the schema itself.
pub async fn raw(State(registry): State<Registry>, Path(id): Path<String>) -> Reply<Value> {
    raw_schema(&load(&registry, &id).await?.text)
}

async fn usages(
    registry: &Registry,
    id: &str,
    params: &Params,
) -> Result<Vec<(String, i32)>, RegistryError> {
    let row = load(registry, id).await?;
    let mut conn = registry.pool().acquire().await?;
    Ok(store::subject_versions(&mut conn, row.id, flag(params, "deleted")).await?)
}

/// `GET /schemas/ids/{id}/subjects[?deleted=true]`: subjects using the schema.
pub async fn subjects(
    State(registry): State<Registry>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Reply<Vec<String>> {
    let mut subjects: Vec<String> = usages(&registry, &id, &params)
        .await?
        .into_iter()
        .map(|(subject, _)| subject)
        .collect();
    subjects.dedup();
    Ok(SrJson(subjects))
}

/// `GET /schemas/ids/{id}/versions[?deleted=true]`: (subject, version) pairs using the schema.
pub async fn versions(
    State(registry): State<Registry>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Reply<Vec<SubjectVersion>> {
    let pairs = usages(&registry, &id, &params).await?;
    Ok(SrJson(
        pairs
            .into_iter()
            .map(|(subject, version)| SubjectVersion { subject, version })
            .collect(),
    ))
}
