//! Plumbing every service shares: logs, traces and metrics, graceful shutdown, JWT
//! authentication, RFC 9457 problem responses.

pub mod auth;
pub mod http;
pub mod problem;
pub mod prometheus;
pub mod shutdown;
pub mod telemetry;
pub mod trace;

pub use auth::{AuthError, Authenticator, Claims, Role};
pub use problem::{Problem, ProblemField};
