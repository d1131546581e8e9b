//! Rebuilding the read model from the first event, and verifying it.
//!
//! Both run inside the projector while it keeps projecting live: a new
//! generation of the collections is built from the stream with an ordered
//! consumer, never ahead of the live position; when it has caught up, the live
//! loop pauses at a batch boundary, the new generation is brought to exactly
//! the live position, and then
//! - `rebuild` makes it the active generation (query-api switches on its next
//!   request) and drops the old one after a grace period;
//! - `verify` compares it document by document with the live generation,
//!   resumes the live loop and drops the scratch generation.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_nats::jetstream;
use flow_readmodel::{ACTIVE_GENERATION_ID, GENERATION_COLLECTIONS, ReadModel, field};
use futures::StreamExt;
use mongodb::bson::{Document, doc};
use tokio::sync::{mpsc, oneshot};

use crate::{
    batch::Batch,
    fence::Fence,
    flush::FlushPolicy,
    plan::Delivered,
    reply::{Difference, Reply},
    runner::Control,
    settings::Settings,
    sink::Projection,
    source::OrderedSource,
    status::{RebuildProgress, Status},
    store::WriteFailure,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rebuild,
    Verify,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Rebuild => "rebuild",
            Self::Verify => "verify",
        }
    }
}

/// Scratch generations for `verify` live far above real ones.
const SCRATCH_BASE: u64 = 1_000_000;
/// How long the old generation stays after a switch, for reads in flight.
pub const DROP_GRACE: Duration = Duration::from_secs(10);
const REBUILD_BATCH: usize = 1_000;

/// MongoDB refused a folded write; which event caused it is unknown.
#[derive(Debug, thiserror::Error)]
#[error("MongoDB refused a folded write: {0:#}")]
struct FoldRefused(anyhow::Error);

/// Writes a folded batch of a generation being built; waits for MongoDB
/// while it is unavailable. No one reads a generation being built, so it
/// only needs to be exact when it is handed over.
async fn commit(
    projection: &mut Projection,
    policy: &FlushPolicy,
    held: &mut Batch,
) -> anyhow::Result<()> {
    let mut batch = std::mem::take(held);
    let statements = batch.statements.take();
    let per_command = policy.per_command(&batch);
    match projection
        .write_merged(&statements, &batch, per_command, None, || {}, || {})
        .await
    {
        Ok(()) => Ok(()),
        Err(WriteFailure::Rejected(err)) => Err(FoldRefused(err).into()),
        Err(unavailable) => Err(unavailable.into()),
    }
}

/// Writes events batch by batch, where a refused event can be found and
/// parked; returns the position reached.
async fn apply(projection: &mut Projection, events: &[Delivered]) -> anyhow::Result<u64> {
    let plan = projection.plan(events);
    let written = projection.write(plan, None, || {}, |_| {}).await?;
    Ok(written.position)
}

pub struct Rebuilder {
    pub stream: jetstream::stream::Stream,
    pub live: ReadModel,
    pub filter_subject: String,
    pub status: Arc<Status>,
    pub control: mpsc::Sender<Control>,
    pub settings: Settings,
    /// The store guard: a rebuild writes only while this instance is active.
    pub fence: Arc<Fence>,
}

async fn drop_generation(model: &ReadModel) -> anyhow::Result<()> {
    for base in GENERATION_COLLECTIONS {
        model
            .db
            .collection::<Document>(&model.collection(base))
            .drop()
            .await?;
    }
    model
        .state
        .delete_one(doc! {field::ID: model.position_id()})
        .await?;
    Ok(())
}

/// One rebuild or verification under way, for its progress reports.
struct Run {
    kind: Kind,
    generation: u64,
    started: Instant,
}

type Resume = oneshot::Sender<Option<(ReadModel, u64)>>;

/// A generation brought to the live position while the live loop waits.
struct Handover {
    model: ReadModel,
    live_generation: u64,
    position: u64,
    resume: Resume,
}

impl Rebuilder {
    fn progress(&self, run: &Run, position: u64, state: &str) {
        let target = self
            .status
            .stream_last
            .load(Ordering::Relaxed)
            .max(position);
        let elapsed = run.started.elapsed().as_secs_f64().max(0.001);
        let rate = position as f64 / elapsed;
        let eta = if rate > 0.0 {
            (target - position) as f64 / rate
        } else {
            0.0
        };
        let value = RebuildProgress {
            kind: run.kind.name().to_owned(),
            generation: run.generation,
            state: state.to_owned(),
            position,
            target,
            events_per_second: rate.round(),
            elapsed_seconds: elapsed.round(),
            eta_seconds: eta.round(),
        };
        if let Ok(mut slot) = self.status.rebuild.lock() {
            *slot = Some(value);
        }
    }

