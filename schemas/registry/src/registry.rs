//! The registry's operations that take more than one statement: register, look up, test
//! compatibility and delete. Routes parse HTTP; this module decides.

use std::collections::HashSet;

use apache_avro::Schema;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};

use crate::avro::{self, ParsedSchema, AVRO};
use crate::compat::{self, CompatibilityLevel, Previous};
use crate::error::RegistryError;
use crate::model::{SchemaReference, SchemaRow, VersionRow, VersionSpec};
use crate::store::{self, config, schemas, subjects};

/// The body of register, lookup and compatibility requests. Other fields Confluent
/// clients send (`metadata`, `ruleSet`, `id`, `version`) are accepted and ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRequest {
    /// The schema text.
    #[serde(default)]
    pub schema: Option<String>,
    /// `AVRO` (the default); other types are rejected with 42201.
    #[serde(default)]
    pub schema_type: Option<String>,
    /// Named types defined by schemas of other subjects.
    #[serde(default)]
    pub references: Option<Vec<SchemaReference>>,
}

/// A posted schema, validated and ready to store or compare.
struct Candidate {
    schema_type: String,
    text: String,
    refs: Vec<SchemaReference>,
    parsed: ParsedSchema,
    /// What makes two registrations the same schema (see [`ParsedSchema::normalized`]).
    identity: String,
}

/// Registry operations over a connection pool.
#[derive(Debug, Clone)]
pub struct Registry {
    pool: PgPool,
}

impl Registry {
    /// A registry over `pool` (migrated with [`crate::migrate`]).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for single-statement reads.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Registers `request` under `subject`; returns its global id. An identical schema
    /// already live in the subject returns its id without a new version; an identical
    /// schema under another subject lends its id to the new version.
    ///
    /// # Errors
    /// 42201 invalid schema, 409 incompatible, database failures.
    #[tracing::instrument(skip_all, fields(subject))]
    pub async fn register(
        &self,
        subject: &str,
        request: SchemaRequest,
    ) -> Result<i32, RegistryError> {
        let mut tx = self.pool.begin().await?;
        store::lock_writes(&mut tx).await?;
        let candidate = candidate(&mut tx, request).await?;
        if let Some(existing) =
            subjects::by_identity(&mut tx, subject, &candidate.identity, false).await?
        {
            return Ok(existing.schema.id);
        }
        let level = config::effective(&mut tx, subject).await?;
        let messages = check_live(&mut tx, subject, level, &candidate.parsed.resolved).await?;
        if !messages.is_empty() {
            return Err(RegistryError::Incompatible {
                subject: subject.to_owned(),
                messages,
            });
        }
        let id = match schemas::id_by_identity(&mut tx, &candidate.identity).await? {
            Some(id) => id,
            None => {
                schemas::insert(
                    &mut tx,
                    &candidate.schema_type,
                    &candidate.text,
                    &candidate.refs,
                    &candidate.identity,
                )
                .await?
            }
        };
        let version = subjects::append(&mut tx, subject, id).await?;
        tx.commit().await?;
        tracing::info!(subject, id, version, "registered schema");
        Ok(id)
    }

    /// Finds the version of `subject` holding the schema of `request`.
    ///
    /// # Errors
    /// 42201 invalid schema, 40401 unknown subject, 40403 schema not in the subject.
    pub async fn lookup(
        &self,
        subject: &str,
        request: SchemaRequest,
        include_deleted: bool,
    ) -> Result<VersionRow, RegistryError> {
        let mut conn = self.pool.acquire().await?;
        let candidate = candidate(&mut conn, request).await?;
        if let Some(found) =
            subjects::by_identity(&mut conn, subject, &candidate.identity, include_deleted).await?
        {
            return Ok(found);
        }
        if subjects::versions(&mut conn, subject, include_deleted)
            .await?
            .is_empty()
        {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Err(RegistryError::SchemaNotFound)
    }

    /// Tests `request` against one version of `subject` (`Some`) or against the versions
    /// its level checks on registration (`None`); returns the reasons it is incompatible
    /// (empty when compatible). No version to compare with means compatible.
    ///
    /// # Errors
    /// 42201 invalid schema, 40401/40402 for an explicit version that does not exist.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        request: SchemaRequest,
    ) -> Result<Vec<String>, RegistryError> {
        let mut conn = self.pool.acquire().await?;
        let candidate = candidate(&mut conn, request).await?;
        let level = config::effective(&mut conn, subject).await?;
        let new = &candidate.parsed.resolved;
        let Some(spec) = version else {
            return check_live(&mut conn, subject, level, new).await;
        };
        match subjects::version(&mut conn, subject, spec, false).await? {
            Some(row) => {
                let old = parse_stored(&mut conn, &row.schema).await?;
                let previous = [Previous {
                    version: row.version,
                    schema: &old,
                }];
                Ok(compat::check(level, new, &previous))
            }
            None if spec == VersionSpec::Latest => Ok(Vec::new()),
            None => Err(missing_version(&mut conn, subject, spec, false).await?),
        }
    }

