//! Domain rejections: the command was understood and refused.

use serde::Serialize;

/// One field that breaks a rule, with the rule in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why a command was rejected. Infrastructure failures are not here: they live in
/// the error types of the crates that do I/O.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// One or more fields break a rule.
    #[error("invalid command: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    /// The aggregate does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// The aggregate already exists; a create command cannot run twice.
    #[error("already exists")]
    AlreadyExists,
    /// The command is not allowed in the aggregate's current state.
    #[error("cannot {action} while {state}")]
    InvalidState {
        action: &'static str,
        state: &'static str,
    },
}

impl DomainError {
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, reason)])
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects every violation of a command so the caller hears about all of them at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation::new(field, reason));
    }

    /// Keeps the parsed value, or records why it failed.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(reason) => {
                self.add(field, reason);
                None
            }
        }
    }

    /// # Errors
    /// [`DomainError::Invalid`] when any violation was recorded.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
