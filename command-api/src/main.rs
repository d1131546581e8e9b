use std::process::ExitCode;

use command_api::{App, Config};
use flow_http::auth::Jwt;
use flow_runtime::config;
use flow_runtime::startup::{exit_code, shutdown_signal, with_telemetry};

const USAGE: &str = "usage:
  command-api                 serve the write API (configured by FLOW_* variables)
  command-api token <user-id> [--name <display name>] [--role <role>]... [--ttl <seconds>]
                              print a token signed with FLOW_JWT_SECRET";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => with_telemetry("command-api", run()).await,
        Some("token") => token(&args[1..]),
        Some("-h" | "--help" | "help") => {
            eprintln!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n{USAGE}")),
    };
    exit_code("command-api", result.map(|()| ExitCode::SUCCESS))
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    App::build(config, listener)
        .await?
        .run_until_stopped(shutdown_signal())
        .await
}

fn token(args: &[String]) -> anyhow::Result<()> {
    let mut sub = None;
    let mut roles = Vec::new();
    let mut ttl: u64 = 24 * 3600;
    let mut name = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--role" => roles.push(
                it.next()
                    .ok_or_else(|| anyhow::anyhow!("--role needs a value"))?
                    .as_str(),
            ),
            "--name" => {
                name = Some(
                    it.next()
                        .ok_or_else(|| anyhow::anyhow!("--name needs a value"))?
                        .as_str(),
                )
            }
            "--ttl" => {
                ttl = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--ttl needs a value"))?
                    .parse()?
            }
            other if sub.is_none() && !other.starts_with("--") => sub = Some(other),
            other => anyhow::bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    let sub = sub.ok_or_else(|| anyhow::anyhow!("a user id is required\n{USAGE}"))?;
    let secret = config::jwt_secret(config::Environment::from_env()?)?;
    let token = Jwt::new(&secret).mint_named(sub, name, &roles, ttl);
    #[allow(clippy::print_stdout)]
    {
        println!("{token}");
    }
    Ok(())
}
