//! Stored schemas, addressed by global id or by identity.

use sqlx::types::Json;
use sqlx::{PgConnection, Row};

use super::schema_from_row;
use crate::model::{SchemaReference, SchemaRow};

const BY_ID: &str = "SELECT id, schema_type, schema_text, refs \
     FROM schema_registry.schemas WHERE id = $1";

const ID_BY_IDENTITY: &str = "SELECT id FROM schema_registry.schemas \
     WHERE md5(identity) = md5($1) AND identity = $1";

const INSERT: &str =
    "INSERT INTO schema_registry.schemas (schema_type, schema_text, refs, identity) \
     VALUES ($1, $2, $3, $4) RETURNING id";

const SUBJECT_VERSIONS: &str = "SELECT subject, version FROM schema_registry.subject_versions \
     WHERE schema_id = $1 AND (NOT deleted OR $2) ORDER BY subject, version";

const REFERENCED_BY: &str = "SELECT DISTINCT v.schema_id \
     FROM schema_registry.subject_versions v \
     JOIN schema_registry.schemas s ON s.id = v.schema_id \
     WHERE NOT v.deleted \
       AND s.refs @> jsonb_build_array(jsonb_build_object('subject', $1::text, 'version', $2::int)) \
     ORDER BY v.schema_id";

/// The schema with this global id, whatever the state of the versions using it.
///
/// # Errors
/// Database failures.
pub async fn by_id(conn: &mut PgConnection, id: i32) -> Result<Option<SchemaRow>, sqlx::Error> {
    let row = sqlx::query(BY_ID).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(schema_from_row).transpose()
}

/// The id of the schema with this identity, if any.
///
/// # Errors
/// Database failures.
pub async fn id_by_identity(
    conn: &mut PgConnection,
    identity: &str,
) -> Result<Option<i32>, sqlx::Error> {
    let row = sqlx::query(ID_BY_IDENTITY)
        .bind(identity)
        .fetch_optional(conn)
        .await?;
    row.map(|row| row.try_get("id")).transpose()
}

/// Stores a new schema and returns its id.
///
/// # Errors
/// Database failures (a unique violation if the identity exists: callers hold the write lock).
pub async fn insert(
    conn: &mut PgConnection,
    schema_type: &str,
    text: &str,
    refs: &[SchemaReference],
    identity: &str,
) -> Result<i32, sqlx::Error> {
    sqlx::query(INSERT)
        .bind(schema_type)
        .bind(text)
        .bind(Json(refs))
        .bind(identity)
        .fetch_one(conn)
        .await?
        .try_get("id")
}

/// The (subject, version) pairs using a schema.
///
/// # Errors
/// Database failures.
pub async fn subject_versions(
    conn: &mut PgConnection,
    id: i32,
    include_deleted: bool,
) -> Result<Vec<(String, i32)>, sqlx::Error> {
    let rows = sqlx::query(SUBJECT_VERSIONS)
        .bind(id)
        .bind(include_deleted)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("subject")?, row.try_get("version")?)))
        .collect()
}

/// Ids of the live schemas that reference `subject` at `version`.
///
/// # Errors
/// Database failures.
pub async fn referenced_by(
    conn: &mut PgConnection,
    subject: &str,
    version: i32,
) -> Result<Vec<i32>, sqlx::Error> {
    let rows = sqlx::query(REFERENCED_BY)
        .bind(subject)
        .bind(version)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| row.try_get("schema_id")).collect()
}
