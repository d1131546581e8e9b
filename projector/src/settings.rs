//! How the projector applies events: batch size, attempts, schema version,
//! folding, and the size of the commands it sends.

/// How the projector applies events.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Events per batch.
    pub batch_size: usize,
    /// Attempts before an event that MongoDB refuses is parked.
    pub max_attempts: u32,
    /// The newest event schema version this projector understands.
    pub max_schema_version: u16,
    /// Events of successive batches folded into one write while more wait.
    pub fold_events: usize,
}

impl Settings {
    /// The most events one write may span: a batch, or a live fold of many.
    pub fn span(&self) -> u64 {
        (self.batch_size + self.fold_events) as u64
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            max_attempts: 5,
            max_schema_version: flow_domain::events::SCHEMA_VERSION,
            fold_events: LIVE_FOLD_EVENTS,
        }
    }
}

/// While more events wait (a backlog), up to this many events of successive
/// batches are folded into one write by default: each document is written
/// once for all of them.
pub const LIVE_FOLD_EVENTS: usize = 20_000;

/// Statements per `update` command when rebuilding or catching up a backlog:
/// few, large commands.
pub const BULK_COMMAND: usize = 1_000;

/// Statements per `update` command when live: a server that runs one command
/// at a time (as a single-process one does) serves reads between them, so a
/// read of a fresh write does not wait behind the whole of the next batch.
pub const LIVE_COMMAND: usize = 50;
