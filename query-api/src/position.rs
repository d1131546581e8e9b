//! How far the read model has applied the stream, kept in memory from the
//! projector's announcements over NATS, and read-your-writes waiting on it.

use std::time::Duration;

use flow_domain::events::Subjects;
use flow_runtime::nats::PositionAnnouncement;
use futures::StreamExt;
use tokio::sync::watch;

#[derive(Clone)]
pub struct Position {
    rx: watch::Receiver<PositionAnnouncement>,
}

impl Position {
    /// Starts from `initial` (read from MongoDB) and follows announcements.
    pub async fn follow(
        client: &async_nats::Client,
        subjects: &Subjects,
        initial: PositionAnnouncement,
    ) -> anyhow::Result<Self> {
        let (tx, rx) = watch::channel(initial);
        let mut subscription = client.subscribe(subjects.position()).await?;
        tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let Ok(announced) =
                    serde_json::from_slice::<PositionAnnouncement>(&message.payload)
                else {
                    tracing::warn!("ignoring a malformed position announcement");
                    continue;
                };
                tx.send_if_modified(|current| {
                    // A rebuilt read model may restart lower; otherwise only forward.
                    let changed = *current != announced;
                    *current = announced;
                    changed
                });
            }
        });
        Ok(Self { rx })
    }

    pub fn current(&self) -> PositionAnnouncement {
        *self.rx.borrow()
    }

    /// Waits until `seq` is applied or `bound` passes; returns the position then.
    pub async fn wait_for(&self, seq: u64, bound: Duration) -> u64 {
        let mut rx = self.rx.clone();
        let reached = tokio::time::timeout(bound, rx.wait_for(|p| p.position >= seq)).await;
        match reached {
            Ok(Ok(p)) => p.position,
            _ => self.current().position,
        }
    }
}
