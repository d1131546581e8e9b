//! The one commit path: every batch, live, folded or rebuilt, is written in
//! the order a crash relies on: the documents, the parked events, then
//! (once reads may see them) the position; the live loop acknowledges after
//! that. A crash anywhere leaves the position at or behind the documents,
//! and the documents' `seq` guards make the events after it apply once.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream;
use flow_domain::ModerationStatus;
use flow_domain::events::Envelope;
use flow_readmodel::{ReadModel, THREADS, field};
use mongodb::bson::{Document, doc};
use tokio::sync::watch;

use crate::{
    batch::Batch,
    coalesce::coalesce,
    fence::{self, Deposed, Fence, GuardError},
    parking::{self, Blocked, ParkedEvent},
    plan::{self, Delivered, Plan},
    projection::{Uncounted, writes},
    settings::{BULK_COMMAND, LIVE_COMMAND, Settings},
    store::{Guard, WriteFailure, write_documents, write_parked, write_position, write_statements},
    write::Write,
};

/// Waits between attempts: from 100 ms, doubling up to 5 s.
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(100))
    }
}

impl Backoff {
    pub fn delay(&self) -> Duration {
        self.0
    }

    /// Sleeps for the delay and doubles it; true if stopped meanwhile.
    pub async fn wait(&mut self, stop: Option<&mut watch::Receiver<bool>>) -> bool {
        let delay = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        match stop {
            Some(stop) => {
                let stopped = tokio::select! {
                    _ = tokio::time::sleep(delay) => false,
                    _ = stop.changed() => true,
                };
                stopped || *stop.borrow()
            }
            None => {
                tokio::time::sleep(delay).await;
                false
            }
        }
    }
}

/// Writes a batch in the order a crash relies on: the documents and parked
/// events, then (once they may be read: `on_visible`) the position. With a
/// guard, only while this instance's lease is valid and its epoch holds the
/// position document, and the position moves only from `guard.from`.
pub async fn write_all(
    model: &ReadModel,
    statements: &[Write],
    parked: &[ParkedEvent],
    position: u64,
    per_command: usize,
    guard: Option<Guard<'_>>,
    on_visible: impl FnOnce(),
) -> Result<(), WriteFailure> {
    if let Some(guard) = guard {
        let epoch = guard.fence.valid_epoch()?;
        let recorded = fence::claim(model, epoch).await?;
        if recorded != guard.from {
            return Err(Deposed(format!(
                "the position is {recorded}, not {} this batch started from",
                guard.from
            ))
            .into());
        }
    }
    write_documents(model, statements, per_command, guard).await?;
    write_parked(model, parked).await?;
    on_visible();
    match guard {
        Some(guard) => {
            let epoch = guard.fence.valid_epoch()?;
            Ok(fence::advance(model, epoch, guard.from, position).await?)
        }
        None => write_position(model, position).await,
    }
}

/// The threads whose votes do not count, as the documents say.
pub async fn load_uncounted(model: &ReadModel) -> anyhow::Result<Uncounted> {
    let (rejected, withdrawn) = (ModerationStatus::Rejected, ModerationStatus::Withdrawn);
    let threads = model.db.collection::<Document>(&model.collection(THREADS));
    let mut found = threads
        .find(doc! {field::STATUS: {"$in": [rejected.as_str(), withdrawn.as_str()]}})
        .projection(doc! {field::ID: 1, field::STATUS: 1})
        .await?;
    let (mut closed, mut gone) = (Vec::new(), Vec::new());
    while found.advance().await? {
        let thread = found.current();
        let (Ok(id), Ok(status)) = (thread.get_str(field::ID), thread.get_str(field::STATUS))
        else {
            continue;
        };
        if let Ok(id) = flow_domain::ThreadId::parse(id) {
            if status == withdrawn.as_str() {
                gone.push(id);
            } else {
                closed.push(id);
            }
        }
    }
    Ok(Uncounted::new(closed, gone))
}

/// Acknowledges what is written: with cumulative acks the last message
/// acknowledges every one before it. Never called before the position is
/// recorded; a lost acknowledgement only brings events again, which then
/// change nothing.
pub async fn acknowledge(messages: &[jetstream::Message], cumulative: bool) {
    let acks = if cumulative {
        &messages[messages.len().saturating_sub(1)..]
    } else {
        messages
    };
    for message in acks {
        if let Err(err) = message.ack().await {
            tracing::warn!(%err, "cannot acknowledge; the events will come again and change nothing");
        }
    }
}

