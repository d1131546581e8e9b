//! The live loop: reads the durable consumer (the source), plans each
//! delivered batch (pure), collects the plans in a batch until the flush
//! policy says to write it, and commits it through the one sink; between
//! batches it serves control requests. Acknowledged only after the
//! documents and the position are written.

use std::{
    sync::{Arc, Mutex, atomic::Ordering},
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot, watch};

pub use crate::settings::Settings;
pub use crate::sink::apply_events;
pub use crate::status::Status;
use crate::{
    batch::Batch,
    flush::FlushPolicy,
    parking,
    plan::Plan,
    position::Position,
    retry::retry,
    sink::{self, Backoff, Projection, Written},
    source::{Accepted, LINGER, LiveSource, fill},
    store::WriteFailure,
};

/// Requests to the live loop, handled between batches.
pub enum Control {
    /// Stop applying and report the position; carry on when `resume` answers,
    /// with a new read model (and its position) to project into from then on.
    Pause {
        paused: oneshot::Sender<u64>,
        resume: oneshot::Receiver<Option<(flow_readmodel::ReadModel, u64)>>,
    },
    /// Re-apply a parked event and those parked behind it.
    Retry {
        seq: u64,
        reply: oneshot::Sender<Result<String, String>>,
    },
}

pub struct Runner {
    pub source: LiveSource,
    pub projection: Projection,
    /// The one owner of the live position.
    pub position: Position,
    pub status: Arc<Status>,
    pub control: mpsc::Receiver<Control>,
    pub policy: FlushPolicy,
    /// What is planned and not yet written.
    pub batch: Batch,
}

enum Next {
    Continue,
    /// Read again from the recorded position: what was not written is not
    /// recorded or acknowledged, so it comes again.
    Restart,
    Stop,
}

/// A written batch, for the status and the log.
struct Committed {
    events: u64,
    last_stored_ms: u64,
    written: Written,
    timing: Timing,
}

/// When a batch's first event was received, when the batch was full, and
/// when its documents became visible.
struct Timing {
    received: Instant,
    filled: Duration,
    visible: Mutex<Option<Duration>>,
}

impl Timing {
    fn filled(received: Instant) -> Self {
        Self {
            received,
            filled: received.elapsed(),
            visible: Mutex::new(None),
        }
    }

    /// Once the documents are written: notes when, and lets the position
    /// say so.
    fn on_visible<'a>(&'a self, position: &'a Position) -> impl Fn(u64) + 'a {
        move |up_to| {
            if let Ok(mut visible) = self.visible.lock() {
                *visible = Some(self.received.elapsed());
            }
            position.visible(up_to);
        }
    }

    fn visible_after(&self) -> Duration {
        self.visible
            .lock()
            .ok()
            .and_then(|v| *v)
            .unwrap_or_else(|| self.received.elapsed())
    }
}

/// While MongoDB is away: not ready, and the batch's messages are kept ours.
fn waiting<'a>(status: &'a Status, held: &'a [jetstream::Message]) -> impl Fn() + 'a {
    move || {
        status.store_ok.store(false, Ordering::Relaxed);
        for message in held {
            let message = message.clone();
            tokio::spawn(async move {
                let _ = message.ack_with(AckKind::Progress).await;
            });
        }
    }
}

