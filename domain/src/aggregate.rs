//! The shape every aggregate has: a pure decider over its own state.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{DomainError, TenantId};

/// A domain event: a fact, named in the past tense, owned by one aggregate.
pub trait Event: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync {
    /// The event's name as it appears in headers and Avro record names.
    fn event_type(&self) -> &'static str;

    /// The version of the event's shape; bumped when a field changes meaning.
    fn event_version(&self) -> &'static str {
        "1"
    }
}

/// An event-sourced aggregate. `decide` never mutates; `apply` never fails.
pub trait Aggregate:
    Default + Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// Stable aggregate type name, stored with every event.
    const TYPE: &'static str;
    type Command: Send;
    type Event: Event;

    /// The tenant owning this instance, `None` before its first event.
    fn tenant(&self) -> Option<&TenantId>;

    /// Decides which events a command produces, or why it is rejected.
    ///
    /// # Errors
    /// A [`DomainError`] naming the rule the command breaks.
    fn decide(
        &self,
        tenant: &TenantId,
        command: Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Folds one event into the state.
    fn apply(&mut self, event: Self::Event);

    /// Decides on behalf of `tenant`: another tenant's instance does not exist for it.
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for another tenant's instance, else what `decide` says.
    fn execute(
        &self,
        tenant: &TenantId,
        command: Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        match self.tenant() {
            Some(owner) if owner != tenant => Err(DomainError::NotFound),
            _ => self.decide(tenant, command),
        }
    }
}