/// Applies events (with their stream sequences, in order) to a read model as
/// the projector does, without coalescing.
pub async fn apply_events(model: &ReadModel, events: &[(u64, Envelope)]) -> anyhow::Result<()> {
    let mut uncounted = load_uncounted(model).await?;
    let all: Vec<Write> = events
        .iter()
        .flat_map(|(seq, envelope)| writes(*seq as i64, envelope, &mut uncounted))
        .collect();
    let position = events.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
    write_all(model, &all, &[], position, BULK_COMMAND, None, || {}).await?;
    Ok(())
}

/// What a written plan did.
#[derive(Debug)]
pub struct Written {
    /// Statements sent (after coalescing).
    pub statements: u64,
    pub parked: Vec<ParkedEvent>,
    pub position: u64,
}

/// One generation of the read model as the pipeline writes it: its
/// documents, its blocked documents (the planner's state) and how far it may
/// coalesce. Shared by the live loop, rebuilds and verification.
pub struct Projection {
    pub model: ReadModel,
    pub blocked: Blocked,
    /// The threads whose votes do not count (the planner's other state).
    pub uncounted: Uncounted,
    pub settings: Settings,
    /// Coalescing is safe once the position passes what an earlier run may
    /// have written in other batch boundaries.
    pub coalesce_after: u64,
    /// The store guard: this instance's right to write (none for a model
    /// only this process writes, such as a test's).
    pub fence: Option<Arc<Fence>>,
    /// The position this generation's document records, as this instance
    /// last wrote or claimed it: where the next batch starts from.
    pub recorded: u64,
}

impl Projection {
    /// Opens a generation; with a fence, claims its position document for
    /// this instance's epoch (a deposed instance gets [`Deposed`]).
    pub async fn open(
        model: ReadModel,
        settings: Settings,
        fence: Option<Arc<Fence>>,
    ) -> anyhow::Result<Self> {
        let blocked = parking::load_blocked(&model).await?;
        let uncounted = load_uncounted(&model).await?;
        // A run writes at most one batch beyond the position it records, so
        // an earlier run may have written up to its batch size past it, in its
        // own batch boundaries. Every run records its batch size before its
        // first batch; until the position passes that region, nothing is
        // coalesced.
        let state = model
            .state
            .find_one_and_update(
                doc! {field::ID: model.position_id()},
                doc! {"$max": {field::MAX_BATCH: settings.span() as i64}},
            )
            .upsert(true)
            .await?;
        let recorded = |name: &str| fence::recorded(state.as_ref(), name);
        // The document as it was: what earlier runs recorded.
        let coalesce_after = recorded(field::POSITION) + recorded(field::MAX_BATCH);
        let recorded = match &fence {
            Some(fence) => {
                let epoch = fence.valid_epoch()?;
                match fence::claim(&model, epoch).await {
                    Ok(position) => position,
                    Err(GuardError::Deposed(deposed)) => return Err(deposed.into()),
                    Err(GuardError::Store(err)) => return Err(err.into()),
                }
            }
            None => model.position().await?,
        };
        Ok(Self {
            model,
            blocked,
            uncounted,
            settings,
            coalesce_after,
            fence,
            recorded,
        })
    }

    /// Plans delivered events against this generation's blocked documents.
    pub fn plan(&mut self, events: &[Delivered]) -> Plan {
        plan::plan(
            &mut self.blocked,
            &mut self.uncounted,
            self.settings.max_schema_version,
            events,
        )
    }

