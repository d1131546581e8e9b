//! The one write path: load an aggregate's state, decide a command on it,
//! append the events with the subject's expected last sequence, decide again
//! on a clash, and answer, once per `Idempotency-Key` for a POST.
//!
//! Handlers parse their request, say which aggregate on which subject and
//! how its state is loaded ([`Write`]), give the decision (a pure function
//! of the domain) to [`execute`], and answer with what it returns ([`Written`]);
//! a POST does so inside [`idempotent`], which gives the write the ids of its
//! `Idempotency-Key` and records the answer.

use std::future::Future;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use flow_domain::{Actor, Aggregate, DomainError, events::Event};
use flow_http::ApiError;
use serde::Serialize;

use crate::{
    cache,
    idempotency::{Idempotency, Keyed, Outcome},
    store::{EventStore, Pending, StoreError},
};

/// How often a write decided on stale state is decided again.
pub const MAX_ATTEMPTS: usize = 8;

/// How a write learns the state it decides on.
pub enum Load<'a, A: Aggregate> {
    /// Every event of the subject, and of the write's other subjects
    /// ([`Write::also`]), folded into one state.
    Fold,
    /// The subject is new: nothing to load, and the append expects it empty.
    New,
    /// What this instance remembers of the subject (a state and its
    /// sequence), else the state before the first event; on a clash, or
    /// when memory says that nothing changes, the subject's last event (for
    /// aggregates whose state is what their last event says). The memory is
    /// updated by every load and append, and forgets a failed one.
    Remembered(&'a cache::Bounded<u64, (A::State, u64)>),
}

/// What to do when the append clashes.
#[derive(Debug, Clone, Copy)]
pub enum OnClash {
    /// Decide again on what the stream holds now (at most [`MAX_ATTEMPTS`] times).
    DecideAgain,
    /// Deciding again cannot help: answer 409 with this detail.
    Refuse(&'static str),
}

/// One write on one aggregate's subject.
///
/// Each event appended is expected at the sequence its subject was loaded
/// at; an event that creates its aggregate ([`Event::creates_subject`])
/// expects an empty subject; any other event is appended unchecked (a name
/// released by its holder, whose change is checked on its own subject in
/// the same atomic batch).
pub struct Write<'a, A: Aggregate> {
    pub subject: String,
    /// Other subjects folded into the same state (with [`Load::Fold`]).
    pub also: Vec<String>,
    pub load: Load<'a, A>,
    pub on_clash: OnClash,
    pub actor: &'a Actor,
}

impl<'a, A: Aggregate> Write<'a, A> {
    /// A write decided on `load`, decided again on a clash.
    pub fn new(subject: String, load: Load<'a, A>, actor: &'a Actor) -> Self {
        Self {
            subject,
            also: Vec::new(),
            load,
            on_clash: OnClash::DecideAgain,
            actor,
        }
    }

    /// Folds `subject` into the state too (with [`Load::Fold`]).
    pub fn also(mut self, subject: String) -> Self {
        self.also.push(subject);
        self
    }

    fn memory_key(&self) -> u64 {
        cache::key_of(&self.subject)
    }

    fn remember(&self, known: Option<&(A::State, u64)>) {
        if let Load::Remembered(memory) = &self.load {
            match known {
                Some(known) => memory.insert(self.memory_key(), known.clone()),
                None => memory.remove(&self.memory_key()),
            }
        }
    }
}

/// Carries out a write: loads the aggregate's state, decides on it, appends
/// the events (under an `Idempotency-Key`, with the key's ids: see
/// [`EventStore::append_keyed`]) with the expected sequence of the state,
/// and decides again on a clash. Returns the state after the write and the
/// stream sequence that holds it (that of the state when nothing changed).
pub async fn execute<A: Aggregate>(
    store: &EventStore,
    write: &Write<'_, A>,
    keyed: Option<&Keyed>,
    decide: impl Fn(&A::State) -> Result<Vec<Event>, DomainError>,
) -> Result<(A::State, u64), ApiError> {
    for round in 0..MAX_ATTEMPTS {
        match attempt(store, write, keyed, &decide).await {
            Ok(written) => return Ok(written),
            Err(Attempt::Store(StoreError::Clash)) => {
                if let OnClash::Refuse(detail) = write.on_clash {
                    return Err(ApiError::Conflict(detail.into()));
                }
                tracing::debug!(round, "write clashed; deciding again");
                // Spread concurrent writers apart before they decide again.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % (4 << round.min(4));
                tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
            }
            Err(Attempt::Store(other)) => return Err(other.into()),
            Err(Attempt::Domain(err)) => return Err(err.into()),
        }
    }
    Err(StoreError::Clash.into())
}

/// Why one attempt of a write failed.
enum Attempt {
    Store(StoreError),
    Domain(DomainError),
}

