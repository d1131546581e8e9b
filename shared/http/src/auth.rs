//! Bearer tokens: HS256 JWTs with `sub` and `exp`, optional `name` and `roles`.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::Response,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
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
        let mut actor = Actor::new(user_id).with_name(data.claims.name.as_deref());
        actor.roles = data.claims.roles;
        Ok(actor)
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
    /// schemes are case-insensitive) and a token `jwt` verifies.
    pub fn of(headers: &HeaderMap, jwt: &Jwt) -> Self {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Self::Anonymous;
        };
        match bearer_token(value) {
            Some(token) => match jwt.verify(token) {
                Ok(actor) => Self::User(actor),
                Err(why) => Self::Refused(why),
            },
            None => Self::Refused("the Authorization header must be `Bearer <token>`"),
        }
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
pub async fn authenticate(State(jwt): State<Arc<Jwt>>, mut req: Request, next: Next) -> Response {
    let authentication = Authentication::of(req.headers(), &jwt);
    req.extensions_mut().insert(authentication);
    next.run(req).await
}

/// The authenticated user of a write, as an extractor: a valid
/// `Authorization: Bearer` token, else 401.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Jwt>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authentication = match parts.extensions.get::<Authentication>() {
            Some(found) => found.clone(),
            None => Authentication::of(&parts.headers, &Arc::<Jwt>::from_ref(state)),
        };
        match authentication {
            Authentication::User(actor) => {
                tracing::Span::current().record("user", actor.user_id.as_str());
                Ok(Self(actor))
            }
            Authentication::Anonymous => Err(ApiError::Unauthorized(
                "an Authorization: Bearer token is required",
            )),
            Authentication::Refused(why) => Err(ApiError::Unauthorized(why)),
        }
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
    fn the_bearer_scheme_matches_in_any_case() {
        let token = |v: &'static str| bearer_token(&HeaderValue::from_static(v)).map(str::to_owned);
        assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("BEARER  abc ").as_deref(), Some("abc"));
        assert_eq!(token("Basic abc"), None);
        assert_eq!(token("Bearer "), None);
        assert_eq!(token("Bearerabc"), None);
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
