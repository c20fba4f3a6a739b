//! Reading a projection: one read-only snapshot of its live generation, after waiting for a
//! consistency token when the request carries one.

pub(crate) mod progress;
mod snapshot;
mod token;
mod wait;
pub(crate) mod watch;

pub(crate) use snapshot::{Freshness, Snapshot};
pub(crate) use token::{AggregateType, ConsistencyToken};
pub(crate) use wait::snapshot;
