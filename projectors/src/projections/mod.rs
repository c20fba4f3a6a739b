//! One module per projection: how each event changes that projection's tables.
//!
//! Every function runs inside the batch's transaction with the generation's schema as
//! search_path, and only after the runtime checked the event is new for its aggregate.

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

/// Applies one new event to a projection.
///
/// # Errors
/// When the database refuses the change (the record then goes to the dead-letter queue).
pub async fn apply(
    projection: ProjectionName,
    db: &mut PgConnection,
    meta: &EventMetadata,
    event: &AnyEvent,
) -> Result<(), sqlx::Error> {
    match projection {
        ProjectionName::Agents => agents::apply(db, meta, event).await,
        ProjectionName::Tasks => tasks::apply(db, meta, event).await,
        ProjectionName::Conversations => conversations::apply(db, meta, event).await,
        ProjectionName::Billing => billing::apply(db, meta, event).await,
        ProjectionName::Usage => usage::apply(db, meta, event).await,
        ProjectionName::Audit => audit::apply(db, meta, event).await,
    }
}
