//! One module per projection: how each event changes that projection's tables.
//!
//! A batch's events are not written one statement at a time: each projection folds them into
//! the final state of every row they touch ([`Changes`]), in memory, and writes those rows
//! set-wise at the end of the batch — one statement per table, whatever the batch size. A
//! statement per event made the projectors round-trip bound (see docs/benchmarks.md). Rare
//! events with awkward semantics (agent lifecycle, invoices) are still written as they come.
//!
//! Everything runs inside the batch's transaction with the generation's schema as search_path,
//! and only for events the runtime checked are new for their aggregate, in their order.

mod agents;
mod audit;
mod billing;
mod conversations;
mod tasks;
mod usage;

use schemas::{AnyEvent, EventMetadata, Topic};
use sqlx::PgConnection;

use crate::ProjectionName;

/// The topics a projection reads.
pub fn topics(projection: ProjectionName) -> &'static [Topic] {
    match projection {
        ProjectionName::Agents => &[Topic::Agents, Topic::Tasks],
        ProjectionName::Tasks => &[Topic::Tasks],
        ProjectionName::Conversations => &[Topic::Conversations],
        ProjectionName::Billing => &[Topic::Billing],
        ProjectionName::Usage => &[Topic::Conversations, Topic::Tasks],
        ProjectionName::Audit => &Topic::ALL,
    }
}

/// What a batch's events do to one projection's tables, not yet written.
pub enum Changes {
    Agents(agents::Changes),
    Tasks(tasks::Changes),
    Conversations(conversations::Changes),
    Billing,
    Usage(usage::Changes),
    Audit(audit::Changes),
}

impl Changes {
    pub fn new(projection: ProjectionName) -> Self {
        match projection {
            ProjectionName::Agents => Self::Agents(agents::Changes::default()),
            ProjectionName::Tasks => Self::Tasks(tasks::Changes::default()),
            ProjectionName::Conversations => Self::Conversations(conversations::Changes::default()),
            ProjectionName::Billing => Self::Billing,
            ProjectionName::Usage => Self::Usage(usage::Changes::default()),
            ProjectionName::Audit => Self::Audit(audit::Changes::default()),
        }
    }

    /// Adds one new event, after the ones added before it. Events written as they come are
    /// written here.
    ///
    /// # Errors
    /// When the database refuses such a change, or the event cannot be encoded for it.
    pub async fn add(
        &mut self,
        db: &mut PgConnection,
        meta: &EventMetadata,
        event: &AnyEvent,
    ) -> Result<(), sqlx::Error> {
        match self {
            Self::Agents(changes) => changes.add(db, meta, event).await,
            Self::Tasks(changes) => {
                changes.add(meta, event);
                Ok(())
            }
            Self::Conversations(changes) => {
                changes.add(meta, event);
                Ok(())
            }
            Self::Billing => billing::apply(db, meta, event).await,
            Self::Usage(changes) => {
                changes.add(meta, event);
                Ok(())
            }
            Self::Audit(changes) => changes.add(meta, event),
        }
    }

    /// Writes what was added and not yet written.
    ///
    /// # Errors
    /// When the database refuses the change (the batch is then retried record by record and the
    /// culprit goes to the dead-letter queue).
    pub async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self {
            Self::Agents(changes) => changes.write(db).await,
            Self::Tasks(changes) => changes.write(db).await,
            Self::Conversations(changes) => changes.write(db).await,
            Self::Billing => Ok(()),
            Self::Usage(changes) => changes.write(db).await,
            Self::Audit(changes) => changes.write(db).await,
        }
    }
}

/// Applies one new event to a projection on its own (the record-by-record path).
///
/// # Errors
/// When the database refuses the change (the record then goes to the dead-letter queue).
pub async fn apply(
    projection: ProjectionName,
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    let mut changes = Changes::new(projection);
    changes.add(db, meta, event).await?;
    changes.write(db).await
}
