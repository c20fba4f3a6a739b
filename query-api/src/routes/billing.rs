//! Billing queries: invoices (list and one) and the totals per currency.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::money::Currency;
use projectors::ProjectionName;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{found, path_id};
use crate::extract::{one_of, Checks, Consistency, Params, Reader};
use crate::page::{fetch_size, Page};
use crate::read;
use crate::views::billing::{self, CurrencyTotals, InvoiceFilter, InvoiceView};
use crate::{ApiError, AppState};

const TAG: &str = "invoices:issued_at";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvoiceListParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// issued, paid or voided.
    status: Option<String>,
    /// ISO 4217 code, e.g. EUR.
    currency: Option<String>,
}

/// Totals of the caller's invoices, one entry per currency, by currency code.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BillingTotals {
    pub totals: Vec<CurrencyTotals>,
}

/// Invoices in the order they were issued; the id breaks ties.
#[utoipa::path(get, path = "/v1/invoices", operation_id = "list_invoices", tag = "billing", params(InvoiceListParams),
    responses((status = 200, body = Page<InvoiceView>), (status = 400, description = "invalid parameter")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
    Params(params): Params<InvoiceListParams>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let limit = checks.limit(params.limit.as_deref());
    let status = checks.optional(
        "status",
        params.status.as_deref(),
        one_of(&["issued", "overdue", "paid", "voided"]),
    );
    let currency = checks.optional("currency", params.currency.as_deref(), Currency::parse);
    let after = checks.cursor(params.cursor.as_deref(), TAG);
    checks.finish()?;
    let filter = InvoiceFilter {
        status,
        currency: currency.as_ref().map(Currency::code),
    };
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Billing, token).await?;
    let rows = billing::list(
        snapshot.conn(),
        caller.tenant(),
        &filter,
        after,
        fetch_size(limit),
    )
    .await;
    let page = |rows| Page::from_rows(rows, limit, TAG, |i: &InvoiceView| (i.issued_at, i.id));
    Ok(snapshot.respond(rows.map(page).map_err(ApiError::from)))
}

#[utoipa::path(get, path = "/v1/invoices/{id}", operation_id = "get_invoice", tag = "billing",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    responses((status = 200, body = InvoiceView), (status = 404)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Reader,
    Consistency(token): Consistency,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Billing, token).await?;
    let invoice = billing::find(snapshot.conn(), caller.tenant(), id).await;
    Ok(snapshot.respond(found(invoice)))
}

/// Outstanding (issued) and paid sums per currency.
#[utoipa::path(get, path = "/v1/billing/totals", operation_id = "billing_totals", tag = "billing",
    responses((status = 200, body = BillingTotals)))]
pub(crate) async fn totals(
    State(state): State<AppState>,
    caller: Reader,
    Consistency(token): Consistency,
) -> Result<Response, ApiError> {
    let mut snapshot =
        read::snapshot(&state, caller.tenant(), ProjectionName::Billing, token).await?;
    let totals = billing::totals(snapshot.conn(), caller.tenant()).await;
    Ok(snapshot.respond(
        totals
            .map(|totals| BillingTotals { totals })
            .map_err(ApiError::from),
    ))
}
