//! Frozen rankings of `sort=top` and `sort=active` listings: a small,
//! bounded, in-memory cache with expiry. The listing module says how paging
//! uses them.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use uuid::Uuid;

use crate::sort::Sort;

/// How many rankings query-api keeps, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotConfig {
    /// A ranking is kept this long after its first page (default 15 minutes).
    pub ttl: Duration,
    /// At most this many projects are frozen per ranking (default 5 000);
    /// paging beyond continues with a new ranking after the last key.
    pub max_per_snapshot: usize,
    /// At most this many projects are kept over all rankings (default
    /// 500 000, about 16 MB); the oldest rankings are dropped first.
    pub budget: usize,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(15 * 60),
            max_per_snapshot: 5_000,
            budget: 500_000,
        }
    }
}

/// One project of a frozen ranking, with its keys at the time of freezing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    /// `score` (top) or `last_activity_seq` (active).
    pub key: i64,
    pub created_seq: i64,
}

/// The ordered projects of one listing (a sort and a filter) after a key.
#[derive(Debug)]
pub struct Snapshot {
    pub id: u64,
    pub sort: Sort,
    /// The fingerprint of the listing's filter.
    pub filter: String,
    pub entries: Vec<Entry>,
    /// Whether `entries` reaches the end of the listing as it was (otherwise
    /// it stopped at [`SnapshotConfig::max_per_snapshot`]).
    pub complete: bool,
    taken: Instant,
}

impl Snapshot {
    pub fn new(sort: Sort, filter: String, entries: Vec<Entry>, complete: bool) -> Self {
        let id = u64::from_le_bytes(
            Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .unwrap_or_default(),
        );
        Self {
            id,
            sort,
            filter,
            entries,
            complete,
            taken: Instant::now(),
        }
    }
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<u64, Arc<Snapshot>>,
    /// Ids, oldest first (every ranking lives equally long, so also the
    /// order of expiry).
    order: VecDeque<u64>,
    entries: usize,
}

impl Inner {
    fn drop_oldest(&mut self) {
        if let Some(id) = self.order.pop_front()
            && let Some(old) = self.by_id.remove(&id)
        {
            self.entries -= old.entries.len();
        }
    }
}

/// The cache of frozen rankings, shared by the handlers.
#[derive(Clone)]
pub struct Snapshots {
    config: SnapshotConfig,
    inner: Arc<Mutex<Inner>>,
}

impl Snapshots {
    pub fn new(config: SnapshotConfig) -> Self {
        Self {
            config,
            inner: Arc::default(),
        }
    }

    pub fn config(&self) -> SnapshotConfig {
        self.config
    }

    /// Keeps `snapshot` (dropping expired and, if needed, the oldest
    /// rankings); one larger than the whole budget is not kept.
    pub fn keep(&self, snapshot: Arc<Snapshot>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let now = Instant::now();
        while let Some(oldest) = inner.order.front().and_then(|id| inner.by_id.get(id))
            && now.duration_since(oldest.taken) >= self.config.ttl
        {
            inner.drop_oldest();
        }
        let size = snapshot.entries.len();
        if size > self.config.budget || self.config.ttl.is_zero() {
            return;
        }
        while inner.entries + size > self.config.budget && !inner.order.is_empty() {
            inner.drop_oldest();
        }
        inner.entries += size;
        inner.order.push_back(snapshot.id);
        inner.by_id.insert(snapshot.id, snapshot);
    }

    /// The ranking `id`, unless it expired or was dropped.
    pub fn get(&self, id: u64) -> Option<Arc<Snapshot>> {
        let inner = self.inner.lock().ok()?;
        inner
            .by_id
            .get(&id)
            .filter(|s| s.taken.elapsed() < self.config.ttl)
            .cloned()
    }

    /// How many projects the kept rankings hold.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(n: usize) -> Arc<Snapshot> {
        let entries = (0..n)
            .map(|i| Entry {
                id: Uuid::new_v4(),
                key: i as i64,
                created_seq: i as i64,
            })
            .collect();
        Arc::new(Snapshot::new(Sort::Top, "f".into(), entries, true))
    }

    #[test]
    fn the_oldest_rankings_go_first_when_the_budget_is_spent() {
        let cache = Snapshots::new(SnapshotConfig {
            ttl: Duration::from_secs(60),
            max_per_snapshot: 10,
            budget: 25,
        });
        let (a, b, c) = (snapshot(10), snapshot(10), snapshot(10));
        cache.keep(a.clone());
        cache.keep(b.clone());
        cache.keep(c.clone());
        assert!(cache.get(a.id).is_none(), "dropped to make room");
        assert!(cache.get(b.id).is_some() && cache.get(c.id).is_some());
        assert_eq!(cache.len(), 20);
        let huge = snapshot(26);
        cache.keep(huge.clone());
        assert!(cache.get(huge.id).is_none(), "larger than the budget");
        assert_eq!(cache.len(), 20);
    }

    #[test]
    fn rankings_expire() {
        let cache = Snapshots::new(SnapshotConfig {
            ttl: Duration::ZERO,
            ..SnapshotConfig::default()
        });
        let a = snapshot(3);
        cache.keep(a.clone());
        assert!(cache.get(a.id).is_none());
        assert!(cache.is_empty());
    }
}
