//! The command mix every client repeats, whatever executes it (HTTP or in-process):
//! create a task, cancel it, create an agent, update its configuration.

use std::future::Future;

/// The values the mix sends, shared by the REST and the in-process executors.
pub const TASK_TITLE: &str = "Call back the customer about order 1042";
pub const TASK_PRIORITY: &str = "high";
pub const CANCEL_REASON: &str = "customer called us first";
pub const AGENT_NAME: &str = "Ada";
pub const AGENT_INDUSTRY: &str = "retail";
pub const AGENT_PROVIDER: &str = "openai";
pub const AGENT_MODEL: &str = "gpt-4o";
pub const AGENT_TEMPERATURE: f64 = 0.7;
pub const AGENT_MAX_TOKENS: u32 = 1_024;
pub const UPDATED_TEMPERATURE: f64 = 0.2;

/// One command of the mix; the id is the aggregate an earlier step created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    CreateTask,
    CancelTask(String),
    CreateAgent,
    UpdateAgent(String),
}

/// Runs one step. Implementations are cheap to clone (one per client).
pub trait Executor: Clone + Send + Sync + 'static {
    /// Executes `step`; answers the id of the aggregate it created, if it created one.
    fn execute(&self, step: &Step) -> impl Future<Output = anyhow::Result<Option<String>>> + Send;
}

/// Where a client is in the mix.
#[derive(Debug)]
pub struct Cycle {
    next: Step,
}

impl Default for Cycle {
    fn default() -> Self {
        Self {
            next: Step::CreateTask,
        }
    }
}

impl Cycle {
    pub fn step(&self) -> &Step {
        &self.next
    }

    /// After a successful step; `created` is the id a create answered.
    pub fn advance(&mut self, created: Option<String>) {
        self.next = match (&self.next, created) {
            (Step::CreateTask, Some(id)) => Step::CancelTask(id),
            (Step::CreateTask | Step::CancelTask(_), _) => Step::CreateAgent,
            (Step::CreateAgent, Some(id)) => Step::UpdateAgent(id),
            (Step::CreateAgent | Step::UpdateAgent(_), _) => Step::CreateTask,
        };
    }

    /// After a failed step: go on with the next step that does not depend on it.
    pub fn skip(&mut self) {
        self.next = match self.next {
            Step::CreateTask | Step::CancelTask(_) => Step::CreateAgent,
            Step::CreateAgent | Step::UpdateAgent(_) => Step::CreateTask,
        };
    }
}

/// Steps in one full cycle of the mix.
pub const STEPS_PER_CYCLE: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_create_cancel_create_update() {
        let mut cycle = Cycle::default();
        assert_eq!(cycle.step(), &Step::CreateTask);
        cycle.advance(Some("t".into()));
        assert_eq!(cycle.step(), &Step::CancelTask("t".into()));
        cycle.advance(None);
        assert_eq!(cycle.step(), &Step::CreateAgent);
        cycle.advance(Some("a".into()));
        assert_eq!(cycle.step(), &Step::UpdateAgent("a".into()));
        cycle.advance(None);
        assert_eq!(cycle.step(), &Step::CreateTask);
    }

    #[test]
    fn a_failed_create_skips_its_dependent_step() {
        let mut cycle = Cycle::default();
        cycle.skip();
        assert_eq!(cycle.step(), &Step::CreateAgent);
        cycle.skip();
        assert_eq!(cycle.step(), &Step::CreateTask);
    }
}
