//! The event store on JetStream: aggregates are loaded from their own
//! subject, and new events are appended with the expected last sequence of
//! that subject, so that a write decided on stale state is refused.

use async_nats::{
    header::{HeaderMap, NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, NATS_MESSAGE_ID},
    jetstream::{self, context::PublishErrorKind, stream::DirectGetErrorKind},
};
use flow_domain::events::{Envelope, Subjects};

use crate::idempotency::Keyed;
use time::OffsetDateTime;

/// Why an append or load failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The subject moved on since the state was loaded: decide again.
    #[error("the aggregate changed concurrently")]
    Clash,
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    #[error("an event on {subject} cannot be decoded: {source}")]
    Corrupt {
        subject: String,
        source: serde_json::Error,
    },
}

/// An event to append, with the sequence its subject must still be at
/// (0: the subject must be empty; `None`: no check).
#[derive(Debug, Clone)]
pub struct Pending {
    pub envelope: Envelope,
    pub expect: Option<u64>,
}

impl Pending {
    pub fn new(event: flow_domain::events::Event, actor: &str, expect: Option<u64>) -> Self {
        Self {
            envelope: Envelope::new(event, actor, OffsetDateTime::now_utc()),
            expect,
        }
    }

    /// The events of a write, each with the sequence `expect` gives for it;
    /// under an `Idempotency-Key` their ids (and so their `Nats-Msg-Id`s)
    /// come from the key.
    pub fn all(
        events: Vec<flow_domain::events::Event>,
        actor: &str,
        expect: impl Fn(&flow_domain::events::Event) -> Option<u64>,
        keyed: Option<&Keyed>,
    ) -> Vec<Self> {
        events
            .into_iter()
            .enumerate()
            .map(|(n, event)| {
                let expected = expect(&event);
                let mut pending = Self::new(event, actor, expected);
                if let Some(keyed) = keyed {
                    pending.envelope.id = keyed.event_id(n);
                }
                pending
            })
            .collect()
    }
}

#[derive(Clone)]
pub struct EventStore {
    client: async_nats::Client,
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    subjects: Subjects,
}

