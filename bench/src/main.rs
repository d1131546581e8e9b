//! flow-bench: starts NATS, the MongoDB-compatible server and the three
//! services (release build, separate processes) on free ports, drives them,
//! and measures each figure beside its physical ceiling in the same run.
//! See BENCHMARKS.md at the repository root.

use std::{process::ExitCode, sync::OnceLock, time::Instant};

fn started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Seconds since the run started: the time axis of every log line, sample and plot.
fn since_start() -> f64 {
    started().elapsed().as_secs_f64()
}

/// A progress line on stderr, stamped with the seconds since the start.
macro_rules! say {
    ($($arg:tt)*) => { eprintln!("[{:>7.1}s] {}", $crate::since_start(), format!($($arg)*)) };
}

// One module per phase of a run; `measure` runs them in order.
mod hidden;
mod memory;
mod projection;
mod reads;
mod rebuild;
mod seed;
mod writes;

mod ceiling;

// The set-up, the system under test, what the phases share, and the write-up.
mod cli;
mod freshness;
mod growth;
mod load;
mod measured;
mod plot;
mod procs;
mod proxy;
mod report;
mod results;
mod setup;
mod status;
mod store;
mod system;
mod votes;
mod workload;

use crate::{
    cli::Options,
    measured::Measured,
    setup::Setup,
    status::StatusLog,
    system::{Bench, System},
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(served) = ceiling::serve(&args) {
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("flow-bench: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(bench(args)),
        Err(err) => {
            eprintln!("flow-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(args: Vec<String>) -> ExitCode {
    started();
    let options = match Options::parse(args) {
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

async fn run(options: Options) -> anyhow::Result<()> {
    let setup = Setup::prepare(&options)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1_024)
        .tcp_nodelay(true)
        .build()?;
    let outcome = if options.growth {
        growth::run(&options, &setup, &http).await
    } else {
        full(&options, &setup, &http).await
    };
    if let Err(err) = outcome {
        eprintln!(
            "flow-bench: the data and logs of this run are kept in {}",
            setup.tmp.display()
        );
        return Err(err);
    }
    if options.keep {
        say!("data and logs kept in {}", setup.tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&setup.tmp);
    }
    Ok(())
}

/// The full (or quick) run: every phase, then the write-up.
async fn full(options: &Options, setup: &Setup, http: &reqwest::Client) -> anyhow::Result<()> {
    let machine = report::machine();
    let versions = setup.versions();
    let measured = measure(options, setup, http).await?;
    results::write(options, setup, machine, versions, measured)
}

/// Starts everything, runs every phase, and stops everything.
async fn measure(
    options: &Options,
    setup: &Setup,
    http: &reqwest::Client,
) -> anyhow::Result<Measured> {
    let mut m = Measured::default();
    m.phase("start");
    let system = System::start(setup, http).await?;
    let rss_sampler = m.watch(&system);
    let bench = Bench::connect(system, http, options).await?;
    // The projector's status, all along.
    let status = StatusLog::start(http, &bench.system.projector_url);

    let threads = seed::run(&mut m, &bench).await?;
    writes::run(&mut m, &bench, &threads).await?;
    let store_ceiling = projection::run(&mut m, &bench, options.events).await?;
    let switched_at = rebuild::run(&mut m, &bench, store_ceiling).await?;
    reads::run(&mut m, &bench, switched_at).await?;
    hidden::run(&mut m, &bench).await?;
    memory::run(&mut m, &bench.system);

    m.record_cpu();
    let samples = status.stop();
    rss_sampler.abort();
    m.record_status(samples);
    m.record_wire(&bench.system.wire);
    drop(bench);
    Ok(m)
}
