//! command-api: validates writes, decides them against the current state of
//! their aggregate, and answers once JetStream has stored the events.

pub mod cache;
pub mod idempotency;
pub mod moderator;
pub mod routes;
pub mod store;
pub mod threads_now;
pub mod write;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::extract::FromRef;
use flow_domain::{Direction, ThreadId, thread::BannedWords};
use flow_http::auth::Verifier;
use flow_http::metrics::Metrics;
use flow_http::{ReadinessCheck, Server, finish_router};
use flow_runtime::config::{self, AuthConfig, Environment, NatsConfig};
use tokio::{net::TcpListener, sync::watch};

use crate::{idempotency::Idempotency, store::EventStore};

/// command-api's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `FLOW_COMMAND_API_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    pub nats: NatsConfig,
    /// `FLOW_JWT_SECRET` (or `_FILE`) and `FLOW_OIDC_*`: which tokens are accepted.
    pub auth: AuthConfig,
    /// `FLOW_BANNED_WORDS`: comma-separated, default `terrorism,racism`.
    pub banned_words: BannedWords,
    /// `FLOW_STARTUP_TIMEOUT_MS`, default 30 000.
    pub startup_timeout: Duration,
    /// CORS, rate limits, timeouts.
    pub http: flow_http::protect::HttpConfig,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let env = Environment::from_env()?;
        Ok(Self {
            addr: config::listen_addr("FLOW_COMMAND_API_ADDR", "127.0.0.1:8080")?,
            nats: NatsConfig::from_env()?,
            auth: AuthConfig::from_env(env)?,
            banned_words: match config::var("FLOW_BANNED_WORDS")? {
                Some(list) => BannedWords::new(list.split(',')),
                None => BannedWords::default(),
            },
            startup_timeout: config::startup_timeout()?,
            http: flow_http::protect::HttpConfig::from_env()?,
        })
        .and_then(Self::checked)
    }

    /// An abandoned idempotency claim (taken over after the request timeout)
    /// must be retried within the stream's duplicate window.
    fn checked(self) -> anyhow::Result<Self> {
        if self.http.request_timeout > idempotency::MAX_REQUEST_TIMEOUT {
            anyhow::bail!(
                "FLOW_REQUEST_TIMEOUT_MS must be at most {} for command-api",
                idempotency::MAX_REQUEST_TIMEOUT.as_millis()
            );
        }
        Ok(self)
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Shared, not cloned per request: a stream handle carries its whole info.
    pub store: Arc<EventStore>,
    pub idempotency: Arc<Idempotency>,
    pub verifier: Arc<Verifier>,
    /// Where each known thread belongs (its project and author): immutable.
    pub thread_origins: Arc<cache::Bounded<ThreadId, flow_domain::thread::Thread>>,
    /// Each known thread as it stands now, forgotten on every change heard.
    pub threads_now: Arc<threads_now::ThreadsNow>,
    /// Each known vote's direction and stream sequence, checked on append;
    /// keyed by [`cache::key_of`] its subject.
    pub votes: Arc<cache::Bounded<u64, (Direction, u64)>>,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// A built command-api, ready to serve.
pub struct App {
    server: Server,
    client: async_nats::Client,
    moderator: tokio::task::JoinHandle<()>,
    stop_moderator: watch::Sender<bool>,
    #[cfg(feature = "test-hooks")]
    record_failures: Arc<std::sync::atomic::AtomicBool>,
}

impl App {
    /// Connects to NATS (waiting, bounded), declares the stream, the
    /// idempotency bucket and the moderator's consumer.
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let client =
            flow_runtime::nats::connect(&config.nats, "command-api", config.startup_timeout)
                .await?;
        let js = async_nats::jetstream::new(client.clone());
        let stream =
            flow_runtime::nats::ensure_stream(&js, &config.nats, config.startup_timeout).await?;
        let idempotency = Idempotency::open(
            &js,
            &config.nats.stream,
            config.nats.replicas,
            config.http.request_timeout,
        )
        .await?;
        let store = EventStore::new(client.clone(), js, stream.clone(), config.nats.subjects());
        let threads_now =
            threads_now::ThreadsNow::listen(&client, store.subjects(), 50_000).await?;
        let consumer = moderator::ensure_consumer(&stream, &store).await?;
        let (stop_moderator, stop) = watch::channel(false);
        let moderator = tokio::spawn(moderator::run(
            consumer,
            store.clone(),
            config.banned_words.clone(),
            stop,
        ));

        let state = AppState {
            store: Arc::new(store),
            idempotency: Arc::new(idempotency),
            verifier: Arc::new(Verifier::new(&config.auth)),
            thread_origins: Arc::new(cache::Bounded::new(50_000)),
            threads_now,
            votes: Arc::new(cache::Bounded::new(200_000)),
        };
        let metrics = Arc::new(Metrics::new("command-api"));
        state.threads_now.register(&metrics);
        let ready_client = client.clone();
        let ready: ReadinessCheck = Arc::new(move || {
            let state = ready_client.connection_state();
            Box::pin(async move {
                match state {
                    async_nats::connection::State::Connected => Ok(None),
                    other => Err(format!("NATS is {other}")),
                }
            })
        });
        let mut api = routes::router().with_state(state.clone());
        if let Some(limiter) = config.http.limiter() {
            api = api.layer(axum::middleware::from_fn_with_state(
                limiter,
                flow_http::protect::limit_writes,
            ));
        }
        // Outside the limiter: the credentials are read once, for it and the handlers.
        api = api.layer(axum::middleware::from_fn_with_state(
            state.verifier.clone(),
            flow_http::auth::authenticate,
        ));
        let router = finish_router(api, metrics, ready, &config.http);
        Ok(Self {
            server: Server::new(listener, router, config.http.connections),
            client,
            moderator,
            stop_moderator,
            #[cfg(feature = "test-hooks")]
            record_failures: state.idempotency.record_failure_switch(),
        })
    }

    /// Test hook: while the switch is on, recording an idempotent response
    /// fails after the write was appended.
    #[cfg(feature = "test-hooks")]
    pub fn record_failure_switch(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.record_failures.clone()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains requests, stops the
    /// moderator and flushes NATS.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = self.server.serve("command-api", shutdown).await;
        let _ = self.stop_moderator.send(true);
        let _ = self.moderator.await;
        flow_runtime::nats::drain(&self.client).await;
        tracing::info!("command-api stopped");
        served
    }
}