impl EventStore {
    pub fn new(
        client: async_nats::Client,
        js: jetstream::Context,
        stream: jetstream::stream::Stream,
        subjects: Subjects,
    ) -> Self {
        Self {
            client,
            js,
            stream,
            subjects,
        }
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Folds every event of `subject` into a state; returns it with the
    /// subject's last sequence (0 if it has no events).
    pub async fn load<S>(
        &self,
        subject: &str,
        mut state: S,
        fold: impl Fn(S, &flow_domain::events::Event) -> S,
    ) -> Result<(S, u64), StoreError> {
        let mut last = 0;
        loop {
            match self
                .stream
                .direct_get_next_for_subject(subject, Some(last + 1))
                .await
            {
                Ok(message) => {
                    let envelope = decode(subject, &message.payload)?;
                    state = fold(state, &envelope.event);
                    last = message.sequence;
                }
                Err(err) if err.kind() == DirectGetErrorKind::NotFound => return Ok((state, last)),
                Err(err) => return Err(StoreError::Unavailable(err.to_string())),
            }
        }
    }

    /// The first event of `subject`, with its sequence.
    pub async fn first(&self, subject: &str) -> Result<Option<(Envelope, u64)>, StoreError> {
        self.single(
            self.stream.direct_get_first_for_subject(subject).await,
            subject,
        )
    }

    /// The last event of `subject`, with its sequence.
    pub async fn last(&self, subject: &str) -> Result<Option<(Envelope, u64)>, StoreError> {
        self.single(
            self.stream.direct_get_last_for_subject(subject).await,
            subject,
        )
    }

    fn single(
        &self,
        result: Result<jetstream::message::StreamMessage, jetstream::stream::DirectGetError>,
        subject: &str,
    ) -> Result<Option<(Envelope, u64)>, StoreError> {
        match result {
            Ok(message) => Ok(Some((decode(subject, &message.payload)?, message.sequence))),
            Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(err) => Err(StoreError::Unavailable(err.to_string())),
        }
    }

    /// Appends events once JetStream has stored them, all or nothing; returns
    /// the stream sequence of the last one.
    pub async fn append(&self, events: &[Pending]) -> Result<u64, StoreError> {
        match events {
            [] => Err(StoreError::Unavailable("nothing to append".into())),
            [single] => {
                let headers = self.headers(single, None);
                self.publish_acked(single, headers).await
            }
            many => self.append_atomic(many).await,
        }
    }

    /// Appends the events of a keyed write ([`Pending::all`] with a key): if
    /// the append fails because the same write was appended before (a retry
    /// after a crash or a lost response: JetStream refuses the batch's
    /// duplicate message ids, or the new subject is no longer empty), answers
    /// the sequence of that earlier write's last event instead.
    pub async fn append_keyed(
        &self,
        events: &[Pending],
        keyed: Option<&Keyed>,
    ) -> Result<u64, StoreError> {
        let result = self.append(events).await;
        let (Err(err), Some(_), Some(last)) = (&result, keyed, events.last()) else {
            return result;
        };
        let subject = last.envelope.event.subject(&self.subjects);
        let stored = if last.expect == Some(0) {
            self.first(&subject).await
        } else {
            self.last(&subject).await
        };
        match stored {
            Ok(Some((envelope, seq))) if envelope.id == last.envelope.id => {
                tracing::debug!(%err, seq, "the keyed write was appended before");
                Ok(seq)
            }
            _ => result,
        }
    }

    fn headers(&self, pending: &Pending, batch: Option<(&str, usize, bool)>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, pending.envelope.id.to_string().as_str());
        if let Some(expect) = pending.expect {
            headers.insert(
                NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                expect.to_string().as_str(),
            );
        }
        headers.insert("Flow-Event-Type", pending.envelope.event.name());
        // The request's trace goes on in the projector (when traces are on).
        flow_runtime::telemetry::inject_nats(&mut headers);
        if let Some((id, index, commit)) = batch {
            headers.insert("Nats-Batch-Id", id);
            headers.insert("Nats-Batch-Sequence", (index + 1).to_string().as_str());
            if commit {
                headers.insert("Nats-Batch-Commit", "1");
            }
        }
        headers
    }

    async fn publish_acked(
        &self,
        pending: &Pending,
        headers: HeaderMap,
    ) -> Result<u64, StoreError> {
        let subject = pending.envelope.event.subject(&self.subjects);
        let payload = pending.envelope.to_json().into();
        let ack = self
            .js
            .publish_with_headers(subject, headers, payload)
            .await
            .map_err(publish_error)?
            .await
            .map_err(publish_error)?;
        Ok(ack.sequence)
    }

    /// One JetStream atomic batch: the server stores every message or none,
    /// and checks each message's expected subject sequence at commit.
    async fn append_atomic(&self, events: &[Pending]) -> Result<u64, StoreError> {
        let batch_id = uuid::Uuid::new_v4().simple().to_string();
        let last = events.len() - 1;
        for (index, pending) in events[..last].iter().enumerate() {
            let headers = self.headers(pending, Some((&batch_id, index, false)));
            let subject = pending.envelope.event.subject(&self.subjects);
            self.client
                .publish_with_headers(subject, headers, pending.envelope.to_json().into())
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        let commit = &events[last];
        let headers = self.headers(commit, Some((&batch_id, last, true)));
        self.publish_acked(commit, headers).await
    }
}

fn publish_error(err: jetstream::context::PublishError) -> StoreError {
    match err.kind() {
        PublishErrorKind::WrongLastSequence => StoreError::Clash,
        _ => StoreError::Unavailable(err.to_string()),
    }
}

fn decode(subject: &str, payload: &[u8]) -> Result<Envelope, StoreError> {
    Envelope::from_json(payload).map_err(|source| StoreError::Corrupt {
        subject: subject.to_owned(),
        source,
    })
}

impl From<StoreError> for flow_http::ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Clash => Self::Conflict(
                "the resource changed concurrently too often; retry the request".into(),
            ),
            StoreError::Unavailable(reason) => Self::Unavailable(reason),
            corrupt @ StoreError::Corrupt { .. } => Self::Internal(corrupt.into()),
        }
    }
}
