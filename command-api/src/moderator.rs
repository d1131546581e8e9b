//! The automatic moderator: a durable consumer of thread events on the write
//! side. Each new or edited thread gets a decision from the banned-word list,
//! appended only if the thread has not changed since (expected last subject
//! sequence), so a decision never applies to a newer version.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use flow_domain::Aggregate;
use flow_domain::events::{Envelope, Event};
use flow_domain::thread::{self, BannedWords, Thread};
use futures::StreamExt;
use tokio::sync::watch;

use crate::store::{EventStore, Pending, StoreError};
use crate::write;

pub const ACTOR: &str = "system:moderator";

pub async fn ensure_consumer(
    stream: &jetstream::stream::Stream,
    store: &EventStore,
) -> anyhow::Result<jetstream::consumer::PullConsumer> {
    let config = pull::Config {
        durable_name: Some("moderator".into()),
        description: Some("automatic moderation of new and edited threads".into()),
        filter_subject: format!("{}.evt.thread.>", store.subjects().prefix()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        max_deliver: 20,
        ..Default::default()
    };
    let consumer = match stream.get_consumer::<pull::Config>("moderator").await {
        Ok(_) => stream.update_consumer(config).await?,
        Err(_) => stream.create_consumer(config).await?,
    };
    Ok(consumer)
}

/// Decides every pending thread event until `stop` turns true.
pub async fn run(
    consumer: jetstream::consumer::PullConsumer,
    store: EventStore,
    banned: BannedWords,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    while !*stop.borrow() {
        let mut messages = match consumer.messages().await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(%err, "moderator cannot consume; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {},
                    _ = stop.changed() => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = stop.changed() => return,
            };
            let Some(message) = next else { break };
            let message = match message {
                Ok(message) => message,
                Err(err) => {
                    tracing::warn!(%err, "moderator stream error");
                    continue;
                }
            };
            let ack = match decide(&message, &store, &banned).await {
                Ok(()) => AckKind::Ack,
                Err(StoreError::Unavailable(err)) => {
                    tracing::warn!(%err, "moderation deferred");
                    AckKind::Nak(Some(Duration::from_secs(1)))
                }
                Err(err) => {
                    tracing::error!(%err, "moderation skipped an event");
                    AckKind::Term
                }
            };
            if let Err(err) = message.ack_with(ack).await {
                tracing::warn!(%err, "moderator cannot acknowledge");
            }
        }
    }
}

async fn decide(
    message: &jetstream::Message,
    store: &EventStore,
    banned: &BannedWords,
) -> Result<(), StoreError> {
    let envelope = Envelope::from_json(&message.payload).map_err(|source| StoreError::Corrupt {
        subject: message.subject.to_string(),
        source,
    })?;
    let sequence = message
        .info()
        .map(|info| info.stream_sequence)
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    // The thread as this event left it, by the same aggregate code as every
    // write: a start is the thread's first event; an edit follows it.
    let before = match &envelope.event {
        Event::ThreadStarted { .. } => None,
        Event::ThreadEdited { thread_id, .. } => {
            write::first::<Thread>(store, &store.subjects().thread(*thread_id)).await?
        }
        _ => return Ok(()),
    };
    let thread = Thread::apply(before, &envelope.event);
    let Some(decision) = thread.and_then(|thread| thread::auto_moderate(&thread, banned)) else {
        return Ok(());
    };
    // Only if the thread has not changed since this event.
    match store
        .append(&[Pending::new(decision, ACTOR, Some(sequence))])
        .await
    {
        Ok(_) => Ok(()),
        // The thread changed since: the newer version gets its own decision,
        // or a moderator already decided.
        Err(StoreError::Clash) => Ok(()),
        Err(err) => Err(err),
    }
}
