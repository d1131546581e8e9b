//! The system under test: NATS, the MongoDB-compatible server and the three
//! services as separate processes on free ports, and the connections and
//! timings every phase drives them with.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::bail;
use async_nats::jetstream;
use flow_domain::events::Subjects;
use flow_http::auth::Jwt;
use flow_readmodel::ReadModel;
use flow_runtime::config::MongoConfig;
use secrecy::SecretString;

use crate::{
    cli::Options,
    load::{self, Summary},
    procs::{self, Proc},
    proxy,
    setup::Setup,
    status::{self, StatusSample},
};

pub const STREAM: &str = "BENCH";
pub const PREFIX: &str = "bench";
const DATABASE: &str = "bench";

/// How long the projector may take to catch up after a timed phase.
pub const SETTLE: Duration = Duration::from_secs(300);

/// The running system: services first, so that they stop before the servers.
pub struct System {
    pub command: Proc,
    pub projector: Proc,
    pub query: Proc,
    pub nats: Proc,
    pub mongo: Proc,
    pub command_url: String,
    pub query_url: String,
    pub projector_url: String,
    pub nats_url: String,
    pub mongo_uri: String,
    pub jwt: Jwt,
    /// What the projector sends to the store, counted on the wire.
    pub wire: Arc<proxy::Counts>,
    /// Where the processes' logs go (and the ceilings' files).
    pub logs: std::path::PathBuf,
}

impl System {
    /// Starts the servers, then the services one after the other, each ready
    /// before the next starts.
    pub async fn start(setup: &Setup, http: &reqwest::Client) -> anyhow::Result<Self> {
        Self::start_with(setup, http, &[]).await
    }

