//! The projection loop: a durable pull consumer with explicit acks, applied
//! strictly in stream order, in batches of bulk writes; acknowledged only
//! after the documents and the position are written.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context as _;
use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
    stream::Stream as JsStream,
};
use futures::StreamExt;
use mongodb::bson::{Document, doc};
use shared::{
    events::{Envelope, Subjects},
    nats::PositionAnnouncement,
    readmodel::ReadModel,
};
use tokio::sync::watch;

use crate::projection::{Write, writes};

/// What the projector reports about itself.
#[derive(Debug, Default)]
pub struct Status {
    /// The generation being served (and, outside a rebuild, projected).
    pub generation: AtomicU64,
    pub position: AtomicU64,
    pub stream_last: AtomicU64,
    pub applied_events: AtomicU64,
    pub batches: AtomicU64,
    pub parked: AtomicU64,
    pub redelivered: AtomicU64,
    pub store_ok: AtomicBool,
}

impl Status {
    pub fn lag(&self) -> u64 {
        self.stream_last
            .load(Ordering::Relaxed)
            .saturating_sub(self.position.load(Ordering::Relaxed))
    }
}

pub struct Runner {
    pub stream: JsStream,
    pub consumer: PullConsumer,
    pub durable: String,
    pub model: ReadModel,
    pub client: async_nats::Client,
    pub subjects: Subjects,
    pub batch_size: usize,
    pub status: Arc<Status>,
}

/// Creates the durable consumer or updates it to the current configuration.
pub async fn ensure_consumer(
    stream: &JsStream,
    durable: &str,
    subjects: &Subjects,
    batch_size: usize,
) -> anyhow::Result<PullConsumer> {
    let config = pull::Config {
        durable_name: Some(durable.to_owned()),
        description: Some("projects events into the MongoDB read model".into()),
        filter_subject: subjects.all_events(),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        max_ack_pending: i64::try_from(batch_size * 4).unwrap_or(2_000),
        ..Default::default()
    };
    let consumer = match stream.get_consumer::<pull::Config>(durable).await {
        Ok(_) => stream.update_consumer(config).await?,
        Err(_) => stream.create_consumer(config).await?,
    };
    Ok(consumer)
}

impl Runner {
    /// Applies the stream until `stop` turns true; the batch in hand is
    /// finished and acknowledged first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut position = self
            .model
            .position()
            .await
            .context("cannot read the projector position")?;
        self.status.position.store(position, Ordering::Relaxed);
        let mut backoff = Duration::from_millis(100);
        'consume: while !*stop.borrow() {
            // Start delivery right after what is durably applied: anything
            // delivered but not acknowledged before a crash comes again, in order.
            if let Err(err) = self
                .stream
                .reset_consumer(&self.durable, Some(position + 1))
                .await
            {
                tracing::warn!(%err, "cannot reset the consumer; retrying");
                if sleep_or_stop(&mut stop, &mut backoff).await {
                    break;
                }
                continue;
            }
            let messages = match self
                .consumer
                .stream()
                .max_messages_per_batch(self.batch_size)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
            {
                Ok(messages) => messages,
                Err(err) => {
                    tracing::warn!(%err, "cannot consume; retrying");
                    if sleep_or_stop(&mut stop, &mut backoff).await {
                        break;
                    }
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            let mut chunks = messages.ready_chunks(self.batch_size);
            loop {
                let chunk = tokio::select! {
                    chunk = chunks.next() => chunk,
                    _ = stop.changed() => break 'consume,
                };
                let Some(chunk) = chunk else {
                    continue 'consume;
                };
                let mut batch = Vec::with_capacity(chunk.len());
                for message in chunk {
                    match message {
                        Ok(message) => batch.push(message),
                        Err(err) => tracing::warn!(%err, "consumer error"),
                    }
                }
                match self.apply_batch(batch, position, &mut stop).await? {
                    Applied::Upto(p) => position = p,
                    Applied::Gap(p) => {
                        position = p;
                        continue 'consume;
                    }
                    Applied::Stopped => break 'consume,
                }
            }
        }
        Ok(())
    }

