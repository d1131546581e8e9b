//! Bearer tokens: JWTs with `sub` and `exp`, optional `name` and `roles`.
//!
//! Two kinds, told apart by the `alg` of the token's header: HS256 with a
//! shared secret (local runs, tests, tools), and RS256 or ES256 from an
//! OpenID Connect provider ([`oidc`]). Every other algorithm, `none`
//! included, is refused, and a key of the provider is never used as an HMAC
//! secret.

mod fetch;
pub mod oidc;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::Response,
};
use flow_runtime::config::AuthConfig;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::ApiError;
use flow_domain::{Actor, UserId};

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
        actor_of(self.claims(token)?)
    }

    fn claims(&self, token: &str) -> Result<Claims, &'static str> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                    "the token lacks a required claim (sub, exp)"
                }
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                    "the token must be signed with HS256"
                }
                _ => describe(&e),
            })
    }

    /// A token for `sub` valid for `ttl_secs` seconds.
    pub fn mint(&self, sub: &str, roles: &[&str], ttl_secs: u64) -> String {
        self.mint_named(sub, None, roles, ttl_secs)
    }

    /// A token for `sub` with a display name (the `name` claim).
    pub fn mint_named(
        &self,
        sub: &str,
        name: Option<&str>,
        roles: &[&str],
        ttl_secs: u64,
    ) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + ttl_secs,
            name: name.map(str::to_owned),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        // HS256 signing of plain claims cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }
}

/// Why a token was refused, for the 401 body.
fn describe(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidSignature => "the token's signature is invalid",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::MissingRequiredClaim(_) => {
            "the token lacks a required claim (sub, exp, iss, aud)"
        }
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
        _ => "the token is malformed",
    }
}

/// The actor of verified claims.
fn actor_of(claims: Claims) -> Result<Actor, &'static str> {
    let user_id = UserId::parse(&claims.sub).map_err(|_| "the token's sub claim is invalid")?;
    let mut actor = Actor::new(user_id).with_name(claims.name.as_deref());
    actor.roles = claims.roles;
    Ok(actor)
}

/// Verifies the bearer tokens of both APIs: HS256 with the shared secret,
/// RS256 and ES256 with the keys of the OpenID Connect provider, each only
/// when configured.
#[derive(Debug)]
pub struct Verifier {
    hs256: Option<Jwt>,
    oidc: Option<oidc::Oidc>,
}

impl Verifier {
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            hs256: config.hs256.as_ref().map(Jwt::new),
            oidc: config.oidc.clone().map(oidc::Oidc::new),
        }
    }

    /// HS256 tokens signed with `secret` only.
    pub fn hs256(secret: &SecretString) -> Self {
        Self {
            hs256: Some(Jwt::new(secret)),
            oidc: None,
        }
    }

    /// The actor a valid token speaks for. The header's `alg` chooses the
    /// key: HS256 the secret, RS256 and ES256 the provider's key named by `kid`.
    pub async fn verify(&self, token: &str) -> Result<Actor, &'static str> {
        const NOT_ACCEPTED: &str = "the token's algorithm is not accepted";
        // An unknown algorithm (`none` among them) fails to parse here.
        let header = decode_header(token).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::Json(_) => {
                "the token's header is malformed or names an algorithm that is not accepted"
            }
            _ => "the token is malformed",
        })?;
        let claims = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref().ok_or(NOT_ACCEPTED)?.claims(token)?,
            Algorithm::RS256 | Algorithm::ES256 => {
                let oidc = self.oidc.as_ref().ok_or(NOT_ACCEPTED)?;
                oidc.verify(token, header.alg, header.kid.as_deref())
                    .await?
            }
            _ => return Err(NOT_ACCEPTED),
        };
        actor_of(claims)
    }
}

/// The outcome of reading a request's `Authorization` header, found once per
/// request (by [`authenticate`]) and used by the rate limiter and the
/// [`Actor`] extractor alike.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// No `Authorization` header.
    Anonymous,
    /// A valid token.
    User(Actor),
    /// A header that does not authenticate: why.
    Refused(&'static str),
}

impl Authentication {
    /// Reads the `Authorization` header: the `Bearer` scheme (in any case, as
    /// schemes are case-insensitive) and a token `verifier` verifies.
    pub async fn of(headers: &HeaderMap, verifier: &Verifier) -> Self {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Self::Anonymous;
        };
        match bearer_token(value) {
            Some(token) => match verifier.verify(token).await {
                Ok(actor) => Self::User(actor),
                Err(why) => Self::Refused(why),
            },
            None => Self::Refused("the Authorization header must be `Bearer <token>`"),
        }
    }

    /// The request's authentication: as [`authenticate`] found it, or read
    /// now where that layer did not run. A user is recorded on the request's
    /// span.
    pub async fn of_request<S>(parts: &Parts, state: &S) -> Self
    where
        Arc<Verifier>: FromRef<S>,
    {
        let authentication = match parts.extensions.get::<Authentication>() {
            Some(found) => found.clone(),
            None => Self::of(&parts.headers, &Arc::<Verifier>::from_ref(state)).await,
        };
        if let Self::User(actor) = &authentication {
            tracing::Span::current().record("user", actor.user_id.as_str());
        }
        authentication
    }

    /// The user, if the request carries a valid token.
    pub fn user(&self) -> Option<&Actor> {
        match self {
            Self::User(actor) => Some(actor),
            _ => None,
        }
    }
}

/// The token of a `Bearer` credential; the scheme matches in any case.
pub fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?.trim_start();
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Reads the request's credentials once, for every layer and handler after it.
pub async fn authenticate(
    State(verifier): State<Arc<Verifier>>,
    mut req: Request,
    next: Next,
) -> Response {
    let authentication = Authentication::of(req.headers(), &verifier).await;
    req.extensions_mut().insert(authentication);
    next.run(req).await
}

/// The authenticated user of a write, as an extractor: a valid
/// `Authorization: Bearer` token, else 401.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Authentication::of_request(parts, state).await {
            Authentication::User(actor) => Ok(Self(actor)),
            Authentication::Anonymous => Err(ApiError::Unauthorized(
                "an Authorization: Bearer token is required",
            )),
            Authentication::Refused(why) => Err(ApiError::Unauthorized(why)),
        }
    }
}
