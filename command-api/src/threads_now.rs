//! What each known thread is now (its status above all), so that a vote on
//! it is decided without reading the thread's last event from JetStream.
//!
//! An entry is forgotten when any thread event of that thread is heard on a
//! core subscription to the thread subjects (from this instance, another one
//! or the automatic moderator), when the connection to NATS was made again
//! (events may have been missed meanwhile), and in any case after
//! [`MAX_AGE`], so that even a subscription that hears nothing (a missing
//! permission, dropped messages) leaves an answer at most that old.
//!
//! A core subscriber may hear an event before the stream has stored it (and
//! a stream replica answering a direct get may lag its leader), so for
//! [`SETTLE`] after a change is heard the thread is read from the stream on
//! every vote and not kept. A vote
//! decided on a status a moment old is what a vote racing a withdrawal gets
//! anyway: the read model counts no vote on a withdrawn or rejected thread.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use flow_domain::{ThreadId, events::Subjects, thread::Thread};
use flow_http::metrics::Metrics;
use futures::StreamExt;
use prometheus_client::metrics::{counter::Counter, family::Family};

use crate::cache::Bounded;

/// The oldest entry answered from memory.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// How long after a change is heard a thread is not kept.
pub const SETTLE: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Entry {
    /// Read from the stream at that instant.
    Known(Thread, Instant),
    /// A change was heard at that instant.
    Heard(Instant),
}

/// Threads as they stand now, forgotten on every change heard.
pub struct ThreadsNow {
    threads: Bounded<ThreadId, Entry>,
    /// Counts the changes heard and the forgetting of everything: a thread
    /// read while it moved is not kept.
    changes: AtomicU64,
    /// The connections NATS counted when the entries were heard under.
    connects: AtomicU64,
    stats: Arc<async_nats::Statistics>,
    lookups: Family<Vec<(&'static str, &'static str)>, Counter>,
}

/// Taken before reading a thread from the stream; see [`ThreadsNow::keep`].
#[derive(Debug, Clone, Copy)]
pub struct Stamp(u64);

impl ThreadsNow {
    /// Subscribes to the thread subjects and forgets what they announce.
    /// Returns once the server has the subscription.
    pub async fn listen(
        client: &async_nats::Client,
        subjects: &Subjects,
        capacity: usize,
    ) -> anyhow::Result<Arc<Self>> {
        let subject = format!("{}.evt.thread.*", subjects.prefix());
        let mut heard = client.subscribe(subject).await?;
        client.flush().await?;
        let stats = client.statistics();
        let now = Arc::new(Self {
            threads: Bounded::new(capacity),
            changes: AtomicU64::new(0),
            connects: AtomicU64::new(stats.connects.load(Ordering::SeqCst)),
            stats,
            lookups: Family::default(),
        });
        let listener = Arc::downgrade(&now);
        tokio::spawn(async move {
            while let Some(message) = heard.next().await {
                let Some(now) = listener.upgrade() else { break };
                let id = message.subject.rsplit('.').next().map(ThreadId::parse);
                match id {
                    Some(Ok(id)) => now.forget(&id),
                    _ => now.forget_all(),
                }
            }
        });
        Ok(now)
    }

    /// Shows the lookups in `/metrics`.
    pub fn register(&self, metrics: &Metrics) {
        metrics.register(
            "thread_status_lookups",
            "Threads looked up to decide a vote or reply, by where the answer came from (memory, stream)",
            self.lookups.clone(),
        );
    }

    /// The thread as last read, unless it may have changed since.
    pub fn get(&self, id: &ThreadId) -> Option<Thread> {
        let found = self.lookup(id);
        let source = if found.is_some() { "memory" } else { "stream" };
        self.lookups.get_or_create(&vec![("source", source)]).inc();
        found
    }

    fn lookup(&self, id: &ThreadId) -> Option<Thread> {
        let connects = self.stats.connects.load(Ordering::SeqCst);
        if self.connects.load(Ordering::SeqCst) != connects {
            self.forget_all();
            self.connects.store(connects, Ordering::SeqCst);
            return None;
        }
        match self.threads.get(id)? {
            Entry::Known(thread, at) if at.elapsed() < MAX_AGE => Some(thread),
            _ => None,
        }
    }

    /// Taken before the thread is read from the stream.
    pub fn stamp(&self) -> Stamp {
        Stamp(self.changes.load(Ordering::SeqCst))
    }

    /// Keeps a thread read after `stamp`, unless a change of it was heard
    /// less than [`SETTLE`] ago or any change was heard meanwhile (it might
    /// be this thread's, and the read might predate it).
    pub fn keep(&self, id: ThreadId, thread: Thread, stamp: Stamp) {
        if let Some(Entry::Heard(at)) = self.threads.get(&id)
            && at.elapsed() < SETTLE
        {
            return;
        }
        self.threads
            .insert(id, Entry::Known(thread, Instant::now()));
        // Checked after inserting: a change heard before this check is seen
        // here; one heard after it replaces the entry itself.
        if self.changes.load(Ordering::SeqCst) != stamp.0 {
            self.threads.insert(id, Entry::Heard(Instant::now()));
        }
    }

    /// A change of this thread was heard (or written here).
    pub fn forget(&self, id: &ThreadId) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.threads.insert(*id, Entry::Heard(Instant::now()));
    }

    fn forget_all(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.threads.clear();
    }
}

#[cfg(test)]
mod tests {
    use flow_domain::{ProjectId, ThreadType, UserId};

    use super::*;

    fn now() -> ThreadsNow {
        ThreadsNow {
            threads: Bounded::new(10),
            changes: AtomicU64::new(0),
            connects: AtomicU64::new(1),
            stats: Arc::new(async_nats::Statistics::default()),
            lookups: Family::default(),
        }
    }

    fn thread() -> Thread {
        Thread {
            id: ThreadId::new(),
            project_id: ProjectId::new(),
            parent_thread_id: None,
            thread_type: ThreadType::Comment,
            author: UserId::parse("alice").expect("valid"),
            message: String::new(),
            status: flow_domain::ModerationStatus::Approved,
        }
    }

    #[test]
    fn a_thread_read_while_a_change_was_heard_is_not_kept() {
        let now = now();
        let (a, b) = (ThreadId::new(), ThreadId::new());
        let stamp = now.stamp();
        now.forget(&b);
        now.keep(a, thread(), stamp);
        assert!(now.get(&a).is_none());
        now.keep(a, thread(), now.stamp());
        assert!(now.get(&a).is_some());
        now.forget(&a);
        assert!(now.get(&a).is_none());
    }

    #[test]
    fn a_thread_just_heard_changing_is_read_again_until_it_settles() {
        let now = now();
        let a = ThreadId::new();
        now.forget(&a);
        now.keep(a, thread(), now.stamp());
        assert!(
            now.get(&a).is_none(),
            "the stream may not have stored the change yet"
        );
        now.threads.insert(
            a,
            Entry::Heard(Instant::now() - SETTLE - Duration::from_millis(1)),
        );
        now.keep(a, thread(), now.stamp());
        assert!(now.get(&a).is_some());
    }

    #[test]
    fn a_new_connection_forgets_everything() {
        let now = now();
        let a = ThreadId::new();
        now.stats.connects.store(1, Ordering::SeqCst);
        now.keep(a, thread(), now.stamp());
        assert!(now.get(&a).is_some());
        now.stats.connects.store(2, Ordering::SeqCst);
        assert!(now.get(&a).is_none());
        now.keep(a, thread(), now.stamp());
        assert!(now.get(&a).is_some());
    }
}
