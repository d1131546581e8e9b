//! flow-bench: starts NATS, the MongoDB-compatible server and the three
//! services (release build, separate processes) on free ports, drives them,
//! and measures each figure beside its physical ceiling in the same run.
//! See BENCHMARKS.md at the repository root.

mod cli;
mod load;
mod plot;
mod procs;
mod proxy;
mod report;
mod workload;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use async_nats::{
    HeaderMap,
    header::NATS_MESSAGE_ID,
    jetstream::{self, consumer::pull, stream},
};
use futures::{StreamExt, stream::FuturesUnordered};
use hdrhistogram::Histogram;
use mongodb::bson::doc;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::{
    auth::Jwt,
    config::{MongoConfig, NatsConfig},
    domain::Direction,
    events::Subjects,
    readmodel::ReadModel,
};

use crate::{
    cli::Options,
    load::Summary,
    procs::Proc,
    report::Figure,
    workload::{Generator, Rng, THREAD_SKEW, Zipf, toggle},
};

fn started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn since_start() -> f64 {
    started().elapsed().as_secs_f64()
}

macro_rules! say {
    ($($arg:tt)*) => { eprintln!("[{:>7.1}s] {}", since_start(), format!($($arg)*)) };
}

const STREAM: &str = "BENCH";
const PREFIX: &str = "bench";
const DATABASE: &str = "bench";
const RAW_STREAM: &str = "BENCHRAW";
const SEED_PROJECTS: usize = 50;
const USERS: usize = 2_000;
/// About this many writes a second are followed to their first visible read:
/// the measurement's own reads stay a small, fixed load on the store (at 50%
/// of max, following one write in ten took more than half of what nx-27017
/// serves, and the reads queued behind each other).
const FOLLOWED_PER_SECOND: f64 = 75.0;
const STATUS_EVERY: Duration = Duration::from_millis(250);

