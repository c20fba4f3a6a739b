//! Invoice commands. Money is integer minor units with an ISO-4217 currency.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use domain::invoice::{InvoiceCommand, LineItemInput};
use domain::InvoiceId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::path_id;
use store::Target;

use crate::dispatch::{dispatch, CommandRequest, Outcome};
use crate::extract::{CommandBody, Commander, Preconditions};
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueInvoice {
    /// First day of the billing period (YYYY-MM-DD).
    #[schema(value_type = String, format = Date)]
    period_start: NaiveDate,
    /// Last day of the billing period, inclusive.
    #[schema(value_type = String, format = Date)]
    period_end: NaiveDate,
    /// ISO-4217 code, e.g. EUR.
    currency: String,
    /// 1–500 items.
    line_items: Vec<LineItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineItem {
    description: String,
    quantity: u32,
    /// Price of one unit in minor units (cents).
    unit_amount_minor: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordPayment {
    /// Must equal the outstanding amount, in minor units.
    amount_minor: i64,
    currency: String,
    /// The payment gateway's reference.
    payment_reference: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoidInvoice {
    reason: String,
}

async fn action(
    state: AppState,
    id: &str,
    request: CommandRequest,
    command: InvoiceCommand,
) -> Result<Response, ApiError> {
    let id = path_id(id, InvoiceId::parse)?.to_string();
    dispatch(
        &state,
        &state.invoices,
        request,
        &id,
        command,
        Outcome::Changed,
    )
    .await
}

#[utoipa::path(post, path = "/v1/invoices", request_body = IssueInvoice, tag = "invoices",
    responses((status = 201, body = crate::dispatch::CommandAccepted), (status = 422)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<IssueInvoice>,
) -> Result<Response, ApiError> {
    let IssueInvoice {
        period_start,
        period_end,
        currency,
        line_items,
    } = body.value;
    let line_items = line_items
        .into_iter()
        .map(|item| LineItemInput {
            description: item.description,
            quantity: item.quantity,
            unit_amount_minor: item.unit_amount_minor,
        })
        .collect();
    let command = InvoiceCommand::IssueInvoice {
        period_start,
        period_end,
        currency,
        line_items,
    };
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let id = Uuid::now_v7().to_string();
    dispatch(
        &state,
        &state.invoices,
        request,
        &id,
        command,
        Outcome::Created {
            collection: "invoices",
            target: Target::Minted,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/invoices/{id}/payments", request_body = RecordPayment, tag = "invoices",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn pay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<RecordPayment>,
) -> Result<Response, ApiError> {
    let RecordPayment {
        amount_minor,
        currency,
        payment_reference,
    } = body.value;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        InvoiceCommand::RecordPayment {
            amount_minor,
            currency,
            payment_reference,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/invoices/{id}/void", request_body = VoidInvoice, tag = "invoices",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn void(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<VoidInvoice>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        InvoiceCommand::VoidInvoice {
            reason: body.value.reason,
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkOverdue {
    reason: String,
}

/// Used by the billing saga when charging failed after retries.
#[utoipa::path(post, path = "/v1/invoices/{id}/overdue", request_body = MarkOverdue, tag = "invoices",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn overdue(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<MarkOverdue>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    action(
        state,
        &id,
        request,
        InvoiceCommand::MarkInvoiceOverdue {
            reason: body.value.reason,
        },
    )
    .await
}
