//! The projection loop: a durable pull consumer with explicit acks, applied
//! strictly in stream order, in batches of bulk writes; acknowledged only
//! after the documents and the position are written.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
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
use flow_domain::events::{Envelope, Subjects};
use flow_readmodel::{PARKED, ReadModel};
use flow_runtime::nats::PositionAnnouncement;
use futures::StreamExt;
use mongodb::bson::{Document, RawArrayBuf, RawDocumentBuf, doc};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    coalesce::coalesce,
    parking::{self, Blocked, ParkedEvent},
    projection::{Write, writes},
};

/// How the projector applies events.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Events per batch.
    pub batch_size: usize,
    /// Attempts before an event that MongoDB refuses is parked.
    pub max_attempts: u32,
    /// The newest event schema version this projector understands.
    pub max_schema_version: u16,
    /// Events of successive batches folded into one write while more wait.
    pub fold_events: usize,
}

impl Settings {
    /// The most events one write may span: a batch, or a live fold of many.
    pub fn span(&self) -> u64 {
        (self.batch_size + self.fold_events) as u64
    }
}

/// While more events wait (a backlog), up to this many events of successive
/// batches are folded into one write by default: each document is written
/// once for all of them.
pub const LIVE_FOLD_EVENTS: usize = 20_000;
/// A fold is written once it holds this many statements (one per document
/// for votes; a few per proposal) ...
const LIVE_FOLD_STATEMENTS: usize = 5_000;
/// ... or is this old (decoding and planning 20,000 events takes about half
/// a second), so that reads see progress at least this often under a long
/// backlog.
const LIVE_FOLD_AGE: Duration = Duration::from_secs(1);
/// ... or nothing more arrived for this long (the backlog may be held back by
/// the server, for one: acknowledgements pending from before a restart).
const LIVE_FOLD_IDLE: Duration = Duration::from_millis(25);

/// The planned writes of many batches merged into one statement per
/// document, with what they parked and the position they bring the read
/// model to. Only merged statements are kept, not the events.
#[derive(Default)]
pub struct Folded {
    pub coalescer: crate::coalesce::Coalescer,
    pub parked: Vec<ParkedEvent>,
    pub position: u64,
}

impl Folded {
    pub fn add(&mut self, plan: Plan) {
        for (_, _, writes) in plan.events {
            for write in writes {
                self.coalescer.push(write);
            }
        }
        self.parked.extend(plan.parked);
        self.position = plan.position;
    }
}

/// Live batches folded into one write. If MongoDB refuses the write, the
/// events are read again and applied batch by batch, where the refused one
/// can be found and parked.
#[derive(Default)]
pub struct LiveFold {
    folded: Folded,
    events: u64,
    last_stored: u64,
    /// Acknowledges every folded event (cumulative acks).
    last_message: Option<jetstream::Message>,
    started: Option<std::time::Instant>,
    /// When the last batch was folded in.
    added: Option<std::time::Instant>,
}

impl LiveFold {
    fn is_empty(&self) -> bool {
        self.started.is_none()
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        let aged = self.started? + LIVE_FOLD_AGE;
        let idle = self.added? + LIVE_FOLD_IDLE;
        Some(tokio::time::Instant::from_std(aged.min(idle)))
    }

    fn full(&self, max_events: usize) -> bool {
        self.events >= max_events as u64
            || self.folded.coalescer.len() >= LIVE_FOLD_STATEMENTS
            || self
                .started
                .is_some_and(|started| started.elapsed() >= LIVE_FOLD_AGE)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            max_attempts: 5,
            max_schema_version: flow_domain::events::SCHEMA_VERSION,
            fold_events: LIVE_FOLD_EVENTS,
        }
    }
}

/// What the projector reports about itself.
#[derive(Debug, Default)]
pub struct Status {
    /// The generation being served and projected live.
    pub generation: AtomicU64,
    pub position: AtomicU64,
    pub stream_last: AtomicU64,
    /// When the last applied event was stored (ms since the epoch).
    pub last_applied_stored_ms: AtomicU64,
    pub applied_events: AtomicU64,
    pub writes: AtomicU64,
    pub batches: AtomicU64,
    /// Time from a batch's first event received to its documents written,
    /// summed over batches (µs).
    pub batch_micros: AtomicU64,
    pub parked: AtomicU64,
    pub redelivered: AtomicU64,
    pub store_ok: AtomicBool,
    pub rebuild: Mutex<Option<serde_json::Value>>,
}

