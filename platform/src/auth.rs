//! Bearer JWT authentication: HS256 with a shared secret, or RS256 with a public key.
//! `alg=none` and any algorithm other than the configured one are refused.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The claims every token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Operator,
    Viewer,
}

impl Role {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Self::Admin),
            "operator" => Some(Self::Operator),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }
}

impl Claims {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .any(|r| r == role)
    }

    /// Admins and operators may send commands; viewers may only read.
    pub fn may_command(&self) -> bool {
        self.has_role(Role::Admin) || self.has_role(Role::Operator)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token expired")]
    Expired,
    #[error("bad token signature")]
    BadSignature,
    #[error("token algorithm not accepted")]
    Algorithm,
    #[error("invalid key configuration: {0}")]
    Key(String),
}

/// Verifies tokens with the configured key.
#[derive(Clone)]
pub struct Authenticator {
    decoding: DecodingKey,
    validation: Validation,
    /// Kept only for HS256, so development tools can mint tokens.
    secret: Option<SecretString>,
}

impl Authenticator {
    pub fn hs256(secret: SecretString) -> Self {
        let decoding = DecodingKey::from_secret(secret.expose_secret().as_bytes());
        Self {
            decoding,
            validation: validation(Algorithm::HS256),
            secret: Some(secret),
        }
    }

    /// # Errors
    /// When the PEM is not an RSA public key.
    pub fn rs256(public_key_pem: &[u8]) -> Result<Self, AuthError> {
        let decoding =
            DecodingKey::from_rsa_pem(public_key_pem).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(Self {
            decoding,
            validation: validation(Algorithm::RS256),
            secret: None,
        })
    }

    /// The configured verifier: the RS256 public key file when given, else the HS256 secret.
    ///
    /// # Errors
    /// When neither is configured or the key file is unreadable or not an RSA public key.
    pub fn configure(
        secret: Option<SecretString>,
        public_key_file: Option<&std::path::Path>,
    ) -> Result<Self, AuthError> {
        if let Some(path) = public_key_file {
            let pem = std::fs::read(path)
                .map_err(|e| AuthError::Key(format!("reading {}: {e}", path.display())))?;
            return Self::rs256(&pem);
        }
        secret.map(Self::hs256).ok_or_else(|| {
            AuthError::Key("set JWT_SECRET (HS256) or JWT_PUBLIC_KEY_FILE (RS256)".into())
        })
    }

    /// Verifies an `Authorization` header value.
    ///
    /// # Errors
    /// Why the caller is not authenticated.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Claims, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AuthError::Malformed)?;
        self.verify(token.trim())
    }

    /// # Errors
    /// Why the token is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    AuthError::Algorithm
                }
                _ => AuthError::Malformed,
            })
    }

    /// Mints an HS256 token (development and tests); `None` with an RS256 configuration.
    pub fn mint(
        &self,
        sub: &str,
        tenant: &str,
        roles: &[&str],
        ttl_seconds: u64,
    ) -> Option<String> {
        let secret = self.secret.as_ref()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = Claims {
            sub: sub.to_owned(),
            tenant: tenant.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            exp: now + ttl_seconds,
        };
        let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
        encode(&Header::new(Algorithm::HS256), &claims, &key).ok()
    }
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        Authenticator::hs256(SecretString::from("a-test-secret-of-decent-length"))
    }

    #[test]
    fn accepts_a_valid_token_and_reads_roles() {
        let token = auth().mint("u1", "acme", &["viewer"], 60).unwrap();
        let claims = auth()
            .verify_header(Some(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(claims.tenant, "acme");
        assert!(!claims.may_command());
    }

    #[test]
    fn refuses_missing_malformed_expired_forged_and_unsigned_tokens() {
        assert_eq!(auth().verify_header(None), Err(AuthError::Missing));
        assert_eq!(
            auth().verify_header(Some("Basic abc")),
            Err(AuthError::Malformed)
        );
        assert_eq!(auth().verify("not.a.jwt"), Err(AuthError::Malformed));

        let expired = Claims {
            sub: "u".into(),
            tenant: "t".into(),
            roles: vec![],
            exp: 1,
        };
        let key = EncodingKey::from_secret(b"a-test-secret-of-decent-length");
        let token = encode(&Header::new(Algorithm::HS256), &expired, &key).unwrap();
        assert_eq!(auth().verify(&token), Err(AuthError::Expired));

        let other = Authenticator::hs256(SecretString::from("another-secret-entirely-here"));
        let forged = other.mint("u", "t", &["admin"], 60).unwrap();
        assert_eq!(auth().verify(&forged), Err(AuthError::BadSignature));

        // alg=none: header {"alg":"none","typ":"JWT"}, no signature.
        let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1IiwidGVuYW50IjoidCIsInJvbGVzIjpbImFkbWluIl0sImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(matches!(
            auth().verify(unsigned),
            Err(AuthError::Algorithm | AuthError::Malformed)
        ));
    }
}
