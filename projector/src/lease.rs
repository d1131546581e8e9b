//! Which instance applies the stream: a lease in a JetStream key-value
//! bucket. Every instance runs the same loop: stand by until it can create
//! the lease key, then apply events while it renews the key, and stand by
//! again when it cannot.
//!
//! Why a KV lease rather than a consumer priority group with a pinned
//! client: the lease gives a number that only grows from one holder to the
//! next (the key's revision when it was taken), which the store guard needs
//! as its fencing token (see [`crate::fence`]); a pinned client gives no such
//! token, and an instance paused past its pin would still not know it lost
//! it. The lease also covers more than the consumer: the control requests,
//! rebuilds and the position announcements follow the same role.
//!
//! How: the bucket keeps one revision per key (`history: 1`) for at most the
//! lease duration (`max_age`), so the server deletes a lease nobody renews.
//! Taking it is `create` (succeeds only if the key does not exist: a revision
//! check against 0); renewing is `update` with the last revision, so a holder
//! whose lease expired and was taken (or just expired) learns it on its next
//! renewal. By its own clock a holder counts its lease valid until three
//! quarters of the duration after it sent the last successful renewal, which
//! is before the server can expire it; it checks that before every commit.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    kv::{self, CreateErrorKind, UpdateErrorKind},
};
use tokio::sync::watch;

use crate::fence::Fence;

/// The default lease: a standby takes over within about this long after the
/// active instance stops renewing, plus one poll.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5);

pub struct Lease {
    kv: kv::Store,
    key: String,
    holder: String,
    duration: Duration,
    fence: Arc<Fence>,
}

/// The lease as held: the revision it was taken at (the epoch) and the last.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    pub epoch: u64,
    revision: u64,
}

/// Why an active term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Lost,
    Stopped,
}

/// Bucket names allow letters, digits, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The bucket of the leases of a subject prefix.
pub fn bucket(prefix: &str) -> String {
    format!("projector_lease_{}", sanitize(prefix))
}

/// Who this instance is, in the lease's value and the log.
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "projector".into());
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000;
    format!("{host}-{}-{nanos}", std::process::id())
}

impl Lease {
    /// Opens (or creates) the lease bucket of `prefix`; the key is the
    /// durable consumer's name, so each projection has its own lease.
    pub async fn open(
        js: &jetstream::Context,
        prefix: &str,
        durable: &str,
        duration: Duration,
        fence: Arc<Fence>,
    ) -> anyhow::Result<Self> {
        let name = bucket(prefix);
        let kv = match js.get_key_value(&name).await {
            Ok(kv) => {
                let age = kv.status().await.map(|s| s.max_age()).unwrap_or(duration);
                if age != duration {
                    tracing::warn!(
                        bucket = name,
                        ?age,
                        configured = ?duration,
                        "the lease bucket keeps its lease duration; delete the bucket to change it"
                    );
                }
                kv
            }
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: name.clone(),
                    description: "which projector instance applies the stream".into(),
                    history: 1,
                    max_age: duration,
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the lease bucket {name}: {e}"))?,
        };
        Ok(Self {
            kv,
            key: sanitize(durable),
            holder: instance_id(),
            duration,
            fence,
        })
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How often a standby tries to take the lease: a quarter of it, at most
    /// a second.
    fn poll(&self) -> Duration {
        (self.duration / 4).min(Duration::from_secs(1))
    }

    /// How often the holder renews, and how long it waits for an answer.
    fn renew_every(&self) -> Duration {
        self.duration / 3
    }

    /// Valid by the holder's clock until this long after a renewal was sent.
    fn valid_for(&self) -> Duration {
        self.duration * 3 / 4
    }

    /// Stands by until this instance takes the lease; `None` if stopped.
    pub async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> Option<Held> {
        loop {
            if *stop.borrow() {
                return None;
            }
            let sent = Instant::now();
            let created = tokio::time::timeout(
                self.renew_every(),
                self.kv.create(&self.key, self.holder.clone().into()),
            )
            .await;
            match created {
                Ok(Ok(revision)) => {
                    self.fence.hold(revision, sent + self.valid_for());
                    tracing::info!(
                        holder = self.holder,
                        epoch = revision,
                        "took the lease: applying"
                    );
                    return Some(Held {
                        epoch: revision,
                        revision,
                    });
                }
                Ok(Err(err)) if err.kind() == CreateErrorKind::AlreadyExists => {}
                Ok(Err(err)) => tracing::warn!(%err, "cannot try the lease"),
                Err(_) => tracing::warn!("no answer when trying the lease"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll()) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Renews the lease until it is lost or `stop` says so; then this
    /// instance may write nothing more (the fence is released). `lost` is
    /// told when the lease is lost.
    pub async fn keep(
        &self,
        mut held: Held,
        stop: &mut watch::Receiver<bool>,
        lost: &watch::Sender<bool>,
    ) -> Ended {
        let ended = loop {
            tokio::select! {
                _ = tokio::time::sleep(self.renew_every()) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break Ended::Stopped;
            }
            let sent = Instant::now();
            let renewed = tokio::time::timeout(
                self.renew_every(),
                self.kv
                    .update(&self.key, self.holder.clone().into(), held.revision),
            )
            .await;
            match renewed {
                Ok(Ok(revision)) => {
                    held.revision = revision;
                    self.fence.extend(sent + self.valid_for());
                    continue;
                }
                Ok(Err(err)) if err.kind() == UpdateErrorKind::WrongLastRevision => {
                    tracing::warn!(
                        epoch = held.epoch,
                        "the lease expired or was taken over: standing by"
                    );
                    break Ended::Lost;
                }
                Ok(Err(err)) => tracing::warn!(%err, "cannot renew the lease"),
                Err(_) => tracing::warn!("no answer when renewing the lease"),
            }
            if self.fence.valid_epoch().is_err() {
                tracing::warn!(
                    epoch = held.epoch,
                    "the lease could not be renewed in time: standing by"
                );
                break Ended::Lost;
            }
        };
        self.fence.release();
        let _ = lost.send(true);
        if ended == Ended::Stopped {
            // Stopping: let a standby take over at once.
            if let Err(err) = self
                .kv
                .delete_expect_revision(&self.key, Some(held.revision))
                .await
            {
                tracing::debug!(%err, "cannot give the lease back; it expires");
            }
        }
        ended
    }
}
