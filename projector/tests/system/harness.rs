//! Starts the whole system in-process against the test binary's real NATS and
//! MongoDB-compatible servers, with a stream and database of its own.

use std::{net::SocketAddr, time::Duration};

use async_nats::jetstream;
use flow_domain::events::Envelope;
use flow_domain::thread::BannedWords;
use flow_readmodel::ReadModel;
use flow_testkit::{TestEnv, eventually};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

#[derive(Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn token(&self) -> String {
        self.body["consistency_token"]
            .as_str()
            .expect("a consistency token")
            .to_owned()
    }
}

pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("joins").expect("stops cleanly");
    }
}

/// The value of the first sample in a `/metrics` text whose line starts with
/// `series` (a name, with `{` when it has labels).
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

pub struct System {
    pub env: TestEnv,
    pub command: String,
    pub query: String,
    pub projector: Option<String>,
    pub http: reqwest::Client,
    /// While on, command-api fails to record idempotent responses.
    pub record_failures: std::sync::Arc<std::sync::atomic::AtomicBool>,
    projector_app: Option<Running>,
    others: Vec<Running>,
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("has an address");
    (listener, addr)
}

fn run<F>(future: impl FnOnce(oneshot::Receiver<()>) -> F) -> Running
where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel();
    Running {
        stop: Some(stop),
        task: tokio::spawn(future(stopped)),
    }
}

/// Every log line of the services run in-process goes through a writer that
/// looks for the secrets the tests use; [`System::stop`] fails the test when
/// one was ever logged, so the whole suite is checked.
pub mod secrets {
    use std::{
        io::Write,
        sync::{Mutex, OnceLock},
    };

    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};

    /// The secrets of the test suite: the JWT secret and the NATS passwords.
    pub const SECRETS: &[&str] = &[
        flow_testkit::TEST_JWT_SECRET,
        "command-secret-7f3a",
        "projector-secret-91bc",
        "query-secret-2d44",
    ];

    static LEAKS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// Trace ids whose log lines a test collects ([`watch_trace`]), and the lines.
    static WATCHED: Mutex<Vec<(String, Vec<String>)>> = Mutex::new(Vec::new());

    struct Scanner;

    impl Write for Scanner {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let line = String::from_utf8_lossy(buf);
            if SECRETS.iter().any(|s| line.contains(s))
                && let Ok(mut leaks) = LEAKS.lock()
            {
                leaks.push(line.clone().into_owned());
            }
            if line.contains("\"trace_id\"")
                && let Ok(mut watched) = WATCHED.lock()
            {
                for (trace_id, lines) in watched.iter_mut() {
                    if line.contains(trace_id.as_str()) {
                        lines.push(line.clone().into_owned());
                    }
                }
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    static SPANS: OnceLock<InMemorySpanExporter> = OnceLock::new();

    /// Installs the services' subscriber once per test binary: JSON logs
    /// through the scanner, and traces kept in memory. Only traces a test
    /// starts (with a sampled `traceparent`) are recorded.
    pub fn capture() {
        SPANS.get_or_init(|| {
            let filter = tracing_subscriber::EnvFilter::new(
                "info,shared=debug,command_api=debug,projector=debug,query_api=debug,tower_http=debug,async_nats=debug",
            );
            let exporter = InMemorySpanExporter::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter.clone())
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
                .build();
            let _ = flow_runtime::telemetry::install(
                filter,
                true,
                false,
                || Scanner,
                Some(provider),
                "tests",
            );
            exporter
        });
    }

    /// The spans recorded so far, of every test.
    pub fn spans() -> Vec<opentelemetry_sdk::trace::SpanData> {
        SPANS
            .get()
            .and_then(|exporter| exporter.get_finished_spans().ok())
            .unwrap_or_default()
    }

    /// Collects the log lines that carry `trace_id` from now on.
    pub fn watch_trace(trace_id: &str) {
        if let Ok(mut watched) = WATCHED.lock() {
            watched.push((trace_id.to_owned(), Vec::new()));
        }
    }

    /// The log lines of a watched trace so far.
    pub fn trace_lines(trace_id: &str) -> Vec<String> {
        WATCHED
            .lock()
            .ok()
            .and_then(|watched| {
                watched
                    .iter()
                    .find(|(id, _)| id == trace_id)
                    .map(|(_, lines)| lines.clone())
            })
            .unwrap_or_default()
    }

    /// Fails if any log line so far carried a secret.
    pub fn assert_none_logged() {
        let leaks = LEAKS.lock().map(|l| l.clone()).unwrap_or_default();
        assert!(leaks.is_empty(), "secrets were logged: {leaks:?}");
    }
}

