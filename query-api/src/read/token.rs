//! The consistency token: base64url (no padding) of `{aggregate_type}:{aggregate_id}:{version}`,
//! as the command API hands it out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use projectors::ProjectionName;
use uuid::Uuid;

/// The aggregate types a token can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggregateType {
    Agent,
    Task,
    Conversation,
    Invoice,
}

impl AggregateType {
    pub(crate) const NAMES: &'static [&'static str] = &["agent", "task", "conversation", "invoice"];

    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "agent" => Some(Self::Agent),
            "task" => Some(Self::Task),
            "conversation" => Some(Self::Conversation),
            "invoice" => Some(Self::Invoice),
            _ => None,
        }
    }

    /// Whether `projection` is built from this aggregate's events, i.e. whether waiting for
    /// one of its versions there means anything.
    pub(crate) fn read_by(self, projection: ProjectionName) -> bool {
        use AggregateType::*;
        match projection {
            ProjectionName::Agents => matches!(self, Agent | Task),
            ProjectionName::Tasks => self == Task,
            ProjectionName::Conversations => self == Conversation,
            ProjectionName::Billing => self == Invoice,
            ProjectionName::Usage => matches!(self, Conversation | Task),
            ProjectionName::Audit => true,
        }
    }
}

/// A read must reflect at least `version` of aggregate `aggregate_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConsistencyToken {
    pub aggregate_type: AggregateType,
    pub aggregate_id: Uuid,
    pub version: i64,
}

impl ConsistencyToken {
    /// # Errors
    /// Why the text is not a token.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        const SHAPE: &str =
            "must be the consistency_token a command answered with (base64url of type:id:version)";
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .map_err(|_| SHAPE.to_owned())?;
        let decoded = String::from_utf8(bytes).map_err(|_| SHAPE.to_owned())?;
        let mut parts = decoded.splitn(3, ':');
        let (Some(kind), Some(id), Some(version)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SHAPE.to_owned());
        };
        let aggregate_type = AggregateType::parse(kind).ok_or_else(|| {
            format!(
                "names aggregate type '{kind}'; expected one of {}",
                AggregateType::NAMES.join(", ")
            )
        })?;
        let aggregate_id = Uuid::parse_str(id).map_err(|_| "names an invalid aggregate id")?;
        let version = version
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or("names an invalid version (expected a positive integer)")?;
        Ok(Self {
            aggregate_type,
            aggregate_id,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn parses_what_the_command_api_hands_out() {
        let id = Uuid::now_v7();
        let token = ConsistencyToken::parse(&encode(&format!("task:{id}:7"))).unwrap();
        assert_eq!(token.aggregate_type, AggregateType::Task);
        assert_eq!(token.aggregate_id, id);
        assert_eq!(token.version, 7);
    }

    #[test]
    fn refuses_garbage_unknown_types_bad_ids_and_versions() {
        let id = Uuid::now_v7();
        for text in [
            "!!!".to_owned(),
            encode("task"),
            encode(&format!("order:{id}:1")),
            encode("task:not-a-uuid:1"),
            encode(&format!("task:{id}:0")),
            encode(&format!("task:{id}:x")),
        ] {
            assert!(ConsistencyToken::parse(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn projections_read_the_aggregates_they_are_built_from() {
        assert!(AggregateType::Task.read_by(ProjectionName::Agents));
        assert!(!AggregateType::Invoice.read_by(ProjectionName::Agents));
        assert!(AggregateType::Invoice.read_by(ProjectionName::Audit));
        assert!(!AggregateType::Agent.read_by(ProjectionName::Usage));
    }
}
