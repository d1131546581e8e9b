//! Test harness: real NATS and MongoDB-compatible servers, started once per
//! test binary on free loopback ports, and a unique stream, subject prefix and
//! database per test.
//!
//! The servers come from `.tools/bin` (installed by `./dev setup`), or from the
//! directory in `FLOW_TOOLS_BIN`. They are killed when the test binary exits.
#![allow(unsafe_code, clippy::unwrap_used, clippy::print_stdout)]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use secrecy::SecretString;

use flow_runtime::config::{MongoConfig, NatsConfig};

/// The JWT secret every test uses.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef";

/// Where the servers of this test binary listen.
#[derive(Debug, Clone)]
pub struct Servers {
    pub nats_url: String,
    pub nats_monitor_port: u16,
    pub mongo_uri: String,
    pub mongo_port: u16,
    pub data_dir: PathBuf,
}

/// The tools directory: `FLOW_TOOLS_BIN`, else the workspace's `.tools/bin`.
pub fn tools_bin() -> PathBuf {
    std::env::var_os("FLOW_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // The workspace root: the nearest folder above the crate under
            // test (set by cargo when it runs tests) that holds Cargo.lock.
            let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
            let root = crate_dir
                .ancestors()
                .find(|dir| dir.join("Cargo.lock").exists())
                .unwrap_or(&crate_dir)
                .to_path_buf();
            root.join(".tools/bin")
        })
}

fn tool(name: &str) -> PathBuf {
    let path = tools_bin().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `./dev setup` (or `./dev test`) first",
        path.display()
    );
    path
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Spawns a child that gets SIGKILL when the spawning thread ends.
fn spawn_tied(cmd: &mut Command) -> std::io::Result<Child> {
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// Polls `ready` every 20 ms until it holds or `bound` passes.
pub fn poll_until(what: &str, bound: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "{what} was not ready within {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A NATS server with JetStream on free ports; data under `dir`.
pub struct NatsProcess {
    pub child: Child,
    pub port: u16,
    pub monitor_port: u16,
}

impl NatsProcess {
    pub fn start(dir: &Path, port: u16, extra: &[&str]) -> Self {
        Self::start_with_env(dir, port, extra, &[])
    }

    /// Starts it with extra environment variables (a configuration's secrets).
    pub fn start_with_env(dir: &Path, port: u16, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let monitor_port = free_port();
        std::fs::create_dir_all(dir).unwrap();
        let child = spawn_tied(
            Command::new(tool("nats-server"))
                .args(["-js", "-sd"])
                .arg(dir)
                .args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-m",
                    &monitor_port.to_string(),
                ])
                .args(extra)
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("nats-server starts");
        poll_until("nats-server", Duration::from_secs(20), || {
            http_ok(monitor_port, "/healthz?js-enabled-only=true")
        });
        Self {
            child,
            port,
            monitor_port,
        }
    }
}

/// The MongoDB-compatible server on a free port; data under `dir`.
pub struct MongoProcess {
    pub child: Child,
    pub port: u16,
}

impl MongoProcess {
    pub fn start(dir: &Path, port: u16) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let child = spawn_tied(
            Command::new(tool("nx-27017"))
                .arg("--data-dir")
                .arg(dir)
                .args(["--host", "127.0.0.1", "-p", &port.to_string()])
                .arg("--log-file")
                .arg(dir.join("server.log"))
                .arg("--pid-file")
                .arg(dir.join("server.pid"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("nx-27017 starts");
        poll_until("nx-27017", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self { child, port }
    }
}

/// Runs `start` on a thread that lives as long as the test binary, so that the
/// children it spawns die with the binary and not with one test's thread.
pub fn on_keeper_thread<T: Send + 'static>(start: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("test-servers".into())
        .spawn(move || {
            let _ = tx.send(start());
            loop {
                std::thread::park();
            }
        })
        .expect("keeper thread");
    rx.recv().expect("servers started")
}

/// The servers shared by every test of this binary.
pub fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        on_keeper_thread(|| {
            let data_dir = std::env::temp_dir().join(format!("flow-tests-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&data_dir);
            let nats = NatsProcess::start(&data_dir.join("nats"), free_port(), &[]);
            let mongo = MongoProcess::start(&data_dir.join("mongo"), free_port());
            let servers = Servers {
                nats_url: format!("nats://127.0.0.1:{}", nats.port),
                nats_monitor_port: nats.monitor_port,
                mongo_uri: format!("mongodb://127.0.0.1:{}", mongo.port),
                mongo_port: mongo.port,
                data_dir,
            };
            // The children must outlive this closure: keep them forever.
            std::mem::forget(nats.child);
            std::mem::forget(mongo.child);
            servers
        })
    })
}

/// A unique name for one test's stream, subjects and database.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One test's isolated configuration on the shared servers.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub name: String,
    pub nats: NatsConfig,
    pub mongo: MongoConfig,
    pub jwt_secret: SecretString,
}

impl TestEnv {
    pub fn new() -> Self {
        let servers = servers();
        let name = unique_name("t");
        Self {
            nats: NatsConfig::local(servers.nats_url.clone(), name.to_uppercase(), name.clone()),
            mongo: MongoConfig {
                uri: SecretString::from(servers.mongo_uri.clone()),
                database: name.clone(),
            },
            jwt_secret: SecretString::from(TEST_JWT_SECRET),
            name,
        }
    }

    /// The environment variables that give a service process this configuration.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        use secrecy::ExposeSecret;
        vec![
            ("FLOW_NATS_URL".into(), self.nats.url.clone()),
            ("FLOW_STREAM".into(), self.nats.stream.clone()),
            (
                "FLOW_SUBJECT_PREFIX".into(),
                self.nats.subject_prefix.clone(),
            ),
            (
                "FLOW_MONGODB_URI".into(),
                self.mongo.uri.expose_secret().to_owned(),
            ),
            ("FLOW_MONGODB_DATABASE".into(), self.mongo.database.clone()),
            ("FLOW_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ]
    }

    /// A token for `sub` with `roles`, valid for an hour.
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        flow_http::auth::Jwt::new(&self.jwt_secret).mint(sub, roles, 3600)
    }

    /// A token whose `name` claim is `name`.
    pub fn named_token(&self, sub: &str, name: &str) -> String {
        flow_http::auth::Jwt::new(&self.jwt_secret).mint_named(sub, Some(name), &[], 3600)
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Polls an async condition every 20 ms until it holds or `bound` passes.
pub async fn eventually<F, Fut>(what: &str, bound: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + bound;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
