//! Reading back the first answer to an idempotent command.

use domain::TenantId;
use sqlx::PgPool;

use crate::StoreError;

/// What the first command sent with a key did.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotentAnswer {
    pub request_hash: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub version: i64,
}

/// # Errors
/// On database failure.
pub async fn find_idempotent(
    pool: &PgPool,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<IdempotentAnswer>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT request_hash, aggregate_type, aggregate_id, version
         FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant.as_str())
    .bind(key)
    .fetch_optional(pool)
    .await?)
}
