//! Sources: where delivered events come from. Live, the durable consumer,
//! reset on every (re)start to just after the recorded position; for a
//! rebuild or a verification, an ordered consumer from the first event.

use std::{
    collections::VecDeque,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
    stream::Stream as JsStream,
};
use flow_domain::events::Subjects;
use futures::StreamExt;

use crate::{plan::Delivered, settings::Settings, status::Status};

/// The shortest time between the starts of two live batches: the longest the
/// live loop waits for more events to fill a batch.
pub const LINGER: Duration = Duration::from_millis(5);

/// Extends a batch with what arrives within `linger`, until it has `max`
/// items; never more, since a restarted projector relies on that bound.
pub async fn fill<S, T>(items: &mut S, mut batch: Vec<T>, max: usize, linger: Duration) -> Vec<T>
where
    S: futures::Stream<Item = T> + Unpin,
{
    use futures::FutureExt as _;
    let deadline = tokio::time::Instant::now() + linger;
    while batch.len() < max {
        // What has arrived already, without arming a timer.
        match items.next().now_or_never() {
            Some(Some(item)) => {
                batch.push(item);
                continue;
            }
            Some(None) => break,
            None => {}
        }
        match tokio::time::timeout_at(deadline, items.next()).await {
            Ok(Some(item)) => batch.push(item),
            _ => break,
        }
    }
    batch
}

/// Creates the durable consumer or updates it to the current configuration.
/// A new consumer acknowledges cumulatively (one ack per batch covers every
/// event before it); one created before that keeps acknowledging each event,
/// since NATS cannot change a consumer's ack policy and the projector may not
/// delete consumers (delete it by hand, stopped, to switch).
pub async fn ensure_consumer(
    stream: &JsStream,
    durable: &str,
    subjects: &Subjects,
    settings: &Settings,
) -> anyhow::Result<PullConsumer> {
    let batch_size = settings.batch_size;
    let config = pull::Config {
        durable_name: Some(durable.to_owned()),
        description: Some("projects events into the MongoDB read model".into()),
        filter_subject: subjects.all_events(),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::All,
        // Short, so that deliveries to a run that died come again soon; a
        // batch held while MongoDB is away is kept with in-progress acks.
        ack_wait: Duration::from_secs(10),
        // Room for a whole fold and the batches after it, unacknowledged,
        // several times over: after a restart, deliveries to the run before
        // may still count until they expire (ack wait), and a consumer at
        // this bound stops delivering.
        max_ack_pending: i64::try_from(4 * (settings.fold_events + 4 * batch_size))
            .unwrap_or(i64::MAX),
        ..Default::default()
    };
    let consumer = match stream.get_consumer::<pull::Config>(durable).await {
        Ok(mut existing) => {
            let ack_policy = existing.info().await?.config.ack_policy;
            if ack_policy != config.ack_policy {
                tracing::info!(
                    durable,
                    ?ack_policy,
                    "the consumer keeps its ack policy: every event is acknowledged on its own"
                );
            }
            stream
                .update_consumer(pull::Config {
                    ack_policy,
                    ..config
                })
                .await?
        }
        Err(_) => stream.create_consumer(config).await?,
    };
    Ok(consumer)
}

/// The live source: the durable consumer.
pub struct LiveSource {
    pub stream: JsStream,
    pub consumer: PullConsumer,
    pub durable: String,
    pub batch_size: usize,
}

/// A delivered batch, checked against the position: the events to apply
/// (contiguous from the expected sequence), the messages to acknowledge once
/// they are written, and what the deliveries said about the stream.
pub struct Accepted {
    pub delivered: Vec<Delivered>,
    pub to_ack: Vec<jetstream::Message>,
    /// The stream's last sequence, as far as the deliveries tell.
    pub stream_last: u64,
    /// Events waiting after this batch.
    pub waiting: u64,
    /// Something before an event was not delivered yet: read again from the
    /// position, after what is accepted here.
    pub gap: bool,
    /// When the batch's first event was received.
    pub received: Instant,
    /// A span for each event that carries a sampled trace (traces on only).
    pub traced: Vec<tracing::Span>,
}

impl LiveSource {
    /// Delivers from just after `position`, what is durably applied:
    /// anything delivered but not acknowledged before a crash comes again,
    /// in order.
    pub async fn open(&self, position: u64) -> anyhow::Result<pull::Stream> {
        use anyhow::Context as _;
        self.stream
            .reset_consumer(&self.durable, Some(position + 1))
            .await
            .context("cannot reset the consumer")?;
        self.consumer
            .stream()
            .max_messages_per_batch(self.batch_size)
            .heartbeat(Duration::from_secs(5))
            // Pull requests of a run that died expire soon too.
            .expires(Duration::from_secs(10))
            .messages()
            .await
            .context("cannot consume")
    }