    /// The guard of the next batch, if this generation is fenced.
    fn guard(&self) -> Option<Guard<'_>> {
        self.fence.as_deref().map(|fence| Guard {
            fence,
            from: self.recorded,
        })
    }

    /// Whether a batch starting at `first` may merge statements.
    pub fn may_coalesce(&self, first: u64) -> bool {
        first > self.coalesce_after
    }

    /// Writes merged statements; waits while MongoDB is unavailable
    /// (`on_wait`), until `stop`. A refusal is returned at once: which event
    /// caused it is unknown.
    pub async fn write_merged(
        &mut self,
        statements: &[Write],
        batch: &Batch,
        per_command: usize,
        mut stop: Option<&mut watch::Receiver<bool>>,
        on_wait: impl Fn(),
        on_visible: impl Fn(),
    ) -> Result<(), WriteFailure> {
        let mut backoff = Backoff::default();
        loop {
            let written = write_all(
                &self.model,
                statements,
                &batch.parked,
                batch.position,
                per_command,
                self.guard(),
                &on_visible,
            );
            match written.await {
                Ok(()) => {
                    self.recorded = batch.position;
                    return Ok(());
                }
                Err(WriteFailure::Unavailable(err)) => {
                    on_wait();
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff.delay(), "cannot write the read model");
                }
                other => return other,
            }
            if backoff.wait(stop.as_deref_mut()).await {
                return Err(stopped());
            }
        }
    }

    /// Writes a plan and the new position. Statements MongoDB refuses are
    /// retried; after `max_attempts` the events are written one by one and
    /// the refused ones parked.
    /// `on_visible` is called once the documents are written, before the
    /// position is: reads may see the batch from then on.
    pub async fn write(
        &mut self,
        mut plan: Plan,
        mut stop: Option<&mut watch::Receiver<bool>>,
        on_wait: impl Fn(),
        on_visible: impl Fn(u64),
    ) -> Result<Written, WriteFailure> {
        let mut attempts = 0;
        let mut backoff = Backoff::default();
        loop {
            let coalescing = plan.position > 0
                && plan
                    .events
                    .first()
                    .is_some_and(|(seq, _, _)| self.may_coalesce(*seq));
            // The plan keeps each event's own writes, in case a refused
            // statement has to be found; merged ones are dropped as they merge.
            let all = plan.events.iter().flat_map(|(_, _, w)| w.iter().cloned());
            let statements: Vec<Write> = if coalescing {
                coalesce(all)
            } else {
                all.collect()
            };
            let result = write_all(
                &self.model,
                &statements,
                &plan.parked,
                plan.position,
                LIVE_COMMAND,
                self.guard(),
                || on_visible(plan.position),
            )
            .await;
            match result {
                Ok(()) => {
                    self.recorded = plan.position;
                    return Ok(Written {
                        statements: statements.len() as u64,
                        parked: plan.parked,
                        position: plan.position,
                    });
                }
                Err(WriteFailure::Unavailable(err)) => {
                    on_wait();
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff.delay(), "cannot write the read model");
                }
                Err(deposed @ WriteFailure::Deposed(_)) => return Err(deposed),
                Err(WriteFailure::Rejected(err)) => {
                    attempts += 1;
                    tracing::warn!(
                        error = format!("{err:#}"),
                        attempts,
                        "MongoDB refused a batch"
                    );
                    if attempts >= self.settings.max_attempts {
                        plan = self.isolate(plan).await?;
                        attempts = 0;
                        continue;
                    }
                }
            }
            if backoff.wait(stop.as_deref_mut()).await {
                return Err(stopped());
            }
        }
    }

    /// Writes each event of a refused batch on its own; parks those refused.
    async fn isolate(&mut self, plan: Plan) -> Result<Plan, WriteFailure> {
        if let Some(fence) = &self.fence {
            fence.valid_epoch()?;
        }
        let mut kept = Plan {
            events: Vec::new(),
            parked: plan.parked,
            position: plan.position,
        };
        for (seq, subject, event_writes) in plan.events {
            if let Some(parked) = self.blocked.park_if_behind(seq, &subject, &event_writes) {
                kept.parked.push(parked);
                continue;
            }
            match write_statements(&self.model, &event_writes, LIVE_COMMAND).await {
                Ok(()) => kept.events.push((seq, subject, Vec::new())),
                Err(WriteFailure::Rejected(err)) => {
                    tracing::error!(
                        seq,
                        error = format!("{err:#}"),
                        "event parked after repeated refusals"
                    );
                    let parked =
                        self.blocked
                            .park(seq, &subject, &event_writes, None, format!("{err:#}"));
                    kept.parked.push(parked);
                }
                Err(unavailable) => return Err(unavailable),
            }
        }
        Ok(kept)
    }
}

fn stopped() -> WriteFailure {
    WriteFailure::Unavailable(anyhow::anyhow!("stopped while MongoDB was unavailable"))
}