impl System {
    /// The three services.
    pub async fn start() -> Self {
        let mut system = Self::without_projector().await;
        system.start_projector().await;
        system
    }

    /// command-api and query-api only; the projector runs elsewhere.
    pub async fn without_projector() -> Self {
        Self::with_env(TestEnv::new()).await
    }

    /// The three services, query-api configured by `configure` first.
    pub async fn start_with_query_config(configure: impl FnOnce(&mut query_api::Config)) -> Self {
        let mut system = Self::build(TestEnv::new(), configure).await;
        system.start_projector().await;
        system
    }

    pub async fn with_env(env: TestEnv) -> Self {
        Self::build(env, |_| {}).await
    }

    async fn build(env: TestEnv, configure: impl FnOnce(&mut query_api::Config)) -> Self {
        let nats = env.nats.clone();
        Self::build_with_nats(env, nats, configure).await
    }

    /// command-api and query-api, each with its own NATS settings (users, TLS).
    pub async fn with_service_nats(
        env: TestEnv,
        command: flow_runtime::config::NatsConfig,
        query: flow_runtime::config::NatsConfig,
    ) -> Self {
        Self::build_with_nats(env, command, |config| config.nats = query).await
    }

    async fn build_with_nats(
        env: TestEnv,
        command_nats: flow_runtime::config::NatsConfig,
        configure: impl FnOnce(&mut query_api::Config),
    ) -> Self {
        Self::build_full(
            env,
            command_nats,
            flow_http::protect::HttpConfig::default(),
            configure,
        )
        .await
    }

    /// The three services, command-api and query-api accepting the tokens `auth` names.
    pub async fn start_with_auth(auth: flow_runtime::config::AuthConfig) -> Self {
        let env = TestEnv::new();
        let nats = env.nats.clone();
        let query_auth = auth.clone();
        let mut system = Self::build_full_with_auth(
            env,
            nats,
            flow_http::protect::HttpConfig::default(),
            auth,
            |config| config.auth = query_auth,
        )
        .await;
        system.start_projector().await;
        system
    }

    /// command-api and query-api on `env`, with CORS, rate limits and timeouts as given.
    pub async fn with_env_and_http(env: TestEnv, http: flow_http::protect::HttpConfig) -> Self {
        let nats = env.nats.clone();
        let query_http = http.clone();
        Self::build_full(env, nats, http, |config| config.http = query_http).await
    }

    /// The three services with CORS, rate limits and timeouts as given.
    pub async fn start_with_http(http: flow_http::protect::HttpConfig) -> Self {
        let env = TestEnv::new();
        let nats = env.nats.clone();
        let query_http = http.clone();
        let mut system = Self::build_full(env, nats, http, |config| config.http = query_http).await;
        system.start_projector().await;
        system
    }

    async fn build_full(
        env: TestEnv,
        command_nats: flow_runtime::config::NatsConfig,
        http: flow_http::protect::HttpConfig,
        configure: impl FnOnce(&mut query_api::Config),
    ) -> Self {
        let auth = flow_runtime::config::AuthConfig::hs256(env.jwt_secret.clone());
        Self::build_full_with_auth(env, command_nats, http, auth, configure).await
    }

