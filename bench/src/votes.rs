//! Votes over HTTP through command-api: the writes of the write phases.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use flow_domain::Direction;

use crate::{
    load::Summary,
    system::{Bench, System},
    workload::{Rng, THREAD_SKEW, Zipf, toggle},
};

/// The users who vote, each with a token of their own.
pub const USERS: usize = 2_000;

/// Votes over HTTP by many users on the seed threads, hot threads more often;
/// each vote changes the user's vote, so that each one appends an event.
pub struct VoteLoad {
    http: reqwest::Client,
    /// Each thread's vote URL, parsed once.
    urls: Vec<reqwest::Url>,
    /// Each user's `Authorization` header, built once.
    auth: Vec<reqwest::header::HeaderValue>,
    threads: Vec<String>,
    zipf: Zipf,
    next_user: AtomicUsize,
    votes: Mutex<HashMap<(usize, usize), Direction>>,
}

impl VoteLoad {
    pub fn new(
        system: &System,
        http: &reqwest::Client,
        threads: Vec<String>,
    ) -> anyhow::Result<Self> {
        let urls = threads
            .iter()
            .map(|t| reqwest::Url::parse(&format!("{}/threads/{t}/vote", system.command_url)))
            .collect::<Result<_, _>>()?;
        let auth = (0..USERS)
            .map(|u| {
                let token = system.jwt.mint(&format!("bench-user-{u}"), &[], 24 * 3600);
                let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {token}"))?;
                value.set_sensitive(true);
                Ok(value)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            http: http.clone(),
            urls,
            auth,
            zipf: Zipf::new(threads.len(), THREAD_SKEW),
            threads,
            next_user: AtomicUsize::new(0),
            votes: Mutex::new(HashMap::new()),
        })
    }

    /// One vote; on success its thread and consistency token. The load
    /// generator shares the cores with what it measures, so a vote costs it
    /// as little as it can: nothing is parsed or built that can be kept.
    pub async fn cast(&self, seed: u64) -> Option<(String, String)> {
        let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1));
        let thread = self.zipf.sample(&mut rng);
        let user = self.next_user.fetch_add(1, Ordering::Relaxed) % self.auth.len();
        let direction = {
            let mut votes = self.votes.lock().ok()?;
            let next = toggle(
                votes
                    .get(&(thread, user))
                    .copied()
                    .unwrap_or(Direction::None),
            );
            votes.insert((thread, user), next);
            next
        };
        let body: &'static [u8] = match direction {
            Direction::Up => br#"{"direction":"up"}"#,
            Direction::Down => br#"{"direction":"down"}"#,
            Direction::None => br#"{"direction":"none"}"#,
        };
        let response = self
            .http
            .put(self.urls[thread].clone())
            .header(reqwest::header::AUTHORIZATION, self.auth[user].clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .ok()?;
        let ok = response.status().is_success();
        let token = response
            .headers()
            .get("consistency-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Read to the end, so that the connection is used again.
        response.bytes().await.ok()?;
        Some((self.threads[thread].clone(), token.filter(|_| ok)?))
    }

    /// The bench's clients voting back to back for a timed phase. Client `c`'s
    /// `i`-th vote draws its thread from `(c + seed_offset) * 1_000_003 + i`,
    /// so that phases with different offsets draw different sequences.
    pub async fn closed_loop(self: &Arc<Self>, bench: &Bench, seed_offset: u64) -> Summary {
        let votes = self.clone();
        bench
            .closed_loop(move |client, i| {
                let votes = votes.clone();
                async move {
                    votes
                        .cast((client as u64 + seed_offset) * 1_000_003 + i)
                        .await
                        .is_some()
                }
            })
            .await
    }
}
