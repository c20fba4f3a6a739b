//! Subjects and their versions.

use sqlx::{PgConnection, Row};

use super::version_from_row;
use crate::model::{VersionRow, VersionSpec};

const LIST_SUBJECTS: &str = "SELECT DISTINCT subject FROM schema_registry.subject_versions \
     WHERE (NOT deleted OR $1) AND starts_with(subject, $2) ORDER BY subject";

const LIST_VERSIONS: &str = "SELECT version FROM schema_registry.subject_versions \
     WHERE subject = $1 AND (NOT deleted OR $2) ORDER BY version";

/// A query over subject versions joined with their schemas, completed by `$tail`.
macro_rules! select_version {
    ($tail:literal) => {
        concat!(
            "SELECT v.subject, v.version, v.deleted, s.id, s.schema_type, s.schema_text, s.refs \
             FROM schema_registry.subject_versions v \
             JOIN schema_registry.schemas s ON s.id = v.schema_id ",
            $tail
        )
    };
}

const NUMBERED: &str =
    select_version!("WHERE v.subject = $1 AND v.version = $2 AND (NOT v.deleted OR $3)");

const LATEST: &str = select_version!(
    "WHERE v.subject = $1 AND (NOT v.deleted OR $2) ORDER BY v.version DESC LIMIT 1"
);

const LIVE: &str = select_version!("WHERE v.subject = $1 AND NOT v.deleted ORDER BY v.version");

const BY_IDENTITY: &str = select_version!(
    "WHERE v.subject = $1 AND (NOT v.deleted OR $3) \
       AND md5(s.identity) = md5($2) AND s.identity = $2 \
     ORDER BY v.deleted, v.version DESC LIMIT 1"
);

const NEXT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) + 1 AS next \
     FROM schema_registry.subject_versions WHERE subject = $1";

const INSERT_VERSION: &str =
    "INSERT INTO schema_registry.subject_versions (subject, version, schema_id) VALUES ($1, $2, $3)";

const SOFT_DELETE_SUBJECT: &str = "UPDATE schema_registry.subject_versions SET deleted = TRUE \
     WHERE subject = $1 AND NOT deleted RETURNING version";

const HARD_DELETE_SUBJECT: &str =
    "DELETE FROM schema_registry.subject_versions WHERE subject = $1 RETURNING version";

const SOFT_DELETE_VERSION: &str = "UPDATE schema_registry.subject_versions SET deleted = TRUE \
     WHERE subject = $1 AND version = $2";

const HARD_DELETE_VERSION: &str =
    "DELETE FROM schema_registry.subject_versions WHERE subject = $1 AND version = $2";

/// Subjects with a live version (or any version with `include_deleted`), sorted.
///
/// # Errors
/// Database failures.
pub async fn list(
    conn: &mut PgConnection,
    include_deleted: bool,
    prefix: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(LIST_SUBJECTS)
        .bind(include_deleted)
        .bind(prefix)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| row.try_get("subject")).collect()
}

/// The subject's version numbers, ascending.
///
/// # Errors
/// Database failures.
pub async fn versions(
    conn: &mut PgConnection,
    subject: &str,
    include_deleted: bool,
) -> Result<Vec<i32>, sqlx::Error> {
    let rows = sqlx::query(LIST_VERSIONS)
        .bind(subject)
        .bind(include_deleted)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| row.try_get("version")).collect()
}

/// One version of a subject.
///
/// # Errors
/// Database failures.
pub async fn version(
    conn: &mut PgConnection,
    subject: &str,
    spec: VersionSpec,
    include_deleted: bool,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let row = match spec {
        VersionSpec::Latest => {
            sqlx::query(LATEST)
                .bind(subject)
                .bind(include_deleted)
                .fetch_optional(conn)
                .await?
        }
        VersionSpec::Number(n) => {
            sqlx::query(NUMBERED)
                .bind(subject)
                .bind(n)
                .bind(include_deleted)
                .fetch_optional(conn)
                .await?
        }
    };
    row.as_ref().map(version_from_row).transpose()
}

/// Every live version of a subject, ascending.
///
/// # Errors
/// Database failures.
pub async fn live(conn: &mut PgConnection, subject: &str) -> Result<Vec<VersionRow>, sqlx::Error> {
    let rows = sqlx::query(LIVE).bind(subject).fetch_all(conn).await?;
    rows.iter().map(version_from_row).collect()
}

/// The version of `subject` whose schema has this identity (a live one first, then the
/// highest).
///
/// # Errors
/// Database failures.
pub async fn by_identity(
    conn: &mut PgConnection,
    subject: &str,
    identity: &str,
    include_deleted: bool,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let row = sqlx::query(BY_IDENTITY)
        .bind(subject)
        .bind(identity)
        .bind(include_deleted)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(version_from_row).transpose()
}

/// Adds the next version of `subject` pointing at `schema_id`; returns its number.
///
/// # Errors
/// Database failures. Callers hold the write lock.
pub async fn append(
    conn: &mut PgConnection,
    subject: &str,
    schema_id: i32,
) -> Result<i32, sqlx::Error> {
    let next: i32 = sqlx::query(NEXT_VERSION)
        .bind(subject)
        .fetch_one(&mut *conn)
        .await?
        .try_get("next")?;
    sqlx::query(INSERT_VERSION)
        .bind(subject)
        .bind(next)
        .bind(schema_id)
        .execute(conn)
        .await?;
    Ok(next)
}

/// Deletes a subject's versions: marks the live ones deleted, or (`permanent`) removes all.
/// Returns the affected version numbers, ascending.
///
/// # Errors
/// Database failures.
pub async fn delete(
    conn: &mut PgConnection,
    subject: &str,
    permanent: bool,
) -> Result<Vec<i32>, sqlx::Error> {
    let sql = if permanent {
        HARD_DELETE_SUBJECT
    } else {
        SOFT_DELETE_SUBJECT
    };
    let rows = sqlx::query(sql).bind(subject).fetch_all(conn).await?;
    let mut versions = rows
        .iter()
        .map(|row| row.try_get("version"))
        .collect::<Result<Vec<i32>, _>>()?;
    versions.sort_unstable();
    Ok(versions)
}

/// Deletes one version: marks it deleted, or (`permanent`) removes it.
///
/// # Errors
/// Database failures.
pub async fn delete_version(
    conn: &mut PgConnection,
    subject: &str,
    version: i32,
    permanent: bool,
) -> Result<(), sqlx::Error> {
    let sql = if permanent {
        HARD_DELETE_VERSION
    } else {
        SOFT_DELETE_VERSION
    };
    sqlx::query(sql)
        .bind(subject)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}
