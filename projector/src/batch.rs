//! A batch: what is collected between two commits. Planned statements are
//! merged as they come (one statement per document where they can be), with
//! the events parked and the progress made: the position the batch brings
//! the read model to, how many events it spans and when it started.

use std::time::Instant;

use async_nats::jetstream;

use crate::{
    coalesce::Coalescer,
    parking::ParkedEvent,
    plan::{Delivered, Plan},
};

/// Planned batches merged into one write. Only merged statements are kept,
/// not the events: the memory it takes is bounded by the number of
/// statements (see [`crate::flush::FlushPolicy`]). If MongoDB refuses the
/// write, which event caused it is unknown: the events are read again and
/// written batch by batch, where the refused one can be found and parked.
#[derive(Default)]
pub struct Batch {
    pub statements: Coalescer,
    pub parked: Vec<ParkedEvent>,
    /// The position the read model reaches once the batch is written.
    pub position: u64,
    pub events: u64,
    /// When the last event was stored (ms since the epoch; 0 unknown).
    pub last_stored_ms: u64,
    /// Acknowledges every event of the batch (cumulative acks).
    pub last_message: Option<jetstream::Message>,
    /// When the first event was received.
    pub started: Option<Instant>,
    /// When the last events were added.
    pub added: Option<Instant>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.started.is_none()
    }

    /// Adds the plan of `delivered`, received at `received`.
    pub fn add(&mut self, plan: Plan, delivered: &[Delivered], received: Instant) {
        for (_, _, writes) in plan.events {
            for write in writes {
                self.statements.push(write);
            }
        }
        self.parked.extend(plan.parked);
        self.position = plan.position;
        self.events += delivered.len() as u64;
        self.last_stored_ms = delivered.last().map(|d| d.stored_ms).unwrap_or(0);
        self.started.get_or_insert(received);
        self.added = Some(Instant::now());
    }
}
