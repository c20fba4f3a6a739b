//! Plumbing every service shares: telemetry, graceful shutdown, JWT authentication,
//! RFC 9457 problem responses and health routes.

pub mod auth;
pub mod problem;
pub mod shutdown;
pub mod telemetry;

pub use auth::{AuthError, Authenticator, Claims, Role};
pub use problem::{Problem, ProblemField};
