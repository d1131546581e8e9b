//! query-api: serves listings and details from the MongoDB read documents.

pub mod cache;
pub mod discovery;
pub mod docs;
pub mod listing;
pub mod me;
pub mod moderation;
pub mod openapi;
pub mod params;
pub mod position;
pub mod routes;
pub mod shapes;
pub mod snapshots;
pub mod sort;
pub mod threads;
pub mod viewer;
pub mod views;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use flow_http::auth::Verifier;
use flow_http::metrics::Metrics;
use flow_http::{
    ApiError, ConsistencyToken, ReadinessCheck, Server, finish_untraced, trace_requests,
};
use flow_readmodel::ReadModel;
use flow_runtime::config::{self, AuthConfig, Environment, MongoConfig, NatsConfig, SecretString};
use flow_runtime::nats::PositionAnnouncement;
use tokio::net::TcpListener;

use crate::{
    cache::{CacheConfig, ResponseCache},
    position::Position,
    snapshots::{SnapshotConfig, Snapshots},
};

pub const PROJECTION_POSITION: &str = "projection-position";

/// query-api's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `FLOW_QUERY_API_ADDR`, default `127.0.0.1:8081`.
    pub addr: SocketAddr,
    pub nats: NatsConfig,
    pub mongo: MongoConfig,
    /// `FLOW_JWT_SECRET` (or `_FILE`) and `FLOW_OIDC_*`: the tokens
    /// command-api accepts, so that a read can say who asks (optional on
    /// most reads; see [`viewer`]).
    pub auth: AuthConfig,
    /// `FLOW_CONSISTENCY_WAIT_MS`: how long a read with a `Consistency-Token`
    /// waits for its write, default 2 000.
    pub consistency_wait: Duration,
    /// `FLOW_MAX_LAG`: `/readyz` fails when the read model is more events behind, default 10 000.
    pub max_lag: u64,
    /// `FLOW_STARTUP_TIMEOUT_MS`, default 30 000.
    pub startup_timeout: Duration,
    /// The frozen rankings of `sort=top|active` listings (see [`listing`]).
    pub snapshots: SnapshotConfig,
    /// The response cache's bounds (`FLOW_READ_CACHE_*`, see [`cache`]).
    pub cache: CacheConfig,
    /// CORS, rate limits, timeouts (`FLOW_CORS_ORIGINS`, `FLOW_RATE_LIMIT_*`, `FLOW_REQUEST_TIMEOUT_MS`).
    pub http: flow_http::protect::HttpConfig,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let env = Environment::from_env()?;
        Ok(Self {
            addr: config::listen_addr("FLOW_QUERY_API_ADDR", "127.0.0.1:8081")?,
            nats: NatsConfig::from_env()?,
            mongo: MongoConfig::from_env()?,
            auth: AuthConfig::from_env(env)?,
            consistency_wait: config::millis_or("FLOW_CONSISTENCY_WAIT_MS", 2_000)?,
            max_lag: config::parse_or("FLOW_MAX_LAG", 10_000u64)?,
            startup_timeout: config::startup_timeout()?,
            http: flow_http::protect::HttpConfig::from_env()?,
            snapshots: SnapshotConfig::from_env()?,
            cache: CacheConfig::from_env()?,
        })
    }

    pub fn new(nats: NatsConfig, mongo: MongoConfig, jwt_secret: SecretString) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            nats,
            mongo,
            auth: AuthConfig::hs256(jwt_secret),
            consistency_wait: Duration::from_secs(2),
            max_lag: 10_000,
            startup_timeout: Duration::from_secs(30),
            http: flow_http::protect::HttpConfig::default(),
            snapshots: SnapshotConfig::default(),
            cache: CacheConfig::default(),
        }
    }
}

/// A failed read of the read model: 503, naming only the kind of error.
pub(crate) fn internal(err: mongodb::error::Error) -> ApiError {
    ApiError::Unavailable(format!("MongoDB: {}", err.kind))
}

#[derive(Clone)]
pub struct AppState {
    model: Arc<std::sync::RwLock<ReadModel>>,
    pub position: Position,
    pub consistency_wait: Duration,
    pub snapshots: Snapshots,
    pub verifier: Arc<Verifier>,
    pub cache: ResponseCache,
}

impl axum::extract::FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl AppState {
    /// The read model of the generation the projector announces: a rebuild
    /// switches every following request to the new generation at once.
    pub fn model(&self) -> ReadModel {
        let generation = self.position.current().generation;
        if let Ok(model) = self.model.read()
            && model.generation == generation
        {
            return model.clone();
        }
        match self.model.write() {
            Ok(mut model) => {
                if model.generation != generation {
                    tracing::info!(generation, "serving a new read-model generation");
                    *model = model.with_generation(generation);
                }
                model.clone()
            }
            Err(poisoned) => poisoned.into_inner().with_generation(generation),
        }
    }
}

