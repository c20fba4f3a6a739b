//! The read models' rows and the SQL that reads them: unqualified table names, resolved
//! through the snapshot's `search_path` to the live generation; values only ever bound.
//! List queries fetch one row more than the page so the caller knows a next page exists.

pub(crate) mod agents;
pub(crate) mod audit;
pub(crate) mod billing;
pub(crate) mod conversations;
pub(crate) mod tasks;
pub(crate) mod usage;
