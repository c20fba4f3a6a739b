//! Saga scenarios: workflows end in the expected terminal state with exactly one command per
//! step, survive SIGKILL, and keep their deadlines across restarts.

mod agent_deployment;
mod billing_cycle;
mod conversation_reply;
mod operator_api;
mod support;
mod task_execution;
