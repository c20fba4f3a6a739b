//! The billing projection: `invoices`, and totals per currency.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct InvoiceView {
    pub id: Uuid,
    /// issued, paid or voided.
    pub status: String,
    /// ISO 4217.
    pub currency: String,
    /// In the currency's minor unit (cents for EUR).
    pub total_minor: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = Vec<Object>)]
    pub line_items: serde_json::Value,
    pub payment_reference: Option<String>,
    pub void_reason: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    /// The invoice's version this row reflects.
    pub version: i64,
}

/// What a tenant is owed and has been paid, in one currency.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub(crate) struct CurrencyTotals {
    pub currency: String,
    /// Sum of issued, not yet paid invoices.
    pub outstanding_minor: i64,
    /// Sum of paid invoices.
    pub paid_minor: i64,
}

pub(crate) struct InvoiceFilter<'a> {
    pub status: Option<&'a str>,
    pub currency: Option<&'a str>,
}

macro_rules! invoices {
    () => {
        "SELECT invoice_id AS id, status, currency, total_minor, period_start, period_end,
                line_items, payment_reference, void_reason, issued_at, paid_at, voided_at, version
         FROM invoices
         WHERE tenant_id = $1"
    };
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    filter: &InvoiceFilter<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    fetch: i64,
) -> Result<Vec<InvoiceView>, sqlx::Error> {
    sqlx::query_as(concat!(
        invoices!(),
        " AND ($2::text IS NULL OR status = $2)
          AND ($3::text IS NULL OR currency = $3)
          AND ($4::timestamptz IS NULL OR (issued_at, invoice_id) > ($4, $5::uuid))
          ORDER BY issued_at, invoice_id LIMIT $6"
    ))
    .bind(tenant)
    .bind(filter.status)
    .bind(filter.currency)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(fetch)
    .fetch_all(conn)
    .await
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<InvoiceView>, sqlx::Error> {
    sqlx::query_as(concat!(invoices!(), " AND invoice_id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub(crate) async fn totals(
    conn: &mut PgConnection,
    tenant: &str,
) -> Result<Vec<CurrencyTotals>, sqlx::Error> {
    sqlx::query_as(
        "SELECT currency,
                COALESCE(SUM(total_minor) FILTER (WHERE status IN ('issued', 'overdue')), 0)::bigint
                    AS outstanding_minor,
                COALESCE(SUM(total_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS paid_minor
         FROM invoices
         WHERE tenant_id = $1
         GROUP BY currency
         ORDER BY currency",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}
