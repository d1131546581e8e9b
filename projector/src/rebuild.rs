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
    collections::VecDeque,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    consumer::{DeliverPolicy, pull},
};
use flow_readmodel::{ACTIVE_GENERATION_ID, GENERATION_COLLECTIONS, ReadModel};
use futures::StreamExt;
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::runner::{
    BULK_COMMAND, Control, Delivered, Folded, Projection, Settings, Status, WriteFailure, write_all,
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
/// How many merged statements a rebuild holds before writing them.
const FOLD_LIMIT: usize = 5_000;

/// The events of many batches folded into one statement per document and
/// written together: no one reads a generation being built, so it only
/// needs to be exact when it is handed over. The memory it takes is bounded
/// by the number of statements, not of events.
#[derive(Default)]
struct Fold(Folded);

/// MongoDB refused a folded write; which event caused it is unknown.
#[derive(Debug, thiserror::Error)]
#[error("MongoDB refused a folded write: {0:#}")]
struct FoldRefused(anyhow::Error);

impl Fold {
    /// Writes what is held; waits for MongoDB while it is unavailable.
    async fn flush(&mut self, projection: &Projection) -> anyhow::Result<()> {
        let statements = self.0.coalescer.take();
        let parked = std::mem::take(&mut self.0.parked);
        let mut backoff = Duration::from_millis(100);
        loop {
            let written = write_all(
                &projection.model,
                &statements,
                &parked,
                self.0.position,
                BULK_COMMAND,
                || {},
            );
            match written.await {
                Ok(()) => return Ok(()),
                Err(WriteFailure::Rejected(err)) => return Err(FoldRefused(err).into()),
                Err(WriteFailure::Unavailable(err)) => {
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff, "cannot write the rebuilt generation");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

pub struct Rebuilder {
    pub stream: jetstream::stream::Stream,
    pub live: ReadModel,
    pub filter_subject: String,
    pub status: Arc<Status>,
    pub control: mpsc::Sender<Control>,
    pub settings: Settings,
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
        .delete_one(doc! {"_id": model.position_id()})
        .await?;
    Ok(())
}

impl Rebuilder {
    fn progress(&self, kind: Kind, generation: u64, position: u64, started: Instant, state: &str) {
        let target = self
            .status
            .stream_last
            .load(Ordering::Relaxed)
            .max(position);
        let elapsed = started.elapsed().as_secs_f64().max(0.001);
        let rate = position as f64 / elapsed;
        let eta = if rate > 0.0 {
            (target - position) as f64 / rate
        } else {
            0.0
        };
        let value = json!({
            "kind": kind.name(),
            "generation": generation,
            "state": state,
            "position": position,
            "target": target,
            "events_per_second": rate.round(),
            "elapsed_seconds": elapsed.round(),
            "eta_seconds": eta.round(),
        });
        if let Ok(mut slot) = self.status.rebuild.lock() {
            *slot = Some(value);
        }
    }

    /// Runs a rebuild or a verification to its end; returns its report.
    /// Events are folded across batches; if MongoDB refuses a folded write,
    /// the generation is built again batch by batch, where a refused event
    /// can be found and parked.
    pub async fn run(&self, kind: Kind) -> anyhow::Result<Value> {
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

    async fn pass(&self, kind: Kind, folding: bool) -> anyhow::Result<Value> {
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
        let mut projection = Projection::open(model.clone(), settings).await?;
        // A fresh generation: nothing was written in other batch boundaries.
        projection.coalesce_after = 0;
        let started = Instant::now();
        self.progress(kind, generation, 0, started, "building");

        let consumer = self
            .stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: self.filter_subject.clone(),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?;
        let mut pending: VecDeque<Delivered> = VecDeque::new();
        let mut position = 0u64;
        let mut fold = Fold::default();

        // Build up to the live position, as long as the live loop keeps moving.
        loop {
            let live = self.status.position.load(Ordering::Relaxed);
            if pending.front().is_none_or(|d| d.seq <= live) {
                match tokio::time::timeout(Duration::from_millis(500), messages.next()).await {
                    Ok(Some(first)) => {
                        let chunk = crate::runner::fill(
                            &mut messages,
                            vec![first],
                            REBUILD_BATCH,
                            Duration::from_millis(50),
                        )
                        .await;
                        queue(&mut pending, chunk)?
                    }
                    Ok(None) => anyhow::bail!("the stream ended while rebuilding"),
                    Err(_) => {}
                }
            }
            let live = self.status.position.load(Ordering::Relaxed);
            let ready: Vec<Delivered> = drain_upto(&mut pending, live);
            if !ready.is_empty() {
                if folding {
                    fold.0.add(projection.plan(&ready));
                    if fold.0.coalescer.len() >= FOLD_LIMIT {
                        fold.flush(&projection).await?;
                    }
                    position = fold.0.position;
                } else {
                    position = apply(&mut projection, &ready).await?;
                }
                self.progress(kind, generation, position, started, "building");
                continue;
            }
            if position >= live {
                break;
            }
        }
        if !fold.0.coalescer.is_empty() || !fold.0.parked.is_empty() {
            fold.flush(&projection).await?;
        }

        // Hand over at a batch boundary of the live loop.
        self.progress(kind, generation, position, started, "handing over");
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
        while position < live_position {
            if pending.is_empty() {
                let first = tokio::time::timeout(Duration::from_secs(30), messages.next())
                    .await
                    .map_err(|_| {
                        anyhow::anyhow!("the stream stopped delivering while handing over")
                    })?
                    .ok_or_else(|| anyhow::anyhow!("the stream ended while handing over"))?;
                let chunk =
                    crate::runner::fill(&mut messages, vec![first], REBUILD_BATCH, Duration::ZERO)
                        .await;
                queue(&mut pending, chunk)?;
            }
            let ready = drain_upto(&mut pending, live_position);
            if ready.is_empty() && pending.front().is_some_and(|d| d.seq > live_position) {
                break;
            }
            if !ready.is_empty() {
                position = apply(&mut projection, &ready).await?;
            }
        }

        match kind {
            Kind::Rebuild => {
                let switched = async {
                    self.live
                        .state
                        .update_one(
                            doc! {"_id": ACTIVE_GENERATION_ID},
                            doc! {"$set": {"generation": generation as i64}},
                        )
                        .upsert(true)
                        .await?;
                    anyhow::Ok(())
                }
                .await;
                if let Err(err) = switched {
                    let _ = resume_tx.send(None);
                    return Err(err);
                }
                let _ = resume_tx.send(Some((model.clone(), live_position)));
                self.progress(kind, generation, position, started, "switched");
                tracing::info!(
                    generation,
                    position,
                    "rebuild switched to the new generation"
                );
                let old = self.live.with_generation(live_generation);
                tokio::spawn(async move {
                    tokio::time::sleep(DROP_GRACE).await;
                    if let Err(err) = drop_generation(&old).await {
                        tracing::warn!(
                            error = format!("{err:#}"),
                            "cannot drop the old generation"
                        );
                    }
                });
                Ok(json!({
                    "result": "switched",
                    "generation": generation,
                    "position": position,
                    "seconds": started.elapsed().as_secs_f64(),
                }))
            }
            Kind::Verify => {
                let live = self.live.with_generation(live_generation);
                let difference = compare(&live, &model).await;
                let _ = resume_tx.send(None);
                self.progress(kind, generation, position, started, "done");
                drop_generation(&model).await?;
                let difference = difference?;
                Ok(json!({
                    "result": if difference.is_none() { "equal" } else { "different" },
                    "position": position,
                    "first_difference": difference,
                    "seconds": started.elapsed().as_secs_f64(),
                }))
            }
        }
    }
}

/// Queues a chunk of the ordered consumer's messages.
fn queue<E: std::fmt::Display + Send + Sync + 'static>(
    pending: &mut VecDeque<Delivered>,
    chunk: Vec<Result<jetstream::Message, E>>,
) -> anyhow::Result<()> {
    for message in chunk {
        let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        pending.push_back(Delivered {
            seq: info.stream_sequence,
            subject: message.subject.to_string(),
            payload: message.payload.clone(),
            stored_ms: 0,
        });
    }
    Ok(())
}

fn drain_upto(pending: &mut VecDeque<Delivered>, upto: u64) -> Vec<Delivered> {
    let mut ready = Vec::new();
    while pending.front().is_some_and(|d| d.seq <= upto) {
        if let Some(d) = pending.pop_front() {
            ready.push(d);
        }
    }
    ready
}

async fn apply(projection: &mut Projection, events: &[Delivered]) -> anyhow::Result<u64> {
    let plan = projection.plan(events);
    let written = projection.write(plan, None, || {}, |_| {}).await?;
    Ok(written.position)
}

/// The first document that differs between two generations, if any.
pub async fn compare(live: &ReadModel, rebuilt: &ReadModel) -> anyhow::Result<Option<Value>> {
    for base in GENERATION_COLLECTIONS {
        let mut left = live
            .db
            .collection::<Document>(&live.collection(base))
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await?;
        let mut right = rebuilt
            .db
            .collection::<Document>(&rebuilt.collection(base))
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await?;
        loop {
            let (a, b) = (
                left.next().await.transpose()?,
                right.next().await.transpose()?,
            );
            if a.is_none() && b.is_none() {
                break;
            }
            if a != b {
                return Ok(Some(json!({
                    "collection": base,
                    "live": a.map(|d| mongodb::bson::Bson::Document(d).into_relaxed_extjson()),
                    "rebuilt": b.map(|d| mongodb::bson::Bson::Document(d).into_relaxed_extjson()),
                })));
            }
        }
    }
    Ok(None)
}
