//! Given/when/then for every Invoice command path.

use chrono::NaiveDate;

use super::*;
use crate::money::{Currency, MinorUnits};
use crate::testing::{given, other_tenant, tenant};
use crate::DomainError;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
}

fn issue() -> InvoiceCommand {
    InvoiceCommand::IssueInvoice {
        period_start: day(1),
        period_end: day(31),
        currency: "EUR".into(),
        line_items: vec![
            LineItemInput {
                description: "Agent seats".into(),
                quantity: 3,
                unit_amount_minor: 4_900,
            },
            LineItemInput {
                description: "Messages".into(),
                quantity: 1_200,
                unit_amount_minor: 2,
            },
        ],
    }
}

fn eur(n: i64) -> MinorUnits {
    MinorUnits::parse(n).unwrap()
}

fn issued() -> InvoiceEvent {
    InvoiceEvent::InvoiceIssued(InvoiceIssued {
        tenant_id: tenant(),
        period: BillingPeriod {
            start: day(1),
            end: day(31),
        },
        currency: Currency::parse("EUR").unwrap(),
        line_items: vec![
            LineItem {
                description: "Agent seats".into(),
                quantity: 3,
                unit_amount_minor: eur(4_900),
                amount_minor: eur(14_700),
            },
            LineItem {
                description: "Messages".into(),
                quantity: 1_200,
                unit_amount_minor: eur(2),
                amount_minor: eur(2_400),
            },
        ],
        total_minor: eur(17_100),
    })
}

fn pay(amount: i64) -> InvoiceCommand {
    InvoiceCommand::RecordPayment {
        amount_minor: amount,
        currency: "EUR".into(),
        payment_reference: "pi_123".into(),
    }
}

fn paid() -> InvoiceEvent {
    InvoiceEvent::InvoicePaid(InvoicePaid {
        amount_minor: eur(17_100),
        currency: Currency::parse("EUR").unwrap(),
        payment_reference: "pi_123".into(),
    })
}

#[test]
fn issue_computes_line_amounts_and_total() {
    given::<Invoice>([])
        .when(issue())
        .then_expect_events(vec![issued()]);
    given::<Invoice>([issued()])
        .when(issue())
        .then_expect_error(DomainError::AlreadyExists);
}

#[test]
fn issue_rejects_bad_period_currency_and_items() {
    given::<Invoice>([])
        .when(InvoiceCommand::IssueInvoice {
            period_start: day(31),
            period_end: day(1),
            currency: "EURO".into(),
            line_items: vec![LineItemInput {
                description: String::new(),
                quantity: 0,
                unit_amount_minor: -5,
            }],
        })
        .then_expect_invalid_fields(&[
            "period_end",
            "currency",
            "line_items[0].description",
            "line_items[0].quantity",
            "line_items[0].unit_amount_minor",
        ]);
    given::<Invoice>([])
        .when(InvoiceCommand::IssueInvoice {
            period_start: day(1),
            period_end: day(2),
            currency: "EUR".into(),
            line_items: vec![],
        })
        .then_expect_invalid_fields(&["line_items"]);
}

#[test]
fn issue_rejects_overflowing_totals() {
    let huge = LineItemInput {
        description: "x".into(),
        quantity: 2,
        unit_amount_minor: i64::MAX / 2,
    };
    given::<Invoice>([])
        .when(InvoiceCommand::IssueInvoice {
            period_start: day(1),
            period_end: day(2),
            currency: "EUR".into(),
            line_items: vec![huge.clone(), huge],
        })
        .then_expect_invalid_fields(&["line_items"]);
}

#[test]
fn payment_must_equal_the_outstanding_amount_in_the_invoice_currency() {
    given::<Invoice>([issued()])
        .when(pay(17_100))
        .then_expect_events(vec![paid()]);
    given::<Invoice>([issued()])
        .when(pay(17_000))
        .then_expect_invalid_fields(&["amount_minor"]);
    given::<Invoice>([issued()])
        .when(InvoiceCommand::RecordPayment {
            amount_minor: 17_100,
            currency: "USD".into(),
            payment_reference: "p".into(),
        })
        .then_expect_invalid_fields(&["currency"]);
}

#[test]
fn an_invoice_is_paid_once_and_never_voided_after() {
    given::<Invoice>([issued(), paid()])
        .when(pay(0))
        .then_expect_error(DomainError::InvalidState {
            action: "record a payment",
            state: "paid",
        });
    given::<Invoice>([issued(), paid()])
        .when(InvoiceCommand::VoidInvoice {
            reason: "mistake".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "void",
            state: "paid",
        });
}

#[test]
fn void_an_issued_invoice_once() {
    let voided = InvoiceEvent::InvoiceVoided(InvoiceVoided {
        reason: "duplicate".into(),
    });
    given::<Invoice>([issued()])
        .when(InvoiceCommand::VoidInvoice {
            reason: "duplicate".into(),
        })
        .then_expect_events(vec![voided.clone()]);
    given::<Invoice>([issued()])
        .when(InvoiceCommand::VoidInvoice { reason: " ".into() })
        .then_expect_invalid_fields(&["reason"]);
    given::<Invoice>([issued(), voided.clone()])
        .when(InvoiceCommand::VoidInvoice {
            reason: "again".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "void",
            state: "voided",
        });
    given::<Invoice>([issued(), voided])
        .when(pay(17_100))
        .then_expect_error(DomainError::InvalidState {
            action: "record a payment",
            state: "voided",
        });
}

#[test]
fn missing_or_foreign_invoices_are_not_found() {
    given::<Invoice>([])
        .when(pay(1))
        .then_expect_error(DomainError::NotFound);
    given::<Invoice>([issued()])
        .by_tenant(other_tenant())
        .when(pay(17_100))
        .then_expect_error(DomainError::NotFound);
}

#[test]
fn an_unpaid_invoice_goes_overdue_and_can_still_be_paid() {
    let overdue = InvoiceEvent::InvoiceOverdue(InvoiceOverdue {
        reason: "card declined".into(),
    });
    given::<Invoice>([issued()])
        .when(InvoiceCommand::MarkInvoiceOverdue {
            reason: "card declined".into(),
        })
        .then_expect_events(vec![overdue.clone()]);
    given::<Invoice>([issued(), overdue.clone()])
        .when(pay(17_100))
        .then_expect_events(vec![paid()]);
    given::<Invoice>([issued(), overdue])
        .when(InvoiceCommand::MarkInvoiceOverdue {
            reason: "again".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "mark overdue",
            state: "overdue",
        });
    given::<Invoice>([issued(), paid()])
        .when(InvoiceCommand::MarkInvoiceOverdue {
            reason: "late".into(),
        })
        .then_expect_error(DomainError::InvalidState {
            action: "mark overdue",
            state: "paid",
        });
}
