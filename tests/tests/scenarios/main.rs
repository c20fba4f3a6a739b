//! Cross-service scenarios: one test binary, each test on its own database, registry and topics.

mod api_contract;
mod broker_outage;
mod crash;
mod foreign_client;
mod idempotency;
mod parking;
mod publishing;
mod relay_leadership;
mod support;
mod trace_export;