    /// Whether one acknowledgement covers every event before it.
    pub fn cumulative(&self) -> bool {
        self.consumer.cached_info().config.ack_policy == AckPolicy::All
    }

    /// Checks a batch against the next sequence `expected`: redeliveries of
    /// applied events are acknowledged and dropped; a gap stops the batch
    /// unless the missing events were deleted from the stream.
    pub async fn accept(
        &self,
        batch: Vec<jetstream::Message>,
        mut expected: u64,
        received: Instant,
        status: &Status,
    ) -> anyhow::Result<Accepted> {
        let mut accepted = Accepted {
            delivered: Vec::with_capacity(batch.len()),
            to_ack: Vec::with_capacity(batch.len()),
            stream_last: 0,
            waiting: 0,
            gap: false,
            received,
            traced: Vec::new(),
        };
        for message in batch {
            let Ok(info) = message.info() else { continue };
            let seq = info.stream_sequence;
            accepted.waiting = info.pending;
            if info.delivered > 1 {
                status.redelivered.fetch_add(1, Ordering::Relaxed);
            }
            accepted.stream_last = accepted.stream_last.max(seq + info.pending);
            let stored_ms =
                u64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
            if seq < expected {
                // Applied before (a redelivery): acknowledge, change nothing.
                accepted.to_ack.push(message);
                continue;
            }
            if seq != expected && !self.missing_from_stream(expected, seq).await? {
                // Something before this event was not delivered yet: go back for it.
                tracing::warn!(expected, got = seq, "gap in delivery; rewinding");
                accepted.gap = true;
                break;
            }
            if let Some(span) = traced(&message, seq) {
                accepted.traced.push(span);
            }
            accepted.delivered.push(Delivered {
                seq,
                subject: message.subject.to_string(),
                payload: message.payload.clone(),
                stored_ms,
            });
            expected = seq + 1;
            accepted.to_ack.push(message);
        }
        Ok(accepted)
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
}

/// The span of applying a delivered event, continuing the trace of the
/// write that stored it: from its delivery until its batch is committed. Only
/// for sampled traces while traces are on; otherwise one atomic load.
fn traced(message: &jetstream::Message, seq: u64) -> Option<tracing::Span> {
    use flow_runtime::telemetry;
    telemetry::traced_span(
        |name| telemetry::nats_header(message.headers.as_ref(), name),
        || {
            tracing::info_span!(
                "apply",
                seq,
                subject = %message.subject,
                applied = tracing::field::Empty,
                otel.kind = "consumer",
            )
        },
    )
}

/// A rebuild's source: an ordered consumer from the first event, and what it
/// delivered that is not taken yet.
pub struct OrderedSource {
    messages: pull::Ordered,
    pending: VecDeque<Delivered>,
    chunk: usize,
}

impl OrderedSource {
    pub async fn open(
        stream: &JsStream,
        filter_subject: String,
        chunk: usize,
    ) -> anyhow::Result<Self> {
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject,
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await?;
        Ok(Self {
            messages: consumer.messages().await?,
            pending: VecDeque::new(),
            chunk,
        })
    }

    /// The first event not taken yet.
    pub fn next_seq(&self) -> Option<u64> {
        self.pending.front().map(|d| d.seq)
    }

    /// Reads what arrives within `wait`, and more within `linger`; false if
    /// nothing came. An error if the stream ended.
    pub async fn read(&mut self, wait: Duration, linger: Duration) -> anyhow::Result<bool> {
        let first = match tokio::time::timeout(wait, self.messages.next()).await {
            Ok(Some(first)) => first,
            Ok(None) => anyhow::bail!("the stream ended"),
            Err(_) => return Ok(false),
        };
        let chunk = fill(&mut self.messages, vec![first], self.chunk, linger).await;
        for message in chunk {
            let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
            let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
            self.pending.push_back(Delivered {
                seq: info.stream_sequence,
                subject: message.subject.to_string(),
                payload: message.payload.clone(),
                stored_ms: 0,
            });
        }
        Ok(true)
    }

    /// Takes the events up to `upto`.
    pub fn take_upto(&mut self, upto: u64) -> Vec<Delivered> {
        let mut ready = Vec::new();
        while self.pending.front().is_some_and(|d| d.seq <= upto) {
            if let Some(d) = self.pending.pop_front() {
                ready.push(d);
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_filled_batch_never_exceeds_its_bound() {
        let mut items = futures::stream::iter(1..=10);
        let first = items.next().await.unwrap_or_default();
        let batch = fill(&mut items, vec![first], 4, Duration::from_millis(5)).await;
        assert_eq!(batch, [1, 2, 3, 4]);
        let next = fill(&mut items, Vec::new(), 100, Duration::from_millis(5)).await;
        assert_eq!(
            next,
            [5, 6, 7, 8, 9, 10],
            "the rest stays for the next batch"
        );
    }
}
