//! What the benchmark writes: a deterministic random source, a skewed choice
//! of threads (a few hot ones, a long tail), and valid events published
//! straight into JetStream for the figures that need a large stream.

use std::collections::HashMap;

use flow_domain::events::{Envelope, Event};
use flow_domain::{Direction, ProjectId, Tag, ThreadId, ThreadType, UserId};
use time::OffsetDateTime;

/// xorshift64*: small, fast, reproducible; not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Zipf-distributed ranks in `0..n`: rank `k` has weight `1 / (k + 1)^s`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let mut cdf = Vec::with_capacity(n.max(1));
        for k in 0..n.max(1) {
            total += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Self { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

/// The skew of votes over threads, for HTTP writes and generated events alike.
pub const THREAD_SKEW: f64 = 1.1;

/// A project of the generated workload, with its threads.
#[derive(Debug, Clone)]
pub struct GenProject {
    pub project_id: ProjectId,
    pub threads: Vec<ThreadId>,
}

/// Events for `projects` proposals (each: name claim, proposal, two problem
/// threads and one solution thread) followed by votes until `total` events:
/// voters toggle their vote (up, down, withdrawn) so that each one changes
/// something, with `previous` as the vote stream has it.
pub struct Generator {
    rng: Rng,
    zipf: Zipf,
    pub projects: Vec<GenProject>,
    voters: Vec<UserId>,
    votes: HashMap<(usize, usize), Direction>,
    pending_proposals: Vec<Vec<Event>>,
}

const TAGS: &[&str] = &[
    "circus", "music", "garden", "code", "repair", "food", "books", "bikes", "water", "energy",
];

impl Generator {
    pub fn new(seed: u64, projects: usize, voters: usize) -> Self {
        let mut rng = Rng::new(seed);
        let proposer =
            UserId::parse("bench-proposer").unwrap_or_else(|_| unreachable!("a valid user id"));
        let mut all = Vec::with_capacity(projects);
        let mut pending = Vec::with_capacity(projects);
        for i in 0..projects {
            let project_id = ProjectId::new();
            let name = format!("Generated project {i} {}", rng.next_u64() % 1_000_000);
            let tags: Vec<Tag> = (0..2)
                .filter_map(|k| Tag::parse(TAGS[(i + k * 3) % TAGS.len()]).ok())
                .collect();
            let mut events = vec![
                Event::ProjectNameClaimed {
                    name_key: flow_domain::events::digest_key(&name.to_lowercase()),
                    project_id,
                },
                Event::ProjectProposed {
                    project_id,
                    project_name: name.clone(),
                    tagline: format!("the tagline of generated project number {i}"),
                    tags,
                    proposer: proposer.clone(),
                    proposer_name: None,
                },
            ];
            let mut threads = Vec::new();
            for thread_type in [
                ThreadType::Problem,
                ThreadType::Problem,
                ThreadType::Solution,
            ] {
                let thread_id = ThreadId::new();
                threads.push(thread_id);
                events.push(Event::ThreadStarted {
                    thread_id,
                    project_id,
                    parent_thread_id: None,
                    thread_type,
                    message: format!("a {} of {name}", thread_type.as_str().to_lowercase()),
                    author: proposer.clone(),
                    author_name: None,
                });
            }
            all.push(GenProject {
                project_id,
                threads,
            });
            pending.push(events);
        }
        let thread_count = projects * 3;
        Self {
            zipf: Zipf::new(thread_count, THREAD_SKEW),
            rng,
            projects: all,
            voters: (0..voters.max(1))
                .filter_map(|v| UserId::parse(&format!("bench-voter-{v}")).ok())
                .collect(),
            votes: HashMap::new(),
            pending_proposals: pending,
        }
    }

    /// The proposal events, in order, once.
    pub fn take_proposals(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.pending_proposals)
            .into_iter()
            .flatten()
            .collect()
    }

    /// The next vote: a hot thread more often than a cold one.
    pub fn next_vote(&mut self) -> Event {
        let rank = self.zipf.sample(&mut self.rng);
        let (project, thread) = (rank % self.projects.len(), rank / self.projects.len());
        // Rank 0 is the first thread of project 0, rank 1 that of project 1...:
        // the hot threads spread over projects.
        let thread = thread.min(2);
        let voter = self.rng.below(self.voters.len());
        let previous = self
            .votes
            .get(&(rank, voter))
            .copied()
            .unwrap_or(Direction::None);
        let direction = toggle(previous);
        self.votes.insert((rank, voter), direction);
        let p = &self.projects[project];
        Event::VoteCast {
            thread_id: p.threads[thread],
            project_id: p.project_id,
            voter: self.voters[voter].clone(),
            direction,
            previous,
        }
    }
}

/// The next vote that changes something: none → up → down → none.
pub fn toggle(previous: Direction) -> Direction {
    match previous {
        Direction::None => Direction::Up,
        Direction::Up => Direction::Down,
        Direction::Down => Direction::None,
    }
}

pub fn envelope(event: Event, actor: &str) -> Envelope {
    Envelope::new(event, actor, OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_prefers_low_ranks_and_stays_in_range() {
        let zipf = Zipf::new(300, THREAD_SKEW);
        let mut rng = Rng::new(7);
        let mut hits = vec![0u32; 300];
        for _ in 0..100_000 {
            hits[zipf.sample(&mut rng)] += 1;
        }
        assert!(hits[0] > hits[10] && hits[10] > hits[200]);
        assert!(hits[299] > 0);
        let top10: u32 = hits[..10].iter().sum();
        assert!((30_000..70_000).contains(&top10), "{top10}");
    }

    #[test]
    fn every_generated_vote_changes_the_voters_vote() {
        let mut generator = Generator::new(1, 10, 5);
        let proposals = generator.take_proposals();
        assert_eq!(proposals.len(), 10 * 5);
        assert!(generator.take_proposals().is_empty());
        let mut last: HashMap<(ThreadId, String), Direction> = HashMap::new();
        for _ in 0..2_000 {
            let Event::VoteCast {
                thread_id,
                voter,
                direction,
                previous,
                ..
            } = generator.next_vote()
            else {
                panic!("a vote");
            };
            assert_ne!(direction, previous);
            let key = (thread_id, voter.as_str().to_owned());
            assert_eq!(last.get(&key).copied().unwrap_or(Direction::None), previous);
            last.insert(key, direction);
        }
    }
}
