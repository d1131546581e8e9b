//! projector: consumes the event stream with a durable consumer and writes
//! the MongoDB read documents, idempotently and in stream order.

//!
//! One pipeline: a source (the live durable consumer, or a rebuild's ordered
//! consumer) delivers events; the planner turns them into statements and
//! parking decisions (pure); a batch collects them with the progress made;
//! a flush policy says when it is written; one sink commits it in the order a
//! crash relies on (documents, parked events, visibility, position, then the
//! acknowledgement); the position has one owner, which announces it.

pub mod batch;
pub mod coalesce;
pub mod config;
pub mod control;
pub mod fence;
pub mod flush;
pub mod lease;
pub mod memory;
pub mod parking;
pub mod plan;
pub mod position;
pub mod projection;
pub mod rebuild;
pub mod reply;
pub mod retry;
pub mod runner;
pub mod settings;
pub mod sink;
pub mod source;
pub mod status;
pub mod store;
pub mod write;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use axum::{Router, routing::get};
use flow_http::metrics::Metrics;
use flow_http::{ReadinessCheck, Server, finish_router};
use flow_readmodel::ReadModel;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};

pub use crate::config::Config;
use crate::{
    batch::Batch,
    fence::{Deposed, Fence},
    flush::FlushPolicy,
    lease::Lease,
    position::Position,
    runner::Runner,
    settings::Settings,
    sink::Projection,
    source::LiveSource,
    status::{HttpState, Status, register_metrics, status_json},
    store::WriteFailure,
};

/// How often freed heap memory is given back to the system.
const TRIM_EVERY: Duration = Duration::from_millis(500);

pub struct App {
    server: Server,
    client: async_nats::Client,
    stream: async_nats::jetstream::stream::Stream,
    status: Arc<Status>,
    shared: Arc<Shared>,
}

/// What every active term is built from.
struct Shared {
    client: async_nats::Client,
    stream: async_nats::jetstream::stream::Stream,
    consumer: async_nats::jetstream::consumer::PullConsumer,
    base: ReadModel,
    subjects: flow_domain::events::Subjects,
    settings: Settings,
    durable: String,
    status: Arc<Status>,
    fence: Arc<Fence>,
    lease: Lease,
}

impl App {
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let client =
            flow_runtime::nats::connect(&config.nats, "projector", config.startup_timeout).await?;
        let js = async_nats::jetstream::new(client.clone());
        let stream =
            flow_runtime::nats::ensure_stream(&js, &config.nats, config.startup_timeout).await?;
        let base = ReadModel::connect(&config.mongo, "projector", config.startup_timeout).await?;
        let model = base.with_generation(base.active_generation().await?);
        model.ensure_indexes().await?;
        let subjects = config.nats.subjects();
        let consumer =
            source::ensure_consumer(&stream, &config.durable, &subjects, &config.settings).await?;
        let fence = Arc::new(Fence::default());
        let lease = Lease::open(
            &js,
            subjects.prefix(),
            &config.durable,
            config.lease,
            fence.clone(),
        )
        .await?;
        let status = Arc::new(Status::default());
        if let Ok(mut instance) = status.instance.lock() {
            *instance = lease.holder().to_owned();
        }
        status.store_ok.store(true, Ordering::Relaxed);
        status.generation.store(model.generation, Ordering::Relaxed);
        status
            .position
            .store(model.position().await?, Ordering::Relaxed);
        status
            .parked
            .store(parking::list(&model).await?.len() as u64, Ordering::Relaxed);

        let metrics = Arc::new(Metrics::new("projector"));
        register_metrics(&metrics, &status);
        let ready_status = status.clone();
        let ready_client = client.clone();
        let max_lag = config.max_lag;
        let ready: ReadinessCheck = Arc::new(move || {
            let nats = ready_client.connection_state();
            let active = ready_status.active.load(Ordering::Relaxed);
            let store_ok = ready_status.store_ok.load(Ordering::Relaxed);
            let lag = ready_status.lag();
            Box::pin(async move {
                if nats != async_nats::connection::State::Connected {
                    return Err(format!("NATS is {nats}"));
                }
                if !active {
                    // Ready to take over: a standby is not lagging, it waits.
                    return Ok(Some(
                        "standby: another instance applies the stream; this one takes over when its lease expires"
                            .into(),
                    ));
                }
                if !store_ok {
                    return Err("MongoDB writes are failing".into());
                }
                if lag > max_lag {
                    return Err(format!("projection lag {lag} exceeds {max_lag} events"));
                }
                Ok(None)
            })
        });
        let api = Router::new()
            .route("/status", get(status_json))
            .with_state(HttpState {
                status: status.clone(),
                max_lag,
            });
        let router = finish_router(
            api,
            metrics,
            ready,
            &flow_http::protect::HttpConfig::default(),
        );
        let shared = Arc::new(Shared {
            client: client.clone(),
            stream: stream.clone(),
            consumer,
            base,
            subjects,
            settings: config.settings,
            durable: config.durable.clone(),
            status: status.clone(),
            fence,
            lease,
        });
        Ok(Self {
            server: Server::new(listener, router, config.connections),
            client,
            stream,
            status,
            shared,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Stands by or projects (see [`lease`]) and serves until `shutdown`
    /// resolves; the batch in hand is finished and acknowledged, the lease
    /// given back, then NATS is drained.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let roles = tokio::spawn(self.shared.clone().run_roles(stop_rx.clone()));
        let heartbeat = tokio::spawn(heartbeat(
            self.client.clone(),
            self.stream.clone(),
            self.status.clone(),
            stop_rx.clone(),
        ));
        // Planning and merging every event allocates and frees at a high
        // rate: give the freed memory back, or the allocator keeps it.
        let trim = tokio::spawn(crate::memory::release_periodically(TRIM_EVERY));
        let stop = stop_tx.clone();
        let served = self.server.serve("projector", async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let served = served.await;
        let _ = stop_tx.send(true);
        let projected = roles.await;
        let _ = heartbeat.await;
        trim.abort();
        flow_runtime::nats::drain(&self.client).await;
        tracing::info!(
            position = self.status.position.load(Ordering::Relaxed),
            "projector stopped"
        );
        served?;
        projected??;
        Ok(())
    }
}

/// Whether an error says that this instance was deposed.
fn is_deposed(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<Deposed>()
            || matches!(
                e.downcast_ref::<WriteFailure>(),
                Some(WriteFailure::Deposed(_))
            )
    })
}

