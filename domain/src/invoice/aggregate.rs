//! Invoice rules: issued with a computed total; paid in full exactly once; never voided after paid.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::events::*;
use crate::error::Violations;
use crate::money::{Currency, MinorUnits};
use crate::text::bounded;
use crate::{Aggregate, DomainError, TenantId};

const MAX_LINE_ITEMS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItemInput {
    pub description: String,
    pub quantity: u32,
    pub unit_amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceCommand {
    IssueInvoice {
        period_start: NaiveDate,
        period_end: NaiveDate,
        currency: String,
        line_items: Vec<LineItemInput>,
    },
    RecordPayment {
        amount_minor: i64,
        currency: String,
        payment_reference: String,
    },
    VoidInvoice {
        reason: String,
    },
    /// The payment failed after retries.
    MarkInvoiceOverdue {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    #[default]
    Absent,
    Issued,
    /// Payment failed: still outstanding, and the tenant's agents are paused until it is paid.
    Overdue,
    Paid,
    Voided,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Issued => "issued",
            Self::Overdue => "overdue",
            Self::Paid => "paid",
            Self::Voided => "voided",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Invoice {
    tenant: Option<TenantId>,
    status: Status,
    currency: Option<Currency>,
    outstanding: Option<MinorUnits>,
}

fn line_items(
    items: &[LineItemInput],
    violations: &mut Violations,
) -> (Vec<LineItem>, Option<MinorUnits>) {
    if items.is_empty() || items.len() > MAX_LINE_ITEMS {
        violations.add("line_items", format!("must have 1-{MAX_LINE_ITEMS} items"));
    }
    let mut total = Some(MinorUnits::ZERO);
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let description = violations.check(
            &format!("line_items[{index}].description"),
            bounded(&item.description, 1, 200),
        );
        if item.quantity == 0 {
            violations.add(
                format!("line_items[{index}].quantity"),
                "must be at least 1",
            );
        }
        let unit = violations.check(
            &format!("line_items[{index}].unit_amount_minor"),
            MinorUnits::parse(item.unit_amount_minor),
        );
        let amount = unit.and_then(|u| u.checked_mul(item.quantity));
        if unit.is_some() && amount.is_none() {
            violations.add(format!("line_items[{index}]"), "amount overflows");
        }
        total = total.zip(amount).and_then(|(t, a)| t.checked_add(a));
        if let (Some(description), Some(unit), Some(amount)) = (description, unit, amount) {
            parsed.push(LineItem {
                description,
                quantity: item.quantity,
                unit_amount_minor: unit,
                amount_minor: amount,
            });
        }
    }
    if total.is_none() && parsed.len() == items.len() {
        violations.add("line_items", "total overflows");
    }
    (parsed, total)
}

impl Invoice {
    fn issue(tenant: &TenantId, command: InvoiceCommand) -> Result<InvoiceEvent, DomainError> {
        let InvoiceCommand::IssueInvoice {
            period_start,
            period_end,
            currency,
            line_items: items,
        } = command
        else {
            unreachable!("only called for IssueInvoice")
        };
        let mut violations = Violations::default();
        if period_end < period_start {
            violations.add("period_end", "must not be before period_start");
        }
        let currency = violations.check("currency", Currency::parse(&currency));
        let (line_items, total) = line_items(&items, &mut violations);
        violations.finish()?;
        match (currency, total) {
            (Some(currency), Some(total_minor)) => Ok(InvoiceEvent::InvoiceIssued(InvoiceIssued {
                tenant_id: tenant.clone(),
                period: BillingPeriod {
                    start: period_start,
                    end: period_end,
                },
                currency,
                line_items,
                total_minor,
            })),
            _ => unreachable!("every missing value recorded a violation"),
        }
    }

    fn pay(
        &self,
        amount: i64,
        currency: &str,
        reference: &str,
    ) -> Result<InvoiceEvent, DomainError> {
        let mut violations = Violations::default();
        let outstanding = self.outstanding.unwrap_or(MinorUnits::ZERO);
        if amount != outstanding.get() {
            violations.add(
                "amount_minor",
                format!("must equal the outstanding amount {}", outstanding.get()),
            );
        }
        let currency = match Currency::parse(currency) {
            Ok(c) if Some(&c) == self.currency.as_ref() => Some(c),
            _ => {
                let expected = self.currency.as_ref().map_or("", Currency::code);
                violations.add(
                    "currency",
                    format!("must be the invoice's currency {expected}"),
                );
                None
            }
        };
        let reference = violations.check("payment_reference", bounded(reference, 1, 200));
        violations.finish()?;
        match (currency, reference) {
            (Some(currency), Some(payment_reference)) => {
                Ok(InvoiceEvent::InvoicePaid(InvoicePaid {
                    amount_minor: outstanding,
                    currency,
                    payment_reference,
                }))
            }
            _ => unreachable!("every missing value recorded a violation"),
        }
    }

    fn refuse(&self, action: &'static str) -> DomainError {
        DomainError::InvalidState {
            action,
            state: self.status.as_str(),
        }
    }
}

impl Aggregate for Invoice {
    const TYPE: &'static str = "invoice";
    type Command = InvoiceCommand;
    type Event = InvoiceEvent;

    fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    fn decide(
        &self,
        tenant: &TenantId,
        command: InvoiceCommand,
    ) -> Result<Vec<InvoiceEvent>, DomainError> {
        let event = match (self.status, command) {
            (Status::Absent, command @ InvoiceCommand::IssueInvoice { .. }) => {
                Self::issue(tenant, command)?
            }
            (_, InvoiceCommand::IssueInvoice { .. }) => return Err(DomainError::AlreadyExists),
            (Status::Absent, _) => return Err(DomainError::NotFound),
            (
                Status::Issued | Status::Overdue,
                InvoiceCommand::RecordPayment {
                    amount_minor,
                    currency,
                    payment_reference,
                },
            ) => self.pay(amount_minor, &currency, &payment_reference)?,
            (_, InvoiceCommand::RecordPayment { .. }) => {
                return Err(self.refuse("record a payment"))
            }
            (Status::Issued, InvoiceCommand::VoidInvoice { reason }) => {
                let reason =
                    bounded(&reason, 1, 1_000).map_err(|e| DomainError::field("reason", e))?;
                InvoiceEvent::InvoiceVoided(InvoiceVoided { reason })
            }
            (_, InvoiceCommand::VoidInvoice { .. }) => return Err(self.refuse("void")),
            (Status::Issued, InvoiceCommand::MarkInvoiceOverdue { reason }) => {
                let reason =
                    bounded(&reason, 1, 1_000).map_err(|e| DomainError::field("reason", e))?;
                InvoiceEvent::InvoiceOverdue(InvoiceOverdue { reason })
            }
            (_, InvoiceCommand::MarkInvoiceOverdue { .. }) => {
                return Err(self.refuse("mark overdue"))
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: InvoiceEvent) {
        match event {
            InvoiceEvent::InvoiceIssued(e) => {
                self.tenant = Some(e.tenant_id);
                self.status = Status::Issued;
                self.currency = Some(e.currency);
                self.outstanding = Some(e.total_minor);
            }
            InvoiceEvent::InvoicePaid(_) => {
                self.status = Status::Paid;
                self.outstanding = Some(MinorUnits::ZERO);
            }
            InvoiceEvent::InvoiceVoided(_) => self.status = Status::Voided,
            InvoiceEvent::InvoiceOverdue(_) => self.status = Status::Overdue,
        }
    }
}
