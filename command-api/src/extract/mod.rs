//! Request extractors that turn HTTP into checked inputs, each failing with a precise problem.

mod body;
mod caller;
mod preconditions;

pub(crate) use body::CommandBody;
pub(crate) use body::MAX_BODY_BYTES;
pub(crate) use caller::Commander;
pub(crate) use preconditions::Preconditions;
