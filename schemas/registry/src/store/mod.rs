//! PostgreSQL access: every SQL statement of the registry, as constants, behind small
//! functions over a connection (a pooled one or a transaction's).
//!
//! Writers serialize on one transaction-scoped advisory lock ([`lock_writes`]): registrations
//! are rare, and a single lock makes "same schema, one id" and "next version" trivially
//! race-free across processes. Unique indexes back this up.

pub mod config;
pub mod schemas;
pub mod subjects;

use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

use crate::model::{SchemaReference, SchemaRow, VersionRow};

/// Advisory lock key of registry writes ("SCHEMREG").
const WRITE_LOCK_KEY: i64 = 0x5343_4845_4D52_4547;

const LOCK_WRITES: &str = "SELECT pg_advisory_xact_lock($1)";

/// Takes the registry's write lock until the end of the current transaction.
///
/// # Errors
/// Database failures.
pub async fn lock_writes(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(LOCK_WRITES)
        .bind(WRITE_LOCK_KEY)
        .execute(conn)
        .await?;
    Ok(())
}

/// Reads the `id, schema_type, schema_text, refs` columns.
fn schema_from_row(row: &PgRow) -> Result<SchemaRow, sqlx::Error> {
    let Json(refs): Json<Vec<SchemaReference>> = row.try_get("refs")?;
    Ok(SchemaRow {
        id: row.try_get("id")?,
        schema_type: row.try_get("schema_type")?,
        text: row.try_get("schema_text")?,
        refs,
    })
}

/// Reads the `subject, version, deleted` columns plus the schema's.
fn version_from_row(row: &PgRow) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        subject: row.try_get("subject")?,
        version: row.try_get("version")?,
        deleted: row.try_get("deleted")?,
        schema: schema_from_row(row)?,
    })
}
