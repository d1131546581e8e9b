//! `Idempotency-Key` for POST requests: the first response to a key from a
//! user is kept for 24 hours in a JetStream key-value bucket, and a repeat of
//! the request gets it again without appending anything.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use shared::{domain::Actor, events::digest_key, http::ApiError};

pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// A claim older than this is taken to belong to a request that died.
const ABANDONED_AFTER: Duration = Duration::from_secs(30);
const MAX_KEY_CHARS: usize = 255;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum Record {
    Pending {
        fingerprint: String,
        since_ms: i128,
    },
    Done {
        fingerprint: String,
        status: u16,
        body: serde_json::Value,
        headers: Vec<(String, String)>,
    },
}

#[derive(Clone)]
pub struct Idempotency {
    kv: kv::Store,
}

/// A claimed key: finish it with the response, or release it on failure.
pub struct Claim {
    key: String,
    fingerprint: String,
    revision: u64,
}

/// What to do with a request that carries a key.
pub enum Outcome {
    /// First time: process it, then [`Idempotency::finish`].
    Proceed(Claim),
    /// Seen before: answer this.
    Replay(Response),
}

fn now_ms() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
}

impl Idempotency {
    pub async fn open(
        js: &jetstream::Context,
        stream: &str,
        replicas: usize,
    ) -> anyhow::Result<Self> {
        let kv = js
            .create_or_update_key_value(kv::Config {
                bucket: format!("{stream}_IDEMPOTENCY"),
                description: "Idempotency-Key responses, kept for 24 hours".into(),
                history: 1,
                max_age: RETENTION,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await?;
        Ok(Self { kv })
    }

    /// Reads the key of a request, if any; refuses unusable keys.
    pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(None);
        };
        let key = value.to_str().map(str::trim).unwrap_or_default();
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            )));
        }
        Ok(Some(key.to_owned()))
    }

    /// Claims `key` for this user and request, or finds its earlier response.
    pub async fn begin(
        &self,
        actor: &Actor,
        route: &str,
        key: &str,
        body: &[u8],
    ) -> Result<Outcome, ApiError> {
        let store_key = digest_key(&format!("{}\n{key}", actor.user_id));
        let fingerprint = digest_key(&format!("{route}\n{}", String::from_utf8_lossy(body)));
        let pending = Record::Pending {
            fingerprint: fingerprint.clone(),
            since_ms: now_ms(),
        };
        let encoded = Bytes::from(serde_json::to_vec(&pending).map_err(anyhow::Error::from)?);
        for _ in 0..3 {
            match self.kv.create(&store_key, encoded.clone()).await {
                Ok(revision) => {
                    return Ok(Outcome::Proceed(Claim {
                        key: store_key,
                        fingerprint,
                        revision,
                    }));
                }
                Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => {}
                Err(err) => return Err(ApiError::Unavailable(err.to_string())),
            }
            let entry = self
                .kv
                .entry(&store_key)
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let Some(entry) = entry else { continue };
            let record: Record =
                serde_json::from_slice(&entry.value).map_err(anyhow::Error::from)?;
            match record {
                Record::Done {
                    fingerprint: seen, ..
                }
                | Record::Pending {
                    fingerprint: seen, ..
                } if seen != fingerprint => {
                    return Err(ApiError::Validation(vec![shared::domain::FieldError::new(
                        "Idempotency-Key",
                        "this key was used for a different request",
                    )]));
                }
                Record::Done {
                    status,
                    body,
                    headers,
                    ..
                } => {
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                    let mut response = (status, axum::Json(body)).into_response();
                    for (name, value) in headers {
                        if let (Ok(name), Ok(value)) = (
                            axum::http::HeaderName::try_from(name),
                            HeaderValue::try_from(value),
                        ) {
                            response.headers_mut().insert(name, value);
                        }
                    }
                    response
                        .headers_mut()
                        .insert("idempotent-replayed", HeaderValue::from_static("true"));
                    return Ok(Outcome::Replay(response));
                }
                Record::Pending { since_ms, .. } => {
                    let age = now_ms() - since_ms;
                    if age < ABANDONED_AFTER.as_millis() as i128 {
                        return Err(ApiError::Conflict(
                            "a request with this Idempotency-Key is still in progress".into(),
                        ));
                    }
                    // The request that claimed it died: take the claim over.
                    if let Ok(revision) = self
                        .kv
                        .update(&store_key, encoded.clone(), entry.revision)
                        .await
                    {
                        return Ok(Outcome::Proceed(Claim {
                            key: store_key,
                            fingerprint,
                            revision,
                        }));
                    }
                }
            }
        }
        Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress".into(),
        ))
    }

    /// Records the response of a claimed request (successes only; a failed
    /// request releases its key so that it can be retried).
    pub async fn finish(
        &self,
        claim: Claim,
        status: StatusCode,
        body: &serde_json::Value,
        headers: &[(&str, String)],
    ) {
        let result = if status.is_success() {
            let record = Record::Done {
                fingerprint: claim.fingerprint,
                status: status.as_u16(),
                body: body.clone(),
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect(),
            };
            match serde_json::to_vec(&record) {
                Ok(bytes) => self
                    .kv
                    .update(&claim.key, bytes.into(), claim.revision)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            self.release(&claim).await
        };
        if let Err(err) = result {
            tracing::warn!(%err, "cannot record the idempotent response");
        }
    }

    pub async fn release(&self, claim: &Claim) -> Result<(), String> {
        self.kv
            .delete_expect_revision(&claim.key, Some(claim.revision))
            .await
            .map_err(|e| e.to_string())
    }
}
