//! Serving a router with bounded connections and graceful shutdown.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use tokio::net::TcpListener;

/// Limits on the HTTP connections a service keeps open (see [`serve`]).
///
/// The default cap, 512 connections (one per request of the default
/// `FLOW_MAX_IN_FLIGHT`), leaves room under the smallest common descriptor
/// limit, a soft `RLIMIT_NOFILE` of 1024 (systemd services, containerd):
/// besides its connections a service holds its listener, the runtime's
/// epoll and wake-up descriptors, one NATS socket, and MongoDB's pool and
/// monitors (up to 10 + 2 sockets per server: 36 for a replica set of 3), so
/// well under [`RESERVED_DESCRIPTORS`]. Above the cap, connections wait in
/// the listen backlog, where they hold no descriptor of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `FLOW_HTTP_HEADER_TIMEOUT_MS`: a request's head (request line and
    /// headers) must arrive within this time of its first byte, the first
    /// request's within this time of the connection's opening; otherwise
    /// the connection is closed (default 5 000).
    pub header_timeout: Duration,
    /// `FLOW_HTTP_IDLE_TIMEOUT_MS`: a kept-alive connection on which nothing
    /// moves for this long, with no request being handled, is closed
    /// (default 60 000).
    pub idle_timeout: Duration,
    /// `FLOW_HTTP_MAX_CONNECTIONS`: connections open at once (default 512).
    /// When a connection waits above it, idle kept-alive connections are
    /// closed to make room.
    pub max_connections: usize,
}

/// The largest `FLOW_HTTP_MAX_CONNECTIONS` accepted.
pub const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// Descriptors a service needs besides its HTTP connections (see
/// [`ConnectionLimits`]); a smaller margin under the descriptor limit is
/// warned about at start.
pub const RESERVED_DESCRIPTORS: usize = 256;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

impl ConnectionLimits {
    pub fn from_env() -> anyhow::Result<Self> {
        let limits = Self {
            header_timeout: flow_runtime::config::millis_or("FLOW_HTTP_HEADER_TIMEOUT_MS", 5_000)?,
            idle_timeout: flow_runtime::config::millis_or("FLOW_HTTP_IDLE_TIMEOUT_MS", 60_000)?,
            max_connections: flow_runtime::config::parse_or("FLOW_HTTP_MAX_CONNECTIONS", 512usize)?,
        };
        if limits.header_timeout.is_zero() || limits.idle_timeout.is_zero() {
            anyhow::bail!(
                "FLOW_HTTP_HEADER_TIMEOUT_MS and FLOW_HTTP_IDLE_TIMEOUT_MS must be positive"
            );
        }
        if !(1..=MAX_CONNECTIONS_LIMIT).contains(&limits.max_connections) {
            anyhow::bail!(
                "FLOW_HTTP_MAX_CONNECTIONS must be between 1 and {MAX_CONNECTIONS_LIMIT}"
            );
        }
        Ok(limits)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains:
/// stops accepting, lets the requests in hand finish and closes idle
/// connections, for at most [`DRAIN_TIMEOUT`].
///
/// HTTP/1.1 with keep-alive, within `limits`: at most `max_connections` open
/// (one more is accepted to learn that someone waits; it is served when a
/// connection closes, and idle ones are asked to close for it), each watched
/// for its header and idle timeouts. Handlers find the client's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    connections::serve(listener, router, limits, shutdown).await
}

/// A service's HTTP side, bound and built: [`serve`]d until its shutdown.
pub struct Server {
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
}

impl Server {
    pub fn new(listener: TcpListener, router: Router, limits: ConnectionLimits) -> Self {
        Self {
            listener,
            router,
            limits,
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Says where `service` listens, then serves until `shutdown` resolves.
    pub async fn serve(
        self,
        service: &str,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "{service} listening");
        serve(self.listener, self.router, self.limits, shutdown).await
    }
}

/// How long a stopping service waits for its connections to finish: above
/// the default request timeout (10 s) and header timeout (5 s), under the
/// grace periods of `deploy/` (30 s in compose, 40 s in Kubernetes).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

mod connections;