    async fn build_full_with_auth(
        env: TestEnv,
        command_nats: flow_runtime::config::NatsConfig,
        http: flow_http::protect::HttpConfig,
        auth: flow_runtime::config::AuthConfig,
        configure: impl FnOnce(&mut query_api::Config),
    ) -> Self {
        secrets::capture();
        let (command_listener, command_addr) = listener().await;
        let command_config = command_api::Config {
            addr: command_addr,
            nats: command_nats,
            auth,
            banned_words: BannedWords::default(),
            startup_timeout: Duration::from_secs(20),
            http,
        };
        let command = command_api::App::build(command_config, command_listener)
            .await
            .expect("command-api builds");
        let record_failures = command.record_failure_switch();
        let (query_listener, query_addr) = listener().await;
        let mut query_config =
            query_api::Config::new(env.nats.clone(), env.mongo.clone(), env.jwt_secret.clone());
        configure(&mut query_config);
        let query = query_api::App::build(query_config, query_listener)
            .await
            .expect("query-api builds");
        let others = vec![
            run(|stop| {
                command.run_until_stopped(async {
                    let _ = stop.await;
                })
            }),
            run(|stop| {
                query.run_until_stopped(async {
                    let _ = stop.await;
                })
            }),
        ];
        Self {
            env,
            command: format!("http://{command_addr}"),
            query: format!("http://{query_addr}"),
            projector: None,
            http: reqwest::Client::new(),
            record_failures,
            projector_app: None,
            others,
        }
    }

    pub async fn start_projector(&mut self) {
        self.start_projector_with(|_| {}).await;
    }

    /// Starts the projector in-process with a changed configuration.
    pub async fn start_projector_with(&mut self, change: impl FnOnce(&mut projector::Config)) {
        let (projector_listener, projector_addr) = listener().await;
        let mut config = projector::Config::new(self.env.nats.clone(), self.env.mongo.clone());
        change(&mut config);
        let app = projector::App::build(config, projector_listener)
            .await
            .expect("projector builds");
        self.projector = Some(format!("http://{projector_addr}"));
        self.projector_app = Some(run(|stop| {
            app.run_until_stopped(async {
                let _ = stop.await;
            })
        }));
    }

    pub async fn stop_projector(&mut self) {
        if let Some(app) = self.projector_app.take() {
            app.stop().await;
        }
        self.projector = None;
    }

    pub async fn stop(mut self) {
        self.stop_projector().await;
        for app in self.others.drain(..) {
            app.stop().await;
        }
        secrets::assert_none_logged();
    }

