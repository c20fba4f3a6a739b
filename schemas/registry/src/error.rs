//! The registry's one error type and its mapping to Confluent's error bodies.
//!
//! Client mistakes (unknown subject, invalid schema, incompatible schema …) carry the
//! Confluent `error_code` clients switch on; infrastructure failures (database, I/O) are
//! logged with their cause chain and answered with a generic 500 body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::SrJson;

/// Everything that can go wrong in the registry library.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// 40401: the subject has no (visible) versions.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402: the subject exists but not this version.
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    /// 40403: no schema matches the one posted for a lookup.
    #[error("Schema not found")]
    SchemaNotFound,
    /// 40403: no schema has this id.
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i32),
    /// 40404: the subject was soft-deleted and the request did not ask for a permanent delete.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405: a permanent delete of a subject that was not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406: the version was soft-deleted and the request did not ask for a permanent delete.
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    /// 40407: a permanent delete of a version that was not soft-deleted first.
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    /// 40408: `GET /config/{subject}` for a subject without its own level.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    /// 409: the schema breaks the subject's compatibility level.
    #[error(
        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
        .messages.join(", ")
    )]
    Incompatible {
        /// The subject registered under.
        subject: String,
        /// Why, one line per failed check.
        messages: Vec<String>,
    },
    /// 42201: the schema does not parse, or its type or references are unsupported.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42202: a version path segment that is neither a positive integer, -1 nor `latest`.
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// 42203: an unknown compatibility level.
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel,
    /// 42204: an unsupported mode (only READWRITE is).
    #[error("Invalid mode. Only READWRITE is supported by this registry")]
    InvalidMode,
    /// 42206: deleting a version that other schemas reference.
    #[error("One or more references exist to the schema {{subject={0}, version={1}}}.")]
    ReferenceExists(String, i32),
    /// 400: a request body that is not the JSON the endpoint expects.
    #[error("Malformed request: {0}")]
    MalformedRequest(String),
    /// 404 (no `error_code` beyond the status): no such route or a non-numeric id.
    #[error("HTTP 404 Not Found")]
    RouteNotFound,
    /// 405: the route exists, the method does not.
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    /// 50001: the database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration error")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Binding or serving the HTTP listener failed.
    #[error("I/O error")]
    Io(#[from] std::io::Error),
}

impl RegistryError {
    /// The HTTP status and Confluent `error_code` of this error.
    pub fn codes(&self) -> (StatusCode, u32) {
        use RegistryError as E;
        match self {
            E::SubjectNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            E::VersionNotFound(_) => (StatusCode::NOT_FOUND, 40402),
            E::SchemaNotFound | E::SchemaIdNotFound(_) => (StatusCode::NOT_FOUND, 40403),
            E::SubjectSoftDeleted(_) => (StatusCode::NOT_FOUND, 40404),
            E::SubjectNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40405),
            E::VersionSoftDeleted(..) => (StatusCode::NOT_FOUND, 40406),
            E::VersionNotSoftDeleted(..) => (StatusCode::NOT_FOUND, 40407),
            E::SubjectConfigNotFound(_) => (StatusCode::NOT_FOUND, 40408),
            E::Incompatible { .. } => (StatusCode::CONFLICT, 409),
            E::InvalidSchema(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            E::InvalidVersion(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            E::InvalidCompatibilityLevel => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            E::InvalidMode => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
            E::ReferenceExists(..) => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            E::MalformedRequest(_) => (StatusCode::BAD_REQUEST, 400),
            E::RouteNotFound => (StatusCode::NOT_FOUND, 404),
            E::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 405),
            E::Database(_) | E::Migrate(_) | E::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
        }
    }
}

/// Confluent's error body.
#[derive(Serialize)]
struct ErrorBody {
    error_code: u32,
    message: String,
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, error_code) = self.codes();
        let message = if status.is_server_error() {
            // The cause chain goes to the log, never to the client.
            tracing::error!(error = ?self, "schema registry request failed");
            "Error in the backend data store".to_owned()
        } else {
            self.to_string()
        };
        (
            status,
            SrJson(ErrorBody {
                error_code,
                message,
            }),
        )
            .into_response()
    }
}
