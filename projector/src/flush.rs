//! When a batch is written: flush policies. Live, successive batches are
//! folded while a backlog waits, bounded by events, statements, age and
//! idleness; a rebuild folds by statements only, since no one reads a
//! generation before it is handed over.

use std::time::Duration;

use crate::{
    batch::Batch,
    settings::{BULK_COMMAND, LIVE_COMMAND, Settings},
};

/// A batch is written once it holds this many statements (one per document
/// for votes; a few per proposal): the memory a batch takes is bounded by
/// its statements.
const MAX_STATEMENTS: usize = 5_000;
/// ... or holds statements of about this many bytes (a proposal's document
/// holds every prefix of its name and tagline: thousands of them would not
/// fit the memory a projector is given) ...
const MAX_BYTES: usize = 8 << 20;
/// ... or, live, is this old (decoding and planning 20,000 events takes about
/// half a second), so that reads see progress at least this often under a
/// long backlog ...
const LIVE_AGE: Duration = Duration::from_secs(1);
/// ... or nothing more arrived for this long (the backlog may be held back by
/// the server, for one: acknowledgements pending from before a restart).
const LIVE_IDLE: Duration = Duration::from_millis(25);

/// When a batch is full, or due, and how it is written.
#[derive(Debug, Clone, Copy)]
pub struct FlushPolicy {
    max_events: u64,
    max_statements: usize,
    max_age: Option<Duration>,
    max_idle: Option<Duration>,
    /// A batch of more events than this spans several delivered batches (a
    /// backlog) and is written in large commands.
    live_events: u64,
}

impl FlushPolicy {
    /// The live projection: fold up to `fold_events` while more wait.
    pub fn live(settings: &Settings) -> Self {
        Self {
            max_events: settings.fold_events as u64,
            max_statements: MAX_STATEMENTS,
            max_age: Some(LIVE_AGE),
            max_idle: Some(LIVE_IDLE),
            live_events: settings.batch_size as u64,
        }
    }

    /// A rebuild: fold until the statements reach their bound.
    pub fn bulk() -> Self {
        Self {
            max_events: u64::MAX,
            max_statements: MAX_STATEMENTS,
            max_age: None,
            max_idle: None,
            live_events: 0,
        }
    }

    /// Whether the batch is to be written now, whatever waits. A batch that
    /// keeps its events' writes is full at once: the smallest policy.
    pub fn full(&self, batch: &Batch) -> bool {
        batch.kept.is_some()
            || batch.events >= self.max_events
            || batch.statements.len() >= self.max_statements
            || batch.statements.bytes() >= MAX_BYTES
            || self
                .max_age
                .zip(batch.started)
                .is_some_and(|(age, started)| started.elapsed() >= age)
    }

    /// When the batch is due if nothing more fills it.
    pub fn deadline(&self, batch: &Batch) -> Option<tokio::time::Instant> {
        let aged = batch.started? + self.max_age?;
        let idle = batch.added? + self.max_idle?;
        Some(tokio::time::Instant::from_std(aged.min(idle)))
    }

    /// Statements per `update` command for this batch.
    pub fn per_command(&self, batch: &Batch) -> usize {
        if batch.events > self.live_events {
            BULK_COMMAND
        } else {
            LIVE_COMMAND
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_live_batch_is_full_at_its_event_bound_and_due_when_idle() {
        let settings = Settings {
            fold_events: 10,
            ..Settings::default()
        };
        let policy = FlushPolicy::live(&settings);
        let mut batch = Batch::default();
        assert!(!policy.full(&batch));
        assert!(policy.deadline(&batch).is_none());
        let now = Instant::now();
        batch.started = Some(now);
        batch.added = Some(now);
        batch.events = 9;
        assert!(!policy.full(&batch));
        assert_eq!(
            policy.deadline(&batch),
            Some(tokio::time::Instant::from_std(now + LIVE_IDLE))
        );
        batch.events = 10;
        assert!(policy.full(&batch));
        assert!(FlushPolicy::bulk().deadline(&batch).is_none());
        assert!(!FlushPolicy::bulk().full(&batch));
    }

    #[test]
    fn a_batch_is_full_at_its_bytes_whatever_its_statements() {
        let mut batch = Batch::default();
        let prefixes: Vec<String> = (0..1_000).map(|i| format!("prefix {i}")).collect();
        let mut statements = 0;
        while !FlushPolicy::bulk().full(&batch) {
            batch.statements.push(crate::write::Write {
                collection: "projects",
                filter: mongodb::bson::doc! {"_id": statements.to_string()},
                update: mongodb::bson::doc! {"$setOnInsert": {"search": &prefixes}},
                upsert: true,
            });
            statements += 1;
        }
        assert!(statements < MAX_STATEMENTS / 10, "{statements}");
        assert!(batch.statements.bytes() >= MAX_BYTES);
    }

    #[test]
    fn a_batch_that_keeps_its_events_writes_is_full_at_once() {
        let policy = FlushPolicy::live(&Settings::default());
        let mut batch = Batch::default();
        batch.keep(crate::plan::Plan::default(), &[], Instant::now());
        assert!(!batch.is_empty());
        assert!(policy.full(&batch));
    }
}
