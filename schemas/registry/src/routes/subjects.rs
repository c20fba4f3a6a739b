//! `/subjects/...`: register, look up, list, read and delete subject versions.

use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::Value;

use super::{flag, Params, VersionBody};
use crate::error::RegistryError;
use crate::http::{JsonBody, SrJson};
use crate::model::{VersionRow, VersionSpec};
use crate::registry::{missing_version, Registry, SchemaRequest};
use crate::store::{schemas as schema_store, subjects as store};

type Reply<T> = Result<SrJson<T>, RegistryError>;

/// Answer of a registration.
#[derive(Serialize)]
pub struct Registered {
    id: i32,
}

/// `GET /subjects[?deleted=true][&subjectPrefix=p]`.
pub async fn list(
    State(registry): State<Registry>,
    Query(params): Query<Params>,
) -> Reply<Vec<String>> {
    let mut conn = registry.pool().acquire().await?;
    let prefix = params.get("subjectPrefix").map_or("", String::as_str);
    Ok(SrJson(
        store::list(&mut conn, flag(&params, "deleted"), prefix).await?,
    ))
}

/// `GET /subjects/{subject}/versions[?deleted=true]`.
pub async fn versions(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Reply<Vec<i32>> {
    let mut conn = registry.pool().acquire().await?;
    let versions = store::versions(&mut conn, &subject, flag(&params, "deleted")).await?;
    if versions.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject));
    }
    Ok(SrJson(versions))
}

/// `POST /subjects/{subject}/versions`.
pub async fn register(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    JsonBody(request): JsonBody<SchemaRequest>,
) -> Reply<Registered> {
    let id = registry.register(&subject, request).await?;
    Ok(SrJson(Registered { id }))
}

/// `POST /subjects/{subject}[?deleted=true]`: which version holds this schema?
pub async fn lookup(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
    JsonBody(request): JsonBody<SchemaRequest>,
) -> Reply<VersionBody> {
    let row = registry
        .lookup(&subject, request, flag(&params, "deleted"))
        .await?;
    Ok(SrJson(row.into()))
}

/// Reads one version (`latest`, `-1` or a number), 40401/40402 when missing.
async fn read_version(
    registry: &Registry,
    subject: &str,
    version: &str,
    include_deleted: bool,
) -> Result<VersionRow, RegistryError> {
    let spec = VersionSpec::parse(version)?;
    let mut conn = registry.pool().acquire().await?;
    match store::version(&mut conn, subject, spec, include_deleted).await? {
        Some(row) => Ok(row),
        None => Err(missing_version(&mut conn, subject, spec, include_deleted).await?),
    }
}

/// `GET /subjects/{subject}/versions/{version}[?deleted=true]`.
pub async fn version(
    State(registry): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Reply<VersionBody> {
    let row = read_version(&registry, &subject, &version, flag(&params, "deleted")).await?;
    Ok(SrJson(row.into()))
}

/// `GET /subjects/{subject}/versions/{version}/schema`: the schema itself.
pub async fn version_schema(
    State(registry): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<SrJson<Value>, RegistryError> {
    let row = read_version(&registry, &subject, &version, flag(&params, "deleted")).await?;
    super::schemas::raw_schema(&row.schema.text)
}

/// `GET /subjects/{subject}/versions/{version}/referencedby`: ids of live schemas using it.
pub async fn referenced_by(
    State(registry): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
) -> Reply<Vec<i32>> {
    let row = read_version(&registry, &subject, &version, true).await?;
    let mut conn = registry.pool().acquire().await?;
    Ok(SrJson(
        schema_store::referenced_by(&mut conn, &subject, row.version).await?,
    ))
}

/// `DELETE /subjects/{subject}[?permanent=true]`: the deleted versions.
pub async fn delete(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Reply<Vec<i32>> {
    let deleted = registry
        .delete_subject(&subject, flag(&params, "permanent"))
        .await?;
    Ok(SrJson(deleted))
}

/// `DELETE /subjects/{subject}/versions/{version}[?permanent=true]`: the deleted version.
pub async fn delete_version(
    State(registry): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Reply<i32> {
    let spec = VersionSpec::parse(&version)?;
    let deleted = registry
        .delete_version(&subject, spec, flag(&params, "permanent"))
        .await?;
    Ok(SrJson(deleted))
}
