//! Who reads: the same bearer tokens as command-api, optional on most reads.
//!
//! Without an `Authorization` header a read is anonymous. A header that is
//! present but does not authenticate (malformed, badly signed, expired) is
//! 401 on every read, never silently anonymous. The identity decides what a
//! reader sees of a thread ([`crate::views::ThreadView`]) and is required by
//! the `/me/...` and `/moderation/...` reads.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use flow_domain::Actor;
use flow_http::{
    ApiError,
    auth::{Authentication, Verifier},
};

/// The reader of a request: `None` when anonymous; a bad token is 401.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<Actor>);

impl Viewer {
    pub fn actor(&self) -> Option<&Actor> {
        self.0.as_ref()
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Authentication::of_request(parts, state).await {
            Authentication::Anonymous => Ok(Self(None)),
            Authentication::User(actor) => Ok(Self(Some(actor))),
            Authentication::Refused(why) => Err(ApiError::Unauthorized(why)),
        }
    }
}

/// A reader with the `moderator` role: 401 without a valid token, 403
/// without the role.
#[derive(Debug, Clone)]
pub struct Moderator(pub Actor);

impl<S> FromRequestParts<S> for Moderator
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let flow_http::auth::Authenticated(actor) =
            flow_http::auth::Authenticated::from_request_parts(parts, state).await?;
        if actor.is_moderator() {
            Ok(Self(actor))
        } else {
            Err(ApiError::Forbidden(
                "the moderation queues are for users with the moderator role".into(),
            ))
        }
    }
}
