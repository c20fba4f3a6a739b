//! `/config` and `/config/{subject}`: compatibility levels.
//!
//! As Confluent: `GET` answers `{"compatibilityLevel": …}`, `PUT` takes
//! `{"compatibility": …}` (or `compatibilityLevel`) and echoes `{"compatibility": …}`,
//! `DELETE` answers the level that was removed.

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{flag, Params};
use crate::compat::CompatibilityLevel;
use crate::error::RegistryError;
use crate::http::{JsonBody, SrJson};
use crate::registry::Registry;
use crate::store::config as store;

type Reply<T> = Result<SrJson<T>, RegistryError>;

/// The answer of `GET` and `DELETE`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    compatibility_level: &'static str,
}

impl From<CompatibilityLevel> for Config {
    fn from(level: CompatibilityLevel) -> Self {
        Self {
            compatibility_level: level.as_str(),
        }
    }
}

/// The body of `PUT`; other Confluent fields (metadata, rule sets …) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigUpdate {
    #[serde(default)]
    compatibility: Option<String>,
    #[serde(default)]
    compatibility_level: Option<String>,
}

/// The answer of `PUT`.
#[derive(Serialize)]
pub struct ConfigUpdated {
    compatibility: &'static str,
}

impl ConfigUpdate {
    fn level(&self) -> Result<CompatibilityLevel, RegistryError> {
        self.compatibility
            .as_deref()
            .or(self.compatibility_level.as_deref())
            .ok_or(RegistryError::InvalidCompatibilityLevel)?
            .parse()
    }
}

/// `GET /config`.
pub async fn get_global(State(registry): State<Registry>) -> Reply<Config> {
    let mut conn = registry.pool().acquire().await?;
    Ok(SrJson(store::global(&mut conn).await?.into()))
}

/// `PUT /config`.
pub async fn put_global(
    State(registry): State<Registry>,
    JsonBody(update): JsonBody<ConfigUpdate>,
) -> Reply<ConfigUpdated> {
    let level = update.level()?;
    let mut conn = registry.pool().acquire().await?;
    store::set_global(&mut conn, level).await?;
    tracing::info!(%level, "set global compatibility");
    Ok(SrJson(ConfigUpdated {
        compatibility: level.as_str(),
    }))
}

/// `DELETE /config`: back to the default level; answers the previous one.
pub async fn delete_global(State(registry): State<Registry>) -> Reply<Config> {
    let mut conn = registry.pool().acquire().await?;
    Ok(SrJson(store::delete_global(&mut conn).await?.into()))
}

/// `GET /config/{subject}[?defaultToGlobal=true]`: 40408 when the subject has no level of
/// its own, unless `defaultToGlobal` asks for the global one instead.
pub async fn get_subject(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Reply<Config> {
    let mut conn = registry.pool().acquire().await?;
    match store::subject(&mut conn, &subject).await? {
        Some(level) => Ok(SrJson(level.into())),
        None if flag(&params, "defaultToGlobal") => {
            Ok(SrJson(store::global(&mut conn).await?.into()))
        }
        None => Err(RegistryError::SubjectConfigNotFound(subject)),
    }
}

/// `PUT /config/{subject}`: allowed before the subject has any version.
pub async fn put_subject(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
    JsonBody(update): JsonBody<ConfigUpdate>,
) -> Reply<ConfigUpdated> {
    let level = update.level()?;
    let mut conn = registry.pool().acquire().await?;
    store::set_subject(&mut conn, &subject, level).await?;
    tracing::info!(subject, %level, "set subject compatibility");
    Ok(SrJson(ConfigUpdated {
        compatibility: level.as_str(),
    }))
}

/// `DELETE /config/{subject}`: the subject follows the global level again; answers the
/// removed level, 40401 when it had none.
pub async fn delete_subject(
    State(registry): State<Registry>,
    Path(subject): Path<String>,
) -> Reply<Config> {
    let mut conn = registry.pool().acquire().await?;
    match store::delete_subject(&mut conn, &subject).await? {
        Some(level) => Ok(SrJson(level.into())),
        None => Err(RegistryError::SubjectNotFound(subject)),
    }
}
