//! Agent value objects: name, industry, and the model configuration.

use serde::{Deserialize, Serialize};

use super::catalogue::{supported_model, Provider};
use crate::error::Violations;
use crate::text::bounded;

/// An agent's display name: 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentName(String);

impl AgentName {
    /// # Errors
    /// When it is blank or longer than 100 characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        bounded(text, 1, 100).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The industry an agent serves; it picks the default system prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    Healthcare,
    Retail,
    Finance,
    Education,
    RealEstate,
    Hospitality,
    Legal,
    General,
}

impl Industry {
    pub const ALL: [Self; 8] = [
        Self::Healthcare,
        Self::Retail,
        Self::Finance,
        Self::Education,
        Self::RealEstate,
        Self::Hospitality,
        Self::Legal,
        Self::General,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthcare => "healthcare",
            Self::Retail => "retail",
            Self::Finance => "finance",
            Self::Education => "education",
            Self::RealEstate => "real_estate",
            Self::Hospitality => "hospitality",
            Self::Legal => "legal",
            Self::General => "general",
        }
    }

    /// # Errors
    /// When the name is not one of the fixed industries.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == name)
            .ok_or_else(|| format!("must be one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }

    /// The system prompt an agent gets when its creator gives none.
    pub fn prompt_template(self, agent_name: &AgentName) -> String {
        let focus = match self {
            Self::Healthcare => "patients with appointments, services and general health information; never give a diagnosis",
            Self::Retail => "shoppers with products, orders, returns and store information",
            Self::Finance => "clients with accounts, payments and product questions; never give personal investment advice",
            Self::Education => "students and parents with courses, schedules and enrolment",
            Self::RealEstate => "buyers and tenants with listings, viewings and applications",
            Self::Hospitality => "guests with bookings, amenities and local recommendations",
            Self::Legal => "clients with scheduling and general information; never give legal advice",
            Self::General => "customers with their questions",
        };
        format!(
            "You are {}, a helpful assistant for a {} business. Help {focus}. \
             Be concise and polite, and hand over to a human when unsure.",
            agent_name.as_str(),
            self.as_str().replace('_', " ")
        )
    }
}

/// Sampling temperature: 0.0–2.0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Temperature(f64);

impl Temperature {
    /// # Errors
    /// When outside 0–2 or not a number.
    pub fn parse(value: f64) -> Result<Self, String> {
        if (0.0..=2.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err("must be between 0 and 2".to_owned())
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// Output-token budget per completion, within the model's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaxTokens(#[serde(deserialize_with = "crate::counts::count")] u32);

impl MaxTokens {
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Instructions given to the model before every conversation: at most 8,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SystemPrompt(String);

impl SystemPrompt {
    /// # Errors
    /// When blank or longer than 8,000 characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        bounded(text, 1, 8_000).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A complete, valid model configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub provider: Provider,
    pub model: String,
    pub temperature: Temperature,
    pub max_tokens: MaxTokens,
    pub system_prompt: SystemPrompt,
}

impl AgentConfig {
    /// Validates raw values together (max_tokens depends on the model), recording every
    /// violation; `system_prompt` is already resolved (given or generated).
    pub(crate) fn parse(
        provider: &str,
        model: &str,
        temperature: f64,
        max_tokens: u32,
        system_prompt: Result<SystemPrompt, String>,
        violations: &mut Violations,
    ) -> Option<Self> {
        let provider = violations.check("provider", Provider::parse(provider));
        let spec = provider.and_then(|p| violations.check("model", supported_model(p, model)));
        let temperature = violations.check("temperature", Temperature::parse(temperature));
        let max_tokens = match spec {
            Some(spec) if max_tokens == 0 || max_tokens > spec.max_output_tokens => {
                violations.add(
                    "max_tokens",
                    format!("must be 1-{} for {}", spec.max_output_tokens, spec.name),
                );
                None
            }
            Some(_) => Some(MaxTokens(max_tokens)),
            None => None,
        };
        let system_prompt = violations.check("system_prompt", system_prompt);
        Some(Self {
            provider: provider?,
            model: model.to_owned(),
            temperature: temperature?,
            max_tokens: max_tokens?,
            system_prompt: system_prompt?,
        })
    }

    /// Whether the configuration can still be deployed (its model may have retired since).
    ///
    /// # Errors
    /// Why it cannot.
    pub fn check_deployable(&self) -> Result<(), String> {
        let spec = supported_model(self.provider, &self.model)?;
        if self.max_tokens.get() > spec.max_output_tokens {
            return Err(format!("max_tokens exceeds {}'s limit", spec.name));
        }
        Ok(())
    }
}