impl Shared {
    /// Stands by until this instance takes the lease, applies the stream
    /// while it holds it, and stands by again when it loses it (or the
    /// store guard refuses its writes), until stopped.
    async fn run_roles(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        loop {
            self.status.active.store(false, Ordering::Relaxed);
            self.status.epoch.store(0, Ordering::Relaxed);
            let Some(held) = self.lease.acquire(&mut stop).await else {
                return Ok(());
            };
            self.status.failovers.fetch_add(1, Ordering::Relaxed);
            self.status.epoch.store(held.epoch, Ordering::Relaxed);
            self.status.active.store(true, Ordering::Relaxed);

            let (release_tx, mut release_rx) = watch::channel(false);
            let (lost_tx, mut lost_rx) = watch::channel(false);
            let keeper = {
                let shared = self.clone();
                tokio::spawn(
                    async move { shared.lease.keep(held, &mut release_rx, &lost_tx).await },
                )
            };
            // The term ends when the process stops or the lease is lost.
            let (term_tx, term_rx) = watch::channel(false);
            let forward = {
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = lost_rx.changed() => {}
                    }
                    let _ = term_tx.send(true);
                })
            };
            let result = self.clone().term(term_rx).await;
            let _ = release_tx.send(true);
            let _ = keeper.await;
            forward.abort();
            self.fence.release();
            match result {
                Err(err) if is_deposed(&err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "the store guard refused: standing by"
                    );
                }
                Err(err) => return Err(err),
                Ok(()) => {}
            }
            if *stop.borrow() {
                return Ok(());
            }
            tracing::info!(epoch = held.epoch, "standing by");
        }
    }

    /// Freshness from the start: when the event at the recorded position
    /// was stored (unknown, 0, if it cannot be read).
    async fn note_last_applied(&self, position: u64) {
        if position == 0 {
            return;
        }
        match self.stream.direct_get(position).await {
            Ok(message) => {
                let ms =
                    u64::try_from(message.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
                self.status
                    .last_applied_stored_ms
                    .store(ms, Ordering::Relaxed);
            }
            Err(err) => {
                tracing::debug!(%err, position, "cannot read when the last applied event was stored")
            }
        }
    }

    /// One active term: the live loop and the control requests, from the
    /// recorded position of the active generation, until `stop`.
    async fn term(self: Arc<Self>, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let model = self
            .base
            .with_generation(self.base.active_generation().await?);
        model.ensure_indexes().await?;
        let projection =
            Projection::open(model.clone(), self.settings, Some(self.fence.clone())).await?;
        self.status
            .generation
            .store(model.generation, Ordering::Relaxed);
        self.status
            .position
            .store(projection.recorded, Ordering::Relaxed);
        self.status
            .parked
            .store(parking::list(&model).await?.len() as u64, Ordering::Relaxed);
        self.note_last_applied(projection.recorded).await;
        let (control_tx, control_rx) = mpsc::channel(8);
        let runner = Runner {
            source: LiveSource {
                stream: self.stream.clone(),
                consumer: self.consumer.clone(),
                durable: self.durable.clone(),
                batch_size: self.settings.batch_size,
            },
            projection,
            position: Position::new(
                self.status.clone(),
                self.client.clone(),
                self.subjects.clone(),
            ),
            status: self.status.clone(),
            control: control_rx,
            policy: FlushPolicy::live(&self.settings),
            batch: Batch::default(),
        };
        // Only the active instance listens for control requests: the
        // `projector` commands reach it, whichever instance it is.
        let control = control::ControlPlane {
            client: self.client.clone(),
            subject: control::subject(&self.subjects),
            rebuilder: Arc::new(rebuild::Rebuilder {
                stream: self.stream.clone(),
                live: self.base.clone(),
                filter_subject: self.subjects.all_events(),
                status: self.status.clone(),
                control: control_tx.clone(),
                settings: self.settings,
                fence: self.fence.clone(),
            }),
            runner: control_tx,
        };
        let control = tokio::spawn(control.serve(stop.clone()));
        let projected = runner.run(stop).await;
        control.abort();
        projected
    }
}

/// Every second: learn the stream's last sequence and announce the position,
/// so that query-api knows it even when nothing is written.
async fn heartbeat(
    client: async_nats::Client,
    stream: async_nats::jetstream::stream::Stream,
    status: Arc<Status>,
    mut stop: watch::Receiver<bool>,
) {
    let subjects = {
        let name = stream
            .cached_info()
            .config
            .subjects
            .first()
            .cloned()
            .unwrap_or_default();
        flow_domain::events::Subjects::new(name.trim_end_matches(".evt.>").to_owned())
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = stop.changed() => return,
        }
        if let Ok(info) = stream.get_info().await {
            status
                .stream_last
                .fetch_max(info.state.last_sequence, Ordering::Relaxed);
        }
        // Only the active instance tells query-api how far the read model is.
        if status.active.load(Ordering::Relaxed) {
            position::announce(&client, &subjects, &status).await;
        }
    }
}
