//! The OpenAPI document at `/openapi.json`, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{agents, conversations, invoices, subscriptions, tasks};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgentHub command API", version = "1",
        description = "Commands answer with id, version and a consistency token. Send `Idempotency-Key` to make retries safe and `If-Match: <version>` for optimistic concurrency. Errors are application/problem+json (RFC 9457); a 503 of type /problems/busy (no database connection in time, with Retry-After) changed nothing and may be retried."),
    paths(
        agents::create, agents::update, agents::deploy, agents::pause, agents::retire,
        agents::request_deployment, agents::complete_deployment, agents::fail_deployment,
        subscriptions::activate, subscriptions::reserve, subscriptions::release, subscriptions::close_period,
        tasks::create, tasks::assign, tasks::start, tasks::complete, tasks::fail, tasks::cancel,
        conversations::start, conversations::receive, conversations::reply, conversations::close,
        invoices::issue, invoices::pay, invoices::void, invoices::overdue,
    ),
    security(("bearer" = [])),
    modifiers(&BearerAuth)
)]
struct CommandApiDoc;

pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(CommandApiDoc::openapi())
}
