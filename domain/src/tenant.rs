//! The tenant: the business that owns agents, tasks, conversations and invoices.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A tenant slug from the caller's token: 1–64 of `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// # Errors
    /// When the text is empty, too long or has other characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_chars = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if text.is_empty() || text.len() > 64 || !valid_chars {
            return Err("must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'".to_owned());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
