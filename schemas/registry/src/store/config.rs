//! Compatibility levels: the global one and per-subject overrides.
//!
//! Levels are stored by name; a name this build does not know reads as the default.

use sqlx::{PgConnection, Row};

use crate::compat::CompatibilityLevel;

const GET_GLOBAL: &str = "SELECT compatibility FROM schema_registry.global_config";

const SET_GLOBAL: &str = "INSERT INTO schema_registry.global_config (singleton, compatibility) \
     VALUES (TRUE, $1) \
     ON CONFLICT (singleton) DO UPDATE SET compatibility = EXCLUDED.compatibility";

const DELETE_GLOBAL: &str = "DELETE FROM schema_registry.global_config RETURNING compatibility";

const GET_SUBJECT: &str =
    "SELECT compatibility FROM schema_registry.subject_config WHERE subject = $1";

const SET_SUBJECT: &str = "INSERT INTO schema_registry.subject_config (subject, compatibility) \
     VALUES ($1, $2) \
     ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility";

const DELETE_SUBJECT: &str =
    "DELETE FROM schema_registry.subject_config WHERE subject = $1 RETURNING compatibility";

fn level(row: Option<sqlx::postgres::PgRow>) -> Result<Option<CompatibilityLevel>, sqlx::Error> {
    let Some(row) = row else { return Ok(None) };
    let name: String = row.try_get("compatibility")?;
    Ok(Some(name.parse().unwrap_or(CompatibilityLevel::DEFAULT)))
}

/// The global level (the default when never set).
///
/// # Errors
/// Database failures.
pub async fn global(conn: &mut PgConnection) -> Result<CompatibilityLevel, sqlx::Error> {
    let row = sqlx::query(GET_GLOBAL).fetch_optional(conn).await?;
    Ok(level(row)?.unwrap_or(CompatibilityLevel::DEFAULT))
}

/// Sets the global level.
///
/// # Errors
/// Database failures.
pub async fn set_global(
    conn: &mut PgConnection,
    level: CompatibilityLevel,
) -> Result<(), sqlx::Error> {
    sqlx::query(SET_GLOBAL)
        .bind(level.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Resets the global level to the default; returns the level that was in force.
///
/// # Errors
/// Database failures.
pub async fn delete_global(conn: &mut PgConnection) -> Result<CompatibilityLevel, sqlx::Error> {
    let row = sqlx::query(DELETE_GLOBAL).fetch_optional(conn).await?;
    Ok(level(row)?.unwrap_or(CompatibilityLevel::DEFAULT))
}

/// The subject's own level, if it has one.
///
/// # Errors
/// Database failures.
pub async fn subject(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Option<CompatibilityLevel>, sqlx::Error> {
    let row = sqlx::query(GET_SUBJECT)
        .bind(subject)
        .fetch_optional(conn)
        .await?;
    level(row)
}

/// Sets the subject's own level.
///
/// # Errors
/// Database failures.
pub async fn set_subject(
    conn: &mut PgConnection,
    subject: &str,
    level: CompatibilityLevel,
) -> Result<(), sqlx::Error> {
    sqlx::query(SET_SUBJECT)
        .bind(subject)
        .bind(level.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the subject's own level; returns it if there was one.
///
/// # Errors
/// Database failures.
pub async fn delete_subject(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Option<CompatibilityLevel>, sqlx::Error> {
    let row = sqlx::query(DELETE_SUBJECT)
        .bind(subject)
        .fetch_optional(conn)
        .await?;
    level(row)
}

/// The level that applies to `subject`: its own, else the global one.
///
/// # Errors
/// Database failures.
pub async fn effective(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<CompatibilityLevel, sqlx::Error> {
    match self::subject(&mut *conn, subject).await? {
        Some(level) => Ok(level),
        None => global(conn).await,
    }
}