    async fn apply_batch(
        &self,
        batch: Vec<jetstream::Message>,
        mut position: u64,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Applied> {
        let mut writes_in_order: Vec<Write> = Vec::new();
        let mut parked: Vec<Document> = Vec::new();
        let mut to_ack = Vec::with_capacity(batch.len());
        let mut gap = false;
        let mut stream_last = 0;
        for message in batch {
            let Ok(info) = message.info() else { continue };
            let seq = info.stream_sequence;
            if info.delivered > 1 {
                self.status.redelivered.fetch_add(1, Ordering::Relaxed);
            }
            stream_last = stream_last.max(seq + info.pending);
            if seq <= position {
                // Applied before (a redelivery): acknowledge, change nothing.
                to_ack.push(message);
                continue;
            }
            if seq != position + 1 && !self.missing_from_stream(position + 1, seq).await? {
                // Something before this event was not delivered yet: go back for it.
                tracing::warn!(
                    expected = position + 1,
                    got = seq,
                    "gap in delivery; rewinding"
                );
                gap = true;
                break;
            }
            match Envelope::from_json(&message.payload) {
                Ok(envelope) => writes_in_order.extend(writes(seq as i64, &envelope)),
                Err(err) => {
                    tracing::error!(seq, subject = %message.subject, %err, "undecodable event parked");
                    parked.push(doc! {
                        "_id": seq as i64,
                        "subject": message.subject.to_string(),
                        "error": err.to_string(),
                    });
                }
            }
            position = seq;
            to_ack.push(message);
        }
        let events = to_ack.len() as u64;
        let mut backoff = Duration::from_millis(100);
        loop {
            match write_batch(&self.model, &writes_in_order, &parked, position).await {
                Ok(()) => break,
                Err(err) => {
                    self.status.store_ok.store(false, Ordering::Relaxed);
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff, "cannot write the read model");
                    for message in &to_ack {
                        let _ = message.ack_with(AckKind::Progress).await;
                    }
                    if sleep_or_stop(stop, &mut backoff).await {
                        return Ok(Applied::Stopped);
                    }
                }
            }
        }
        self.status.store_ok.store(true, Ordering::Relaxed);
        for message in &to_ack {
            if let Err(err) = message.ack().await {
                tracing::warn!(%err, "cannot acknowledge; the event will come again and change nothing");
            }
        }
        self.status.position.store(position, Ordering::Relaxed);
        self.status
            .stream_last
            .fetch_max(stream_last.max(position), Ordering::Relaxed);
        self.status
            .applied_events
            .fetch_add(events, Ordering::Relaxed);
        self.status.batches.fetch_add(1, Ordering::Relaxed);
        self.status
            .parked
            .fetch_add(parked.len() as u64, Ordering::Relaxed);
        self.announce().await;
        Ok(if gap {
            Applied::Gap(position)
        } else {
            Applied::Upto(position)
        })
    }

    /// Whether every sequence in `from..until` is absent from the stream
    /// (deleted), so that skipping to `until` loses nothing.
    async fn missing_from_stream(&self, from: u64, until: u64) -> anyhow::Result<bool> {
        for seq in from..until {
            match self.stream.direct_get(seq).await {
                Ok(_) => return Ok(false),
                Err(err) if err.kind() == jetstream::stream::DirectGetErrorKind::NotFound => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(true)
    }

    /// Tells query-api how far the read model is.
    pub async fn announce(&self) {
        announce(&self.client, &self.subjects, &self.status).await;
    }
}

/// Writes a batch: per collection one ordered multi-statement update, then
/// the parked events, then the position.
pub async fn write_batch(
    model: &ReadModel,
    writes: &[Write],
    parked: &[Document],
    position: u64,
) -> anyhow::Result<()> {
    let mut by_collection: BTreeMap<String, Vec<Document>> = BTreeMap::new();
    for write in writes {
        by_collection
            .entry(model.collection(write.collection))
            .or_default()
            .push(write.statement());
    }
    for (collection, statements) in by_collection {
        for chunk in statements.chunks(1_000) {
            let reply = model
                .db
                .run_command(
                    doc! {"update": collection.as_str(), "updates": chunk.to_vec(), "ordered": true},
                )
                .await
                .with_context(|| format!("update of {collection} failed"))?;
            if let Ok(errors) = reply.get_array("writeErrors")
                && !errors.is_empty()
            {
                anyhow::bail!("update of {collection} reported errors: {errors:?}");
            }
        }
    }
    if !parked.is_empty() {
        let statements: Vec<Document> = parked
            .iter()
            .map(|p| doc! {"q": {"_id": p.get("_id").cloned()}, "u": {"$setOnInsert": p.clone()}, "upsert": true})
            .collect();
        model
            .db
            .run_command(
                doc! {"update": shared::readmodel::PARKED, "updates": statements, "ordered": true},
            )
            .await
            .context("cannot record parked events")?;
    }
    model
        .state
        .update_one(
            doc! {"_id": model.position_id()},
            doc! {"$max": {"position": position as i64}},
        )
        .upsert(true)
        .await
        .context("cannot record the position")?;
    Ok(())
}

/// Applies events (with their stream sequences, in order) to a read model,
/// as the projector does: what tests and rebuilds use.
pub async fn apply_events(model: &ReadModel, events: &[(u64, Envelope)]) -> anyhow::Result<()> {
    let writes: Vec<Write> = events
        .iter()
        .flat_map(|(seq, envelope)| writes(*seq as i64, envelope))
        .collect();
    let position = events.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
    write_batch(model, &writes, &[], position).await
}

pub async fn announce(client: &async_nats::Client, subjects: &Subjects, status: &Status) {
    let announcement = PositionAnnouncement {
        position: status.position.load(Ordering::Relaxed),
        stream_last: status.stream_last.load(Ordering::Relaxed),
        generation: status.generation.load(Ordering::Relaxed),
    };
    if let Ok(payload) = serde_json::to_vec(&announcement)
        && let Err(err) = client.publish(subjects.position(), payload.into()).await
    {
        tracing::debug!(%err, "cannot announce the position");
    }
}

enum Applied {
    Upto(u64),
    Gap(u64),
    Stopped,
}

/// Sleeps for the backoff (doubling it, up to 5 s); true if stopped meanwhile.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    let stopped = tokio::select! {
        _ = tokio::time::sleep(*backoff) => false,
        _ = stop.changed() => true,
    };
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
    stopped || *stop.borrow()
}
