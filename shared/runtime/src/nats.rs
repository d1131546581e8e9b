//! Connecting to NATS and declaring the event stream.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, stream};

use crate::config::{ExposeSecret, NatsConfig};
use crate::startup::wait_for;

/// How long the stream remembers `Nats-Msg-Id`s to drop duplicate publishes.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Connects to NATS, retrying with backoff for at most `timeout`, with the
/// configured credentials and TLS.
pub async fn connect(
    config: &NatsConfig,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<async_nats::Client> {
    let url = config.url.clone();
    let name = name.to_owned();
    let security = config.security.clone();
    if let Some(path) = &security.creds_file {
        // Read once up front, so that a wrong path is reported as such.
        std::fs::metadata(path)
            .with_context(|| format!("FLOW_NATS_CREDS_FILE={} cannot be read", path.display()))?;
    }
    wait_for("NATS", timeout, || {
        let url = url.clone();
        let name = name.clone();
        let security = security.clone();
        async move {
            // A failed first connection is retried here, within our bound; once
            // connected, the client reconnects on its own, without limit.
            let mut options = async_nats::ConnectOptions::new()
                .name(name)
                .connection_timeout(Duration::from_secs(2))
                .max_reconnects(None)
                .require_tls(security.tls_required);
            if let Some((user, password)) = security.user {
                options = options.user_and_password(user, password.expose_secret().to_owned());
            }
            if let Some(path) = security.creds_file {
                options = options
                    .credentials_file(path)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if let Some(ca) = security.tls_ca {
                options = options.add_root_certificates(ca);
            }
            if let Some((cert, key)) = security.tls_client {
                options = options.add_client_certificate(cert, key);
            }
            // FLOW_NATS_URL may list the servers of a cluster, comma-separated.
            let servers: Vec<&str> = url
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .collect();
            options.connect(servers).await.map_err(|e| e.to_string())
        }
    })
    .await
}

/// The stream's configuration: file storage, every event subject under the
/// prefix, atomic batches, direct gets, a duplicate window, and nothing ever
/// deleted (the stream is the source of truth).
pub fn stream_config(config: &NatsConfig) -> stream::Config {
    stream::Config {
        name: config.stream.clone(),
        description: Some("Projects Flow events: the source of truth".into()),
        subjects: vec![config.subjects().all_events()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: config.replicas,
        duplicate_window: DUPLICATE_WINDOW,
        allow_atomic_publish: true,
        allow_direct: true,
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    }
}

/// Creates the stream, or updates it to the current configuration.
pub async fn ensure_stream(
    js: &jetstream::Context,
    config: &NatsConfig,
    timeout: Duration,
) -> anyhow::Result<stream::Stream> {
    let cfg = stream_config(config);
    wait_for("the JetStream stream", timeout, || {
        let cfg = cfg.clone();
        async move { js.create_or_update_stream(cfg).await }
    })
    .await?;
    js.get_stream(&config.stream)
        .await
        .with_context(|| format!("cannot open stream {}", config.stream))
}

/// Drains a stopping service's connection: what it buffered is sent and its
/// subscriptions end. A failure is only logged: the service stops anyway.
pub async fn drain(client: &async_nats::Client) {
    if let Err(err) = client.drain().await {
        tracing::warn!(%err, "NATS drain failed");
    }
}

/// The projector's announcement of how far it has applied the stream,
/// published on [`flow_domain::events::Subjects::position`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PositionAnnouncement {
    /// Every event up to this stream sequence is applied.
    pub position: u64,
    /// The stream's last sequence when the position was announced.
    pub stream_last: u64,
    /// The read-model generation query-api should serve.
    #[serde(default)]
    pub generation: u64,
}
