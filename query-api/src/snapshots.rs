//! Frozen rankings of `sort=top` and `sort=active` listings: a small,
//! bounded, in-memory cache with expiry. The listing module says how paging
//! uses them.
//!
//! # Freezing in turn
//!
//! Freezing a ranking is one sorted find of up to
//! [`SnapshotConfig::max_per_snapshot`] projects, the costliest read of
//! query-api. First pages of the same listing asked for at once freeze in
//! turn ([`Snapshots::in_turn`]): while one freeze runs, the others wait,
//! and when it ends they all take the next one, which starts after every one
//! of them asked. So a first page is never served a ranking older than its
//! request (nor one taken before its consistency token was reached), and the
//! store sees one freeze at a time per listing, however many readers ask.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use flow_http::metrics::Metrics;
use flow_runtime::config;
use prometheus_client::metrics::{counter::Counter, family::Family};
use uuid::Uuid;

use crate::sort::Sort;

/// How many rankings query-api keeps, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotConfig {
    /// `FLOW_RANKING_TTL_MS`: a ranking is kept this long after its first
    /// page (default 15 minutes).
    pub ttl: Duration,
    /// `FLOW_RANKING_SIZE`: at most this many projects are frozen per
    /// ranking (default 1 000: 50 pages of 20); paging beyond continues with
    /// a new ranking after the last key.
    pub max_per_snapshot: usize,
    /// `FLOW_RANKING_BUDGET`: at most this many projects are kept over all
    /// rankings (default 500 000, about 16 MB); the oldest rankings are
    /// dropped first.
    pub budget: usize,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(15 * 60),
            max_per_snapshot: 1_000,
            budget: 500_000,
        }
    }
}

impl SnapshotConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let default = Self::default();
        let config = Self {
            ttl: config::millis_or("FLOW_RANKING_TTL_MS", default.ttl.as_millis() as u64)?,
            max_per_snapshot: config::parse_or("FLOW_RANKING_SIZE", default.max_per_snapshot)?,
            budget: config::parse_or("FLOW_RANKING_BUDGET", default.budget)?,
        };
        anyhow::ensure!(
            config.max_per_snapshot > 0,
            "FLOW_RANKING_SIZE must be above 0"
        );
        Ok(config)
    }
}

/// Freezes are taken in turn per listing; listings share these many turns
/// (by a hash of the key), so two listings in one turn also wait for each
/// other's freezes: a bound on the memory kept, at the cost of a rare wait.
const TURNS: usize = 64;

/// The last ranking frozen in one turn.
struct Latest {
    key: String,
    started: Instant,
    snapshot: Arc<Snapshot>,
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
    turns: Arc<[tokio::sync::Mutex<Option<Latest>>]>,
    hasher: RandomState,
    /// First pages by how they got their ranking (`frozen`, `shared`).
    rankings: Family<Vec<(&'static str, &'static str)>, Counter>,
}

impl Snapshots {
    pub fn new(config: SnapshotConfig) -> Self {
        Self {
            config,
            inner: Arc::default(),
            turns: (0..TURNS).map(|_| tokio::sync::Mutex::new(None)).collect(),
            hasher: RandomState::new(),
            rankings: Family::default(),
        }
    }

    /// Shows the counts of frozen and shared rankings in `/metrics`.
    pub fn register(&self, metrics: &Metrics) {
        metrics.register(
            "rankings",
            "Rankings of sort=top|active listings by how a page got one: frozen for it, or shared with pages that asked while it was being frozen (frozen, shared)",
            self.rankings.clone(),
        );
    }

    fn counted(&self, how: &'static str) {
        self.rankings.get_or_create(&vec![("how", how)]).inc();
    }

    /// The ranking named `key`, frozen by `freeze` after this call began:
    /// either by this call, or by one that asked for the same key at the same
    /// time and shares it (see the module's "Freezing in turn").
    pub async fn in_turn<E, F, Fut>(&self, key: String, freeze: F) -> Result<Arc<Snapshot>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<Snapshot>, E>>,
    {
        let asked = Instant::now();
        let turn = &self.turns[self.hasher.hash_one(&key) as usize % self.turns.len()];
        let mut latest = turn.lock().await;
        if let Some(shared) = latest
            .as_ref()
            .filter(|l| l.key == key && l.started >= asked)
        {
            self.counted("shared");
            return Ok(shared.snapshot.clone());
        }
        let started = Instant::now();
        let snapshot = freeze().await?;
        self.counted("frozen");
        *latest = Some(Latest {
            key,
            started,
            snapshot: snapshot.clone(),
        });
        Ok(snapshot)
    }

    /// How many rankings were frozen, and how many first pages shared one.
    pub fn counts(&self) -> (u64, u64) {
        let get = |how| self.rankings.get_or_create(&vec![("how", how)]).get();
        (get("frozen"), get("shared"))
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
        if inner.by_id.contains_key(&snapshot.id) {
            // Kept already, by a page that shared it.
            return;
        }
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

    #[tokio::test]
    async fn a_ranking_is_shared_only_by_pages_that_asked_before_it_was_frozen() {
        let cache = Snapshots::new(SnapshotConfig::default());
        let (started, is_started) = tokio::sync::oneshot::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let first = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .in_turn("top".into(), || async move {
                        let _ = started.send(());
                        let _ = released.await;
                        Ok::<_, ()>(snapshot(1))
                    })
                    .await
            }
        });
        is_started.await.expect("the first freeze runs");
        // Two more first pages ask while that freeze runs: it began before
        // them, so neither may be served it.
        let later = |n| {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .in_turn("top".into(), || async move { Ok::<_, ()>(snapshot(n)) })
                    .await
            })
        };
        let (second, third) = (later(2), later(3));
        let other = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .in_turn("active".into(), || async { Ok::<_, ()>(snapshot(4)) })
                    .await
            })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(()).expect("the first freeze waits");
        let first = first.await.expect("joined").expect("frozen");
        let second = second.await.expect("joined").expect("frozen");
        let third = third.await.expect("joined").expect("frozen");
        let other = other.await.expect("joined").expect("frozen");
        assert_eq!(first.entries.len(), 1);
        assert_ne!(second.id, first.id, "frozen before the page asked");
        assert_eq!(second.id, third.id, "asked at once: one freeze");
        assert_eq!(other.entries.len(), 4, "another listing has its own");
        // Asked after that freeze ended: a new one.
        let fourth = cache
            .in_turn("top".into(), || async { Ok::<_, ()>(snapshot(5)) })
            .await
            .expect("frozen");
        assert_eq!(fourth.entries.len(), 5);
        assert_eq!(cache.counts(), (4, 1));
    }

    #[test]
    fn a_shared_ranking_is_kept_once() {
        let cache = Snapshots::new(SnapshotConfig::default());
        let a = snapshot(3);
        cache.keep(a.clone());
        cache.keep(a.clone());
        assert_eq!(cache.len(), 3);
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
