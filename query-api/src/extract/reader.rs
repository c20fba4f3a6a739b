//! The authenticated caller, allowed to read its tenant's data.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::TenantId;
use platform::{AuthError, Role};

use crate::{ApiError, AppState};

/// A caller with a valid token and a role that may read (admin, operator or viewer).
pub(crate) struct Reader {
    pub tenant: TenantId,
}

impl Reader {
    pub(crate) fn tenant(&self) -> &str {
        self.tenant.as_str()
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        let claims = state.auth.verify_header(header)?;
        // A token naming an impossible tenant is as unusable as a malformed one.
        let tenant = TenantId::parse(&claims.tenant).map_err(|_| AuthError::Malformed)?;
        let may_read = [Role::Admin, Role::Operator, Role::Viewer]
            .into_iter()
            .any(|role| claims.has_role(role));
        if !may_read {
            return Err(ApiError::Forbidden);
        }
        Ok(Self { tenant })
    }
}