#[tokio::main]
async fn main() -> ExitCode {
    started();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("flow-bench: {message}");
            }
            eprintln!("{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = tokio::select! {
        r = run(options) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("flow-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the current directory when run from it (as `./dev
/// bench` does), else where this crate was built.
fn root() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir()
        && cwd.join("bench/Cargo.toml").is_file()
    {
        return cwd;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn tools_bin() -> PathBuf {
    std::env::var_os("FLOW_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The running system: services first, so that they stop before the servers.
struct System {
    command: Proc,
    projector: Proc,
    query: Proc,
    nats: Proc,
    mongo: Proc,
    command_url: String,
    query_url: String,
    projector_url: String,
    nats_url: String,
    mongo_uri: String,
    jwt: Jwt,
    wire: Arc<proxy::Counts>,
}

/// One reading of the projector's `/status`.
#[derive(Debug, Clone, Copy, Default)]
struct StatusSample {
    at: f64,
    position: u64,
    lag: u64,
    writes: u64,
    applied: u64,
    batches: u64,
    batch_micros: u64,
}

impl StatusSample {
    fn from_json(at: f64, v: &Value) -> Self {
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Self {
            at,
            position: n("position"),
            lag: n("lag_events"),
            writes: n("writes"),
            applied: n("applied_events"),
            batches: n("batches"),
            batch_micros: n("batch_visible_micros"),
        }
    }
}

type Samples = Arc<Mutex<Vec<StatusSample>>>;

/// Followed writes: latencies of the visible ones, `(at, ms)` points, and how
/// many were not visible within the wait.
type Freshness = Arc<Mutex<(Histogram<u64>, Vec<(f64, f64)>, u64)>>;

/// What the run measured, gathered for the report.
#[derive(Default)]
struct Measured {
    figures: Vec<Figure>,
    details: serde_json::Map<String, Value>,
    phases: Vec<(f64, String)>,
    curves: Vec<(String, Vec<(f64, f64)>)>,
    freshness_points: Vec<(f64, f64)>,
    /// The processes whose CPU time is read at each phase boundary.
    pids: Vec<(String, u32)>,
    cpu_mark: Option<(f64, String, HashMap<String, f64>)>,
    /// Per phase: each process's CPU use (100 = one core) and peak RSS.
    cpu: Vec<Value>,
    /// The largest RSS (KiB) of each process since the last phase boundary.
    rss_peaks: Arc<Mutex<HashMap<String, u64>>>,
}

impl Measured {
    fn phase(&mut self, name: &str) {
        say!("== {name}");
        let now = since_start();
        if let Some((started, previous, cpu)) = self.cpu_mark.take() {
            let wall = (now - started).max(0.001);
            let mut row = serde_json::Map::new();
            for (process, pid) in &self.pids {
                let used = procs::cpu_seconds(*pid).unwrap_or(0.0)
                    - cpu.get(process).copied().unwrap_or(0.0);
                row.insert(process.clone(), json!((100.0 * used / wall).round()));
            }
            let peaks = self
                .rss_peaks
                .lock()
                .map(|mut p| std::mem::take(&mut *p))
                .unwrap_or_default();
            let rss: serde_json::Map<String, Value> = peaks
                .into_iter()
                .map(|(process, kib)| (process, json!((kib as f64 / 1024.0 * 10.0).round() / 10.0)))
                .collect();
            self.cpu.push(json!({"phase": previous, "seconds": wall.round(), "cpu_percent": row, "peak_rss_mib": rss}));
        }
        let cpu = self
            .pids
            .iter()
            .map(|(n, pid)| (n.clone(), procs::cpu_seconds(*pid).unwrap_or(0.0)))
            .collect();
        self.cpu_mark = Some((now, name.to_owned(), cpu));
        self.phases.push((now, name.to_owned()));
    }
}

async fn run(options: Options) -> anyhow::Result<()> {
    let root = root();
    let tools = tools_bin();
    for tool in ["nats-server", "nx-27017"] {
        if !tools.join(tool).exists() {
            bail!(
                "{} is missing: run `./dev setup` first",
                tools.join(tool).display()
            );
        }
    }
    if options.build {
        say!("building the services (release)");
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "--release",
                "--locked",
                "--bins",
                "-p",
                "command-api",
                "-p",
                "projector",
                "-p",
                "query-api",
            ])
            .current_dir(&root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("cargo build --release failed");
        }
    }
    let bin_dir = options
        .bin_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("release"));
    for bin in ["command-api", "projector", "query-api"] {
        if !bin_dir.join(bin).exists() {
            bail!(
                "{} is missing: build with `cargo build --release --bins` or pass --bin-dir",
                bin_dir.join(bin).display()
            );
        }
    }
    let default_out = !options.quick && options.out.is_none();
    let out = options.out.clone().unwrap_or_else(|| {
        root.join(if options.quick {
            "bench/results/quick"
        } else {
            "bench/results"
        })
    });
    std::fs::create_dir_all(&out)?;
    let tmp = std::env::temp_dir().join(format!("flow-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let logs = tmp.join("logs");
    std::fs::create_dir_all(&logs)?;
    say!("data and logs in {}", tmp.display());

    let machine = report::machine();
    let versions = json!({
        "flow": env!("CARGO_PKG_VERSION"),
        "git": git_describe(&root),
        "rustc": procs::version_of(Path::new("rustc"), &["--version"]),
        "nats_server": procs::version_of(&tools.join("nats-server"), &["--version"]),
        "nx_27017": pip_version(&tools, "nx-27017"),
        "async_nats": "0.51",
        "mongodb_driver": "3.9",
    });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1_024)
        .tcp_nodelay(true)
        .build()?;
    let result = measure(&options, &bin_dir, &tools, &tmp, &logs, &http).await;
    let mut measured = match result {
        Ok(m) => m,
        Err(err) => {
            eprintln!(
                "flow-bench: the logs of this run are kept in {}",
                logs.display()
            );
            return Err(err);
        }
    };
    let finished_load = report::load_average();

    let results = json!({
        "generated_at": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "mode": if options.quick { "quick" } else { "full" },
        "duration_seconds": since_start().round(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "machine": machine,
        "load_average_at_end": finished_load,
        "versions": versions,
        "settings": {
            "clients": options.clients,
            "phase_seconds": options.phase.as_secs(),
            "events": options.events,
            "seed_projects": SEED_PROJECTS,
            "users": USERS,
            "thread_skew_zipf_s": THREAD_SKEW,
            "freshness_followed_per_second": FOLLOWED_PER_SECOND,
        },
        "figures": measured.figures,
        "details": Value::Object(std::mem::take(&mut measured.details)),
        "phases": measured.phases.iter().map(|(t, n)| json!({"at_seconds": t, "phase": n})).collect::<Vec<_>>(),
    });
    report::write_json(&out.join("latest.json"), &results)?;
    plot::latency(
        &out.join("latency.svg"),
        "Latency percentiles (same run)",
        &measured.curves,
    )?;
    let lag_points: Vec<(f64, f64)> = results["details"]["status_samples"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| Some((s.get(0)?.as_f64()?, s.get(2)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    plot::lag(
        &out.join("lag.svg"),
        &plot::LagPlot {
            lag: &lag_points,
            phases: &measured.phases,
            freshness: &measured.freshness_points,
        },
    )?;
    let phases = results["details"]["cpu_by_phase"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let table = format!(
        "{}\nCPU by phase (100% = one core; the machine has {}):\n\n{}\nPeak RSS by phase (MiB, sampled every 200 ms):\n\n{}",
        report::table(&measured.figures),
        results["machine"]["cores"],
        report::phase_table(phases, "cpu_percent", "%"),
        report::phase_table(phases, "peak_rss_mib", ""),
    );
    let markdown = format!(
        "Run of {} ({} mode, {} events, {} clients, {} s phases) on {} × {} ({} MiB), in {:.0} s.\n\n{table}",
        results["generated_at"].as_str().unwrap_or(""),
        results["mode"].as_str().unwrap_or(""),
        options.events,
        options.clients,
        options.phase.as_secs(),
        results["machine"]["cores"],
        results["machine"]["cpu_model"].as_str().unwrap_or(""),
        results["machine"]["memory_mib"],
        since_start(),
    );
    std::fs::write(out.join("latest.md"), &markdown)?;
    if default_out {
        update_benchmarks_md(&root.join("BENCHMARKS.md"), &markdown)?;
    }
    eprintln!("\n{markdown}");
    say!("results in {}", out.display());
    if options.keep {
        say!("data and logs kept in {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

/// Replaces the generated part of BENCHMARKS.md, between its markers.
fn update_benchmarks_md(path: &Path, markdown: &str) -> anyhow::Result<()> {
    const START: &str = "<!-- bench:results:start -->";
    const END: &str = "<!-- bench:results:end -->";
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Ok(());
    };
    if b < a {
        return Ok(());
    }
    let updated = format!("{}{START}\n{markdown}{}", &text[..a], &text[b..]);
    std::fs::write(path, updated)?;
    say!("updated the table in {}", path.display());
    Ok(())
}

fn git_describe(root: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = run(&["rev-parse", "--short", "HEAD"]);
    let dirty = !run(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{head} (with uncommitted changes)")
    } else {
        head
    }
}

fn pip_version(tools: &Path, package: &str) -> String {
    let out = Command::new(tools.join("pip"))
        .args(["show", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap_or("unknown")
        .trim()
        .to_owned()
}

/// Starts everything, runs every phase, and stops everything.
async fn measure(
    options: &Options,
    bin_dir: &Path,
    tools: &Path,
    tmp: &Path,
    logs: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<Measured> {
    let mut m = Measured::default();
    m.phase("start");
    let system = start_system(bin_dir, tools, tmp, logs, http).await?;
    m.pids = [
        &system.command,
        &system.projector,
        &system.query,
        &system.nats,
        &system.mongo,
    ]
    .iter()
    .map(|p| (p.name.clone(), p.pid()))
    .chain(std::iter::once((
        "flow-bench".to_owned(),
        std::process::id(),
    )))
    .collect();
    let rss_sampler = tokio::spawn(sample_rss(m.pids.clone(), m.rss_peaks.clone()));
    let client = async_nats::connect(&system.nats_url).await?;
    let js = jetstream::new(client.clone());
    let stream = js.get_stream(STREAM).await?;
    let subjects = Subjects::new(PREFIX);
    let mongo = MongoConfig {
        uri: SecretString::from(system.mongo_uri.clone()),
        database: DATABASE.into(),
    };
    let base = ReadModel::connect(&mongo, "flow-bench", Duration::from_secs(30)).await?;

    // The projector's status, all along.
    let samples: Samples = Arc::default();
    let sampler = tokio::spawn(sample_status(
        http.clone(),
        system.projector_url.clone(),
        samples.clone(),
    ));

    let warmup = (options.phase / 5).min(Duration::from_secs(2));
    let phase = options.phase;
    let clients = options.clients;

    // ---- seed
    m.phase("seed");
    seed(&system, http).await?;
    settle(&system, http, &stream, Duration::from_secs(120)).await?;
    let threads = seed_threads(&system, http).await?;
    say!("{} projects with {} threads", SEED_PROJECTS, threads.len());

    // ---- writes
    m.phase("writes: raw JetStream");
    let raw = raw_stream(&js).await?;
    let payload = sample_vote_payload(&threads);
    let raw_before = raw_publish(&js, clients, warmup, phase, payload.clone()).await;
    say!(
        "raw JetStream: {:.0} acked publishes/s (p99 {:.2} ms)",
        raw_before.per_second,
        raw_before.p99_ms
    );
    let votes = Arc::new(VoteLoad::new(&system, http, threads.clone())?);
    m.phase("writes: votes, max");
    let ours_max = {
        let votes = votes.clone();
        load::closed_loop(clients, warmup, phase, move |client, i| {
            let votes = votes.clone();
            async move { votes.cast(client as u64 * 1_000_003 + i).await.is_some() }
        })
        .await
    };
    say!(
        "votes, closed loop: {:.0}/s (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
        ours_max.per_second,
        ours_max.p50_ms,
        ours_max.p99_ms,
        ours_max.errors
    );
    // The same, with the projector stopped (SIGSTOP): the write path alone,
    // without the projector and the store taking their share of the cores.
    m.phase("writes: votes, projector paused");
    system.projector.signal(libc::SIGSTOP);
    let alone = {
        let votes = votes.clone();
        load::closed_loop(clients, warmup, phase, move |client, i| {
            let votes = votes.clone();
            async move {
                votes
                    .cast((client as u64 + 7_777) * 1_000_003 + i)
                    .await
                    .is_some()
            }
        })
        .await
    };
    system.projector.signal(libc::SIGCONT);
    say!(
        "votes with the projector paused: {:.0}/s (p99 {:.2} ms)",
        alone.per_second,
        alone.p99_ms
    );
    m.phase("writes: raw JetStream again");
    let raw_after = raw_publish(&js, clients, warmup, phase, payload.clone()).await;
    say!(
        "raw JetStream: {:.0} acked publishes/s",
        raw_after.per_second
    );
    drop(raw);
    let _ = js.delete_stream(RAW_STREAM).await;
    settle(&system, http, &stream, Duration::from_secs(300)).await?;

    m.phase("writes at 50%");
    let rate = (ours_max.per_second * 0.5).max(1.0);
    let half_before = status_now(http, &system.projector_url).await?;
    let (half, fresh, fresh_points, half_every) =
        votes_at(&votes, http, &system.query_url, rate, warmup, phase).await;
    let half_after = status_now(http, &system.projector_url).await?;
    let half_batches = half_after
        .batches
        .saturating_sub(half_before.batches)
        .max(1);
    let half_batch_events =
        half_after.applied.saturating_sub(half_before.applied) as f64 / half_batches as f64;
    let half_batch_ms = half_after
        .batch_micros
        .saturating_sub(half_before.batch_micros) as f64
        / half_batches as f64
        / 1000.0;
    let unseen = fresh.errors;
    say!(
        "votes at {rate:.0}/s: p50 {:.2} ms, p99 {:.2} ms, {} errors; freshness p50 {:.1} ms, p99 {:.1} ms over {} samples ({unseen} not visible within the wait)",
        half.p50_ms,
        half.p99_ms,
        half.errors,
        fresh.p50_ms,
        fresh.p99_ms,
        fresh.ok,
    );
    settle(&system, http, &stream, Duration::from_secs(300)).await?;
    m.phase("writes at 10%");
    let low_rate = (ours_max.per_second * 0.1).max(1.0);
    let (low, low_fresh, _, low_every) =
        votes_at(&votes, http, &system.query_url, low_rate, warmup, phase).await;
    say!(
        "votes at {low_rate:.0}/s: p99 {:.2} ms; freshness p50 {:.1} ms, p99 {:.1} ms over {} samples",
        low.p99_ms,
        low_fresh.p50_ms,
        low_fresh.p99_ms,
        low_fresh.ok,
    );
    m.freshness_points = fresh_points;
    settle(&system, http, &stream, Duration::from_secs(300)).await?;

    m.figures.push(
        Figure::new(
            "writes_per_second",
            format!(
                "writes: validated votes/s through command-api ({clients} clients, closed loop)"
            ),
            "/s",
            ours_max.per_second,
        )
        .against(
            format!("acked JetStream publishes/s, {clients} clients"),
            &[raw_before.per_second, raw_after.per_second],
        )
        .ratio_at_least(0.5)
        .note("HTTP → JWT → decide → publish with the expected subject sequence → ack; the projector applies them meanwhile"),
    );
    m.figures.push(
        Figure::new(
            "writes_per_second_alone",
            "writes: votes/s with the projector paused (the write path alone)",
            "/s",
            alone.per_second,
        )
        .against(
            format!("acked JetStream publishes/s, {clients} clients"),
            &[raw_before.per_second, raw_after.per_second],
        )
        .note("no target: what the projector and the store take from the write path on 2 shared cores"),
    );
    m.figures.push(
        Figure::new(
            "writes_p50",
            format!("writes: p50 latency at 50% of max ({rate:.0} votes/s, open loop)"),
            "ms",
            half.p50_ms,
        )
        .note(format!("{} ok, {} failed", half.ok, half.errors)),
    );
    m.figures.push(Figure::new(
        "writes_p99",
        format!("writes: p99 latency at 50% of max ({rate:.0} votes/s, open loop)"),
        "ms",
        half.p99_ms,
    ));
    m.figures.push(
        Figure::new(
            "freshness_p50",
            "freshness: write accepted → visible to a read, p50, at 50% of max writes",
            "ms",
            fresh.p50_ms,
        )
        .note(format!(
            "{} writes followed (1 in {half_every}); {unseen} not visible within the 2 s wait; \
             the projector's batches: {half_batch_events:.0} events, {half_batch_ms:.1} ms from the first event received to the documents written",
            fresh.ok
        )),
    );
    m.figures.push(
        Figure::new(
            "freshness_p99",
            "freshness: write accepted → visible to a read, p99, at 50% of max writes",
            "ms",
            fresh.p99_ms,
        )
        .at_most(50.0),
    );
    m.figures.push(
        Figure::new(
            "freshness_p99_low",
            format!("freshness: p99 at 10% of max writes ({low_rate:.0} votes/s)"),
            "ms",
            low_fresh.p99_ms,
        )
        .note(format!(
            "no target: the floor when the projector keeps up; p50 {:.1} ms; writes p99 {:.1} ms; 1 write in {low_every} followed",
            low_fresh.p50_ms, low.p99_ms
        )),
    );
    m.curves.push((
        format!("votes via command-api at {rate:.0}/s (open loop)"),
        half.curve.clone(),
    ));
    m.curves.push((
        format!("raw JetStream publish+ack, {clients} clients (closed loop, max)"),
        raw_before.curve.clone(),
    ));
    m.curves.push((
        format!("freshness at {rate:.0} votes/s: accepted → visible to a read"),
        fresh.curve.clone(),
    ));
    m.curves.push((
        format!("freshness at {low_rate:.0} votes/s (10% of max)"),
        low_fresh.curve.clone(),
    ));
    m.details.insert(
        "writes".into(),
        json!({"ours_closed_loop": ours_max, "ours_projector_paused": alone, "ours_half_open_loop": half, "half_rate": rate, "raw_before": raw_before, "raw_after": raw_after, "freshness": fresh,
               "ours_low_open_loop": low, "low_rate": low_rate, "freshness_low": low_fresh}),
    );

    // ---- live projection of a large backlog
    m.phase("projection");
    let store_1 = bulk_ceiling(&base, phase, Shape::Upsert).await?;
    say!("store ceiling: {store_1:.0} bulk upserts/s");
    let projects = (options.events / 1_000).clamp(50, 2_000) as usize;
    let mut generator = Generator::new(0x5eed_f10e, projects, 5_000);
    let before = status_now(http, &system.projector_url).await?;
    let wire_before = system.wire.snapshot();
    let t0 = Instant::now();
    let published = generate(&js, &subjects, &mut generator, options.events).await?;
    let t1 = Instant::now();
    let at_publish_end = status_now(http, &system.projector_url).await?;
    let wire_mid = system.wire.snapshot();
    say!(
        "published {} events in {:.1} s ({:.0}/s)",
        published,
        (t1 - t0).as_secs_f64(),
        published as f64 / (t1 - t0).as_secs_f64()
    );
    let bound = Duration::from_secs(600 + options.events / 200);
    let done = settle(&system, http, &stream, bound).await?;
    let t2 = Instant::now();
    let wire_after = system.wire.snapshot();
    let drain_secs = (t2 - t1).as_secs_f64();
    let drained = done.position.saturating_sub(at_publish_end.position);
    let whole = done.position.saturating_sub(before.position) as f64 / (t2 - t0).as_secs_f64();
    let live_rate = if drain_secs >= 1.0 && drained > 0 {
        drained as f64 / drain_secs
    } else {
        whole
    };
    let applied = done.applied.saturating_sub(before.applied).max(1);
    let wpe_status = done.writes.saturating_sub(before.writes) as f64 / applied as f64;
    let mean_batch = applied as f64 / done.batches.saturating_sub(before.batches).max(1) as f64;
    let wpe_wire = wire_after.1.saturating_sub(wire_before.1) as f64
        / done.position.saturating_sub(before.position).max(1) as f64;
    say!(
        "live projection: {live_rate:.0} events/s while draining ({whole:.0}/s overall), {wpe_status:.3} writes/event (status), {wpe_wire:.3} statements/event (wire)"
    );
    let store_2 = bulk_ceiling(&base, phase, Shape::Upsert).await?;
    say!("store ceiling: {store_2:.0} bulk upserts/s");
    let guarded = bulk_ceiling(&base, phase, Shape::Guarded).await?;
    say!("the projector's statement shape, in bulk: {guarded:.0}/s");
    let drain_statements = wire_after.1.saturating_sub(wire_mid.1) as f64 / drain_secs.max(0.001);
    m.figures.push(
        Figure::new("projection_events_per_second", "projection: events/s applied live (draining a backlog)", "/s", live_rate)
            .against("bulk upserts/s into the same server (batches of 500)", &[store_1, store_2])
            .ratio_at_least(0.8)
            .note(format!("{drained} events applied in {drain_secs:.1} s after the publisher finished; {whole:.0}/s including the publishing")),
    );
    m.figures.push(
        Figure::new("projection_statements_per_second", "projection: update statements/s sent to the store while draining", "/s", drain_statements)
            .against("bulk upserts/s into the same server", &[store_1, store_2])
            .note(format!("no target: how busy the projector keeps the store; the projector's own statement shape (seq guard, three $set) in bulk: {guarded:.0}/s")),
    );
    m.figures.push(
        Figure::new("projection_writes_per_event", "projection: writes per event under load (≈99% votes)", "writes", wpe_status)
            .at_most(0.2)
            .note(format!("/status statements per applied event, in batches of {mean_batch:.0} events on average; on the wire, with position and intent writes: {wpe_wire:.3}")),
    );
    m.details.insert(
        "projection".into(),
        json!({
            "projects": projects, "published": published, "publish_seconds": (t1 - t0).as_secs_f64(),
            "drain_seconds": drain_secs, "drained_events": drained, "live_events_per_second": live_rate,
            "overall_events_per_second": whole, "writes_per_event_status": wpe_status,
            "statements_per_event_wire": wpe_wire, "update_commands_wire": wire_after.0.saturating_sub(wire_before.0),
            "wire_statements_during_publishing": wire_mid.1.saturating_sub(wire_before.1),
            "store_ceiling_samples": [store_1, store_2],
            "guarded_shape_statements_per_second": guarded,
            "mean_batch_events": mean_batch,
            "statements_per_second_while_draining": drain_statements,
        }),
    );

    // ---- rebuild
    m.phase("rebuild");
    let read_ceiling = read_stream(&stream).await?;
    say!("ordered consumer: {read_ceiling:.0} events/s reading the whole stream");
    let wire_before = system.wire.snapshot();
    let answer = projector::control::request(
        &client,
        &subjects,
        &projector::control::Request::Rebuild,
        Duration::from_secs(3_600),
    )
    .await?;
    let wire_after = system.wire.snapshot();
    if let Some(error) = answer.get("error") {
        bail!("the rebuild failed: {error}");
    }
    let switched_at = Instant::now();
    let rebuild_secs = answer.get("seconds").and_then(Value::as_f64).unwrap_or(0.0);
    let rebuild_events = answer.get("position").and_then(Value::as_u64).unwrap_or(0);
    let rebuild_rate = if rebuild_secs > 0.0 {
        rebuild_events as f64 / rebuild_secs
    } else {
        0.0
    };
    let statements = wire_after.1.saturating_sub(wire_before.1);
    let rebuild_wpe = statements as f64 / rebuild_events.max(1) as f64;
    say!(
        "rebuild: {rebuild_events} events in {rebuild_secs:.1} s = {rebuild_rate:.0}/s, {rebuild_wpe:.4} statements/event"
    );
    let store_3 = bulk_ceiling(&base, phase, Shape::Upsert).await?;
    say!("store ceiling: {store_3:.0} bulk upserts/s");
    m.figures.push(
        Figure::new(
            "rebuild_events_per_second",
            format!("rebuild: events/s for {rebuild_events} events (`projector rebuild`)"),
            "/s",
            rebuild_rate,
        )
        .against("bulk upserts/s into the same server", &[store_2, store_3])
        .ratio_at_least(0.8)
        .note(format!("{rebuild_secs:.1} s in all")),
    );
    m.figures.push(
        Figure::new(
            "rebuild_vs_stream_read",
            "rebuild: events/s beside reading the whole stream",
            "/s",
            rebuild_rate,
        )
        .against("ordered consumer, events/s", &[read_ceiling])
        .note("no target: shows whether the stream or the store bounds the rebuild"),
    );
    m.figures.push(
        Figure::new(
            "rebuild_writes_per_event",
            "rebuild: writes per event (update statements counted on the wire)",
            "writes",
            rebuild_wpe,
        )
        .at_most(0.05)
        .note(format!(
            "{statements} statements in {} update commands",
            wire_after.0.saturating_sub(wire_before.0)
        )),
    );
    m.details.insert(
        "rebuild".into(),
        json!({"answer": answer, "events_per_second": rebuild_rate, "statements": statements, "writes_per_event": rebuild_wpe,
               "stream_read_events_per_second": read_ceiling, "store_ceiling_samples": [store_2, store_3]}),
    );

    // ---- reads (after the old generation is dropped, 10 s after the switch)
    if let Some(wait) =
        (projector::rebuild::DROP_GRACE + Duration::from_secs(2)).checked_sub(switched_at.elapsed())
    {
        tokio::time::sleep(wait).await;
    }
    m.phase("reads");
    let model = base.with_generation(base.active_generation().await?);
    let driver_before = driver_reads(&model, clients, warmup, phase).await;
    say!(
        "driver finds: {:.0}/s (p99 {:.2} ms)",
        driver_before.per_second,
        driver_before.p99_ms
    );
    let ours_reads = {
        let http = http.clone();
        let url = format!("{}/projects", system.query_url);
        load::closed_loop(clients, warmup, phase, move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                match http.get(&url).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
    };
    say!(
        "GET /projects: {:.0}/s (p99 {:.2} ms, {} errors)",
        ours_reads.per_second,
        ours_reads.p99_ms,
        ours_reads.errors
    );
    let driver_after = driver_reads(&model, clients, warmup, phase).await;
    say!("driver finds: {:.0}/s", driver_after.per_second);
    m.figures.push(
        Figure::new(
            "reads_per_second",
            format!("reads: GET /projects requests/s ({clients} clients)"),
            "/s",
            ours_reads.per_second,
        )
        .against(
            "the same find with the driver, finds/s",
            &[driver_before.per_second, driver_after.per_second],
        )
        .ratio_at_least(0.7),
    );
    m.figures.push(
        Figure::new(
            "reads_p99",
            "reads: GET /projects p99 latency (closed loop)",
            "ms",
            ours_reads.p99_ms,
        )
        .against(
            "the same find with the driver, p99",
            &[driver_before.p99_ms, driver_after.p99_ms],
        )
        .note("no target; a ratio above 100% is slower than the driver"),
    );
    m.curves.push((
        format!("GET /projects, {clients} clients (closed loop)"),
        ours_reads.curve.clone(),
    ));
    m.curves.push((
        format!("the same find with the driver, {clients} clients"),
        driver_before.curve.clone(),
    ));
    m.details.insert(
        "reads".into(),
        json!({"ours": ours_reads, "driver_before": driver_before, "driver_after": driver_after}),
    );

    // ---- memory
    m.phase("end");
    let mut memory = serde_json::Map::new();
    for proc in [
        &system.command,
        &system.projector,
        &system.query,
        &system.nats,
        &system.mongo,
    ] {
        let (peak, now) = proc.memory_kib().unwrap_or((0, 0));
        memory.insert(
            proc.name.clone(),
            json!({"peak_rss_mib": peak as f64 / 1024.0, "rss_mib": now as f64 / 1024.0}),
        );
        if [&system.command, &system.projector, &system.query]
            .iter()
            .any(|p| p.pid() == proc.pid())
        {
            m.figures.push(
                Figure::new(
                    "peak_rss",
                    format!("memory: peak RSS of {} (VmHWM, whole run)", proc.name),
                    "MiB",
                    peak as f64 / 1024.0,
                )
                .at_most(64.0),
            );
        }
    }
    m.details.insert("memory".into(), Value::Object(memory));
    m.details
        .insert("cpu_by_phase".into(), Value::Array(m.cpu.clone()));
    sampler.abort();
    rss_sampler.abort();
    let samples: Vec<Value> = samples
        .lock()
        .map(|s| {
            s.iter()
                .map(|s| json!([s.at, s.position, s.lag, s.writes, s.applied]))
                .collect()
        })
        .unwrap_or_default();
    m.details.insert(
        "status_samples_columns".into(),
        json!([
            "at_seconds",
            "position",
            "lag_events",
            "writes",
            "applied_events"
        ]),
    );
    m.details
        .insert("status_samples".into(), Value::Array(samples));
    m.details.insert(
        "wire".into(),
        json!({"update_commands": system.wire.snapshot().0, "update_statements": system.wire.snapshot().1,
               "other_commands": system.wire.other_commands.load(Ordering::Relaxed)}),
    );
    drop(system);
    Ok(m)
}

async fn start_system(
    bin_dir: &Path,
    tools: &Path,
    tmp: &Path,
    logs: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<System> {
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
    let service = |name: &str, addr_var: &str, addr: &str, mongo: Option<String>| {
        let mut command = Command::new(bin_dir.join(name));
        command
            .envs(common.iter().map(|(k, v)| (*k, v.as_str())))
            .env(addr_var, addr);
        if let Some(uri) = mongo {
            command.env("FLOW_MONGODB_URI", uri);
        }
        Proc::spawn(name, command, logs)
    };
    let addr = || -> anyhow::Result<String> { Ok(format!("127.0.0.1:{}", procs::free_port()?)) };
    let (command_addr, projector_addr, query_addr) = (addr()?, addr()?, addr()?);
    // command-api declares the stream; the others wait for it.
    let mut command = service("command-api", "FLOW_COMMAND_API_ADDR", &command_addr, None)?;
    let command_url = format!("http://{command_addr}");
    procs::wait_ready("command-api", Duration::from_secs(60), &mut command, || {
        procs::http_ok(http, format!("{command_url}/readyz"))
    })
    .await?;
    // The projector reaches MongoDB through the counting proxy.
    let proxied = format!("mongodb://127.0.0.1:{proxy_port}/?directConnection=true");
    let mut projector = service(
        "projector",
        "FLOW_PROJECTOR_ADDR",
        &projector_addr,
        Some(proxied),
    )?;
    let projector_url = format!("http://{projector_addr}");
    procs::wait_ready("projector", Duration::from_secs(60), &mut projector, || {
        procs::http_ok(http, format!("{projector_url}/readyz"))
    })
    .await?;
    let mut query = service(
        "query-api",
        "FLOW_QUERY_API_ADDR",
        &query_addr,
        Some(mongo_uri.clone()),
    )?;
    let query_url = format!("http://{query_addr}");
    procs::wait_ready("query-api", Duration::from_secs(60), &mut query, || {
        procs::http_ok(http, format!("{query_url}/readyz"))
    })
    .await?;
    say!(
        "services ready: command-api {command_url}, query-api {query_url}, projector {projector_url}"
    );
    Ok(System {
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
    })
}

async fn sample_status(http: reqwest::Client, url: String, samples: Samples) {
    let mut tick = tokio::time::interval(STATUS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Ok(sample) = status_now(&http, &url).await
            && let Ok(mut s) = samples.lock()
        {
            s.push(sample);
        }
    }
}

/// Keeps the largest resident set of each process, every 200 ms.
async fn sample_rss(pids: Vec<(String, u32)>, peaks: Arc<Mutex<HashMap<String, u64>>>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        for (name, pid) in &pids {
            if let Some((_, rss)) = procs::memory_kib(*pid)
                && let Ok(mut p) = peaks.lock()
            {
                let peak = p.entry(name.clone()).or_default();
                *peak = (*peak).max(rss);
            }
        }
    }
}

async fn status_now(http: &reqwest::Client, projector_url: &str) -> anyhow::Result<StatusSample> {
    let value: Value = http
        .get(format!("{projector_url}/status"))
        .timeout(Duration::from_secs(5))
        .send()
        .await?
        .json()
        .await?;
    Ok(StatusSample::from_json(since_start(), &value))
}

/// Waits until the projector has applied everything in the stream.
async fn settle(
    system: &System,
    http: &reqwest::Client,
    stream: &jetstream::stream::Stream,
    bound: Duration,
) -> anyhow::Result<StatusSample> {
    let deadline = Instant::now() + bound;
    let mut stream = stream.clone();
    loop {
        let last = stream.info().await?.state.last_sequence;
        if let Ok(status) = status_now(http, &system.projector_url).await
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

/// Proposes the seed projects over HTTP.
async fn seed(system: &System, http: &reqwest::Client) -> anyhow::Result<()> {
    let token = system.jwt.mint("bench-proposer", &[], 24 * 3600);
    for i in 0..SEED_PROJECTS {
        let body = json!({
            "project_name": format!("Bench project {i}"),
            "tagline": format!("the tagline of bench project {i}"),
            "problems": ["the first problem", "the second problem"],
            "solutions": ["a solution"],
            "tags": ["bench", format!("group-{}", i % 5)],
        });
        let response = http
            .post(format!("{}/projects/propose", system.command_url))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        if response.status().as_u16() != 201 {
            bail!(
                "proposing a seed project answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// The seed projects' threads, read back through query-api.
async fn seed_threads(system: &System, http: &reqwest::Client) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let url = match &page {
            Some(cursor) => format!("{}/projects?limit=100&cursor={cursor}", system.query_url),
            None => format!("{}/projects?limit=100", system.query_url),
        };
        let projects: Value = http.get(url).send().await?.json().await?;
        for project in projects["items"].as_array().into_iter().flatten() {
            let id = project["project_id"].as_str().unwrap_or_default();
            let threads: Value = http
                .get(format!(
                    "{}/projects/{id}/threads?limit=100",
                    system.query_url
                ))
                .send()
                .await?
                .json()
                .await?;
            ids.extend(
                threads["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["thread_id"].as_str().map(str::to_owned)),
            );
        }
        match projects["next_cursor"].as_str() {
            Some(cursor) => page = Some(cursor.to_owned()),
            None => break,
        }
    }
    if ids.len() < SEED_PROJECTS {
        bail!(
            "the seed projects' threads are not visible ({} found)",
            ids.len()
        );
    }
    ids.sort();
    Ok(ids)
}

/// Votes over HTTP by many users on the seed threads, hot threads more often;
/// each vote changes the user's vote, so that each one appends an event.
struct VoteLoad {
    http: reqwest::Client,
    /// Each thread's vote URL, parsed once.
    urls: Vec<reqwest::Url>,
    /// Each user's `Authorization` header, built once.
    auth: Vec<reqwest::header::HeaderValue>,
    threads: Vec<String>,
    zipf: Zipf,
    next_user: AtomicUsize,
    votes: Mutex<HashMap<(usize, usize), Direction>>,
}

impl VoteLoad {
    fn new(system: &System, http: &reqwest::Client, threads: Vec<String>) -> anyhow::Result<Self> {
        let urls = threads
            .iter()
            .map(|t| reqwest::Url::parse(&format!("{}/threads/{t}/vote", system.command_url)))
            .collect::<Result<_, _>>()?;
        let auth = (0..USERS)
            .map(|u| {
                let token = system.jwt.mint(&format!("bench-user-{u}"), &[], 24 * 3600);
                let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {token}"))?;
                value.set_sensitive(true);
                Ok(value)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            http: http.clone(),
            urls,
            auth,
            zipf: Zipf::new(threads.len(), THREAD_SKEW),
            threads,
            next_user: AtomicUsize::new(0),
            votes: Mutex::new(HashMap::new()),
        })
    }

    /// One vote; on success its thread and consistency token. The load
    /// generator shares the cores with what it measures, so a vote costs it
    /// as little as it can: nothing is parsed or built that can be kept.
    async fn cast(&self, seed: u64) -> Option<(String, String)> {
        let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1));
        let thread = self.zipf.sample(&mut rng);
        let user = self.next_user.fetch_add(1, Ordering::Relaxed) % self.auth.len();
        let direction = {
            let mut votes = self.votes.lock().ok()?;
            let next = toggle(
                votes
                    .get(&(thread, user))
                    .copied()
                    .unwrap_or(Direction::None),
            );
            votes.insert((thread, user), next);
            next
        };
        let body: &'static [u8] = match direction {
            Direction::Up => br#"{"direction":"up"}"#,
            Direction::Down => br#"{"direction":"down"}"#,
            Direction::None => br#"{"direction":"none"}"#,
        };
        let response = self
            .http
            .put(self.urls[thread].clone())
            .header(reqwest::header::AUTHORIZATION, self.auth[user].clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .ok()?;
        let ok = response.status().is_success();
        let token = response
            .headers()
            .get("consistency-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Read to the end, so that the connection is used again.
        response.bytes().await.ok()?;
        Some((self.threads[thread].clone(), token.filter(|_| ok)?))
    }
}

/// Votes at `rate` (open loop), following about [`FOLLOWED_PER_SECOND`] of them
/// to their first visible read: the writes' latencies, the freshness (its
/// `errors`: writes not visible within the wait), `(at, ms)` points, and one
/// in how many writes was followed.
async fn votes_at(
    votes: &Arc<VoteLoad>,
    http: &reqwest::Client,
    query: &str,
    rate: f64,
    warmup: Duration,
    phase: Duration,
) -> (Summary, Summary, Vec<(f64, f64)>, u64) {
    let every = ((rate / FOLLOWED_PER_SECOND).round() as u64).max(1);
    let freshness: Freshness = Arc::new(Mutex::new((load::histogram(), Vec::new(), 0)));
    let writes = {
        let votes = votes.clone();
        let freshness = freshness.clone();
        let http = http.clone();
        let query = query.to_owned();
        let from = Instant::now() + warmup;
        load::open_loop(rate, warmup, phase, 4_096, move |i| {
            let votes = votes.clone();
            let freshness = freshness.clone();
            let http = http.clone();
            let query = query.clone();
            async move {
                let Some((thread, token)) = votes
                    .cast(i.wrapping_mul(2_654_435_761).wrapping_add(rate as u64))
                    .await
                else {
                    return false;
                };
                if i % every == 0 && Instant::now() > from {
                    tokio::spawn(follow_freshness(http, query, thread, token, freshness));
                }
                true
            }
        })
        .await
    };
    // The last followed reads wait at most the query-api's 2 s.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (h, points, unseen) = freshness
        .lock()
        .map(|f| (f.0.clone(), f.1.clone(), f.2))
        .unwrap_or_else(|_| (load::histogram(), Vec::new(), 0));
    let fresh = Summary::new(&h, h.len(), unseen, phase.as_secs_f64());
    (writes, fresh, points, every)
}

/// Reads the written thread with the write's consistency token: the time
/// from the write's answer to a read that shows it.
async fn follow_freshness(
    http: reqwest::Client,
    query: String,
    thread: String,
    token: String,
    into: Freshness,
) {
    let accepted = Instant::now();
    let at = since_start();
    let seq: u64 = token.trim_start_matches('s').parse().unwrap_or(u64::MAX);
    let response = http
        .get(format!("{query}/threads/{thread}"))
        .header("Consistency-Token", &token)
        .send()
        .await;
    let elapsed = accepted.elapsed();
    let visible = response.as_ref().ok().is_some_and(|r| {
        r.status().is_success()
            && r.headers()
                .get("projection-position")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|p| p >= seq)
    });
    if let Ok(mut f) = into.lock() {
        // Every followed read is plotted; one that gave up sits at the wait.
        f.1.push((at, elapsed.as_secs_f64() * 1000.0));
        if visible {
            load::record(&mut f.0, elapsed);
        } else {
            f.2 += 1;
        }
    }
}

/// A separate stream configured like ours, for the raw publish ceiling.
async fn raw_stream(js: &jetstream::Context) -> anyhow::Result<stream::Stream> {
    let mut config = shared::nats::stream_config(&NatsConfig::local("", RAW_STREAM, "benchraw"));
    config.subjects = vec!["benchraw.>".into()];
    Ok(js.create_stream(config).await?)
}

/// A vote envelope as command-api writes it: the payload of the raw ceiling.
fn sample_vote_payload(threads: &[String]) -> bytes::Bytes {
    let mut generator = Generator::new(3, 1, 1);
    let _ = generator.take_proposals();
    let mut envelope = workload::envelope(generator.next_vote(), "bench-user-1");
    if let (shared::events::Event::VoteCast { thread_id, .. }, Some(t)) =
        (&mut envelope.event, threads.first())
        && let Ok(id) = shared::domain::ThreadId::parse(t)
    {
        *thread_id = id;
    }
    envelope.to_json().into()
}

/// `clients` loops publishing to JetStream and awaiting each ack, with a
/// message id, on one connection (as command-api does).
async fn raw_publish(
    js: &jetstream::Context,
    clients: usize,
    warmup: Duration,
    measure: Duration,
    payload: bytes::Bytes,
) -> Summary {
    let js = js.clone();
    load::closed_loop(clients, warmup, measure, move |client, _| {
        let (js, payload) = (js.clone(), payload.clone());
        async move {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, uuid::Uuid::new_v4().to_string().as_str());
            match js
                .publish_with_headers(format!("benchraw.vote.{client}"), headers, payload)
                .await
            {
                Ok(ack) => ack.await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

/// One writer sending ordered `update` commands of 500 upserts, as the
/// projector does: statements per second.
async fn bulk_ceiling(model: &ReadModel, duration: Duration, shape: Shape) -> anyhow::Result<f64> {
    const BATCH: u64 = 500;
    const KEYS: u64 = 5_000;
    let collection = "bench_bulk_ceiling";
    let mut n = 0u64;
    let batch = |n: &mut u64, shape: Shape| {
        let statements: Vec<mongodb::bson::Document> = (0..BATCH)
            .map(|j| {
                *n += 1;
                let key = format!("k{}", (*n * 7_919 + j) % KEYS);
                let seq = *n as i64;
                match shape {
                    Shape::Upsert => doc! {"q": {"_id": key}, "u": {"$inc": {"count": 1_i64}, "$set": {"seq": seq}}, "upsert": true},
                    Shape::Guarded => doc! {
                        "q": {"_id": key, "seq": {"$lt": seq}},
                        "u": {"$inc": {"count": 1_i64}, "$set": {"last_activity_seq": seq, "last_activity_at": "2026-01-01T00:00:00Z", "seq": seq}},
                        "upsert": false,
                    },
                }
            })
            .collect();
        doc! {"update": collection, "updates": statements, "ordered": true}
    };
    // Warm up: the first pass inserts the documents.
    for _ in 0..(KEYS / BATCH) {
        model.db.run_command(batch(&mut n, Shape::Upsert)).await?;
    }
    let start = Instant::now();
    let mut statements = 0u64;
    while start.elapsed() < duration {
        let reply = model.db.run_command(batch(&mut n, shape)).await?;
        if reply.get_array("writeErrors").is_ok_and(|e| !e.is_empty()) {
            bail!("the store refused a bulk write: {reply:?}");
        }
        statements += BATCH;
    }
    let rate = statements as f64 / start.elapsed().as_secs_f64();
    model
        .db
        .collection::<mongodb::bson::Document>(collection)
        .drop()
        .await?;
    Ok(rate)
}

/// The statements of a store ceiling.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `{_id}` upserts with `$inc` and `$set: {seq}`: the raw ceiling.
    Upsert,
    /// The projector's shape: `{_id, seq: {$lt}}` guard, `$inc` and three
    /// `$set`s, no upsert. Not a ceiling: shows what the guard costs the store.
    Guarded,
}

/// Publishes the proposals and then votes until `total` events, many in flight.
async fn generate(
    js: &jetstream::Context,
    subjects: &Subjects,
    generator: &mut Generator,
    total: u64,
) -> anyhow::Result<u64> {
    const WINDOW: usize = 2_048;
    let mut in_flight = FuturesUnordered::new();
    let mut published = 0u64;
    let proposals = generator.take_proposals();
    let mut proposals = proposals.into_iter();
    let mut progress = Instant::now();
    while published < total {
        let event = proposals.next().unwrap_or_else(|| generator.next_vote());
        let actor = match &event {
            shared::events::Event::VoteCast { voter, .. } => voter.as_str().to_owned(),
            _ => "bench-proposer".to_owned(),
        };
        let envelope = workload::envelope(event, &actor);
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, envelope.id.to_string().as_str());
        headers.insert("Flow-Event-Type", envelope.event.name());
        let ack = js
            .publish_with_headers(
                envelope.event.subject(subjects),
                headers,
                envelope.to_json().into(),
            )
            .await?;
        in_flight.push(ack.into_future());
        published += 1;
        while in_flight.len() >= WINDOW {
            if let Some(ack) = in_flight.next().await {
                ack?;
            }
        }
        if progress.elapsed() > Duration::from_secs(5) {
            say!("published {published} of {total}");
            progress = Instant::now();
        }
    }
    while let Some(ack) = in_flight.next().await {
        ack?;
    }
    Ok(published)
}

/// Reads the whole stream with an ordered consumer: events per second.
async fn read_stream(stream: &jetstream::stream::Stream) -> anyhow::Result<f64> {
    let mut stream = stream.clone();
    let total = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: format!("{PREFIX}.evt.>"),
            ..Default::default()
        })
        .await?;
    let start = Instant::now();
    let mut messages = consumer.messages().await?;
    let mut read = 0u64;
    while read < total {
        match tokio::time::timeout(Duration::from_secs(30), messages.next()).await {
            Ok(Some(Ok(_))) => read += 1,
            Ok(Some(Err(err))) => bail!("reading the stream: {err}"),
            Ok(None) | Err(_) => bail!("the stream stopped delivering after {read} of {total}"),
        }
    }
    Ok(read as f64 / start.elapsed().as_secs_f64())
}

/// `clients` loops running the listing's own find with the driver.
async fn driver_reads(
    model: &ReadModel,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> Summary {
    let projects = model.projects.clone();
    load::closed_loop(clients, warmup, measure, move |_, _| {
        let projects = projects.clone();
        async move {
            query_api::listing::newest(&query_api::listing::ProjectFilter::default(), None, 20)
                .run(&projects)
                .await
                .is_ok()
        }
    })
    .await
}
