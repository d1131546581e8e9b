use std::process::ExitCode;

use flow_runtime::startup::{exit_code, shutdown_signal, with_telemetry};
use query_api::{App, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let served = with_telemetry("query-api", run()).await;
    exit_code("query-api", served.map(|()| ExitCode::SUCCESS))
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    App::build(config, listener)
        .await?
        .run_until_stopped(shutdown_signal())
        .await
}
