//! The accept loop and the connections' watchdogs behind [`serve`](super::serve).
//!
//! Why not hyper's `header_read_timeout`: in hyper 1.12
//! (`proto/h1/conn.rs`, `poll_read_head` and `State::idle`), its timer starts
//! whenever the connection waits for a request head, that is also as soon as
//! a kept-alive connection goes idle, so it closes idle connections after
//! the header timeout and no separate idle timeout can be longer. Each
//! connection here has a watchdog instead: the header timeout runs from the
//! opening (first request) or from the first byte of the next request, the
//! idle timeout from the last byte moved, and neither while a handler runs
//! (the request timeout bounds that).

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, watch},
    time::Instant,
};
use tower::ServiceExt;

use super::{ConnectionLimits, DRAIN_TIMEOUT, MAX_CONNECTIONS_LIMIT, RESERVED_DESCRIPTORS};

/// The first pause after a failed accept (out of descriptors, say); it
/// doubles up to [`ACCEPT_PAUSE_MAX`] while accepting keeps failing.
const ACCEPT_PAUSE_MIN: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);
/// At most one warning about the connection cap in this time.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(10);

pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let max = limits.max_connections.clamp(1, MAX_CONNECTIONS_LIMIT);
    warn_if_descriptors_are_short(max);
    let permits = Arc::new(Semaphore::new(max));
    let reclaim = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut pause = ACCEPT_PAUSE_MIN;
    let mut cap_warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                pause = ACCEPT_PAUSE_MIN;
                accepted
            }
            Err(err) if is_connection_error(&err) => {
                tracing::debug!(error = %err, "a connection was lost before it was accepted");
                continue;
            }
            Err(err) => {
                tracing::error!(error = %err, pause_ms = pause.as_millis() as u64, "accepting a connection failed");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
                continue;
            }
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if cap_warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_EVERY) {
                    tracing::warn!(
                        max_connections = max,
                        "connection limit reached: idle connections are closed, new ones wait"
                    );
                    cap_warned = Some(Instant::now());
                }
                reclaim.notify_waiters();
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            Watchdog {
                limits,
                reclaim: reclaim.clone(),
                stop: stopped.clone(),
                _permit: permit,
            },
        ));
    }
    drop(listener);
    let open = max - permits.available_permits();
    if open > 0 {
        tracing::info!(open, "draining connections");
    }
    let _ = stop.send(());
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            open = max - permits.available_permits(),
            "connections still open after the drain timeout are closed"
        );
    }
    // Dropping `stop` closes whatever is left.
    Ok(())
}

/// Errors of one connection, not of the listener: accept the next at once.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Warns when the descriptor limit leaves less than
/// [`RESERVED_DESCRIPTORS`] beside `max` connections.
fn warn_if_descriptors_are_short(max: usize) {
    #[cfg(target_os = "linux")]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        #[allow(unsafe_code)]
        // SAFETY: `getrlimit` only writes the `rlimit` it is given.
        let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        let needed = (max + RESERVED_DESCRIPTORS) as u64;
        if known && limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < needed {
            tracing::warn!(
                max_connections = max,
                open_files_limit = limit.rlim_cur,
                "the open-files limit leaves too few descriptors beside FLOW_HTTP_MAX_CONNECTIONS; raise it or lower the cap"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = max;
}

/// What a connection's watchdog needs besides the connection.
struct Watchdog {
    limits: ConnectionLimits,
    /// Notified when a connection waits above the cap.
    reclaim: Arc<Notify>,
    /// Changes when the service stops; closed when draining is over.
    stop: watch::Receiver<()>,
    /// Held while the connection is open.
    _permit: OwnedSemaphorePermit,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut watchdog: Watchdog,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let handler = activity.clone();
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let handling = handler.handling();
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await;
                drop(handling);
                response
            }
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // The watchdog below times the heads (see the module's comment).
        .header_read_timeout(Option::<Duration>::None)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        let deadline = activity.deadline(&watchdog.limits);
        let changed = activity.changed.notified();
        let reclaimed = watchdog.reclaim.notified();
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(%peer, error = %err, "connection failed");
                }
                return;
            }
            () = expiry(deadline) => {
                if let Some((at, timeout)) = activity.deadline(&watchdog.limits)
                    && at <= Instant::now()
                {
                    tracing::debug!(%peer, timeout, "closing a connection that timed out");
                    return;
                }
            }
            () = changed => {}
            () = reclaimed, if !closing => {
                if activity.is_idle() {
                    tracing::debug!(%peer, "closing an idle connection to make room");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            stopped = watchdog.stop.changed() => {
                if stopped.is_err() {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

async fn expiry(deadline: Option<(Instant, &'static str)>) {
    match deadline {
        Some((at, _)) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// No request head is awaited.
const NO_HEAD: u64 = u64::MAX;

/// What happens on one connection, in microseconds since its opening.
/// Its IO, its service and its watchdog run on the connection's task.
struct Activity {
    opened: Instant,
    /// When a byte was last read or written, or a handler finished.
    last_io: AtomicU64,
    /// When the request head being awaited began: the opening for the
    /// first request, the first byte read after a response for the
    /// next; [`NO_HEAD`] while a request is handled or after.
    head_since: AtomicU64,
    /// Whether a handler runs.
    handling: AtomicBool,
    /// Wakes the watchdog when its deadline may come earlier.
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            handling: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_micros()).unwrap_or(NO_HEAD - 1)
    }

    fn at(&self, micros: u64) -> Instant {
        self.opened + Duration::from_micros(micros)
    }

    fn moved(&self, read: bool) {
        let now = self.now();
        self.last_io.store(now, Relaxed);
        if read && !self.handling.load(Relaxed) && self.head_since.load(Relaxed) == NO_HEAD {
            self.head_since.store(now, Relaxed);
            self.changed.notify_one();
        }
    }

    fn handling(self: &Arc<Self>) -> Handling {
        self.handling.store(true, Relaxed);
        self.head_since.store(NO_HEAD, Relaxed);
        Handling(self.clone())
    }

    /// No request is handled or on its way.
    fn is_idle(&self) -> bool {
        !self.handling.load(Relaxed) && self.head_since.load(Relaxed) == NO_HEAD
    }

    /// When the connection is to be closed, and which timeout that is.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        if self.handling.load(Relaxed) {
            return None;
        }
        match self.head_since.load(Relaxed) {
            NO_HEAD => Some((
                self.at(self.last_io.load(Relaxed)) + limits.idle_timeout,
                "idle",
            )),
            since => Some((self.at(since) + limits.header_timeout, "header")),
        }
    }
}

/// A handler running; the idle time counts from its end.
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.last_io.store(activity.now(), Relaxed);
        activity.handling.store(false, Relaxed);
        activity.changed.notify_one();
    }
}

/// A connection's socket, telling its [`Activity`] when bytes move.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.moved(true);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.moved(false);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.moved(false);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
