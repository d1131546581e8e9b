//! The HTTP ceilings, each a process of its own like the services it bounds:
//!
//! - `flow-bench serve-fixed ADDR FILE`: a minimal axum server answering
//!   every `GET` with FILE's bytes (a read served from memory, with nothing
//!   to decide: the bound of any HTTP read on this machine);
//! - `flow-bench relay ADDR NATS_URL`: a minimal axum handler that publishes
//!   a `POST`'s body to JetStream (`benchraw.vote.<client>`, the raw stream)
//!   and answers once it is acknowledged, without authentication or a
//!   decision: the bound of any HTTP front of JetStream.

use std::{net::SocketAddr, process::Command, time::Duration};

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID, jetstream};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};

use crate::procs::{Proc, free_port};

/// Runs a ceiling server if `args` name one; `None` otherwise.
pub fn serve(args: &[String]) -> Option<anyhow::Result<()>> {
    let mode = args.first()?.as_str();
    if !matches!(mode, "serve-fixed" | "relay") {
        return None;
    }
    let [_, addr, arg] = args else {
        return Some(Err(anyhow::anyhow!(
            "usage: flow-bench serve-fixed ADDR FILE | relay ADDR NATS_URL"
        )));
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return Some(Err(err.into())),
    };
    Some(runtime.block_on(async {
        if mode == "relay" {
            relay(addr, arg).await
        } else {
            fixed(addr, arg).await
        }
    }))
}

async fn fixed(addr: &str, file: &str) -> anyhow::Result<()> {
    let body = Bytes::from(std::fs::read(file)?);
    let app = Router::new().fallback(get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(addr.parse::<SocketAddr>()?).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn relay(addr: &str, nats: &str) -> anyhow::Result<()> {
    let js = jetstream::new(async_nats::connect(nats).await?);
    let app = Router::new()
        .route("/relay/{client}", post(publish))
        .with_state(js);
    let listener = tokio::net::TcpListener::bind(addr.parse::<SocketAddr>()?).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn publish(
    State(js): State<jetstream::Context>,
    Path(client): Path<u32>,
    body: Bytes,
) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert(NATS_MESSAGE_ID, uuid::Uuid::new_v4().to_string().as_str());
    let acked = match js
        .publish_with_headers(format!("benchraw.vote.{client}"), headers, body)
        .await
    {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    if acked {
        (StatusCode::OK, "{\"ok\":true}")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "{\"ok\":false}")
    }
}

/// Starts this executable as a ceiling server on a free port; returns it and
/// its base URL once it answers.
pub async fn start(
    mode: &str,
    arg: &str,
    logs: &std::path::Path,
    http: &reqwest::Client,
) -> anyhow::Result<(Proc, String)> {
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut command = Command::new(std::env::current_exe()?);
    command.args([mode, &addr, arg]);
    let mut proc = Proc::spawn(mode, command, logs)?;
    let url = format!("http://{addr}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        proc.check_alive()?;
        // Any answer means it listens (the relay has no GET route: 404/405).
        if http.get(format!("{url}/ready")).send().await.is_ok() {
            return Ok((proc, url));
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{mode} did not listen within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