    /// Runs a rebuild or a verification to its end; returns its report.
    /// Events are folded across batches; if MongoDB refuses a folded write,
    /// the generation is built again batch by batch, where a refused event
    /// can be found and parked.
    pub async fn run(&self, kind: Kind) -> anyhow::Result<Reply> {
        match self.pass(kind, true).await {
            Err(err) if err.downcast_ref::<FoldRefused>().is_some() => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "building the generation again, batch by batch"
                );
                self.pass(kind, false).await
            }
            other => other,
        }
    }

    async fn pass(&self, kind: Kind, folding: bool) -> anyhow::Result<Reply> {
        let live_generation = self.status.generation.load(Ordering::Relaxed);
        let generation = match kind {
            Kind::Rebuild => live_generation + 1,
            Kind::Verify => SCRATCH_BASE + live_generation,
        };
        let model = self.live.with_generation(generation);
        drop_generation(&model).await?;
        model.ensure_indexes().await?;
        let settings = Settings {
            batch_size: REBUILD_BATCH,
            ..self.settings
        };
        // Unfenced: no one reads or writes a generation being built; the
        // switch to it is guarded (`still_active`), and the live loop claims
        // it for its epoch when it projects into it.
        let mut projection = Projection::open(model.clone(), settings, None).await?;
        // A fresh generation: nothing was written in other batch boundaries.
        projection.coalesce_after = 0;
        let run = Run {
            kind,
            generation,
            started: Instant::now(),
        };
        self.progress(&run, 0, "building");
        let mut source =
            OrderedSource::open(&self.stream, self.filter_subject.clone(), REBUILD_BATCH).await?;
        let position = self
            .build(&run, &mut projection, &mut source, folding)
            .await?;

        // Hand over at a batch boundary of the live loop.
        self.progress(&run, position, "handing over");
        let (live_position, resume) = self.pause_live().await?;
        let position = catch_up(&mut projection, &mut source, position, live_position).await?;
        let handover = Handover {
            model,
            live_generation,
            position,
            resume,
        };
        match kind {
            Kind::Rebuild => self.switch(&run, handover).await,
            Kind::Verify => self.verify(&run, handover).await,
        }
    }

    /// Builds up to the live position, as long as the live loop keeps moving;
    /// returns the position reached.
    async fn build(
        &self,
        run: &Run,
        projection: &mut Projection,
        source: &mut OrderedSource,
        folding: bool,
    ) -> anyhow::Result<u64> {
        let policy = FlushPolicy::bulk();
        let mut batch = Batch::default();
        let mut position = 0u64;
        loop {
            let live = self.status.position.load(Ordering::Relaxed);
            if source.next_seq().is_none_or(|seq| seq <= live) {
                let wait = Duration::from_millis(500);
                source
                    .read(wait, Duration::from_millis(50))
                    .await
                    .context("while rebuilding")?;
            }
            let live = self.status.position.load(Ordering::Relaxed);
            let ready = source.take_upto(live);
            if ready.is_empty() {
                if position >= live {
                    break;
                }
                continue;
            }
            if folding {
                let plan = projection.plan(&ready);
                batch.add(plan, &ready, Instant::now());
                position = batch.position;
                if policy.full(&batch) {
                    commit(projection, &policy, &mut batch).await?;
                }
            } else {
                position = apply(projection, &ready).await?;
            }
            self.progress(run, position, "building");
        }
        if !batch.is_empty() {
            commit(projection, &policy, &mut batch).await?;
        }
        Ok(position)
    }

    /// Pauses the live loop at a batch boundary; returns its position and
    /// how to resume it.
    async fn pause_live(&self) -> anyhow::Result<(u64, Resume)> {
        let (paused_tx, paused_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = oneshot::channel();
        self.control
            .send(Control::Pause {
                paused: paused_tx,
                resume: resume_rx,
            })
            .await
            .map_err(|_| anyhow::anyhow!("the live projection is not running"))?;
        let live_position = paused_rx
            .await
            .map_err(|_| anyhow::anyhow!("the live projection did not pause"))?;
        Ok((live_position, resume_tx))
    }

    /// Whether this instance's epoch still holds the live generation.
    async fn still_active(&self, live_generation: u64) -> anyhow::Result<()> {
        let epoch = self.fence.valid_epoch()?;
        crate::fence::claim(&self.live.with_generation(live_generation), epoch)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    /// Makes the new generation the active one and drops the old one after
    /// a grace period.
    async fn switch(&self, run: &Run, handover: Handover) -> anyhow::Result<Reply> {
        let Handover {
            model,
            live_generation,
            position,
            resume,
        } = handover;
        let generation = run.generation;
        // Only while this instance still holds the live generation: a
        // deposed one must not switch what the active one projects into.
        if let Err(err) = self.still_active(live_generation).await {
            let _ = resume.send(None);
            return Err(err);
        }
        let switched = self
            .live
            .state
            .update_one(
                doc! {field::ID: ACTIVE_GENERATION_ID},
                doc! {"$set": {field::GENERATION: generation as i64}},
            )
            .upsert(true)
            .await;
        if let Err(err) = switched {
            let _ = resume.send(None);
            return Err(err.into());
        }
        let _ = resume.send(Some((model, position)));
        self.progress(run, position, "switched");
        tracing::info!(
            generation,
            position,
            "rebuild switched to the new generation"
        );
        let old = self.live.with_generation(live_generation);
        tokio::spawn(async move {
            tokio::time::sleep(DROP_GRACE).await;
            if let Err(err) = drop_generation(&old).await {
                tracing::warn!(error = format!("{err:#}"), "cannot drop the old generation");
            }
        });
        Ok(Reply {
            result: Some("switched".into()),
            generation: Some(generation),
            position: Some(position),
            seconds: Some(run.started.elapsed().as_secs_f64()),
            ..Reply::default()
        })
    }

    /// Compares the scratch generation with the live one, resumes the live
    /// loop and drops the scratch generation.
    async fn verify(&self, run: &Run, handover: Handover) -> anyhow::Result<Reply> {
        let live = self.live.with_generation(handover.live_generation);
        let difference = compare(&live, &handover.model).await;
        let _ = handover.resume.send(None);
        let position = handover.position;
        self.progress(run, position, "done");
        drop_generation(&handover.model).await?;
        let difference = difference?;
        let result = if difference.is_none() {
            "equal"
        } else {
            "different"
        };
        Ok(Reply {
            result: Some(result.into()),
            position: Some(position),
            first_difference: difference,
            seconds: Some(run.started.elapsed().as_secs_f64()),
            ..Reply::default()
        })
    }
}

/// Brings the new generation to exactly the live position, batch by batch.
async fn catch_up(
    projection: &mut Projection,
    source: &mut OrderedSource,
    mut position: u64,
    live_position: u64,
) -> anyhow::Result<u64> {
    while position < live_position {
        if source.next_seq().is_none() {
            let read = source
                .read(Duration::from_secs(30), Duration::ZERO)
                .await
                .context("while handing over")?;
            if !read {
                anyhow::bail!("the stream stopped delivering while handing over");
            }
        }
        let ready = source.take_upto(live_position);
        if ready.is_empty() && source.next_seq().is_some_and(|seq| seq > live_position) {
            break;
        }
        if !ready.is_empty() {
            position = apply(projection, &ready).await?;
        }
    }
    Ok(position)
}

/// The first document that differs between two generations, if any.
pub async fn compare(live: &ReadModel, rebuilt: &ReadModel) -> anyhow::Result<Option<Difference>> {
    for base in GENERATION_COLLECTIONS {
        let mut left = sorted(live, base).await?;
        let mut right = sorted(rebuilt, base).await?;
        loop {
            let (a, b) = (
                left.next().await.transpose()?,
                right.next().await.transpose()?,
            );
            if a.is_none() && b.is_none() {
                break;
            }
            if a != b {
                let json = |d| mongodb::bson::Bson::Document(d).into_relaxed_extjson();
                return Ok(Some(Difference {
                    collection: (*base).to_owned(),
                    live: a.map(json),
                    rebuilt: b.map(json),
                }));
            }
        }
    }
    Ok(None)
}

/// Every document of a collection of a generation, by `_id`.
async fn sorted(
    model: &ReadModel,
    base: &str,
) -> mongodb::error::Result<mongodb::Cursor<Document>> {
    model
        .db
        .collection::<Document>(&model.collection(base))
        .find(doc! {})
        .sort(doc! {field::ID: 1})
        .await
}
