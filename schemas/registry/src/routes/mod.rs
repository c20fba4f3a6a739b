//! The HTTP surface: Confluent's REST paths mapped to handlers, one module per resource.

mod compatibility;
mod config;
mod misc;
mod schemas;
mod subjects;

use std::collections::HashMap;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http;
use crate::model::{SchemaReference, VersionRow};
use crate::registry::Registry;

/// Largest accepted request body (schemas are JSON text, rarely above a few hundred KiB).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Requests taking longer than this are answered 503 (a registration waits for the write lock).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The registry's routes over `registry`, with tracing, a body limit and a request timeout.
pub fn router(registry: Registry) -> Router {
    Router::new()
        .route("/", get(misc::root))
        .route("/health", get(misc::health))
        .route("/contexts", get(misc::contexts))
        .route("/mode", get(misc::get_mode).put(misc::put_mode))
        .route(
            "/mode/{subject}",
            get(misc::get_subject_mode).put(misc::put_subject_mode),
        )
        .route("/subjects", get(subjects::list))
        .route(
            "/subjects/{subject}",
            post(subjects::lookup).delete(subjects::delete),
        )
        .route(
            "/subjects/{subject}/versions",
            get(subjects::versions).post(subjects::register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(subjects::version).delete(subjects::delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(subjects::version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(subjects::referenced_by),
        )
        .route("/schemas/types", get(schemas::types))
        .route("/schemas/ids/{id}", get(schemas::by_id))
        .route("/schemas/ids/{id}/schema", get(schemas::raw))
        .route("/schemas/ids/{id}/subjects", get(schemas::subjects))
        .route("/schemas/ids/{id}/versions", get(schemas::versions))
        .route(
            "/config",
            get(config::get_global)
                .put(config::put_global)
                .delete(config::delete_global),
        )
        .route(
            "/config/{subject}",
            get(config::get_subject)
                .put(config::put_subject)
                .delete(config::delete_subject),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility::against_subject),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility::against_version),
        )
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(registry)
}

/// Query parameters, kept as text: flags are parsed like Java's `Boolean.parseBoolean`
/// (clients send `true`, `True` or `1`-less variants) and unknown ones are ignored.
type Params = HashMap<String, String>;

/// Whether the query flag `name` is `true` (any case).
fn flag(params: &Params, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// A subject version as Confluent returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionBody {
    subject: String,
    version: i32,
    id: i32,
    #[serde(skip_serializing_if = "is_avro")]
    schema_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<SchemaReference>,
    schema: String,
}

impl From<VersionRow> for VersionBody {
    fn from(row: VersionRow) -> Self {
        Self {
            subject: row.subject,
            version: row.version,
            id: row.schema.id,
            schema_type: row.schema.schema_type,
            references: row.schema.refs,
            schema: row.schema.text,
        }
    }
}

/// Confluent leaves `schemaType` out for Avro, its default.
fn is_avro(schema_type: &String) -> bool {
    schema_type == crate::avro::AVRO
}
