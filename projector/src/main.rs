use std::{process::ExitCode, time::Duration};

use flow_runtime::config as env;
use flow_runtime::startup::{exit_code, shutdown_signal, with_telemetry};
use projector::{App, Config, control};

const USAGE: &str = "usage:
  projector               project the stream into MongoDB and serve health, metrics and /status
  projector parked        list the parked events of the running projector
  projector retry <seq>   re-apply a parked event (and the events parked behind it)
  projector rebuild       build a new generation of the read model from the first event, then switch to it
  projector verify        rebuild into a scratch generation and compare it with the live one
The commands talk to the running projector over NATS (FLOW_NATS_URL, FLOW_SUBJECT_PREFIX) and wait
at most FLOW_CONTROL_TIMEOUT_MS (default one hour) for its answer.";

fn main() -> ExitCode {
    projector::memory::tune_allocator();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("projector: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let request = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => None,
        ["parked"] => Some(control::Request::Parked),
        ["rebuild"] => Some(control::Request::Rebuild),
        ["verify"] => Some(control::Request::Verify),
        ["retry", seq] => match seq.parse() {
            Ok(seq) => Some(control::Request::Retry { seq }),
            Err(_) => {
                eprintln!("projector: {seq:?} is not a sequence number\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["-h" | "--help" | "help"] => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("projector: unknown command\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match request {
        None => with_telemetry("projector", serve()).await,
        Some(request) => command(request).await,
    };
    exit_code("projector", result)
}

async fn serve() -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    App::build(config, listener)
        .await?
        .run_until_stopped(shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}

async fn command(request: control::Request) -> anyhow::Result<ExitCode> {
    let nats = env::NatsConfig::from_env()?;
    let timeout = env::millis_or("FLOW_CONTROL_TIMEOUT_MS", 3_600_000)?;
    let client =
        flow_runtime::nats::connect(&nats, "projector-cli", Duration::from_secs(10)).await?;
    let answer = control::request(&client, &nats.subjects(), &request, timeout).await?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    }
    Ok(if answer.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
