//! Request extractors and checks that turn HTTP into checked inputs, each failing with a
//! precise problem.

mod checks;
mod consistency;
mod params;
mod reader;

pub(crate) use checks::{date, one_of, timestamp, uuid, Checks};
pub(crate) use consistency::Consistency;
pub(crate) use params::Params;
pub(crate) use reader::Reader;
