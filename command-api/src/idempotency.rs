//! `Idempotency-Key` for POST requests.
//!
//! The first response to a key from a user is kept for 24 hours in a
//! JetStream key-value bucket, and a repeat of the request gets it again
//! without appending anything. Three rules make a keyed write happen at most
//! once, whatever fails in between:
//!
//! - A key is claimed (`Pending`) before the write and holds its response
//!   (`Done`) after it. A concurrent duplicate finds the claim and is answered
//!   409 with `Retry-After`; a later one gets the recorded response.
//! - A request that fails, times out or is cut off releases its claim, so the
//!   key can be retried. A claim whose holder is gone (cut off before it
//!   knew it held the claim, or the process crashed) is taken over once it is
//!   older than the longest a request may run plus [`CLOCK_MARGIN`].
//! - Everything a keyed write creates is derived from the user and the key
//!   ([`Keyed`]): the ids of new projects and threads and each event's
//!   `Nats-Msg-Id`. A retry of a write that was appended but never recorded
//!   (the process died, the record could not be written) therefore appends
//!   nothing: JetStream drops the duplicate message within its duplicate
//!   window (longer than any takeover time), and past it the new subject
//!   already holds the event with the same id, which the store recognises as
//!   this write (see `EventStore::append_keyed`). Either way the retry answers
//!   the first write's ids and consistency token.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_nats::jetstream::{self, kv};
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use flow_domain::events::digest_key;
use flow_domain::{Actor, FieldError, ProjectId, ThreadId};
use flow_http::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// Added to the request timeout before a claim counts as abandoned: covers
/// the clocks of several instances disagreeing a little.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(2);
/// The longest request timeout command-api accepts: a claim must be taken
/// over well within the stream's duplicate window.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest key: visible ASCII only.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a released claim is retried while NATS does not answer.
const RELEASE_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum Record {
    Pending {
        fingerprint: String,
        /// Milliseconds since the Unix epoch (a `u64`: an internally tagged
        /// enum cannot read 128-bit integers back).
        since_ms: u64,
    },
    Done {
        fingerprint: String,
        status: u16,
        body: serde_json::Value,
        headers: Vec<(String, String)>,
    },
}

/// The ids a keyed write uses instead of fresh ones: the same on every retry
/// of the same key by the same user, distinct for every other.
#[derive(Debug, Clone)]
pub struct Keyed {
    seed: String,
}

impl Keyed {
    fn new(actor: &Actor, key: &str) -> Self {
        Self {
            seed: format!("{}\n{key}", actor.user_id),
        }
    }

    /// A version 8 UUID from the seed, a label and a number.
    fn uuid(&self, label: &str, n: usize) -> Uuid {
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{}\n{label}\n{n}", self.seed).as_bytes(),
        );
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest.as_ref()[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    pub fn project_id(&self) -> ProjectId {
        ProjectId(self.uuid("project", 0))
    }

    /// The id of the `n`th thread the write starts.
    pub fn thread_id(&self, n: usize) -> ThreadId {
        ThreadId(self.uuid("thread", n))
    }

    /// The id (and `Nats-Msg-Id`) of the write's `n`th event.
    pub fn event_id(&self, n: usize) -> Uuid {
        self.uuid("event", n)
    }
}

/// Where keys are kept.
pub struct Idempotency {
    kv: kv::Store,
    /// The request timeout plus [`CLOCK_MARGIN`]: no request owns a claim
    /// older than that.
    abandoned_after: Duration,
    /// Test hook: refuse to record responses, as a failing store would.
    fail_records: Arc<AtomicBool>,
}

/// A claimed key. Finish it with the response; dropped unfinished (the
/// request failed, timed out or was cut off), it is released in the
/// background so that the key can be retried.
pub struct Claim {
    kv: kv::Store,
    key: String,
    fingerprint: String,
    revision: u64,
    done: bool,
}

/// What to do with a request that carries a key.
pub enum Outcome {
    /// First time (or the earlier attempt failed): process it, then
    /// [`Idempotency::finish`].
    Proceed(Box<Claim>, Keyed),
    /// Seen before: answer this.
    Replay(Response),
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

fn in_progress() -> ApiError {
    ApiError::InProgress("a request with this Idempotency-Key is still in progress".into())
}

impl Idempotency {
    pub async fn open(
        js: &jetstream::Context,
        stream: &str,
        replicas: usize,
        request_timeout: Duration,
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
        Ok(Self {
            kv,
            abandoned_after: request_timeout + CLOCK_MARGIN,
            fail_records: Arc::default(),
        })
    }