    /// [`System::start`], with `query_env` set for query-api on top of
    /// what every service gets.
    pub async fn start_with(
        setup: &Setup,
        http: &reqwest::Client,
        query_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let (tools, tmp, logs) = (&setup.tools, &setup.tmp, &setup.logs);
        let (nats, nats_port, _) = procs::start_nats(tools, &tmp.join("nats"), logs, http).await?;
        let (mongo, mongo_port) = procs::start_mongo(tools, &tmp.join("mongo"), logs).await?;
        let wire = Arc::new(proxy::Counts::default());
        let proxy_port = proxy::start(mongo_port, wire.clone()).await?;
        let nats_url = format!("nats://127.0.0.1:{nats_port}");
        let mongo_uri = format!("mongodb://127.0.0.1:{mongo_port}/?directConnection=true");
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let common: Vec<(&str, String)> = vec![
            ("FLOW_ENV", "local".into()),
            ("FLOW_JWT_SECRET", secret.clone()),
            ("FLOW_NATS_URL", nats_url.clone()),
            ("FLOW_STREAM", STREAM.into()),
            ("FLOW_SUBJECT_PREFIX", PREFIX.into()),
            ("FLOW_MONGODB_DATABASE", DATABASE.into()),
            ("FLOW_MAX_LAG", "100000000".into()),
            (
                "RUST_LOG",
                std::env::var("FLOW_BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
            ),
            // Capacity, not abuse protection: all the load comes from one address.
            ("FLOW_RATE_LIMIT_PER_SECOND", "0".into()),
        ];
        let service = |name: &str,
                       addr_var: &str,
                       addr: &str,
                       mongo: Option<String>,
                       extra: &[(&str, &str)]| {
            let mut command = Command::new(setup.bin_dir.join(name));
            command
                .envs(common.iter().map(|(k, v)| (*k, v.as_str())))
                .envs(extra.iter().copied())
                .env(addr_var, addr);
            if let Some(uri) = mongo {
                command.env("FLOW_MONGODB_URI", uri);
            }
            Proc::spawn(name, command, logs)
        };
        let addr =
            || -> anyhow::Result<String> { Ok(format!("127.0.0.1:{}", procs::free_port()?)) };
        let (command_addr, projector_addr, query_addr) = (addr()?, addr()?, addr()?);
        // command-api declares the stream; the others wait for it.
        let mut command = service(
            "command-api",
            "FLOW_COMMAND_API_ADDR",
            &command_addr,
            None,
            &[],
        )?;
        let command_url = ready(http, "command-api", &command_addr, &mut command).await?;
        // The projector reaches MongoDB through the counting proxy.
        let proxied = format!("mongodb://127.0.0.1:{proxy_port}/?directConnection=true");
        let mut projector = service(
            "projector",
            "FLOW_PROJECTOR_ADDR",
            &projector_addr,
            Some(proxied),
            &[],
        )?;
        let projector_url = ready(http, "projector", &projector_addr, &mut projector).await?;
        let mut query = service(
            "query-api",
            "FLOW_QUERY_API_ADDR",
            &query_addr,
            Some(mongo_uri.clone()),
            query_env,
        )?;
        let query_url = ready(http, "query-api", &query_addr, &mut query).await?;
        say!(
            "services ready: command-api {command_url}, query-api {query_url}, projector {projector_url}"
        );
        Ok(Self {
            command,
            projector,
            query,
            nats,
            mongo,
            command_url,
            query_url,
            projector_url,
            nats_url,
            mongo_uri,
            jwt: Jwt::new(&SecretString::from(secret)),
            wire,
            logs: logs.clone(),
        })
    }

    /// The three services, in the order they are reported.
    pub fn services(&self) -> [&Proc; 3] {
        [&self.command, &self.projector, &self.query]
    }

    /// Every process of the system: the services, then the servers.
    pub fn procs(&self) -> [&Proc; 5] {
        [
            &self.command,
            &self.projector,
            &self.query,
            &self.nats,
            &self.mongo,
        ]
    }
}

/// Waits for the service at `addr` to answer its `/readyz`: its base URL.
async fn ready(
    http: &reqwest::Client,
    name: &str,
    addr: &str,
    proc: &mut Proc,
) -> anyhow::Result<String> {
    let url = format!("http://{addr}");
    procs::wait_ready(name, Duration::from_secs(60), proc, || {
        procs::http_ok(http, format!("{url}/readyz"))
    })
    .await?;
    Ok(url)
}

/// The system with what every phase uses to drive and watch it.
pub struct Bench {
    /// First, so that the processes stop before the connections to them close.
    pub system: System,
    pub http: reqwest::Client,
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    /// The stream the services use.
    pub stream: jetstream::stream::Stream,
    pub subjects: Subjects,
    /// The read model, reached directly (not through the counting proxy).
    pub store: ReadModel,
    /// Concurrent clients of the closed loops.
    pub clients: usize,
    /// Run before each timed phase and not counted.
    pub warmup: Duration,
    /// The length of each timed phase.
    pub phase: Duration,
}

impl Bench {
    pub async fn connect(
        system: System,
        http: &reqwest::Client,
        options: &Options,
    ) -> anyhow::Result<Self> {
        let nats = async_nats::connect(&system.nats_url).await?;
        let js = jetstream::new(nats.clone());
        let stream = js.get_stream(STREAM).await?;
        let subjects = Subjects::new(PREFIX);
        let mongo = MongoConfig {
            uri: SecretString::from(system.mongo_uri.clone()),
            database: DATABASE.into(),
        };
        let store = ReadModel::connect(&mongo, "flow-bench", Duration::from_secs(30)).await?;
        Ok(Self {
            system,
            http: http.clone(),
            nats,
            js,
            stream,
            subjects,
            store,
            clients: options.clients,
            warmup: (options.phase / 5).min(Duration::from_secs(2)),
            phase: options.phase,
        })
    }

    /// The bench's clients calling `op(client, i)` back to back for a timed
    /// phase, after the warm-up.
    pub async fn closed_loop<F, Fut>(&self, op: F) -> Summary
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send,
    {
        load::closed_loop(self.clients, self.warmup, self.phase, op).await
    }

    /// The projector's `/status` now.
    pub async fn status(&self) -> anyhow::Result<StatusSample> {
        status::now(&self.http, &self.system.projector_url).await
    }

    /// Waits until the projector has applied everything in the stream.
    pub async fn settle(&self, bound: Duration) -> anyhow::Result<StatusSample> {
        let deadline = Instant::now() + bound;
        let mut stream = self.stream.clone();
        loop {
            let last = stream.info().await?.state.last_sequence;
            if let Ok(status) = self.status().await
                && status.position >= last
                && status.lag == 0
            {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("the projector did not catch up within {bound:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
