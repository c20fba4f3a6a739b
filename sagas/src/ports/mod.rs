//! Ports to systems outside the platform. Each has a real HTTP adapter and a deterministic
//! local provider (the default in development and tests) whose failures and latency are
//! injected by configuration.

pub mod llm;
pub mod payments;
pub mod provisioning;
