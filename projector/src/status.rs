//! What the projector reports about itself: `/status`, `/metrics` and the
//! readiness check read it; the pipeline writes it.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{Json, extract::State};
use flow_http::metrics::Metrics;
use prometheus_client::metrics::{gauge::ConstGauge, histogram::Histogram};

/// What the projector reports about itself. The position is written only by
/// [`crate::position::Position`], its one owner; everything else here is a
/// counter or a reading.
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
    pub rebuild: Mutex<Option<RebuildProgress>>,
    /// Whether this instance holds the lease and applies the stream.
    pub active: AtomicBool,
    /// The lease revision this instance took over at (0 while standing by).
    pub epoch: AtomicU64,
    /// How many times this instance took the lease over.
    pub failovers: AtomicU64,
    /// This instance, as the lease names it.
    pub instance: Mutex<String>,
    /// How long live batches take to write.
    pub batch_writes: WriteDurations,
}

/// How long each live batch took from the start of its write to its
/// position recorded (documents, parked events and position).
#[derive(Debug, Clone)]
pub struct WriteDurations(Histogram);

impl Default for WriteDurations {
    fn default() -> Self {
        Self(Histogram::new([
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]))
    }
}

impl WriteDurations {
    pub fn observe(&self, took: Duration) {
        self.0.observe(took.as_secs_f64());
    }
}

/// How far a rebuild or verification has come (in `/status`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RebuildProgress {
    /// `rebuild` or `verify`.
    pub kind: String,
    pub generation: u64,
    pub state: String,
    pub position: u64,
    pub target: u64,
    pub events_per_second: f64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
}

/// `GET /status`: the projector's position, lag, counters and any rebuild.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusReply {
    pub generation: u64,
    pub position: u64,
    pub stream_last: u64,
    pub lag_events: u64,
    pub lag_seconds: f64,
    pub max_lag_events: u64,
    pub applied_events: u64,
    pub writes: u64,
    pub writes_per_event: f64,
    pub batches: u64,
    pub mean_batch_size: f64,
    pub batch_visible_micros: u64,
    pub parked_events: u64,
    pub redelivered_events: u64,
    pub store_ok: bool,
    pub rebuild: Option<RebuildProgress>,
    /// `active` (holds the lease, applies the stream, answers control
    /// requests) or `standby`.
    pub role: String,
    pub epoch: u64,
    pub failovers: u64,
    pub instance: String,
}

fn now_ms() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

fn load(value: &AtomicU64) -> f64 {
    value.load(Ordering::Relaxed) as f64
}

