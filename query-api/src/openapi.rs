//! The OpenAPI document at `/openapi.json`, generated from the handlers' annotations; the
//! parameters and headers every `/v1` query shares are added in one place.

use axum::Json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};
use utoipa::{Modify, OpenApi};

use crate::admin::{dead_letters, events, outbox, page, projections, sagas, timeseries};
use crate::routes::{agents, audit, billing, conversations, messages, tasks, usage};

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

const TOKEN_DOC: &str = "The consistency_token a command answered with: the query waits \
    (bounded) until this read model has applied it. Ignored (X-Consistency: not-applicable) \
    when the read model is not built from that aggregate.";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn token_parameter(name: &str, location: ParameterIn) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .required(Required::False)
        .description(Some(TOKEN_DOC))
        .schema(Some(string()))
        .build()
}

/// Consistency token parameters, consistency headers on answers, and the shared failures.
struct ConsistencyDocs;

impl ConsistencyDocs {
    fn document(operation: &mut Operation) {
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.push(token_parameter("X-Consistency-Token", ParameterIn::Header));
        parameters.push(token_parameter("consistency_token", ParameterIn::Query));
        // Answers after the snapshot carry the headers: the data or the 404.
        for (status, response) in operation.responses.responses.iter_mut() {
            if let (RefOr::T(response), "200" | "404") = (response, status.as_str()) {
                response.headers.insert(
                    "X-Consistency".to_owned(),
                    HeaderBuilder::new()
                        .schema(string().enum_values(Some(["fresh", "stale", "not-applicable"])))
                        .description(Some("Present when the request carried a consistency token"))
                        .build(),
                );
                response.headers.insert(
                    "X-Stale-By-Versions".to_owned(),
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("With X-Consistency: stale, how many versions behind"))
                        .build(),
                );
            }
        }
        let shared = [
            ("401", "missing or invalid bearer token"),
            ("403", "the token has no admin, operator or viewer role"),
            ("503", "the read model is not built yet (Retry-After)"),
        ];
        for (status, description) in shared {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    RefOr::T(ResponseBuilder::new().description(description).build())
                });
        }
    }
}

impl Modify for ConsistencyDocs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The admin console's endpoints read no read model: no consistency tokens.
            if path.starts_with("/v1/") && !path.starts_with("/v1/admin/") {
                if let Some(operation) = item.get.as_mut() {
                    Self::document(operation);
                }
            }
        }
    }
}

const ADMIN_DOC: &str = "The admin console (`GET /admin`) and the endpoints it calls. \
    Platform-wide, for operators: unlike every other endpoint these are not scoped to the \
    token's tenant: projections, lag, dead letters, parked outbox events and events of all tenants. They need the \
    admin role (401 without a token, 403 for viewer and operator). Sagas are read and operated \
    through the sagas service's operator API with the caller's token, which shows the token's \
    own tenant's sagas. The console's lag needs the broker (`KAFKA_BROKERS`): when it cannot be \
    reached, lag is `null` and `broker.reachable` false, with the reason.";

#[derive(OpenApi)]
#[openapi(
    info(title = "AgentHub query API", version = "1",
        description = "Queries over the read models. Lists answer `{items, next_cursor}`: pass `next_cursor` as `?cursor=` for the next page (`limit` 1–200, default 50). Send a command's consistency token as `X-Consistency-Token` to read your own write. Errors are application/problem+json (RFC 9457) naming the invalid field."),
    paths(
        agents::list, agents::get,
        tasks::list, tasks::get,
        conversations::list, conversations::get, messages::list,
        billing::list, billing::get, billing::totals,
        usage::list,
        audit::list,
        page::console,
        projections::list, projections::lag,
        dead_letters::list, dead_letters::retry,
        outbox::list, outbox::requeue,
        sagas::list, sagas::show, sagas::retry, sagas::cancel,
        events::list,
        timeseries::get,
    ),
    tags((name = "admin", description = ADMIN_DOC)),
    security(("bearer" = [])),
    modifiers(&BearerAuth, &ConsistencyDocs)
)]
struct QueryApiDoc;

pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(QueryApiDoc::openapi())
}