pub struct App {
    server: Server,
    client: async_nats::Client,
}

impl App {
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let client =
            flow_runtime::nats::connect(&config.nats, "query-api", config.startup_timeout).await?;
        let model = ReadModel::connect(&config.mongo, "query-api", config.startup_timeout).await?;
        let model = model.with_generation(model.active_generation().await?);
        let initial = PositionAnnouncement {
            position: model.position().await?,
            stream_last: 0,
            generation: model.generation,
        };
        let position = Position::follow(&client, &config.nats.subjects(), initial).await?;
        let metrics = Arc::new(Metrics::new("query-api"));
        let state = AppState {
            model: Arc::new(std::sync::RwLock::new(model.clone())),
            position: position.clone(),
            consistency_wait: config.consistency_wait,
            snapshots: {
                let snapshots = Snapshots::new(config.snapshots);
                snapshots.register(&metrics);
                snapshots
            },
            verifier: Arc::new(Verifier::new(&config.auth)),
            cache: ResponseCache::new(config.cache, &metrics),
        };
        let ready_client = client.clone();
        let max_lag = config.max_lag;
        let ready: ReadinessCheck = Arc::new(move || {
            let nats = ready_client.connection_state();
            let model = model.clone();
            let p = position.current();
            Box::pin(async move {
                if nats != async_nats::connection::State::Connected {
                    return Err(format!("NATS is {nats}"));
                }
                model.ping().await?;
                let lag = p.stream_last.saturating_sub(p.position);
                if lag > max_lag {
                    return Err(format!("projection lag {lag} exceeds {max_lag} events"));
                }
                Ok(None)
            })
        });
        let mut api = routes::router()
            .merge(me::router())
            .merge(discovery::router())
            .merge(moderation::router())
            .route("/openapi.json", axum::routing::get(openapi::serve))
            .with_state(state.clone())
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                cache::respond,
            ));
        if let Some(limiter) = config.http.limiter() {
            api = api.layer(axum::middleware::from_fn_with_state(
                limiter,
                flow_http::protect::limit_reads,
            ));
        }
        // Outside the limiter, as in command-api: the credentials are read
        // once per request; each handler decides what a missing or bad token means.
        api = api.layer(axum::middleware::from_fn_with_state(
            state.verifier.clone(),
            flow_http::auth::authenticate,
        ));
        // The wait for a consistency token is part of the request's span.
        let router = trace_requests(
            finish_untraced(api, metrics, ready, &config.http)
                .layer(middleware::from_fn_with_state(state, read_your_writes)),
        );
        Ok(Self {
            server: Server::new(listener, router, config.http.connections),
            client,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = self.server.serve("query-api", shutdown).await;
        flow_runtime::nats::drain(&self.client).await;
        tracing::info!("query-api stopped");
        served
    }
}

/// Waits (bounded) for `token`; while traces are on, in a span of the
/// request's trace that says how long it waited and whether the write was
/// applied by then.
async fn wait_traced(state: &AppState, token: ConsistencyToken) {
    use tracing::Instrument as _;
    let span = if flow_runtime::telemetry::enabled() {
        tracing::info_span!(
            "consistency_wait",
            sequence = token.sequence(),
            waited_ms = tracing::field::Empty,
            reached = tracing::field::Empty,
        )
    } else {
        tracing::Span::none()
    };
    let started = std::time::Instant::now();
    let position = state
        .position
        .wait_for(token.sequence(), state.consistency_wait)
        .instrument(span.clone())
        .await;
    span.record("waited_ms", started.elapsed().as_secs_f64() * 1000.0);
    span.record("reached", position >= token.sequence());
}

/// Waits (bounded) for the write named by `Consistency-Token`, and tells
/// every answer how far the read model is (`Projection-Position`).
///
/// Only reads of the read model look at the token: a request with another
/// method is answered by the router (405 with `Allow` on a known path), and
/// the operational routes answer alike, whatever its token.
async fn read_your_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let operational = matches!(
        req.uri().path(),
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json"
    );
    let read = matches!(*req.method(), Method::GET | Method::HEAD) && !operational;
    let token = req
        .headers()
        .get(ConsistencyToken::HEADER)
        .filter(|_| read)
        .map(|t| {
            t.to_str()
                .ok()
                .and_then(|t| t.parse::<ConsistencyToken>().ok())
        });
    let mut response = match token {
        Some(None) => ApiError::BadRequest(
            "the Consistency-Token header is not a token a write gave out".into(),
        )
        .into_response(),
        Some(Some(token)) => {
            wait_traced(&state, token).await;
            next.run(req).await
        }
        None => next.run(req).await,
    };
    // A cached answer says the position it was read at.
    if !response.headers().contains_key(PROJECTION_POSITION) {
        let position = state.position.current().position;
        response
            .headers_mut()
            .insert(PROJECTION_POSITION, HeaderValue::from(position));
    }
    response
}
