//! Votes at a fixed rate (open loop), some of them followed to their first
//! visible read: how long a write takes to show in the read model.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

use crate::{
    load::{self, Summary},
    since_start,
    system::Bench,
    votes::VoteLoad,
};

/// About this many writes a second are followed to their first visible read,
/// whatever the write rate: the measurement's own reads stay a small, fixed
/// load on the store, rather than one that grows with the rate until the
/// reads queue behind each other and measure their own queue.
pub const FOLLOWED_PER_SECOND: f64 = 75.0;

/// What votes at one rate measured.
pub struct AtRate {
    /// Votes per second asked for.
    pub rate: f64,
    /// The writes' latencies.
    pub writes: Summary,
    /// From write accepted to visible to a read; its `errors` are the followed
    /// writes not visible within the wait.
    pub fresh: Summary,
    /// `(seconds since start, ms)` of every followed write.
    pub points: Vec<(f64, f64)>,
    /// One write in this many was followed.
    pub every: u64,
}

/// Followed writes: latencies of the visible ones, `(at, ms)` points, and how
/// many were not visible within the wait.
type Followed = Arc<Mutex<(Histogram<u64>, Vec<(f64, f64)>, u64)>>;

/// Votes at `rate` (open loop) for a timed phase, following about
/// [`FOLLOWED_PER_SECOND`] of them to their first visible read.
pub async fn votes_at(bench: &Bench, votes: &Arc<VoteLoad>, rate: f64) -> AtRate {
    let (warmup, phase) = (bench.warmup, bench.phase);
    let every = ((rate / FOLLOWED_PER_SECOND).round() as u64).max(1);
    let followed: Followed = Arc::new(Mutex::new((load::histogram(), Vec::new(), 0)));
    let writes = {
        let votes = votes.clone();
        let followed = followed.clone();
        let http = bench.http.clone();
        let query = bench.system.query_url.clone();
        let from = Instant::now() + warmup;
        load::open_loop(rate, warmup, phase, 4_096, move |i| {
            let votes = votes.clone();
            let followed = followed.clone();
            let http = http.clone();
            let query = query.clone();
            async move {
                let Some((thread, token)) = votes
                    .cast(i.wrapping_mul(2_654_435_761).wrapping_add(rate as u64))
                    .await
                else {
                    return false;
                };
                if i % every == 0 && Instant::now() > from {
                    tokio::spawn(follow(http, query, thread, token, followed));
                }
                true
            }
        })
        .await
    };
    // The last followed reads wait at most the query-api's 2 s.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (h, points, unseen) = followed
        .lock()
        .map(|f| (f.0.clone(), f.1.clone(), f.2))
        .unwrap_or_else(|_| (load::histogram(), Vec::new(), 0));
    let fresh = Summary::new(&h, h.len(), unseen, phase.as_secs_f64());
    AtRate {
        rate,
        writes,
        fresh,
        points,
        every,
    }
}

/// Reads the written thread with the write's consistency token: the time
/// from the write's answer to a read that shows it.
async fn follow(
    http: reqwest::Client,
    query: String,
    thread: String,
    token: String,
    into: Followed,
) {
    let accepted = Instant::now();
    let at = since_start();
    let seq: u64 = token.trim_start_matches('s').parse().unwrap_or(u64::MAX);
    let response = http
        .get(format!("{query}/threads/{thread}"))
        .header("Consistency-Token", &token)
        .send()
        .await;
    let elapsed = accepted.elapsed();
    let visible = response.as_ref().ok().is_some_and(|r| {
        r.status().is_success()
            && r.headers()
                .get("projection-position")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|p| p >= seq)
    });
    if let Ok(mut f) = into.lock() {
        // Every followed read is plotted; one that gave up sits at the wait.
        f.1.push((at, elapsed.as_secs_f64() * 1000.0));
        if visible {
            load::record(&mut f.0, elapsed);
        } else {
            f.2 += 1;
        }
    }
}
