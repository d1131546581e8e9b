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
///
/// The smallest batch, one delivered batch that may not be merged with
/// others, keeps each event's writes instead ([`Batch::keep`]), so that a
/// refused event can be found and parked where it stands.
#[derive(Default)]
pub struct Batch {
    pub statements: Coalescer,
    /// Each event's writes, for a batch of one delivered batch.
    pub kept: Option<Plan>,
    pub parked: Vec<ParkedEvent>,
    /// The position the read model reaches once the batch is written.
    pub position: u64,
    pub events: u64,
    /// When the last event was stored (ms since the epoch; 0 unknown).
    pub last_stored_ms: u64,
    /// What acknowledges the batch's events: the last message of a merged
    /// batch (cumulative acks), every message of a kept one.
    pub to_ack: Vec<jetstream::Message>,
    /// When the first event was received.
    pub started: Option<Instant>,
    /// When the last events were added.
    pub added: Option<Instant>,
    /// The spans of its traced events, ended once it is committed.
    pub traced: Vec<tracing::Span>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.started.is_none() && self.kept.is_none()
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
        self.counted(delivered, received);
    }

    /// Keeps the plan of `delivered` with each event's writes: the whole
    /// batch, written on its own. With nothing delivered (only redeliveries
    /// of applied events) there is nothing to write, only to acknowledge.
    pub fn keep(&mut self, plan: Plan, delivered: &[Delivered], received: Instant) {
        if !delivered.is_empty() {
            self.position = plan.position;
            self.counted(delivered, received);
        }
        self.kept = Some(plan);
    }

    fn counted(&mut self, delivered: &[Delivered], received: Instant) {
        self.events += delivered.len() as u64;
        self.last_stored_ms = delivered.last().map(|d| d.stored_ms).unwrap_or(0);
        self.started.get_or_insert(received);
        self.added = Some(Instant::now());
    }
}
