//! The write API: one router per resource, merged in [`router`].

pub mod openapi;
mod projects;
mod threads;

use std::future::Future;

use axum::{
    Json, Router,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use flow_domain::Actor;
use flow_http::ApiError;
use serde::Serialize;

use crate::{
    AppState,
    idempotency::{Idempotency, Keyed, Outcome},
    store::StoreError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(projects::router())
        .merge(threads::router())
        .route("/openapi.json", axum::routing::get(openapi::serve))
}

/// A write's answer: JSON with the consistency token, and the same token in
/// the `Consistency-Token` header.
pub struct Written {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

pub const CONSISTENCY_TOKEN: &str = "consistency-token";

/// The opaque token of a write stored at stream sequence `seq`.
pub fn consistency_token(seq: u64) -> String {
    format!("s{seq}")
}

impl Written {
    pub fn new<T: Serialize>(status: StatusCode, body: T, seq: u64) -> Result<Self, ApiError> {
        let mut body = serde_json::to_value(body).map_err(anyhow::Error::from)?;
        if let serde_json::Value::Object(map) = &mut body {
            map.insert("consistency_token".into(), consistency_token(seq).into());
        }
        Ok(Self { status, body })
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(token) = self.body.get("consistency_token").and_then(|t| t.as_str()) {
            headers.push((CONSISTENCY_TOKEN, token.to_owned()));
        }
        headers
    }
}

impl IntoResponse for Written {
    fn into_response(self) -> Response {
        let headers = self.headers();
        let mut response = (self.status, Json(self.body)).into_response();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Runs a POST once per `Idempotency-Key`: a repeat gets the first answer.
/// `write` gets the key's [`Keyed`] ids when the request has a key.
pub async fn idempotent<F, Fut>(
    idempotency: &Idempotency,
    actor: &Actor,
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<Keyed>) -> Fut,
    Fut: Future<Output = Result<Written, ApiError>>,
{
    let Some(key) = Idempotency::key_of(headers)? else {
        return write(None).await.map(IntoResponse::into_response);
    };
    match idempotency.begin(actor, route, &key, body).await? {
        Outcome::Replay(response) => Ok(response),
        // On failure the claim is dropped, which releases the key.
        Outcome::Proceed(claim, keyed) => {
            let written = write(Some(keyed)).await?;
            idempotency
                .finish(claim, written.status, &written.body, &written.headers())
                .await;
            Ok(written.into_response())
        }
    }
}

/// How often a write decided on stale state is decided again.
pub const MAX_ATTEMPTS: usize = 8;

/// Loads, decides and appends until the append does not clash, at most
/// [`MAX_ATTEMPTS`] times; then 409.
pub async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    for round in 0..MAX_ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Store(StoreError::Clash)) => {
                tracing::debug!(round, "write clashed; deciding again");
                // Spread concurrent writers apart before they decide again.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % (4 << round.min(4));
                tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
            }
            Err(Attempt::Store(other)) => return Err(other.into()),
            Err(Attempt::Api(err)) => return Err(err),
        }
    }
    Err(StoreError::Clash.into())
}

/// Why one attempt of a write failed.
pub enum Attempt {
    Store(StoreError),
    Api(ApiError),
}

impl From<StoreError> for Attempt {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<ApiError> for Attempt {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<flow_domain::DomainError> for Attempt {
    fn from(err: flow_domain::DomainError) -> Self {
        Self::Api(err.into())
    }
}

/// Parses an id from the path; a malformed id is an unknown one.
pub fn path_id<T>(
    raw: &str,
    what: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError::not_found(what))
}
