//! Facts about invoices. Amounts are integer minor units of the invoice's currency.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, MinorUnits};
use crate::{Event, TenantId};

/// Inclusive calendar dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    #[serde(deserialize_with = "crate::counts::count")]
    pub quantity: u32,
    pub unit_amount_minor: MinorUnits,
    /// quantity × unit amount, computed when issued.
    pub amount_minor: MinorUnits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub tenant_id: TenantId,
    pub period: BillingPeriod,
    pub currency: Currency,
    pub line_items: Vec<LineItem>,
    pub total_minor: MinorUnits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePaid {
    pub amount_minor: MinorUnits,
    pub currency: Currency,
    pub payment_reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceVoided {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceOverdue {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceEvent {
    InvoiceIssued(InvoiceIssued),
    InvoicePaid(InvoicePaid),
    InvoiceVoided(InvoiceVoided),
    InvoiceOverdue(InvoiceOverdue),
}

impl Event for InvoiceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::InvoiceIssued(_) => "InvoiceIssued",
            Self::InvoicePaid(_) => "InvoicePaid",
            Self::InvoiceVoided(_) => "InvoiceVoided",
            Self::InvoiceOverdue(_) => "InvoiceOverdue",
        }
    }
}
