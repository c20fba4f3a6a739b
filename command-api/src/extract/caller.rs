//! The authenticated caller, allowed to send commands.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::TenantId;
use platform::{AuthError, Claims};

use crate::{ApiError, AppState};

/// A caller with a valid token whose role may send commands.
pub(crate) struct Commander {
    pub claims: Claims,
    pub tenant: TenantId,
}

impl FromRequestParts<AppState> for Commander {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        let claims = state.auth.verify_header(header)?;
        // A token naming an impossible tenant is as unusable as a malformed one.
        let tenant = TenantId::parse(&claims.tenant).map_err(|_| AuthError::Malformed)?;
        if !claims.may_command() {
            return Err(ApiError::Forbidden);
        }
        Ok(Self { claims, tenant })
    }
}
