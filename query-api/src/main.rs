use std::process::ExitCode;

use flow_runtime::startup::shutdown_signal;
use flow_runtime::telemetry;
use query_api::{App, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let result = match telemetry::init("query-api") {
        Ok(telemetry) => {
            let result = run().await;
            telemetry.shutdown().await;
            result
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "query-api failed");
            eprintln!("query-api: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    App::build(config, listener)
        .await?
        .run_until_stopped(shutdown_signal())
        .await
}
