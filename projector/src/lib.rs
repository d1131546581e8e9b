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
pub mod control;
pub mod flush;
mod memory;
pub mod parking;
pub mod plan;
pub mod position;
pub mod projection;
pub mod rebuild;
pub mod reply;
pub mod runner;
pub mod settings;
pub mod sink;
pub mod source;
pub mod status;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use axum::{Router, routing::get};
use flow_http::metrics::Metrics;
use flow_http::{ConnectionLimits, ReadinessCheck, finish_router, serve};
use flow_readmodel::ReadModel;
use flow_runtime::config::{self, MongoConfig, NatsConfig};
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};

use crate::{
    batch::Batch,
    flush::FlushPolicy,
    position::Position,
    runner::Runner,
    settings::Settings,
    sink::Projection,
    source::LiveSource,
    status::{HttpState, Status, register_metrics, status_json},
};

/// How often freed heap memory is given back to the system.
const TRIM_EVERY: Duration = Duration::from_millis(500);

/// The projector's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `FLOW_PROJECTOR_ADDR`, default `127.0.0.1:8082`.
    pub addr: SocketAddr,
    pub nats: NatsConfig,
    pub mongo: MongoConfig,
    /// `FLOW_PROJECTOR_BATCH` (events per batch, default 1 000),
    /// `FLOW_PROJECTOR_FOLD` (events of successive batches written together
    /// while more wait, default 20 000; 0 writes every batch on its own),
    /// `FLOW_PROJECTOR_MAX_ATTEMPTS` (before a refused event is parked, default 5),
    /// `FLOW_PROJECTOR_MAX_SCHEMA_VERSION` (newest event schema accepted,
    /// default the one this build writes).
    pub settings: Settings,
    /// `FLOW_PROJECTOR_DURABLE`: the durable consumer's name, default `projector`.
    pub durable: String,
    /// `FLOW_MAX_LAG`: `/readyz` fails when more events than this wait, default 10 000.
    pub max_lag: u64,
    /// `FLOW_STARTUP_TIMEOUT_MS`, default 30 000.
    pub startup_timeout: Duration,
    /// `FLOW_HTTP_HEADER_TIMEOUT_MS`, `FLOW_HTTP_IDLE_TIMEOUT_MS`, `FLOW_HTTP_MAX_CONNECTIONS`.
    pub connections: ConnectionLimits,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let defaults = Settings::default();
        let settings = Settings {
            batch_size: config::parse_or("FLOW_PROJECTOR_BATCH", defaults.batch_size)?,
            max_attempts: config::parse_or("FLOW_PROJECTOR_MAX_ATTEMPTS", defaults.max_attempts)?,
            max_schema_version: config::parse_or(
                "FLOW_PROJECTOR_MAX_SCHEMA_VERSION",
                defaults.max_schema_version,
            )?,
            fold_events: config::parse_or("FLOW_PROJECTOR_FOLD", defaults.fold_events)?,
        };
        if settings.fold_events > 1_000_000 {
            anyhow::bail!("FLOW_PROJECTOR_FOLD must be at most 1000000");
        }
        if !(1..=10_000).contains(&settings.batch_size) {
            anyhow::bail!("FLOW_PROJECTOR_BATCH must be between 1 and 10000");
        }
        if settings.max_attempts == 0 {
            anyhow::bail!("FLOW_PROJECTOR_MAX_ATTEMPTS must be at least 1");
        }
        Ok(Self {
            addr: config::listen_addr("FLOW_PROJECTOR_ADDR", "127.0.0.1:8082")?,
            nats: NatsConfig::from_env()?,
            mongo: MongoConfig::from_env()?,
            settings,
            durable: config::var("FLOW_PROJECTOR_DURABLE")?.unwrap_or_else(|| "projector".into()),
            max_lag: config::parse_or("FLOW_MAX_LAG", 10_000u64)?,
            startup_timeout: config::startup_timeout()?,
            connections: ConnectionLimits::from_env()?,
        })
    }

    pub fn new(nats: NatsConfig, mongo: MongoConfig) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            nats,
            mongo,
            settings: Settings::default(),
            durable: "projector".into(),
            max_lag: 10_000,
            startup_timeout: Duration::from_secs(30),
            connections: ConnectionLimits::default(),
        }
    }
}

pub struct App {
    listener: TcpListener,
    router: Router,
    connections: ConnectionLimits,
    runner: Runner,
    control: control::ControlPlane,
    client: async_nats::Client,
    stream: async_nats::jetstream::stream::Stream,
    status: Arc<Status>,
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
        let status = Arc::new(Status::default());
        status.store_ok.store(true, Ordering::Relaxed);
        status.generation.store(model.generation, Ordering::Relaxed);
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
            let store_ok = ready_status.store_ok.load(Ordering::Relaxed);
            let lag = ready_status.lag();
            Box::pin(async move {
                if nats != async_nats::connection::State::Connected {
                    return Err(format!("NATS is {nats}"));
                }
                if !store_ok {
                    return Err("MongoDB writes are failing".into());
                }
                if lag > max_lag {
                    return Err(format!("projection lag {lag} exceeds {max_lag} events"));
                }
                Ok(())
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
        let (control_tx, control_rx) = mpsc::channel(8);
        let runner = Runner {
            source: LiveSource {
                stream: stream.clone(),
                consumer,
                durable: config.durable.clone(),
                batch_size: config.settings.batch_size,
            },
            projection: Projection::open(model.clone(), config.settings).await?,
            position: Position::new(status.clone(), client.clone(), subjects.clone()),
            status: status.clone(),
            control: control_rx,
            policy: FlushPolicy::live(&config.settings),
            batch: Batch::default(),
        };
        let control = control::ControlPlane {
            client: client.clone(),
            subject: control::subject(&subjects),
            rebuilder: Arc::new(rebuild::Rebuilder {
                stream: stream.clone(),
                live: base,
                filter_subject: subjects.all_events(),
                status: status.clone(),
                control: control_tx.clone(),
                settings: config.settings,
            }),
            runner: control_tx,
        };
        Ok(Self {
            listener,
            router,
            connections: config.connections,
            runner,
            control,
            client,
            stream,
            status,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Projects and serves until `shutdown` resolves; the batch in hand is
    /// finished and acknowledged, then NATS is drained.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "projector listening");
        let (stop_tx, stop_rx) = watch::channel(false);
        let runner = tokio::spawn(self.runner.run(stop_rx.clone()));
        let heartbeat = tokio::spawn(heartbeat(
            self.client.clone(),
            self.stream.clone(),
            self.status.clone(),
            stop_rx.clone(),
        ));
        let control = tokio::spawn(self.control.serve(stop_rx));
        // Planning and merging every event allocates and frees at a high
        // rate: give the freed memory back, or the allocator keeps it.
        let trim = tokio::spawn(crate::memory::release_periodically(TRIM_EVERY));
        let stop = stop_tx.clone();
        let served = serve(self.listener, self.router, self.connections, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        let _ = stop_tx.send(true);
        let projected = runner.await;
        let _ = heartbeat.await;
        let _ = control.await;
        trim.abort();
        if let Err(err) = self.client.drain().await {
            tracing::warn!(%err, "NATS drain failed");
        }
        tracing::info!(
            position = self.status.position.load(Ordering::Relaxed),
            "projector stopped"
        );
        served?;
        projected??;
        Ok(())
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
        position::announce(&client, &subjects, &status).await;
    }
}
