//! Votes as the vote subjects grow: `VoteCast` events of distinct (thread,
//! voter) pairs published straight into the stream until it holds each
//! step's number of subjects, then votes through command-api at their
//! maximum (the closed loop of the write phases).
//!
//! The projector is paused (`SIGSTOP`) once the threads are projected, for
//! the whole part: it would otherwise have to apply a million votes between
//! the steps, and would share the cores with the votes measured. The votes
//! through command-api do not wait for it.

use std::{sync::Arc, time::Instant};

use flow_domain::{Direction, ProjectId, ThreadId, UserId, events::Event};
use serde::Serialize;

use crate::{
    cli::Options,
    hidden,
    load::Summary,
    setup::Setup,
    system::{Bench, SETTLE, System},
    votes::VoteLoad,
    workload::Generator,
};

/// The projects whose threads are voted on, with the write phases' seed size.
const PROJECTS: usize = crate::seed::SEED_PROJECTS;

/// One step: the stream before and after the votes measured.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The distinct subjects the step filled the stream to.
    pub target_subjects: u64,
    /// Votes published straight into the stream for this step.
    pub published: u64,
    pub publish_seconds: f64,
    /// The stream's `num_subjects` and messages when the votes started, and after.
    pub subjects_before: u64,
    pub subjects_after: u64,
    pub messages_before: u64,
    /// Votes through command-api.
    pub votes: Summary,
    /// Resident memory (MiB) of nats-server and command-api after the votes.
    pub nats_rss_mib: f64,
    pub command_api_rss_mib: f64,
}

/// Fills the stream step by step and measures votes at each step.
pub async fn run(
    options: &Options,
    setup: &Setup,
    http: &reqwest::Client,
    targets: &[u64],
) -> anyhow::Result<Vec<Step>> {
    let system = System::start(setup, http).await?;
    let bench = Bench::connect(system, http, options).await?;
    say!("== vote subjects: {PROJECTS} projects with three threads each");
    let mut generator = Generator::new(11, PROJECTS, 1);
    hidden::publish(&bench, generator.take_proposals()).await?;
    bench.settle(SETTLE).await?;
    let threads: Vec<(ProjectId, ThreadId)> = generator
        .projects
        .iter()
        .flat_map(|p| p.threads.iter().map(|t| (p.project_id, *t)))
        .collect();
    let ids = threads.iter().map(|(_, t)| t.to_string()).collect();
    let load = Arc::new(VoteLoad::new(&bench.system, &bench.http, ids)?);
    say!("the projector is paused (SIGSTOP) for the rest of this part");
    bench.system.projector.signal(libc::SIGSTOP);
    let steps = steps(&bench, &load, &threads, targets).await;
    bench.system.projector.signal(libc::SIGCONT);
    steps
}

async fn steps(
    bench: &Bench,
    load: &Arc<VoteLoad>,
    threads: &[(ProjectId, ThreadId)],
    targets: &[u64],
) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut voter = 0u64;
    for (n, &target) in targets.iter().enumerate() {
        say!("== votes with {target} distinct subjects in the stream");
        let (now, _) = stream_state(bench).await?;
        let published = target.saturating_sub(now);
        let started = Instant::now();
        publish_votes(bench, threads, voter, published).await?;
        let publish_seconds = started.elapsed().as_secs_f64();
        voter += published;
        let (subjects_before, messages_before) = stream_state(bench).await?;
        say!(
            "{published} votes published in {publish_seconds:.0} s; the stream holds {subjects_before} subjects, {messages_before} messages"
        );
        let votes = load.closed_loop(bench, 50_000 * (n as u64 + 1)).await;
        let (subjects_after, _) = stream_state(bench).await?;
        let mib =
            |p: &crate::procs::Proc| p.memory_kib().map_or(0.0, |(_, now)| now as f64 / 1024.0);
        let step = Step {
            target_subjects: target,
            published,
            publish_seconds,
            subjects_before,
            subjects_after,
            messages_before,
            votes,
            nats_rss_mib: mib(&bench.system.nats),
            command_api_rss_mib: mib(&bench.system.command),
        };
        say!(
            "votes with {} subjects: {:.0}/s (p50 {:.2} ms, p99 {:.2} ms, {} errors); {} subjects after",
            step.subjects_before,
            step.votes.per_second,
            step.votes.p50_ms,
            step.votes.p99_ms,
            step.votes.errors,
            step.subjects_after
        );
        steps.push(step);
    }
    Ok(steps)
}

/// The stream's distinct subjects (`num_subjects`) and messages now.
async fn stream_state(bench: &Bench) -> anyhow::Result<(u64, u64)> {
    let mut stream = bench.stream.clone();
    let state = &stream.info().await?.state;
    Ok((state.subjects_count, state.messages))
}

/// `count` first votes (`up`, none before) of voters `growth-voter-<from>`
/// onwards, round the threads: each one a subject of its own.
async fn publish_votes(
    bench: &Bench,
    threads: &[(ProjectId, ThreadId)],
    from: u64,
    count: u64,
) -> anyhow::Result<()> {
    const CHUNK: u64 = 10_000;
    let mut i = from;
    let end = from + count;
    while i < end {
        let chunk_end = end.min(i + CHUNK);
        let events = (i..chunk_end)
            .filter_map(|v| {
                let (project_id, thread_id) = threads[(v % threads.len() as u64) as usize];
                let voter = UserId::parse(&format!("growth-voter-{v}")).ok()?;
                Some(Event::VoteCast {
                    thread_id,
                    project_id,
                    voter,
                    direction: Direction::Up,
                    previous: Direction::None,
                })
            })
            .collect();
        hidden::publish(bench, events).await?;
        i = chunk_end;
    }
    Ok(())
}
