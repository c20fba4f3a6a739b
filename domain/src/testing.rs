//! Given/when/then for aggregates: given past events, when a command, then events or a rejection.

use crate::{Aggregate, DomainError, TenantId};

pub fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

pub fn other_tenant() -> TenantId {
    TenantId::parse("globex").unwrap()
}

pub struct Given<A: Aggregate> {
    state: A,
    tenant: TenantId,
}

pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let mut state = A::default();
    for event in events {
        state.apply(event);
    }
    Given {
        state,
        tenant: tenant(),
    }
}

impl<A: Aggregate> Given<A> {
    pub fn by_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = tenant;
        self
    }

    pub fn when(self, command: A::Command) -> Then<A> {
        Then {
            result: self.state.execute(&self.tenant, command),
        }
    }
}

pub struct Then<A: Aggregate> {
    result: Result<Vec<A::Event>, DomainError>,
}

impl<A: Aggregate> Then<A> {
    #[track_caller]
    pub fn then_expect_events(self, expected: Vec<A::Event>) {
        assert_eq!(self.result, Ok(expected));
    }

    #[track_caller]
    pub fn then_expect_error(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }

    /// For rejections with several violations: asserts the fields named.
    #[track_caller]
    pub fn then_expect_invalid_fields(self, fields: &[&str]) {
        match self.result {
            Err(DomainError::Invalid(violations)) => {
                let named: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
                assert_eq!(named, fields, "violations: {violations:?}");
            }
            other => panic!("expected invalid fields {fields:?}, got {other:?}"),
        }
    }
}
