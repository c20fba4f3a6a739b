//! The admin console: `GET /admin` serves one HTML page for operators, which calls the JSON
//! endpoints under `/v1/admin/…` with a pasted bearer token.
//!
//! Platform-wide, unlike the rest of this API: projections, lag, dead letters and events of
//! every tenant, for tokens with the admin role (viewer or operator: 403). Sagas are the
//! exception: they come from the sagas service's operator API, called with the caller's own
//! token, which shows a token its own tenant's sagas.

mod auth;
mod broker;
pub(crate) mod dead_letters;
mod error;
pub(crate) mod events;
pub(crate) mod outbox;
pub(crate) mod page;
pub(crate) mod projections;
pub(crate) mod sagas;
pub(crate) mod timeseries;

use std::time::Duration;

use axum::routing::{get, post, MethodRouter};
use axum::Router;
use projectors::ProjectionName;

use crate::{AppState, Settings};

/// What the console reaches besides the database.
pub(crate) struct Admin {
    broker: broker::Broker,
    brokers: String,
    topic_prefix: String,
    registry_url: String,
    sagas_url: String,
    http: reqwest::Client,
    rates: timeseries::RateCache,
}

impl Admin {
    pub(crate) fn new(settings: &Settings) -> Self {
        let mut topics: Vec<String> = ProjectionName::ALL
            .into_iter()
            .flat_map(|p| projections::topic_names(p, &settings.topic_prefix))
            .collect();
        topics.sort();
        topics.dedup();
        Self {
            broker: broker::Broker::new(&settings.kafka_brokers, topics),
            brokers: settings.kafka_brokers.clone(),
            topic_prefix: settings.topic_prefix.clone(),
            registry_url: settings.schema_registry_url.clone(),
            sagas_url: settings.sagas_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .build()
                .unwrap_or_default(),
            rates: timeseries::RateCache::default(),
        }
    }

    /// A request to the sagas operator API.
    fn sagas(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sagas_url))
    }
}

fn only(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(error::method_not_allowed)
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", only(get(page::console)))
        .route("/v1/admin/projections", only(get(projections::list)))
        .route("/v1/admin/lag", only(get(projections::lag)))
        .route("/v1/admin/dead-letters", only(get(dead_letters::list)))
        .route(
            "/v1/admin/dead-letters/{id}/retry",
            only(post(dead_letters::retry)),
        )
        .route("/v1/admin/outbox/parked", only(get(outbox::list)))
        .route(
            "/v1/admin/outbox/parked/{id}/requeue",
            only(post(outbox::requeue)),
        )
        .route("/v1/admin/sagas", only(get(sagas::list)))
        .route("/v1/admin/sagas/{id}", only(get(sagas::show)))
        .route("/v1/admin/sagas/{id}/retry", only(post(sagas::retry)))
        .route("/v1/admin/sagas/{id}/cancel", only(post(sagas::cancel)))
        .route("/v1/admin/aggregates/{id}/events", only(get(events::list)))
        .route("/v1/admin/timeseries", only(get(timeseries::get)))
}
