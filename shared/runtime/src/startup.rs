//! A service's start and stop: waiting for dependencies (exponential backoff,
//! bounded in time), the shutdown signals, and what every `main` does around
//! serving (telemetry, the exit code).

use std::{future::Future, process::ExitCode, time::Duration};

use anyhow::anyhow;
use tokio::time::Instant;

/// Retries `attempt` with exponential backoff (50 ms doubling up to 2 s) until it
/// succeeds or `timeout` has passed, then fails with a message naming `what`.
pub async fn wait_for<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    mut attempt: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    let mut tries = 0u32;
    loop {
        tries += 1;
        match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => {
                if Instant::now() + delay >= deadline {
                    return Err(anyhow!(
                        "gave up waiting for {what} after {tries} attempts in {timeout:?}: {err}"
                    ));
                }
                tracing::warn!(%err, retry_in = ?delay, "{what} is not reachable yet");
            }
            Err(_) => {
                return Err(anyhow!(
                    "gave up waiting for {what} after {tries} attempts in {timeout:?}: timed out"
                ));
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

/// Runs `run` with logging and traces for `service` (see
/// [`crate::telemetry::init`]); the spans still held are exported after it.
pub async fn with_telemetry<T>(
    service: &'static str,
    run: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let telemetry = crate::telemetry::init(service)?;
    let result = run.await;
    telemetry.shutdown().await;
    result
}

/// The process's exit code: a failure is logged and printed first.
pub fn exit_code(service: &str, result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|err| {
        tracing::error!(error = format!("{err:#}"), "{service} failed");
        eprintln!("{service}: {err:#}");
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gives_up_with_a_clear_message_after_the_bound() {
        let err = wait_for("nothing", Duration::from_millis(200), || async {
            Err::<(), _>("connection refused")
        })
        .await
        .expect_err("must give up");
        let text = err.to_string();
        assert!(text.contains("gave up waiting for nothing"), "{text}");
        assert!(text.contains("connection refused"), "{text}");
    }

    #[tokio::test]
    async fn retries_until_success() {
        let mut calls = 0;
        let value = wait_for("flaky", Duration::from_secs(5), || {
            calls += 1;
            let ok = calls >= 3;
            async move { if ok { Ok(calls) } else { Err("not yet") } }
        })
        .await
        .expect("succeeds");
        assert_eq!(value, 3);
    }
}
