//! The Invoice aggregate: what a tenant owes for a billing period, and its payment.

mod aggregate;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Invoice, InvoiceCommand, LineItemInput};
pub use events::{
    BillingPeriod, InvoiceEvent, InvoiceIssued, InvoiceOverdue, InvoicePaid, InvoiceVoided,
    LineItem,
};
