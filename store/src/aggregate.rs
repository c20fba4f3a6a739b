//! Adapters from the pure domain to cqrs-es, so the domain crate needs no async runtime.

use cqrs_es::event_sink::EventSink;
use cqrs_es::DomainEvent;
use domain::{Aggregate, DomainError, Event, TenantId};
use serde::{Deserialize, Serialize};

/// A domain event as cqrs-es stores it (same JSON as the domain event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Stored<E>(pub E);

impl<E: Event> DomainEvent for Stored<E> {
    fn event_type(&self) -> String {
        self.0.event_type().to_owned()
    }

    fn event_version(&self) -> String {
        self.0.event_version().to_owned()
    }
}

/// A domain aggregate as cqrs-es sees it: `handle` is a thin wrapper over `decide`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Es<A>(pub A);

impl<A: Aggregate> cqrs_es::Aggregate for Es<A>
where
    A::Command: Send,
{
    const TYPE: &'static str = A::TYPE;
    type Command = (TenantId, A::Command);
    type Event = Stored<A::Event>;
    type Error = DomainError;
    type Services = ();

    async fn handle(
        &mut self,
        (tenant, command): Self::Command,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        for event in self.0.execute(&tenant, command)? {
            sink.write(Stored(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.0.apply(event.0);
    }
}