    /// Sends a control request to the running projector (as the `projector`
    /// subcommands do) and returns its answer.
    /// A projector that was just started may not listen yet: "no responders"
    /// is retried for a bounded time.
    pub async fn control(&self, request: projector::control::Request) -> projector::control::Reply {
        let (client, _) = self.jetstream().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let answer = projector::control::request(
                &client,
                &self.env.nats.subjects(),
                &request,
                Duration::from_secs(120),
            )
            .await;
            match answer {
                Err(err)
                    if err.to_string().contains("no responders")
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                answer => return answer.expect("the projector answers"),
            }
        }
    }

    /// Another command-api on the same stream, with its own memory: its URL
    /// and what stops it.
    pub async fn second_command_api(&self) -> (String, Running) {
        let (listener, addr) = listener().await;
        let config = command_api::Config {
            addr,
            nats: self.env.nats.clone(),
            auth: flow_runtime::config::AuthConfig::hs256(self.env.jwt_secret.clone()),
            banned_words: BannedWords::default(),
            startup_timeout: Duration::from_secs(20),
            http: flow_http::protect::HttpConfig::default(),
        };
        let second = command_api::App::build(config, listener)
            .await
            .expect("the second command-api builds");
        let running = run(|stop| {
            second.run_until_stopped(async {
                let _ = stop.await;
            })
        });
        (format!("http://{addr}"), running)
    }

    /// The `/metrics` text of the service at `base`.
    pub async fn metrics(&self, base: &str) -> String {
        let reply = self.send(self.http.get(format!("{base}/metrics"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.body.as_str().expect("text").to_owned()
    }

    pub fn token(&self, user: &str) -> String {
        self.env.token(user, &[])
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let text = String::from_utf8_lossy(&bytes);
        for secret in secrets::SECRETS {
            assert!(
                !text.contains(secret),
                "a response carries a secret: {text}"
            );
            for value in headers.values() {
                assert!(
                    !String::from_utf8_lossy(value.as_bytes()).contains(secret),
                    "a response header carries a secret"
                );
            }
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &str,
        body: Value,
    ) -> Reply {
        let request = self
            .http
            .request(method, format!("{}{path}", self.command))
            .bearer_auth(self.token(user))
            .json(&body);
        self.send(request).await
    }

    pub async fn post(&self, path: &str, user: &str, body: Value) -> Reply {
        self.write(reqwest::Method::POST, path, user, body).await
    }

    pub async fn put(&self, path: &str, user: &str, body: Value) -> Reply {
        self.write(reqwest::Method::PUT, path, user, body).await
    }

    pub async fn patch(&self, path: &str, user: &str, body: Value) -> Reply {
        self.write(reqwest::Method::PATCH, path, user, body).await
    }

    /// A read that waits for the write with `token` to be visible.
    pub async fn get_after(&self, path: &str, token: &str) -> Reply {
        let request = self
            .http
            .get(format!("{}{path}", self.query))
            .header("Consistency-Token", token);
        self.send(request).await
    }

    /// A read by `user` (with a token of theirs, and `roles`) that waits for
    /// the write with `token` when one is given.
    pub async fn get_as(
        &self,
        path: &str,
        user: &str,
        roles: &[&str],
        token: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .get(format!("{}{path}", self.query))
            .bearer_auth(self.env.token(user, roles));
        if let Some(token) = token {
            request = request.header("Consistency-Token", token);
        }
        self.send(request).await
    }

    /// Every item of a listing, page after page, read after the write with `token`.
    pub async fn all_items_after(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let page_path = match (&cursor, path.contains('?')) {
                (None, _) => path.to_owned(),
                (Some(c), true) => format!("{path}&cursor={c}"),
                (Some(c), false) => format!("{path}?cursor={c}"),
            };
            let page = self.get_after(&page_path, token).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
            items.extend(
                page.body["items"]
                    .as_array()
                    .unwrap_or_else(|| panic!("items: {:?}", page.body))
                    .iter()
                    .cloned(),
            );
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path} did not end");
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.query)))
            .await
    }

    /// `n` top-level COMMENT threads by "author" on `project_id`, in order; their ids.
    pub async fn comment_threads(&self, project_id: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            let reply = self
                .post(
                    &format!("/projects/{project_id}/threads"),
                    "author",
                    serde_json::json!({"thread_type": "COMMENT", "message": format!("thread {i}")}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            ids.push(reply.body["thread_id"].as_str().expect("id").to_owned());
        }
        ids
    }

    pub async fn propose(&self, user: &str, name: &str) -> Reply {
        let reply = self
            .post(
                "/projects/propose",
                user,
                serde_json::json!({
                    "project_name": name,
                    "tagline": format!("the tagline of {name}"),
                    "problems": ["first problem", "second problem"],
                    "solutions": ["a solution"],
                    "tags": ["test"],
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply
    }

    /// The read model of the generation being served.
    pub async fn read_model(&self) -> ReadModel {
        let model = ReadModel::connect(&self.env.mongo, "tests", Duration::from_secs(10))
            .await
            .expect("connects");
        let generation = model
            .active_generation()
            .await
            .expect("reads the generation");
        model.with_generation(generation)
    }

    pub async fn jetstream(&self) -> (async_nats::Client, jetstream::Context) {
        let servers: Vec<&str> = self.env.nats.url.split(',').collect();
        let client = async_nats::connect(servers).await.expect("connects");
        let js = jetstream::new(client.clone());
        (client, js)
    }

    /// The stream's last sequence.
    pub async fn stream_last(&self) -> u64 {
        let (_, js) = self.jetstream().await;
        let stream = js
            .get_stream(&self.env.nats.stream)
            .await
            .expect("stream exists");
        stream.get_info().await.expect("info").state.last_sequence
    }

    /// A projector process against this system, listening on `addr`, with
    /// a lease of `lease_ms` (a restart waits out a killed instance's) and
    /// batches of `batch` events folded up to `fold`; killed when dropped.
    pub fn projector_process(
        &self,
        addr: &str,
        lease_ms: u64,
        batch: u32,
        fold: u32,
    ) -> tokio::process::Child {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_projector"));
        command
            .envs(self.env.env_vars())
            .env("FLOW_PROJECTOR_ADDR", addr)
            .env("FLOW_PROJECTOR_LEASE_MS", lease_ms.to_string())
            .env("FLOW_PROJECTOR_BATCH", batch.to_string())
            .env("FLOW_PROJECTOR_FOLD", fold.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        command.spawn().expect("the projector starts")
    }

    /// Every thread of the project counts exactly the votes the stream
    /// holds; it has `threads` threads besides its own problem, solution and
    /// discussion threads.
    pub async fn assert_vote_counts_match_stream(&self, project_id: &str, threads: usize) {
        let model = self.read_model().await;
        let expected = self.vote_counts_from_stream().await;
        let mut docs = model
            .threads
            .find(mongodb::bson::doc! {"project_id": project_id})
            .await
            .expect("finds");
        let mut seen = 0;
        while let Some(thread) = futures::StreamExt::next(&mut docs).await {
            let thread: flow_readmodel::ThreadDoc = thread.expect("decodes");
            let (up, down) = expected.get(&thread.thread_id).copied().unwrap_or((0, 0));
            assert_eq!(
                (thread.up_vote, thread.down_vote),
                (up, down),
                "thread {}",
                thread.thread_id
            );
            seen += 1;
        }
        assert_eq!(seen, threads + 3);
    }

    /// Vote counts per thread as the stream says.
    async fn vote_counts_from_stream(&self) -> std::collections::HashMap<String, (i64, i64)> {
        let mut counts = std::collections::HashMap::new();
        for (_, envelope) in self.events().await {
            if let flow_domain::events::Event::VoteCast {
                thread_id,
                direction,
                previous,
                ..
            } = envelope.event
            {
                let (up, down) = projector::projection::vote_delta(direction, previous);
                let entry = counts.entry(thread_id.to_string()).or_insert((0, 0));
                entry.0 += up;
                entry.1 += down;
            }
        }
        counts
    }

    /// Every event in the stream, in order, with its sequence.
    pub async fn events(&self) -> Vec<(u64, Envelope)> {
        let (_, js) = self.jetstream().await;
        let stream = js
            .get_stream(&self.env.nats.stream)
            .await
            .expect("stream exists");
        let last = stream.get_info().await.expect("info").state.last_sequence;
        let mut events = Vec::new();
        for seq in 1..=last {
            let message = stream
                .direct_get(seq)
                .await
                .expect("every sequence is stored");
            events.push((seq, Envelope::from_json(&message.payload).expect("decodes")));
        }
        events
    }

    /// Waits until the read model has applied everything in the stream.
    pub async fn settle(&self) {
        self.settle_within(Duration::from_secs(60)).await;
    }

    /// [`Self::settle`] with another bound (for a backlog of thousands of
    /// events on a debug build beside other tests).
    pub async fn settle_within(&self, bound: Duration) {
        let last = self.stream_last().await;
        eventually("the projector catches up", bound, || async move {
            self.read_model().await.position().await.unwrap_or(0) >= last
        })
        .await;
    }
}
