//! What a connection may hold: its request head must arrive within the header
//! timeout, an idle kept-alive connection is closed after the idle timeout,
//! and above the connection cap the service keeps answering (idle
//! connections make room, slow heads are cut off).

use std::time::Duration;

use flow_http::ConnectionLimits;
use flow_http::protect::HttpConfig;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout, timeout_at},
};

use crate::harness::System;

/// How long anything the server should do may take in these tests.
const BOUND: Duration = Duration::from_secs(10);

fn http(limits: ConnectionLimits) -> HttpConfig {
    HttpConfig {
        connections: limits,
        ..HttpConfig::default()
    }
}

fn host(base: &str) -> &str {
    base.strip_prefix("http://").expect("an http:// base URL")
}

/// A connection that sends the start of a request head and nothing more.
async fn slow_head(base: &str) -> TcpStream {
    let mut stream = TcpStream::connect(host(base)).await.expect("connects");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    stream
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(host(base)).await.expect("connects")
}

/// Sends `GET /healthz` on `stream`, keeping it alive, and returns the status
/// once the whole answer is read.
async fn healthz_on(stream: &mut TcpStream) -> u16 {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let deadline = Instant::now() + BOUND;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("answered in time")
            .expect("reads");
        assert!(n > 0, "the connection closed before the answer");
        received.extend_from_slice(&buf[..n]);
        let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().expect("a number"))
            .expect("a content-length");
        if received.len() >= end + 4 + length {
            return head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
        }
    }
}

/// Waits (until `deadline`) for the server to close `stream`; returns how
/// long that took from `since`.
async fn closed_by_server(mut stream: TcpStream, since: Instant, deadline: Instant) -> Duration {
    let mut buf = [0u8; 1024];
    loop {
        match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open"),
            Ok(Ok(0) | Err(_)) => return since.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

async fn healthz(base: &str) -> reqwest::StatusCode {
    // A client of its own: no pooled connection to reuse.
    let client = reqwest::Client::new();
    timeout(BOUND, client.get(format!("{base}/healthz")).send())
        .await
        .expect("answered within the bound")
        .expect("answered")
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_request_heads_are_cut_off_and_do_not_starve_the_service() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        max_connections: 32,
    };
    let mut system = System::start_with_http(http(limits)).await;
    system.stop_projector().await;
    system
        .start_projector_with(|config| config.connections = limits)
        .await;
    let projector = system.projector.clone().expect("the projector runs");
    for base in [&system.query, &system.command, &projector] {
        let opened = Instant::now();
        let mut slow = Vec::new();
        for _ in 0..limits.max_connections + 16 {
            slow.push(slow_head(base).await);
        }
        assert_eq!(
            healthz(base).await,
            reqwest::StatusCode::OK,
            "{base} answers while slow heads hold every connection"
        );
        let deadline = Instant::now() + BOUND;
        for stream in slow {
            let after = closed_by_server(stream, opened, deadline).await;
            assert!(
                after >= limits.header_timeout,
                "{base}: a slow head was closed after {after:?}, before the header timeout"
            );
        }
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(5),
        max_connections: 512,
    };
    let system = System::start_with_http(http(limits)).await;
    let mut kept = connect(&system.query).await;
    assert_eq!(healthz_on(&mut kept).await, 200);
    let idle_since = Instant::now();

    // A head that does not arrive is cut off after the header timeout...
    let slow = slow_head(&system.query).await;
    closed_by_server(slow, Instant::now(), Instant::now() + BOUND).await;
    // ...while the kept-alive connection, idle for longer than that, serves
    // its next request: the header timeout does not apply between requests.
    assert!(idle_since.elapsed() > limits.header_timeout);
    assert_eq!(healthz_on(&mut kept).await, 200);

    // Idle for the idle timeout, it is closed.
    let idle_since = Instant::now();
    let after = closed_by_server(kept, idle_since, idle_since + limits.idle_timeout + BOUND).await;
    assert!(
        after >= limits.idle_timeout - Duration::from_millis(500),
        "closed after {after:?} of idleness, before the idle timeout"
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_make_room_at_the_connection_cap_and_stopping_closes_them() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(600),
        max_connections: 4,
    };
    let system = System::start_with_http(http(limits)).await;
    let mut idle = Vec::new();
    for _ in 0..limits.max_connections {
        let mut stream = connect(&system.query).await;
        assert_eq!(healthz_on(&mut stream).await, 200);
        idle.push(stream);
    }
    // Every connection is taken, all idle: one more client is served long
    // before the idle timeout, the idle ones being closed for it.
    assert_eq!(healthz(&system.query).await, reqwest::StatusCode::OK);
    let deadline = Instant::now() + BOUND;
    for stream in idle {
        closed_by_server(stream, Instant::now(), deadline).await;
    }

    // Stopping closes an idle connection and does not wait for a slow head
    // longer than the header timeout.
    let mut kept = connect(&system.query).await;
    assert_eq!(healthz_on(&mut kept).await, 200);
    let slow = slow_head(&system.query).await;
    let stopping = Instant::now();
    timeout(limits.header_timeout + BOUND, system.stop())
        .await
        .expect("the services stop within the bound");
    closed_by_server(kept, stopping, Instant::now() + BOUND).await;
    closed_by_server(slow, stopping, Instant::now() + BOUND).await;
}
