//! The caller of an admin endpoint: a valid bearer token with the admin role.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use platform::{Claims, Role};

use super::error::AdminError;
use crate::{ApiError, AppState};

pub(crate) struct AdminCaller {
    pub claims: Claims,
    /// The header as sent, passed on to the sagas operator API (which checks it again).
    pub authorization: HeaderValue,
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let header = parts.headers.get(AUTHORIZATION).cloned();
        let text = header.as_ref().map(|v| v.to_str().unwrap_or(""));
        let claims = state
            .auth
            .verify_header(text)
            .map_err(ApiError::Unauthenticated)?;
        if !claims.has_role(Role::Admin) {
            return Err(AdminError::Forbidden);
        }
        Ok(Self {
            claims,
            authorization: header.unwrap_or_else(|| HeaderValue::from_static("")),
        })
    }
}
