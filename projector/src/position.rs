//! The live position: the highest stream sequence up to which every event is
//! applied or parked. One owner writes it to the status and announces it.

use std::sync::{Arc, atomic::Ordering};

use flow_domain::events::Subjects;
use flow_runtime::nats::PositionAnnouncement;

use crate::status::Status;

/// The position of the live projection and where it is told.
///
/// `applied` is what is durably recorded and acknowledged: the consumer is
/// reset to just after it, so nothing after it is lost and nothing before it
/// is applied twice. The status may run ahead of it, to a batch whose
/// documents are written but whose position is not yet: reads may already
/// see that batch, so query-api is told as soon as they can.
pub struct Position {
    applied: u64,
    status: Arc<Status>,
    client: async_nats::Client,
    subjects: Subjects,
}

impl Position {
    pub fn new(status: Arc<Status>, client: async_nats::Client, subjects: Subjects) -> Self {
        Self {
            applied: status.position.load(Ordering::Relaxed),
            status,
            client,
            subjects,
        }
    }

    /// What is durably applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    pub fn status(&self) -> &Arc<Status> {
        &self.status
    }

    /// Starts from a recorded position (at start, or in a new generation).
    pub fn start_at(&mut self, generation: u64, position: u64) {
        self.status.generation.store(generation, Ordering::Relaxed);
        self.applied = position;
        self.status.position.store(position, Ordering::Relaxed);
    }

    /// The documents up to `position` are written: reads may see them, so
    /// tell query-api now (recording the position and acknowledging come
    /// after).
    pub fn visible(&self, position: u64) {
        self.status.position.store(position, Ordering::Relaxed);
        let (client, subjects, status) = (
            self.client.clone(),
            self.subjects.clone(),
            self.status.clone(),
        );
        tokio::spawn(async move { announce(&client, &subjects, &status).await });
    }

    /// A batch was written and acknowledged up to `position`.
    pub async fn committed(&mut self, position: u64, stream_last: u64) {
        self.applied = position;
        self.status.position.store(position, Ordering::Relaxed);
        self.seen_stream_last(stream_last.max(position));
        self.announce().await;
    }

    /// A write failed after its documents may have been announced: back to
    /// what is applied.
    pub fn rewind(&self) {
        self.status.position.store(self.applied, Ordering::Relaxed);
    }

    /// The stream holds at least `last` events.
    pub fn seen_stream_last(&self, last: u64) {
        self.status.stream_last.fetch_max(last, Ordering::Relaxed);
    }

    /// Tells query-api how far the read model is.
    pub async fn announce(&self) {
        announce(&self.client, &self.subjects, &self.status).await;
    }
}

pub async fn announce(client: &async_nats::Client, subjects: &Subjects, status: &Status) {
    let announcement = PositionAnnouncement {
        position: status.position.load(Ordering::Relaxed),
        stream_last: status.stream_last.load(Ordering::Relaxed),
        generation: status.generation.load(Ordering::Relaxed),
    };
    if let Ok(payload) = serde_json::to_vec(&announcement)
        && let Err(err) = client.publish(subjects.position(), payload.into()).await
    {
        tracing::debug!(%err, "cannot announce the position");
    }
}