fn now_ms() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl Status {
    /// Counts a written batch (or fold): MongoDB accepts writes again.
    fn record_write(
        &self,
        events: u64,
        statements: u64,
        parked: u64,
        last_stored_ms: u64,
        visible_after: Duration,
    ) {
        self.store_ok.store(true, Ordering::Relaxed);
        self.applied_events.fetch_add(events, Ordering::Relaxed);
        self.writes.fetch_add(statements, Ordering::Relaxed);
        self.parked.fetch_add(parked, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_micros.fetch_add(
            u64::try_from(visible_after.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.last_applied_stored_ms
            .store(last_stored_ms, Ordering::Relaxed);
    }

    pub fn lag(&self) -> u64 {
        self.stream_last
            .load(Ordering::Relaxed)
            .saturating_sub(self.position.load(Ordering::Relaxed))
    }

    /// How long the oldest unapplied event has waited, roughly: the time since
    /// the last applied one was stored, while events wait.
    pub fn lag_seconds(&self) -> f64 {
        if self.lag() == 0 {
            return 0.0;
        }
        let stored = self.last_applied_stored_ms.load(Ordering::Relaxed);
        if stored == 0 {
            return 0.0;
        }
        now_ms().saturating_sub(stored) as f64 / 1000.0
    }
}

/// An event as delivered: sequence, subject, payload, when it was stored.
pub struct Delivered {
    pub seq: u64,
    pub subject: String,
    pub payload: bytes::Bytes,
    pub stored_ms: u64,
}

/// The writes for a run of consecutive events, and what had to be parked.
#[derive(Default)]
pub struct Plan {
    /// Each event's sequence, subject and writes.
    pub events: Vec<(u64, String, Vec<Write>)>,
    pub parked: Vec<ParkedEvent>,
    pub position: u64,
}

/// What a written plan did.
#[derive(Debug)]
pub struct Written {
    /// Statements sent (after coalescing).
    pub statements: u64,
    pub parked: Vec<ParkedEvent>,
    pub position: u64,
}

/// Why a batch could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    /// MongoDB could not be reached: retry, never park.
    #[error("MongoDB is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// MongoDB refused a statement: after some attempts, find and park it.
    #[error("MongoDB refused a write: {0:#}")]
    Rejected(anyhow::Error),
}

fn classify(err: mongodb::error::Error, what: &str) -> WriteFailure {
    use mongodb::error::ErrorKind;
    let rejected = matches!(
        *err.kind,
        ErrorKind::Command(_) | ErrorKind::Write(_) | ErrorKind::InvalidArgument { .. }
    );
    let err = anyhow::Error::from(err).context(what.to_owned());
    if rejected {
        WriteFailure::Rejected(err)
    } else {
        WriteFailure::Unavailable(err)
    }
}

/// Applies events to one generation of the read model: decoding, parking and
/// bulk writing. Shared by the live loop and rebuilds.
pub struct Projection {
    pub model: ReadModel,
    pub blocked: Blocked,
    pub settings: Settings,
    /// Coalescing is safe once the position passes what an earlier run may
    /// have written in other batch boundaries.
    pub coalesce_after: u64,
}

impl Projection {
    pub async fn open(model: ReadModel, settings: Settings) -> anyhow::Result<Self> {
        let blocked = parking::load_blocked(&model).await?;
        // A run writes at most one batch beyond the position it records, so
        // an earlier run may have written up to its batch size past it, in its
        // own batch boundaries. Every run records its batch size before its
        // first batch; until the position passes that region, nothing is
        // coalesced.
        let state = model
            .state
            .find_one_and_update(
                doc! {"_id": model.position_id()},
                doc! {"$max": {"max_batch": settings.span() as i64}},
            )
            .upsert(true)
            .await?;
        let field = |name: &str| {
            state
                .as_ref()
                .and_then(|d| d.get(name).map(flow_readmodel::bson_u64))
                .unwrap_or(0)
        };
        // The document as it was: what earlier runs recorded.
        let coalesce_after = field("position") + field("max_batch");
        Ok(Self {
            model,
            blocked,
            settings,
            coalesce_after,
        })
    }

    /// Decodes events and turns them into writes; parks what cannot be decoded
    /// and what waits behind a parked event.
    pub fn plan(&mut self, events: &[Delivered]) -> Plan {
        let mut plan = Plan::default();
        for event in events {
            plan.position = event.seq;
            let decoded = Envelope::from_json(&event.payload)
                .map_err(|e| e.to_string())
                .and_then(|envelope| {
                    if envelope.version > self.settings.max_schema_version {
                        Err(format!(
                            "schema version {} is newer than this projector understands ({})",
                            envelope.version, self.settings.max_schema_version
                        ))
                    } else {
                        Ok(envelope)
                    }
                });
            let envelope = match decoded {
                Ok(envelope) => envelope,
                Err(error) => {
                    tracing::error!(seq = event.seq, subject = %event.subject, %error, "undecodable event parked");
                    let blocks = parking::subject_keys(&event.subject);
                    let behind = self.blocked.blocking(&blocks);
                    self.blocked.block(&blocks, behind.unwrap_or(event.seq));
                    plan.parked.push(ParkedEvent {
                        seq: event.seq,
                        subject: event.subject.clone(),
                        error,
                        behind,
                        blocks,
                    });
                    continue;
                }
            };
            let event_writes = writes(event.seq as i64, &envelope);
            if let Some(parked) =
                self.blocked
                    .park_if_behind(event.seq, &event.subject, &event_writes)
            {
                plan.parked.push(parked);
                continue;
            }
            plan.events
                .push((event.seq, event.subject.clone(), event_writes));
        }
        plan
    }

    /// Writes a plan and the new position. Statements MongoDB refuses are
    /// retried; after `max_attempts` the events are written one by one and
    /// the refused ones parked.
    /// `on_visible` is called once the documents are written, before the
    /// position is: reads may see the batch from then on.
    pub async fn write(
        &mut self,
        mut plan: Plan,
        stop: Option<&mut watch::Receiver<bool>>,
        on_wait: impl Fn(),
        on_visible: impl Fn(u64),
    ) -> Result<Written, WriteFailure> {
        let mut attempts = 0;
        let mut backoff = Duration::from_millis(100);
        let mut stop = stop;
        loop {
            let coalescing = plan.position > 0
                && plan
                    .events
                    .first()
                    .is_some_and(|(seq, _, _)| *seq > self.coalesce_after);
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
                || on_visible(plan.position),
            )
            .await;
            match result {
                Ok(()) => {
                    return Ok(Written {
                        statements: statements.len() as u64,
                        parked: plan.parked,
                        position: plan.position,
                    });
                }
                Err(WriteFailure::Unavailable(err)) => {
                    on_wait();
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff, "cannot write the read model");
                }
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
            let stopped = match stop.as_deref_mut() {
                Some(stop) => sleep_or_stop(stop, &mut backoff).await,
                None => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    false
                }
            };
            if stopped {
                return Err(WriteFailure::Unavailable(anyhow::anyhow!(
                    "stopped while MongoDB was unavailable"
                )));
            }
        }
    }

    /// Writes each event of a refused batch on its own; parks those refused.
    async fn isolate(&mut self, plan: Plan) -> Result<Plan, WriteFailure> {
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

/// Writes statements, parked events and then the position they bring the
/// read model to.
/// Writes a batch in the order a crash relies on: the documents and parked
/// events, then (once they may be read: `on_visible`) the position.
pub async fn write_all(
    model: &ReadModel,
    statements: &[Write],
    parked: &[ParkedEvent],
    position: u64,
    per_command: usize,
    on_visible: impl FnOnce(),
) -> Result<(), WriteFailure> {
    write_statements(model, statements, per_command).await?;
    write_parked(model, parked).await?;
    on_visible();
    write_position(model, position).await
}

/// Statements per `update` command when rebuilding: few, large commands.
pub const BULK_COMMAND: usize = 1_000;

/// Statements per `update` command when live: a server that runs one command
/// at a time (as a single-process one does) serves reads between them, so a
/// read of a fresh write does not wait behind the whole of the next batch.
pub const LIVE_COMMAND: usize = 50;

/// Per collection, ordered multi-statement `update` commands of at most
/// `per_command` statements. Each command is built as raw BSON straight from
/// the writes: a large fold is not copied into document trees on its way out.
pub async fn write_statements(
    model: &ReadModel,
    writes: &[Write],
    per_command: usize,
) -> Result<(), WriteFailure> {
    let mut by_collection: BTreeMap<&'static str, Vec<&Write>> = BTreeMap::new();
    for write in writes {
        by_collection
            .entry(write.collection)
            .or_default()
            .push(write);
    }
    // Documents of different collections never depend on each other: their
    // commands go out at once, each collection's in order.
    let per_collection = by_collection.into_iter().map(|(base, writes)| async move {
        let collection = model.collection(base);
        for chunk in writes.chunks(per_command.max(1)) {
            let mut updates = RawArrayBuf::new();
            for write in chunk {
                let statement = write.raw_statement().map_err(|e| {
                    WriteFailure::Rejected(anyhow::anyhow!("a statement for {collection}: {e}"))
                })?;
                updates.push(statement);
            }
            let mut command = RawDocumentBuf::new();
            command.append("update", collection.as_str());
            command.append("updates", updates);
            command.append("ordered", true);
            let reply = model
                .db
                .run_raw_command(command)
                .await
                .map_err(|e| classify(e, &format!("update of {collection}")))?;
            if let Ok(errors) = reply.get_array("writeErrors")
                && !errors.is_empty()
            {
                return Err(WriteFailure::Rejected(anyhow::anyhow!(
                    "update of {collection} refused: {errors:?}"
                )));
            }
        }
        Ok(())
    });
    futures::future::try_join_all(per_collection).await?;
    Ok(())
}

async fn write_parked(model: &ReadModel, parked: &[ParkedEvent]) -> Result<(), WriteFailure> {
    if parked.is_empty() {
        return Ok(());
    }
    let statements: Vec<Document> = parked
        .iter()
        .map(|p| doc! {"q": {"_id": p.seq as i64}, "u": {"$setOnInsert": p.to_document()}, "upsert": true})
        .collect();
    model
        .db
        .run_command(
            doc! {"update": model.collection(PARKED), "updates": statements, "ordered": true},
        )
        .await
        .map(|_| ())
        .map_err(|e| classify(e, "cannot record parked events"))
}

async fn write_position(model: &ReadModel, position: u64) -> Result<(), WriteFailure> {
    model
        .state
        .update_one(
            doc! {"_id": model.position_id()},
            doc! {"$max": {"position": position as i64}},
        )
        .upsert(true)
        .await
        .map(|_| ())
        .map_err(|e| classify(e, "cannot record the position"))
}

/// Applies events (with their stream sequences, in order) to a read model as
/// the projector does, without coalescing.
pub async fn apply_events(model: &ReadModel, events: &[(u64, Envelope)]) -> anyhow::Result<()> {
    let all: Vec<Write> = events
        .iter()
        .flat_map(|(seq, envelope)| writes(*seq as i64, envelope))
        .collect();
    let position = events.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
    write_all(model, &all, &[], position, BULK_COMMAND, || {}).await?;
    Ok(())
}

/// Requests to the live loop, handled between batches.
pub enum Control {
    /// Stop applying and report the position; carry on when `resume` answers,
    /// with a new read model (and its position) to project into from then on.
    Pause {
        paused: oneshot::Sender<u64>,
        resume: oneshot::Receiver<Option<(ReadModel, u64)>>,
    },
    /// Re-apply a parked event and those parked behind it.
    Retry {
        seq: u64,
        reply: oneshot::Sender<Result<String, String>>,
    },
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

pub struct Runner {
    pub stream: JsStream,
    pub consumer: PullConsumer,
    pub durable: String,
    pub projection: Projection,
    pub client: async_nats::Client,
    pub subjects: Subjects,
    pub status: Arc<Status>,
    pub control: mpsc::Receiver<Control>,
    pub fold: LiveFold,
}

enum Next {
    Continue,
    Restart,
    Stop,
}

impl Runner {
    /// Applies the stream until `stop` turns true; the batch in hand is
    /// finished and acknowledged first.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut position = self
            .projection
            .model
            .position()
            .await
            .context("cannot read the projector position")?;
        self.status.position.store(position, Ordering::Relaxed);
        self.status
            .generation
            .store(self.projection.model.generation, Ordering::Relaxed);
        let batch_size = self.projection.settings.batch_size;
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
                .max_messages_per_batch(batch_size)
                .heartbeat(Duration::from_secs(5))
                // Pull requests of a run that died expire soon too.
                .expires(Duration::from_secs(10))
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
            let mut messages = messages;
            let mut last_batch: Option<std::time::Instant> = None;
            loop {
                let next = tokio::select! {
                    first = messages.next() => match first {
                        Some(first) => {
                            // Batches start at most every LINGER: within that,
                            // wait for a fuller batch (fewer, larger writes);
                            // events that came while the last batch was
                            // written take no longer than it did.
                            let received = std::time::Instant::now();
                            let linger = last_batch
                                .map(|last| (last + LINGER).saturating_duration_since(received))
                                .unwrap_or(LINGER);
                            last_batch = Some(received);
                            let chunk = fill(&mut messages, vec![first], batch_size, linger).await;
                            let batch: Vec<jetstream::Message> = chunk
                                .into_iter()
                                .filter_map(|m| m.map_err(|err| tracing::warn!(%err, "consumer error")).ok())
                                .collect();
                            self.apply_batch(batch, received, &mut position, &mut stop).await?
                        }
                        None => Next::Restart,
                    },
                    Some(control) = self.control.recv() => {
                        // A pause reports the written position: write what is folded first.
                        match self.flush(&mut position, &mut stop).await? {
                            Next::Continue => self.handle(control, &mut position).await,
                            other => other,
                        }
                    }
                    _ = tokio::time::sleep_until(self.fold.deadline().unwrap_or_else(tokio::time::Instant::now)), if !self.fold.is_empty() => {
                        self.flush(&mut position, &mut stop).await?
                    }
                    _ = stop.changed() => Next::Stop,
                };
                match next {
                    Next::Continue => {}
                    Next::Restart => {
                        // Not written, not recorded: read again after the reset.
                        self.fold = LiveFold::default();
                        continue 'consume;
                    }
                    Next::Stop => break 'consume,
                }
            }
        }
        Ok(())
    }

    async fn handle(&mut self, control: Control, position: &mut u64) -> Next {
        match control {
            Control::Pause { paused, resume } => {
                if paused.send(*position).is_err() {
                    return Next::Continue;
                }
                match tokio::time::timeout(Duration::from_secs(120), resume).await {
                    Ok(Ok(Some((model, new_position)))) => {
                        tracing::info!(
                            generation = model.generation,
                            position = new_position,
                            "projecting into a new generation"
                        );
                        match Projection::open(model, self.projection.settings).await {
                            Ok(projection) => {
                                self.projection = projection;
                                *position = new_position;
                                self.status
                                    .generation
                                    .store(self.projection.model.generation, Ordering::Relaxed);
                                self.status.position.store(new_position, Ordering::Relaxed);
                                self.announce().await;
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
                    _ => Next::Continue,
                }
            }
            Control::Retry { seq, reply } => {
                let result = self.retry(seq).await.map_err(|e| format!("{e:#}"));
                let _ = reply.send(result);
                Next::Continue
            }
        }
    }

    /// Re-applies parked event `seq` and, in order, those parked behind it.
    async fn retry(&mut self, seq: u64) -> anyhow::Result<String> {
        let parked = parking::list(&self.projection.model).await?;
        let root = parked
            .iter()
            .find(|p| p.seq == seq)
            .ok_or_else(|| anyhow::anyhow!("event {seq} is not parked"))?;
        if let Some(behind) = root.behind {
            anyhow::bail!("event {seq} waits behind parked event {behind}: retry {behind} first");
        }
        let chain: Vec<u64> = parked
            .iter()
            .filter(|p| p.seq == seq || p.behind == Some(seq))
            .map(|p| p.seq)
            .collect();
        let mut applied = Vec::new();
        for event_seq in chain {
            let message = self
                .stream
                .direct_get(event_seq)
                .await
                .with_context(|| format!("cannot read event {event_seq}"))?;
            let envelope = Envelope::from_json(&message.payload)
                .with_context(|| format!("event {event_seq} still cannot be decoded"))?;
            if envelope.version > self.projection.settings.max_schema_version {
                anyhow::bail!(
                    "event {event_seq} has schema version {}, newer than this projector understands",
                    envelope.version
                );
            }
            let event_writes: Vec<Write> = writes(event_seq as i64, &envelope)
                .into_iter()
                .map(parking::unguarded)
                .collect();
            write_statements(&self.projection.model, &event_writes, LIVE_COMMAND).await?;
            self.projection
                .model
                .db
                .collection::<Document>(&self.projection.model.collection(PARKED))
                .delete_one(doc! {"_id": event_seq as i64})
                .await?;
            applied.push(event_seq);
        }
        self.projection.blocked = parking::load_blocked(&self.projection.model).await?;
        self.status.parked.store(
            parking::list(&self.projection.model).await?.len() as u64,
            Ordering::Relaxed,
        );
        tracing::info!(?applied, "parked events applied");
        Ok(format!("applied {applied:?}"))
    }

    async fn apply_batch(
        &mut self,
        batch: Vec<jetstream::Message>,
        received: std::time::Instant,
        position: &mut u64,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Next> {
        let mut delivered = Vec::with_capacity(batch.len());
        let mut to_ack = Vec::with_capacity(batch.len());
        let mut stream_last = 0;
        let mut gap = false;
        let mut expected = self.fold.folded.position.max(*position) + 1;
        let mut waiting = 0;
        for message in batch {
            let Ok(info) = message.info() else { continue };
            let seq = info.stream_sequence;
            waiting = info.pending;
            if info.delivered > 1 {
                self.status.redelivered.fetch_add(1, Ordering::Relaxed);
            }
            stream_last = stream_last.max(seq + info.pending);
            let stored_ms =
                u64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
            if seq < expected {
                // Applied before (a redelivery): acknowledge, change nothing.
                to_ack.push(message);
                continue;
            }
            if seq != expected && !self.missing_from_stream(expected, seq).await? {
                // Something before this event was not delivered yet: go back for it.
                tracing::warn!(expected, got = seq, "gap in delivery; rewinding");
                gap = true;
                break;
            }
            delivered.push(Delivered {
                seq,
                subject: message.subject.to_string(),
                payload: message.payload.clone(),
                stored_ms,
            });
            expected = seq + 1;
            to_ack.push(message);
        }
        let cumulative = self.consumer.cached_info().config.ack_policy == AckPolicy::All;
        let foldable = cumulative
            && delivered
                .first()
                .is_some_and(|d| d.seq > self.projection.coalesce_after);
        if foldable || !self.fold.is_empty() {
            if !delivered.is_empty() {
                let plan = self.projection.plan(&delivered);
                let fold = &mut self.fold;
                fold.folded.add(plan);
                fold.events += delivered.len() as u64;
                fold.last_stored = delivered.last().map(|d| d.stored_ms).unwrap_or(0);
                fold.started.get_or_insert(received);
                fold.added = Some(std::time::Instant::now());
            }
            if let Some(last) = to_ack.pop() {
                self.fold.last_message = Some(last);
            }
            self.status
                .stream_last
                .fetch_max(stream_last, Ordering::Relaxed);
            let backlog = waiting >= self.projection.settings.batch_size as u64;
            if backlog && !gap && !self.fold.full(self.projection.settings.fold_events) {
                // At least another whole batch waits: fold it in before
                // writing. (Below that, each batch is written as it comes,
                // for freshness.)
                return Ok(Next::Continue);
            }
            let next = self.flush(position, stop).await?;
            return Ok(if gap { Next::Restart } else { next });
        }
        if !delivered.is_empty() {
            let events = delivered.len() as u64;
            let last_stored = delivered.last().map(|d| d.stored_ms).unwrap_or(0);
            let plan = self.projection.plan(&delivered);
            let status = self.status.clone();
            let progress = &to_ack;
            let (client, subjects) = (&self.client, &self.subjects);
            let filled = received.elapsed();
            let visible_after = std::sync::Mutex::new(None);
            let written = self
                .projection
                .write(
                    plan,
                    Some(stop),
                    || {
                        status.store_ok.store(false, Ordering::Relaxed);
                        for message in progress {
                            // Keep the batch ours while MongoDB is away.
                            let message = message.clone();
                            tokio::spawn(async move {
                                let _ = message.ack_with(AckKind::Progress).await;
                            });
                        }
                    },
                    |visible| {
                        if let Ok(mut after) = visible_after.lock() {
                            *after = Some(received.elapsed());
                        }
                        mark_visible(client, subjects, &status, visible);
                    },
                )
                .await;
            let written = match written {
                Ok(written) => written,
                Err(_) if *stop.borrow() => return Ok(Next::Stop),
                Err(err) => return Err(err.into()),
            };
            let visible = visible_after
                .lock()
                .ok()
                .and_then(|v| *v)
                .unwrap_or_else(|| received.elapsed());
            tracing::debug!(
                events,
                statements = written.statements,
                filled = ?filled,
                visible = ?visible,
                recorded = ?received.elapsed(),
                "batch written"
            );
            *position = written.position;
            self.status.record_write(
                events,
                written.statements,
                written.parked.len() as u64,
                last_stored,
                visible,
            );
        }
        let acks = if cumulative {
            // The last one acknowledges every one before it.
            &to_ack[to_ack.len().saturating_sub(1)..]
        } else {
            &to_ack[..]
        };
        for message in acks {
            if let Err(err) = message.ack().await {
                tracing::warn!(%err, "cannot acknowledge; the event will come again and change nothing");
            }
        }
        self.status.position.store(*position, Ordering::Relaxed);
        self.status
            .stream_last
            .fetch_max(stream_last.max(*position), Ordering::Relaxed);
        self.announce().await;
        Ok(if gap { Next::Restart } else { Next::Continue })
    }

    /// Writes the folded batches: their statements, parked events and
    /// position, then acknowledges them. If MongoDB refuses the write, the
    /// folded events are read again and applied without coalescing.
    async fn flush(
        &mut self,
        position: &mut u64,
        stop: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Next> {
        if self.fold.is_empty() {
            return Ok(Next::Continue);
        }
        let mut fold = std::mem::take(&mut self.fold);
        let statements = fold.folded.coalescer.take();
        let (parked, fold_position) = (&fold.folded.parked, fold.folded.position);
        let received = fold.started.unwrap_or_else(std::time::Instant::now);
        // Several batches folded: a backlog, written in large commands.
        let per_command = if fold.events > self.projection.settings.batch_size as u64 {
            BULK_COMMAND
        } else {
            LIVE_COMMAND
        };
        let mut backoff = Duration::from_millis(100);
        let mut visible = None;
        let filled = received.elapsed();
        loop {
            let result = write_all(
                &self.projection.model,
                &statements,
                parked,
                fold_position,
                per_command,
                || {
                    visible = Some(received.elapsed());
                    mark_visible(&self.client, &self.subjects, &self.status, fold_position);
                },
            )
            .await;
            match result {
                Ok(()) => break,
                Err(WriteFailure::Rejected(err)) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "MongoDB refused a folded write; applying those events batch by batch"
                    );
                    // Whatever part of it was written, was written in other
                    // boundaries: no coalescing until past it.
                    self.projection.coalesce_after =
                        self.projection.coalesce_after.max(fold_position);
                    self.projection.blocked = parking::load_blocked(&self.projection.model).await?;
                    self.status.position.store(*position, Ordering::Relaxed);
                    return Ok(Next::Restart);
                }
                Err(WriteFailure::Unavailable(err)) => {
                    self.status.store_ok.store(false, Ordering::Relaxed);
                    tracing::warn!(error = format!("{err:#}"), retry_in = ?backoff, "cannot write the read model");
                    if let Some(message) = &fold.last_message {
                        let _ = message.ack_with(AckKind::Progress).await;
                    }
                    if sleep_or_stop(stop, &mut backoff).await {
                        return Ok(Next::Stop);
                    }
                }
            }
        }
        let visible = visible.unwrap_or_else(|| received.elapsed());
        tracing::debug!(
            events = fold.events,
            statements = statements.len(),
            filled = ?filled,
            visible = ?visible,
            recorded = ?received.elapsed(),
            "folded batches written"
        );
        *position = fold_position;
        self.status.record_write(
            fold.events,
            statements.len() as u64,
            parked.len() as u64,
            fold.last_stored,
            visible,
        );
        if let Some(message) = &fold.last_message
            && let Err(err) = message.ack().await
        {
            tracing::warn!(%err, "cannot acknowledge; the events will come again and change nothing");
        }
        self.status.position.store(*position, Ordering::Relaxed);
        self.status
            .stream_last
            .fetch_max(*position, Ordering::Relaxed);
        self.announce().await;
        Ok(Next::Continue)
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

/// The documents up to `position` are written: reads may see them, so tell
/// query-api now (recording the position and acknowledging come after).
fn mark_visible(
    client: &async_nats::Client,
    subjects: &Subjects,
    status: &Arc<Status>,
    position: u64,
) {
    status.position.store(position, Ordering::Relaxed);
    let (client, subjects, status) = (client.clone(), subjects.clone(), status.clone());
    tokio::spawn(async move { announce(&client, &subjects, &status).await });
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

/// Sleeps for the backoff (doubling it, up to 5 s); true if stopped meanwhile.
pub async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    let stopped = tokio::select! {
        _ = tokio::time::sleep(*backoff) => false,
        _ = stop.changed() => true,
    };
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
    stopped || *stop.borrow()
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