impl Status {
    /// Counts a written batch (or fold): MongoDB accepts writes again.
    pub(crate) fn record_write(
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

    /// A reading of the last rebuild or verification (0 before any).
    fn rebuild_reading(&self, read: fn(&RebuildProgress) -> f64) -> f64 {
        self.rebuild
            .lock()
            .ok()
            .and_then(|r| r.as_ref().map(read))
            .unwrap_or(0.0)
    }

    pub fn role(&self) -> &'static str {
        if self.active.load(Ordering::Relaxed) {
            "active"
        } else {
            "standby"
        }
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

#[derive(Clone)]
pub(crate) struct HttpState {
    pub status: Arc<Status>,
    pub max_lag: u64,
}

/// `GET /status`.
pub(crate) async fn status_json(State(state): State<HttpState>) -> Json<StatusReply> {
    let s = &state.status;
    let applied = s.applied_events.load(Ordering::Relaxed);
    let writes = s.writes.load(Ordering::Relaxed);
    let batches = s.batches.load(Ordering::Relaxed);
    let rebuild = s.rebuild.lock().ok().and_then(|r| r.clone());
    let per = |count: u64, of: u64| {
        if of > 0 {
            count as f64 / of as f64
        } else {
            0.0
        }
    };
    Json(StatusReply {
        generation: s.generation.load(Ordering::Relaxed),
        position: s.position.load(Ordering::Relaxed),
        stream_last: s.stream_last.load(Ordering::Relaxed),
        lag_events: s.lag(),
        lag_seconds: s.lag_seconds(),
        max_lag_events: state.max_lag,
        applied_events: applied,
        writes,
        writes_per_event: per(writes, applied),
        batches,
        mean_batch_size: per(applied, batches),
        batch_visible_micros: s.batch_micros.load(Ordering::Relaxed),
        parked_events: s.parked.load(Ordering::Relaxed),
        redelivered_events: s.redelivered.load(Ordering::Relaxed),
        store_ok: s.store_ok.load(Ordering::Relaxed),
        rebuild,
        role: s.role().into(),
        epoch: s.epoch.load(Ordering::Relaxed),
        failovers: s.failovers.load(Ordering::Relaxed),
        instance: s.instance.lock().map(|i| i.clone()).unwrap_or_default(),
    })
}

/// A metric read from the status when scraped: a counter or a gauge.
#[derive(Debug)]
struct Read(Arc<Status>, fn(&Status) -> f64, bool);

impl prometheus_client::encoding::EncodeMetric for Read {
    fn encode(&self, encoder: prometheus_client::encoding::MetricEncoder<'_>) -> std::fmt::Result {
        let value = (self.1)(&self.0);
        if self.2 {
            prometheus_client::metrics::counter::ConstCounter::new(value as u64).encode(encoder)
        } else {
            ConstGauge::new(value).encode(encoder)
        }
    }
    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        if self.2 {
            prometheus_client::metrics::MetricType::Counter
        } else {
            prometheus_client::metrics::MetricType::Gauge
        }
    }
}

impl prometheus_client::metrics::TypedMetric for Read {}

/// Name, help, reading, and whether it is a counter (else a gauge).
type Entry = (&'static str, &'static str, fn(&Status) -> f64, bool);

const METRICS: [Entry; 19] = [
    (
        "projector_position",
        "Stream sequence up to which every event is applied",
        |s| load(&s.position),
        false,
    ),
    (
        "projector_stream_last",
        "The stream's last sequence",
        |s| load(&s.stream_last),
        false,
    ),
    (
        "projector_lag_events",
        "Events stored but not yet applied",
        |s| s.lag() as f64,
        false,
    ),
    (
        "projector_lag_seconds",
        "How long the oldest unapplied event has waited",
        Status::lag_seconds,
        false,
    ),
    (
        "projector_generation",
        "The read-model generation projected live",
        |s| load(&s.generation),
        false,
    ),
    (
        "projector_applied_events",
        "Events applied",
        |s| load(&s.applied_events),
        true,
    ),
    (
        "projector_writes",
        "Update statements sent to MongoDB",
        |s| load(&s.writes),
        true,
    ),
    (
        "projector_batches",
        "Batches written",
        |s| load(&s.batches),
        true,
    ),
    (
        "projector_batch_seconds",
        "Time from each batch's first event received to its documents written, summed",
        |s| load(&s.batch_micros) / 1e6,
        true,
    ),
    (
        "projector_parked_events",
        "Events parked because they could not be applied",
        |s| load(&s.parked),
        false,
    ),
    (
        "projector_redelivered_events",
        "Events delivered more than once",
        |s| load(&s.redelivered),
        true,
    ),
    (
        "projector_store_ok",
        "1 while MongoDB accepts writes",
        |s| f64::from(u8::from(s.store_ok.load(Ordering::Relaxed))),
        false,
    ),
    (
        "projector_active",
        "1 while this instance holds the lease and applies the stream, 0 while it stands by",
        |s| f64::from(u8::from(s.active.load(Ordering::Relaxed))),
        false,
    ),
    (
        "projector_failovers",
        "Times this instance took the lease over and became the active one",
        |s| load(&s.failovers),
        true,
    ),
    (
        "projector_last_applied_event_timestamp_seconds",
        "When the last applied event was stored in the stream (seconds since the epoch; 0 unknown)",
        |s| load(&s.last_applied_stored_ms) / 1000.0,
        false,
    ),
    (
        "projector_rebuild_position",
        "Events a rebuild or verification has applied (its position; 0 before any)",
        |s| s.rebuild_reading(|r| r.position as f64),
        false,
    ),
    (
        "projector_rebuild_target_position",
        "The stream position a rebuild or verification runs to (0 before any)",
        |s| s.rebuild_reading(|r| r.target as f64),
        false,
    ),
    (
        "projector_rebuild_events_per_second",
        "Events a rebuild or verification applies per second",
        |s| s.rebuild_reading(|r| r.events_per_second),
        false,
    ),
    (
        "projector_rebuild_eta_seconds",
        "Estimated time left of a rebuild or verification",
        |s| s.rebuild_reading(|r| r.eta_seconds),
        false,
    ),
];

/// Gauges and counters read from the status when scraped, and the
/// histogram of batch writes.
pub(crate) fn register_metrics(metrics: &Metrics, status: &Arc<Status>) {
    for (name, help, read, counter) in METRICS {
        metrics.register(name, help, Read(status.clone(), read, counter));
    }
    metrics.register(
        "projector_batch_write_duration_seconds",
        "Time to write a live batch: its documents, parked events and position",
        status.batch_writes.0.clone(),
    );
}
