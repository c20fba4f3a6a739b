//! Aggregate ids: UUIDv7 newtypes, so ids sort by creation time and cannot be mixed up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_v7_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID made by the caller (the domain owns no clock or randomness).
            ///
            /// # Errors
            /// When the UUID is not version 7.
            pub fn from_uuid(uuid: Uuid) -> Result<Self, String> {
                if uuid.get_version_num() == 7 {
                    Ok(Self(uuid))
                } else {
                    Err("must be a UUIDv7".to_owned())
                }
            }

            /// # Errors
            /// When the text is not a UUIDv7.
            pub fn parse(text: &str) -> Result<Self, String> {
                let uuid = Uuid::parse_str(text).map_err(|_| "must be a UUID".to_owned())?;
                Self::from_uuid(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

uuid_v7_id!(
    /// Identifies an agent.
    AgentId
);
uuid_v7_id!(
    /// Identifies a task.
    TaskId
);
uuid_v7_id!(
    /// Identifies a conversation.
    ConversationId
);
uuid_v7_id!(
    /// Identifies an invoice.
    InvoiceId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_version_7() {
        assert!(AgentId::parse("0190b6c4-7e4c-7a3b-9a2e-0c1d2e3f4a5b").is_ok());
        assert_eq!(
            AgentId::parse("4f2b1c3d-7e4c-4a3b-9a2e-0c1d2e3f4a5b"),
            Err("must be a UUIDv7".to_owned())
        );
        assert_eq!(AgentId::parse("nope"), Err("must be a UUID".to_owned()));
    }
}
