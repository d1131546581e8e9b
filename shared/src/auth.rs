//! Bearer tokens: HS256 JWTs with `sub` and `exp`, optional `name` and `roles`.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header::AUTHORIZATION, request::Parts},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::{Actor, UserId};
use crate::http::ApiError;

/// The claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// Verifies (and, for local tooling and tests, mints) tokens with one secret.
pub struct Jwt {
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jwt([REDACTED])")
    }
}

impl Jwt {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 5;
        Self {
            decoding: DecodingKey::from_secret(bytes),
            encoding: EncodingKey::from_secret(bytes),
            validation,
        }
    }

    /// The actor a valid token speaks for.
    pub fn verify(&self, token: &str) -> Result<Actor, &'static str> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::InvalidSignature => "the token's signature is invalid",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (sub, exp)",
                ErrorKind::InvalidAlgorithm => "the token must be signed with HS256",
                _ => "the token is malformed",
            }
        })?;
        let user_id =
            UserId::parse(&data.claims.sub).map_err(|_| "the token's sub claim is invalid")?;
        Ok(Actor {
            user_id,
            roles: data.claims.roles,
        })
    }

    /// A token for `sub` valid for `ttl_secs` seconds.
    pub fn mint(&self, sub: &str, roles: &[&str], ttl_secs: u64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + ttl_secs,
            name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        // HS256 signing of plain claims cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }
}

/// The authenticated user of a write: a valid `Authorization: Bearer` token, else 401.
impl<S> FromRequestParts<S> for Actor
where
    Arc<Jwt>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let jwt = Arc::<Jwt>::from_ref(state);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "an Authorization: Bearer token is required",
            ))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <token>`",
            ))?;
        let actor = jwt.verify(token).map_err(ApiError::Unauthorized)?;
        tracing::Span::current().record("user", actor.user_id.as_str());
        Ok(actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str) -> Jwt {
        Jwt::new(&SecretString::from(secret.to_owned()))
    }

    #[test]
    fn a_minted_token_verifies_with_its_roles() {
        let keys = jwt("0123456789abcdef0123");
        let actor = keys
            .verify(&keys.mint("alice", &["moderator"], 60))
            .expect("valid");
        assert_eq!(actor.user_id.as_str(), "alice");
        assert!(actor.is_moderator());
    }

    #[test]
    fn bad_tokens_are_refused() {
        let keys = jwt("0123456789abcdef0123");
        let other = jwt("another-secret-of-some-length");
        assert_eq!(
            keys.verify(&other.mint("alice", &[], 60)),
            Err("the token's signature is invalid")
        );
        assert_eq!(keys.verify("not.a.token"), Err("the token is malformed"));
        let expired = {
            let claims = Claims {
                sub: "alice".into(),
                exp: 1_000,
                name: None,
                roles: vec![],
            };
            encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).expect("encodes")
        };
        assert_eq!(keys.verify(&expired), Err("the token has expired"));
        let no_sub = encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"exp": u64::MAX / 2}),
            &keys.encoding,
        )
        .expect("encodes");
        assert_eq!(
            keys.verify(&no_sub),
            Err("the token lacks a required claim (sub, exp)")
        );
    }
}