impl From<StoreError> for Attempt {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<DomainError> for Attempt {
    fn from(err: DomainError) -> Self {
        Self::Domain(err)
    }
}

/// One round of a write. Remembered state is tried first: most votes are a
/// user's first on a thread, and the append's expected sequence refuses a
/// wrong guess, so the common case costs one round trip. A clash on memory,
/// or memory saying that nothing changes (which must not rest on memory
/// alone: another instance may have written since), is decided again on
/// what the stream holds.
async fn attempt<A: Aggregate>(
    store: &EventStore,
    write: &Write<'_, A>,
    keyed: Option<&Keyed>,
    decide: &impl Fn(&A::State) -> Result<Vec<Event>, DomainError>,
) -> Result<(A::State, u64), Attempt> {
    if let Load::Remembered(memory) = &write.load {
        let (state, version) = memory.get(&write.memory_key()).unwrap_or_default();
        let events = decide(&state)?;
        if !events.is_empty() {
            let versions = vec![(write.subject.clone(), version)];
            match append(store, write, keyed, (state, versions), events).await {
                Err(Attempt::Store(StoreError::Clash)) => {}
                written => return written,
            }
        }
    }
    let (state, versions) = load(store, write).await?;
    let events = decide(&state)?;
    if events.is_empty() {
        let version = versions.iter().map(|(_, seq)| *seq).max().unwrap_or(0);
        return Ok((state, version));
    }
    append(store, write, keyed, (state, versions), events).await
}

/// The last sequence of each subject a state was loaded from.
type Versions = Vec<(String, u64)>;

/// The state of the write's aggregate and the last sequence of each of its
/// subjects.
async fn load<A: Aggregate>(
    store: &EventStore,
    write: &Write<'_, A>,
) -> Result<(A::State, Versions), StoreError> {
    let (state, version) = match &write.load {
        Load::Fold => {
            let mut state = A::State::default();
            let mut versions = Vec::with_capacity(1 + write.also.len());
            for subject in std::iter::once(&write.subject).chain(&write.also) {
                let (folded, seq) = store.load(subject, state, A::apply).await?;
                state = folded;
                versions.push((subject.clone(), seq));
            }
            return Ok((state, versions));
        }
        Load::New => (A::State::default(), 0),
        Load::Remembered(_) => {
            let loaded = match store.last(&write.subject).await? {
                Some((envelope, seq)) => (A::apply(A::State::default(), &envelope.event), seq),
                None => (A::State::default(), 0),
            };
            write.remember(Some(&loaded));
            loaded
        }
    };
    Ok((state, vec![(write.subject.clone(), version)]))
}

/// Appends the events decided on `known` (a state and its sequence).
async fn append<A: Aggregate>(
    store: &EventStore,
    write: &Write<'_, A>,
    keyed: Option<&Keyed>,
    known: (A::State, Versions),
    events: Vec<Event>,
) -> Result<(A::State, u64), Attempt> {
    let (state, versions) = known;
    let after = A::fold(state, &events);
    let subjects = store.subjects();
    let expect = |event: &Event| {
        let subject = event.subject(subjects);
        match versions.iter().find(|(loaded, _)| *loaded == subject) {
            Some((_, seq)) => Some(*seq),
            None if event.creates_subject() => Some(0),
            None => None,
        }
    };
    let pending = Pending::all(events, write.actor.user_id.as_str(), expect, keyed);
    match store.append_keyed(&pending, keyed).await {
        Ok(seq) => {
            write.remember(Some(&(after.clone(), seq)));
            Ok((after, seq))
        }
        Err(err) => {
            write.remember(None);
            Err(err.into())
        }
    }
}

/// The state an aggregate's first event gives it: for what never changes
/// once created (a project's id and proposer, a thread's origin).
pub async fn first<A: Aggregate>(
    store: &EventStore,
    subject: &str,
) -> Result<A::State, StoreError> {
    Ok(store
        .first(subject)
        .await?
        .map(|(envelope, _)| A::apply(A::State::default(), &envelope.event))
        .unwrap_or_default())
}

/// The consistency token of a write whose last event is at stream sequence `seq`.
pub fn token(seq: u64) -> String {
    flow_http::ConsistencyToken(seq).to_string()
}

/// A write's answer: JSON with the consistency token, and the same token in
/// the `Consistency-Token` header.
pub struct Written {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Written {
    /// `body` is one of the answers of `routes::schema`, which carry their
    /// `consistency_token` ([`token`]).
    pub fn new<T: Serialize>(status: StatusCode, body: T) -> Result<Self, ApiError> {
        let body = serde_json::to_value(body).map_err(anyhow::Error::from)?;
        Ok(Self { status, body })
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(token) = self.body.get("consistency_token").and_then(|t| t.as_str()) {
            headers.push((flow_http::ConsistencyToken::HEADER, token.to_owned()));
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

/// A POST's request as `Idempotency-Key` sees it: who, which route, which
/// body, and the headers that may carry the key.
pub struct Request<'a> {
    pub actor: &'a Actor,
    pub headers: &'a HeaderMap,
    pub route: &'a str,
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn new(actor: &'a Actor, headers: &'a HeaderMap, route: &'a str, body: &'a [u8]) -> Self {
        Self {
            actor,
            headers,
            route,
            body,
        }
    }
}

/// Runs a POST once per `Idempotency-Key`: a repeat gets the first answer.
/// `write` gets the key's [`Keyed`] ids when the request has a key.
pub async fn idempotent<F, Fut>(
    idempotency: &Idempotency,
    request: Request<'_>,
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<Keyed>) -> Fut,
    Fut: Future<Output = Result<Written, ApiError>>,
{
    let Some(key) = Idempotency::key_of(request.headers)? else {
        return write(None).await.map(IntoResponse::into_response);
    };
    let begun = idempotency
        .begin(request.actor, request.route, &key, request.body)
        .await?;
    match begun {
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

/// Parses an id from the path; a malformed id is an unknown one.
pub fn path_id<T>(
    raw: &str,
    what: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError::not_found(what))
}