    /// The switch that makes recording responses fail (for tests).
    pub fn record_failure_switch(&self) -> Arc<AtomicBool> {
        self.fail_records.clone()
    }

    /// Reads the key of a request, if any; refuses unusable keys.
    pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(None);
        };
        let key = value.to_str().unwrap_or_default();
        let valid = !key.is_empty()
            && key.len() <= MAX_KEY_CHARS
            && key.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
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
        let claim = |revision| {
            Outcome::Proceed(
                Box::new(Claim {
                    kv: self.kv.clone(),
                    key: store_key.clone(),
                    fingerprint: fingerprint.clone(),
                    revision,
                    done: false,
                }),
                Keyed::new(actor, key),
            )
        };
        for _ in 0..3 {
            match self.kv.create(&store_key, encoded.clone()).await {
                Ok(revision) => return Ok(claim(revision)),
                Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => {}
                Err(err) => return Err(ApiError::Unavailable(err.to_string())),
            }
            let entry = self
                .kv
                .entry(&store_key)
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let Some(entry) = entry else { continue };
            let record = serde_json::from_slice::<Record>(&entry.value);
            let abandoned = match record {
                Ok(
                    Record::Done {
                        fingerprint: seen, ..
                    }
                    | Record::Pending {
                        fingerprint: seen, ..
                    },
                ) if seen != fingerprint => {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "Idempotency-Key",
                        "this key was used for a different request",
                    )]));
                }
                Ok(Record::Done {
                    status,
                    body,
                    headers,
                    ..
                }) => return Ok(Outcome::Replay(replay(status, body, headers))),
                Ok(Record::Pending { since_ms, .. }) => {
                    now_ms().saturating_sub(since_ms) >= self.abandoned_after.as_millis() as u64
                }
                // Unreadable (written by an older build): no request can still own it.
                Err(_) => true,
            };
            if !abandoned {
                return Err(in_progress());
            }
            // The request that claimed it is gone: take the claim over. Its
            // write, if it was appended, is recognised by its ids.
            if let Ok(revision) = self
                .kv
                .update(&store_key, encoded.clone(), entry.revision)
                .await
            {
                return Ok(claim(revision));
            }
        }
        Err(in_progress())
    }

    /// Records the response of a claimed request.
    pub async fn finish(
        &self,
        mut claim: Box<Claim>,
        status: StatusCode,
        body: &serde_json::Value,
        headers: &[(&str, String)],
    ) {
        let record = Record::Done {
            fingerprint: claim.fingerprint.clone(),
            status: status.as_u16(),
            body: body.clone(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        };
        let result = if self.fail_records.load(Ordering::Relaxed) {
            Err("recording responses is switched off".to_owned())
        } else {
            match serde_json::to_vec(&record) {
                Ok(bytes) => self
                    .kv
                    .update(&claim.key, bytes.into(), claim.revision)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        };
        match result {
            // Recorded: nothing to release.
            Ok(()) => claim.done = true,
            // Dropping the claim releases the key: a retry runs the write
            // again, which appends nothing (its ids are the same) and answers
            // the same.
            Err(err) => tracing::warn!(%err, "cannot record the idempotent response"),
        }
    }
}

fn replay(status: u16, body: serde_json::Value, headers: Vec<(String, String)>) -> Response {
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
    response
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (kv, key, revision) = (self.kv.clone(), self.key.clone(), self.revision);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // In the background: the request may be cut off by its timeout, and
        // NATS may be slow to answer; until the release lands a retry is told
        // 409 with Retry-After, and an abandoned claim is taken over anyway.
        runtime.spawn(async move {
            let deadline = tokio::time::Instant::now() + RELEASE_FOR;
            let mut pause = Duration::from_millis(50);
            loop {
                match kv.delete_expect_revision(&key, Some(revision)).await {
                    Ok(()) => return,
                    Err(err) if err.kind() == kv::DeleteErrorKind::WrongLastRevision => return,
                    Err(err) if tokio::time::Instant::now() + pause > deadline => {
                        tracing::warn!(%err, "cannot release an idempotency key; a retry takes it over");
                        return;
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        });
    }
}