impl Runner {
    /// Applies the stream until `stop` turns true; the batch in hand is
    /// finished and acknowledged first.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        // As claimed for this instance's epoch when the projection opened.
        let recorded = self.projection.recorded;
        self.position
            .start_at(self.projection.model.generation, recorded);
        let mut backoff = Backoff::default();
        while !*stop.borrow() {
            let mut messages = match self.source.open(self.position.applied()).await {
                Ok(messages) => messages,
                Err(err) => {
                    tracing::warn!(error = format!("{err:#}"), "cannot consume; retrying");
                    if backoff.wait(Some(&mut stop)).await {
                        break;
                    }
                    continue;
                }
            };
            backoff = Backoff::default();
            match self.consume(&mut messages, &mut stop).await? {
                Next::Stop => break,
                // Not written, not recorded: read again after the reset.
                _ => self.batch = Batch::default(),
            }
        }
        Ok(())
    }

    /// Applies deliveries until a restart or a stop.
    async fn consume(
        &mut self,
        messages: &mut pull::Stream,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Next> {
        let mut last_batch: Option<Instant> = None;
        loop {
            let due = self.policy.deadline(&self.batch);
            let next = tokio::select! {
                first = messages.next() => match first {
                    Some(first) => {
                        // Batches start at most every LINGER: within that,
                        // wait for a fuller batch (fewer, larger writes);
                        // events that came while the last batch was
                        // written take no longer than it did.
                        let received = Instant::now();
                        let linger = last_batch
                            .map(|last| (last + LINGER).saturating_duration_since(received))
                            .unwrap_or(LINGER);
                        last_batch = Some(received);
                        let chunk = fill(messages, vec![first], self.source.batch_size, linger).await;
                        let batch: Vec<jetstream::Message> = chunk
                            .into_iter()
                            .filter_map(|m| m.map_err(|err| tracing::warn!(%err, "consumer error")).ok())
                            .collect();
                        self.apply_batch(batch, received, stop).await?
                    }
                    None => Next::Restart,
                },
                Some(control) = self.control.recv() => {
                    // A pause reports the written position: write what is held first.
                    match self.flush(stop).await? {
                        Next::Continue => self.handle(control).await,
                        other => other,
                    }
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if !self.batch.is_empty() => {
                    self.flush(stop).await?
                }
                _ = stop.changed() => Next::Stop,
            };
            if !matches!(next, Next::Continue) {
                return Ok(next);
            }
        }
    }

    /// Plans a delivered batch and adds it to the batch in hand. Batches are
    /// merged (one write of merged statements, one cumulative ack) when the
    /// consumer acknowledges cumulatively and everything an earlier run may
    /// have written in other boundaries is behind; otherwise the batch is
    /// just this one, keeping its events' writes so that a refused one can
    /// be found and parked, and the flush policy writes it at once.
    async fn apply_batch(
        &mut self,
        messages: Vec<jetstream::Message>,
        received: Instant,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Next> {
        let expected = self.batch.position.max(self.position.applied()) + 1;
        let accepted = self
            .source
            .accept(messages, expected, received, &self.status)
            .await?;
        let gap = accepted.gap;
        let merging = !self.batch.is_empty()
            || (self.source.cumulative()
                && accepted
                    .delivered
                    .first()
                    .is_some_and(|d| self.projection.may_coalesce(d.seq)));
        let next = self.collect(accepted, merging, stop).await?;
        Ok(match next {
            Next::Continue if gap => Next::Restart,
            next => next,
        })
    }

    /// Adds a delivered batch to the batch in hand; writes it when no other
    /// whole batch waits (each batch as it comes, for freshness), after a
    /// gap, or when the flush policy says it is full.
    async fn collect(
        &mut self,
        mut accepted: Accepted,
        merging: bool,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Next> {
        self.batch.traced.append(&mut accepted.traced);
        let delivered = &accepted.delivered;
        if merging {
            if !delivered.is_empty() {
                let plan = self.projection.plan(delivered);
                self.batch.add(plan, delivered, accepted.received);
            }
            // Cumulative: the last message acknowledges the batch.
            if let Some(last) = accepted.to_ack.pop() {
                self.batch.to_ack = vec![last];
            }
        } else {
            let plan = if delivered.is_empty() {
                Plan::default()
            } else {
                self.projection.plan(delivered)
            };
            self.batch.keep(plan, delivered, accepted.received);
            self.batch.to_ack = std::mem::take(&mut accepted.to_ack);
        }
        self.position.seen_stream_last(accepted.stream_last);
        let backlog = accepted.waiting >= self.source.batch_size as u64;
        if backlog && !accepted.gap && !self.policy.full(&self.batch) {
            return Ok(Next::Continue);
        }
        self.flush(stop).await
    }

    /// Writes the batch in hand, then acknowledges it.
    async fn flush(&mut self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<Next> {
        if self.batch.is_empty() {
            return Ok(Next::Continue);
        }
        let mut batch = std::mem::take(&mut self.batch);
        let held = std::mem::take(&mut batch.to_ack);
        let traced = std::mem::take(&mut batch.traced);
        let committed = match batch.kept.take() {
            // Only redeliveries of applied events: nothing to write.
            Some(_) if batch.started.is_none() => None,
            Some(plan) => match self.write_kept(plan, &batch, &held, stop).await? {
                Ok(committed) => Some(committed),
                Err(next) => return Ok(next),
            },
            None => match self.write_merged(batch, &held, stop).await? {
                Ok(committed) => Some(committed),
                Err(next) => return Ok(next),
            },
        };
        let cumulative = self.source.cumulative();
        self.finish(committed, &held, cumulative).await;
        for span in traced {
            span.record("applied", true);
            span.in_scope(|| tracing::debug!("event applied"));
        }
        Ok(Next::Continue)
    }

    /// Writes merged statements. If MongoDB refuses the write, its events
    /// are read again and written without coalescing.
    async fn write_merged(
        &mut self,
        mut batch: Batch,
        held: &[jetstream::Message],
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Result<Committed, Next>> {
        let statements = batch.statements.take();
        let timing = Timing::filled(batch.started.unwrap_or_else(Instant::now));
        let per_command = self.policy.per_command(&batch);
        let written = {
            let on_visible = timing.on_visible(&self.position);
            let on_wait = waiting(&self.status, held);
            let position = batch.position;
            self.projection
                .write_merged(
                    &statements,
                    &batch,
                    per_command,
                    Some(stop),
                    on_wait,
                    || on_visible(position),
                )
                .await
        };
        match written {
            Ok(()) => {}
            Err(WriteFailure::Rejected(err)) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "MongoDB refused a folded write; applying those events batch by batch"
                );
                // Whatever part of it was written, was written in other
                // boundaries: no coalescing until past it.
                self.projection.coalesce_after = self.projection.coalesce_after.max(batch.position);
                self.projection.blocked = parking::load_blocked(&self.projection.model).await?;
                self.position.rewind();
                return Ok(Err(Next::Restart));
            }
            Err(deposed @ WriteFailure::Deposed(_)) => {
                self.position.rewind();
                return Err(deposed.into());
            }
            // Only once stopped.
            Err(WriteFailure::Unavailable(_)) => return Ok(Err(Next::Stop)),
        }
        Ok(Ok(Committed {
            events: batch.events,
            last_stored_ms: batch.last_stored_ms,
            written: Written {
                statements: statements.len() as u64,
                parked: batch.parked,
                position: batch.position,
            },
            timing,
        }))
    }

    /// Writes a batch that kept its events' writes: a refused event is
    /// found and parked.
    async fn write_kept(
        &mut self,
        plan: Plan,
        batch: &Batch,
        held: &[jetstream::Message],
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Result<Committed, Next>> {
        let timing = Timing::filled(batch.started.unwrap_or_else(Instant::now));
        let written = self
            .projection
            .write(
                plan,
                Some(stop),
                waiting(&self.status, held),
                timing.on_visible(&self.position),
            )
            .await;
        let written = match written {
            Ok(written) => written,
            Err(deposed @ WriteFailure::Deposed(_)) => {
                self.position.rewind();
                return Err(deposed.into());
            }
            Err(_) if *stop.borrow() => return Ok(Err(Next::Stop)),
            Err(err) => return Err(err.into()),
        };
        Ok(Ok(Committed {
            events: batch.events,
            last_stored_ms: batch.last_stored_ms,
            written,
            timing,
        }))
    }

    /// After the documents and the position are written: counts the batch,
    /// acknowledges it, and moves the position.
    async fn finish(
        &mut self,
        committed: Option<Committed>,
        to_ack: &[jetstream::Message],
        cumulative: bool,
    ) {
        let mut position = self.position.applied();
        if let Some(c) = committed {
            let (written, timing) = (&c.written, &c.timing);
            let visible = timing.visible_after();
            tracing::debug!(
                events = c.events,
                statements = written.statements,
                filled = ?timing.filled,
                visible = ?visible,
                recorded = ?timing.received.elapsed(),
                "batch written"
            );
            self.status
                .batch_writes
                .observe(timing.received.elapsed().saturating_sub(timing.filled));
            let parked = written.parked.len() as u64;
            self.status.record_write(
                c.events,
                written.statements,
                parked,
                c.last_stored_ms,
                visible,
            );
            position = written.position;
        }
        sink::acknowledge(to_ack, cumulative).await;
        self.position.committed(position, 0).await;
    }

    async fn handle(&mut self, control: Control) -> Next {
        match control {
            Control::Pause { paused, resume } => {
                if paused.send(self.position.applied()).is_err() {
                    return Next::Continue;
                }
                match tokio::time::timeout(Duration::from_secs(120), resume).await {
                    Ok(Ok(Some((model, new_position)))) => self.switch(model, new_position).await,
                    _ => Next::Continue,
                }
            }
            Control::Retry { seq, reply } => {
                let retried = retry(&mut self.projection, &self.source.stream, &self.status, seq);
                let result = retried.await.map_err(|e| format!("{e:#}"));
                let _ = reply.send(result);
                Next::Continue
            }
        }
    }

    /// Projects into a new generation from its position on.
    async fn switch(&mut self, model: flow_readmodel::ReadModel, new_position: u64) -> Next {
        tracing::info!(
            generation = model.generation,
            position = new_position,
            "projecting into a new generation"
        );
        let fence = self.projection.fence.clone();
        match Projection::open(model, self.projection.settings, fence).await {
            Ok(projection) => {
                self.projection = projection;
                self.position
                    .start_at(self.projection.model.generation, new_position);
                self.position.announce().await;
                Next::Restart
            }
            Err(err) => {
                tracing::error!(
                    error = format!("{err:#}"),
                    "cannot open the new generation; staying"
                );
                Next::Continue
            }
        }
    }
}
