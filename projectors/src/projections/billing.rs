//! billing: invoices per tenant with their status (totals per currency are summed at query time).

use domain::invoice::InvoiceEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;

pub(super) async fn apply(
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let AnyEvent::Invoice(event) = event else {
        return Ok(());
    };
    let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
    match event {
        InvoiceEvent::InvoiceIssued(e) => {
            let line_items = serde_json::to_value(&e.line_items)
                .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
            sqlx::query(
                "INSERT INTO invoices (invoice_id, tenant_id, status, currency, total_minor, period_start, period_end,
                                       line_items, issued_at, version)
                 VALUES ($1, $2, 'issued', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (invoice_id) DO NOTHING",
            )
            .bind(id)
            .bind(e.tenant_id.as_str())
            .bind(e.currency.code())
            .bind(e.total_minor.get())
            .bind(e.period.start)
            .bind(e.period.end)
            .bind(line_items)
            .bind(at)
            .bind(version)
            .execute(db)
            .await?;
        }
        InvoiceEvent::InvoicePaid(e) => {
            sqlx::query(
                "UPDATE invoices SET status = 'paid', paid_at = $2, payment_reference = $3, version = $4
                 WHERE invoice_id = $1 AND version < $4",
            )
            .bind(id)
            .bind(at)
            .bind(&e.payment_reference)
            .bind(version)
            .execute(db)
            .await?;
        }
        InvoiceEvent::InvoiceOverdue(_) => {
            sqlx::query("UPDATE invoices SET status = 'overdue', version = $2 WHERE invoice_id = $1 AND version < $2")
                .bind(id)
                .bind(version)
                .execute(db)
                .await?;
        }
        InvoiceEvent::InvoiceVoided(e) => {
            sqlx::query(
                "UPDATE invoices SET status = 'voided', voided_at = $2, void_reason = $3, version = $4
                 WHERE invoice_id = $1 AND version < $4",
            )
            .bind(id)
            .bind(at)
            .bind(&e.reason)
            .bind(version)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}
