//! The Task aggregate: work handed to an agent, with its state machine.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Task, TaskStatus};
pub use commands::{Priority, TaskCommand};
pub use events::{
    TaskAssigned, TaskCancelled, TaskCompleted, TaskCreated, TaskEvent, TaskFailed, TaskStarted,
};
