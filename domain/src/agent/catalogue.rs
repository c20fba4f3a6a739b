//! The supported model catalogue per provider, with output-token limits and retirements.

use serde::{Deserialize, Serialize};

/// LLM providers an agent can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Openai,
    Anthropic,
    Google,
    Azure,
}

impl Provider {
    pub const ALL: [Self; 4] = [Self::Openai, Self::Anthropic, Self::Google, Self::Azure];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Google => "google",
            Self::Azure => "azure",
        }
    }

    /// # Errors
    /// When the name is not a supported provider.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| format!("must be one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

/// One model of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    pub provider: Provider,
    pub name: &'static str,
    /// The most output tokens one completion may ask for.
    pub max_output_tokens: u32,
    /// Retired models stay listed so the rejection can say so.
    pub retired: bool,
}

const fn model(provider: Provider, name: &'static str, max: u32, retired: bool) -> ModelSpec {
    ModelSpec {
        provider,
        name,
        max_output_tokens: max,
        retired,
    }
}

use Provider::{Anthropic, Azure, Google, Openai};

/// The catalogue. Adding a model is a code change reviewed like any rule change.
pub const CATALOGUE: &[ModelSpec] = &[
    model(Openai, "gpt-4o", 16_384, false),
    model(Openai, "gpt-4o-mini", 16_384, false),
    model(Openai, "gpt-4.1", 32_768, false),
    model(Openai, "o3-mini", 100_000, false),
    model(Openai, "gpt-3.5-turbo-0301", 4_096, true),
    model(Openai, "gpt-4-0314", 8_192, true),
    model(Anthropic, "claude-sonnet-4", 64_000, false),
    model(Anthropic, "claude-opus-4", 32_000, false),
    model(Anthropic, "claude-3-5-haiku", 8_192, false),
    model(Anthropic, "claude-2.1", 4_096, true),
    model(Google, "gemini-2.5-pro", 65_536, false),
    model(Google, "gemini-2.0-flash", 8_192, false),
    model(Google, "gemini-1.0-pro", 2_048, true),
    model(Azure, "gpt-4o", 16_384, false),
    model(Azure, "gpt-4o-mini", 16_384, false),
    model(Azure, "gpt-35-turbo-0301", 4_096, true),
];

/// Finds a model that can still be used.
///
/// # Errors
/// When the provider does not offer the model, or the model is retired.
pub fn supported_model(provider: Provider, name: &str) -> Result<&'static ModelSpec, String> {
    match CATALOGUE
        .iter()
        .find(|m| m.provider == provider && m.name == name)
    {
        Some(spec) if spec.retired => Err(format!("model '{name}' is retired")),
        Some(spec) => Ok(spec),
        None => Err(format!(
            "'{name}' is not a {} model in the catalogue",
            provider.as_str()
        )),
    }
}