    /// Deletes a subject: soft (its live versions) or permanent (after a soft delete).
    /// Returns the deleted version numbers.
    ///
    /// # Errors
    /// 40401, 40404, 40405, 42206 (a live schema references a version).
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let mut tx = self.pool.begin().await?;
        store::lock_writes(&mut tx).await?;
        let all = subjects::versions(&mut tx, subject, true).await?;
        if all.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        let live = subjects::versions(&mut tx, subject, false).await?;
        match (permanent, live.is_empty()) {
            (true, false) => return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned())),
            (false, true) => return Err(RegistryError::SubjectSoftDeleted(subject.to_owned())),
            _ => {}
        }
        for version in if permanent { &all } else { &live } {
            ensure_unreferenced(&mut tx, subject, *version).await?;
        }
        let deleted = subjects::delete(&mut tx, subject, permanent).await?;
        if permanent {
            config::delete_subject(&mut tx, subject).await?;
        }
        tx.commit().await?;
        tracing::info!(subject, permanent, ?deleted, "deleted subject");
        Ok(deleted)
    }

    /// Deletes one version: soft, or permanent (after a soft delete). Returns its number.
    ///
    /// # Errors
    /// 40401, 40402, 40406, 40407, 42206.
    pub async fn delete_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let mut tx = self.pool.begin().await?;
        store::lock_writes(&mut tx).await?;
        let include_deleted = permanent || matches!(spec, VersionSpec::Number(_));
        let Some(row) = subjects::version(&mut tx, subject, spec, include_deleted).await? else {
            return Err(missing_version(&mut tx, subject, spec, true).await?);
        };
        match (permanent, row.deleted) {
            (false, true) => {
                return Err(RegistryError::VersionSoftDeleted(
                    subject.to_owned(),
                    row.version,
                ))
            }
            (true, false) => {
                return Err(RegistryError::VersionNotSoftDeleted(
                    subject.to_owned(),
                    row.version,
                ))
            }
            _ => {}
        }
        ensure_unreferenced(&mut tx, subject, row.version).await?;
        subjects::delete_version(&mut tx, subject, row.version, permanent).await?;
        tx.commit().await?;
        tracing::info!(subject, version = row.version, permanent, "deleted version");
        Ok(row.version)
    }
}

/// The error for a version that was not found: 40401 if the subject has no version at all
/// (counting soft-deleted ones with `include_deleted`), else 40402.
///
/// # Errors
/// Database failures.
pub async fn missing_version(
    conn: &mut PgConnection,
    subject: &str,
    spec: VersionSpec,
    include_deleted: bool,
) -> Result<RegistryError, RegistryError> {
    if subjects::versions(conn, subject, include_deleted)
        .await?
        .is_empty()
    {
        Ok(RegistryError::SubjectNotFound(subject.to_owned()))
    } else {
        Ok(RegistryError::VersionNotFound(spec.to_string()))
    }
}

/// Validates a posted schema.
async fn candidate(
    conn: &mut PgConnection,
    request: SchemaRequest,
) -> Result<Candidate, RegistryError> {
    let schema_type = request
        .schema_type
        .map_or_else(|| AVRO.to_owned(), |t| t.to_ascii_uppercase());
    if schema_type != AVRO {
        return Err(RegistryError::InvalidSchema(format!(
            "schema type {schema_type} is not supported; this registry supports AVRO"
        )));
    }
    let text = request
        .schema
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".to_owned()))?;
    let refs = request.references.unwrap_or_default();
    let referenced = resolve_references(conn, &refs).await?;
    let parsed = avro::parse(&text, &referenced)?;
    let identity = serde_json::json!({
        "schemaType": schema_type,
        "schema": parsed.normalized,
        "references": refs,
    })
    .to_string();
    Ok(Candidate {
        schema_type,
        text,
        refs,
        parsed,
        identity,
    })
}

/// The texts of the schemas `refs` point at, transitively.
async fn resolve_references(
    conn: &mut PgConnection,
    refs: &[SchemaReference],
) -> Result<Vec<String>, RegistryError> {
    let mut texts = Vec::new();
    let mut seen = HashSet::new();
    let mut pending = refs.to_vec();
    while let Some(reference) = pending.pop() {
        if !seen.insert((reference.subject.clone(), reference.version)) {
            continue;
        }
        let not_found = || {
            RegistryError::InvalidSchema(format!(
                "reference '{}' to subject '{}' version {} not found",
                reference.name, reference.subject, reference.version
            ))
        };
        if reference.version == 0 || reference.version < -1 {
            return Err(not_found());
        }
        let spec = VersionSpec::from_reference(reference.version);
        let row = subjects::version(conn, &reference.subject, spec, true)
            .await?
            .ok_or_else(not_found)?;
        pending.extend(row.schema.refs.iter().cloned());
        texts.push(row.schema.text);
    }
    Ok(texts)
}

/// Parses a stored schema with its references.
async fn parse_stored(conn: &mut PgConnection, row: &SchemaRow) -> Result<Schema, RegistryError> {
    let referenced = resolve_references(conn, &row.refs).await?;
    Ok(avro::parse(&row.text, &referenced)?.resolved)
}

/// Checks `new` against the live versions of `subject` that `level` covers.
async fn check_live(
    conn: &mut PgConnection,
    subject: &str,
    level: CompatibilityLevel,
    new: &Schema,
) -> Result<Vec<String>, RegistryError> {
    if level == CompatibilityLevel::None {
        return Ok(Vec::new());
    }
    let mut live = subjects::live(conn, subject).await?;
    if !level.is_transitive() {
        live = live.split_off(live.len().saturating_sub(1));
    }
    let mut parsed = Vec::with_capacity(live.len());
    for row in &live {
        parsed.push((row.version, parse_stored(conn, &row.schema).await?));
    }
    let previous: Vec<Previous<'_>> = parsed
        .iter()
        .map(|(version, schema)| Previous {
            version: *version,
            schema,
        })
        .collect();
    Ok(compat::check(level, new, &previous))
}

/// 42206 when a live schema references `subject` at `version`.
async fn ensure_unreferenced(
    conn: &mut PgConnection,
    subject: &str,
    version: i32,
) -> Result<(), RegistryError> {
    if schemas::referenced_by(conn, subject, version)
        .await?
        .is_empty()
    {
        Ok(())
    } else {
        Err(RegistryError::ReferenceExists(subject.to_owned(), version))
    }
}
