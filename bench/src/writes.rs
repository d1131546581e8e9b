//! The write phases: their ceiling (acked JetStream publishes), votes through
//! command-api at their maximum with the projector running and then paused,
//! the ceiling again; then votes at 50% and 10% of that maximum, with their
//! freshness.

use std::sync::Arc;

use async_nats::{
    HeaderMap,
    header::NATS_MESSAGE_ID,
    jetstream::{self, stream},
};
use flow_runtime::config::NatsConfig;
use serde_json::json;

use crate::{
    freshness::{self, AtRate},
    load::Summary,
    measured::Measured,
    report::Figure,
    system::{Bench, SETTLE},
    votes::VoteLoad,
    workload::{self, Generator},
};

const RAW_STREAM: &str = "BENCHRAW";

/// Runs the write phases and records their figures.
pub async fn run(m: &mut Measured, bench: &Bench, threads: &[String]) -> anyhow::Result<()> {
    let (max, votes) = at_max(m, bench, threads).await?;
    let rates = at_rates(m, bench, &votes, &max).await?;
    record(m, bench.clients, &max, &rates);
    Ok(())
}

/// Writes at their maximum (closed loops), beside the raw publish ceiling
/// measured before and after them.
struct AtMax {
    ours: Summary,
    /// With the projector paused.
    alone: Summary,
    raw_before: Summary,
    raw_after: Summary,
    /// A minimal HTTP handler publishing each request's body and awaiting the ack.
    relay: Summary,
}

/// Votes at fixed rates, below the maximum.
struct AtRates {
    /// At 50% of max.
    half: AtRate,
    /// The projector's mean batch at 50% of max: events, and ms from its
    /// first event received to its documents written.
    batch_events: f64,
    batch_ms: f64,
    /// At 10% of max.
    low: AtRate,
    /// Between the two ([`SWEEP`]): where freshness stops keeping up.
    sweep: Vec<AtRate>,
}

/// The shares of max writes between 50% and 10% at which freshness is also
/// measured, highest first.
const SWEEP: [(u32, &str); 3] = [
    (40, "freshness_p99_at_40"),
    (30, "freshness_p99_at_30"),
    (20, "freshness_p99_at_20"),
];

async fn at_max(
    m: &mut Measured,
    bench: &Bench,
    threads: &[String],
) -> anyhow::Result<(AtMax, Arc<VoteLoad>)> {
    m.phase("writes: raw JetStream");
    let raw = raw_stream(&bench.js).await?;
    let payload = sample_vote_payload(threads);
    let raw_before = raw_publish(bench, payload.clone()).await;
    say!(
        "raw JetStream: {:.0} acked publishes/s (p99 {:.2} ms)",
        raw_before.per_second,
        raw_before.p99_ms
    );
    m.phase("writes: HTTP relay");
    let relay = relay_publish(bench).await?;
    say!(
        "HTTP → JetStream relay: {:.0} requests/s (p99 {:.2} ms)",
        relay.per_second,
        relay.p99_ms
    );
    let votes = Arc::new(VoteLoad::new(&bench.system, &bench.http, threads.to_vec())?);
    m.phase("writes: votes, max");
    let ours = votes.closed_loop(bench, 0).await;
    say!(
        "votes, closed loop: {:.0}/s (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
        ours.per_second,
        ours.p50_ms,
        ours.p99_ms,
        ours.errors
    );
    // The same, with the projector stopped (SIGSTOP): the write path alone,
    // without the projector and the store taking their share of the cores.
    m.phase("writes: votes, projector paused");
    bench.system.projector.signal(libc::SIGSTOP);
    let alone = votes.closed_loop(bench, 7_777).await;
    bench.system.projector.signal(libc::SIGCONT);
    say!(
        "votes with the projector paused: {:.0}/s (p99 {:.2} ms)",
        alone.per_second,
        alone.p99_ms
    );
    m.phase("writes: raw JetStream again");
    let raw_after = raw_publish(bench, payload).await;
    say!(
        "raw JetStream: {:.0} acked publishes/s",
        raw_after.per_second
    );
    drop(raw);
    let _ = bench.js.delete_stream(RAW_STREAM).await;
    bench.settle(SETTLE).await?;
    let max = AtMax {
        ours,
        alone,
        raw_before,
        raw_after,
        relay,
    };
    Ok((max, votes))
}

async fn at_rates(
    m: &mut Measured,
    bench: &Bench,
    votes: &Arc<VoteLoad>,
    max: &AtMax,
) -> anyhow::Result<AtRates> {
    m.phase("writes at 50%");
    let rate = (max.ours.per_second * 0.5).max(1.0);
    let before = bench.status().await?;
    let mut half = freshness::votes_at(bench, votes, rate).await;
    let progress = bench.status().await?.since(&before);
    let batches = progress.batches.max(1);
    let batch_events = progress.applied as f64 / batches as f64;
    let batch_ms = progress.batch_micros as f64 / batches as f64 / 1000.0;
    let (writes, fresh) = (&half.writes, &half.fresh);
    say!(
        "votes at {rate:.0}/s: p50 {:.2} ms, p99 {:.2} ms, {} errors; freshness p50 {:.1} ms, p99 {:.1} ms over {} samples ({} not visible within the wait)",
        writes.p50_ms,
        writes.p99_ms,
        writes.errors,
        fresh.p50_ms,
        fresh.p99_ms,
        fresh.ok,
        fresh.errors,
    );
    bench.settle(SETTLE).await?;
    let mut sweep = Vec::with_capacity(SWEEP.len());
    for (share, _) in SWEEP {
        m.phase(&format!("writes at {share}%"));
        let at = (max.ours.per_second * f64::from(share) / 100.0).max(1.0);
        let point = freshness::votes_at(bench, votes, at).await;
        say!(
            "votes at {at:.0}/s: p99 {:.2} ms; freshness p50 {:.1} ms, p99 {:.1} ms over {} samples ({} not visible within the wait)",
            point.writes.p99_ms,
            point.fresh.p50_ms,
            point.fresh.p99_ms,
            point.fresh.ok,
            point.fresh.errors,
        );
        sweep.push(point);
        bench.settle(SETTLE).await?;
    }
    m.phase("writes at 10%");
    let low_rate = (max.ours.per_second * 0.1).max(1.0);
    let low = freshness::votes_at(bench, votes, low_rate).await;
    say!(
        "votes at {low_rate:.0}/s: p99 {:.2} ms; freshness p50 {:.1} ms, p99 {:.1} ms over {} samples",
        low.writes.p99_ms,
        low.fresh.p50_ms,
        low.fresh.p99_ms,
        low.fresh.ok,
    );
    m.freshness_points = std::mem::take(&mut half.points);
    bench.settle(SETTLE).await?;
    Ok(AtRates {
        half,
        batch_events,
        batch_ms,
        low,
        sweep,
    })
}

fn record(m: &mut Measured, clients: usize, max: &AtMax, rates: &AtRates) {
    m.figures.extend(max_figures(clients, max));
    m.figures.extend(rate_figures(rates));
    m.figures.extend(sweep_figures(rates));
    let (half, low) = (&rates.half, &rates.low);
    let (rate, low_rate) = (half.rate, low.rate);
    m.curve(
        format!("votes via command-api at {rate:.0}/s (open loop)"),
        &half.writes,
    );
    m.curve(
        format!("raw JetStream publish+ack, {clients} clients (closed loop, max)"),
        &max.raw_before,
    );
    m.curve(
        format!("freshness at {rate:.0} votes/s: accepted → visible to a read"),
        &half.fresh,
    );
    m.curve(
        format!("freshness at {low_rate:.0} votes/s (10% of max)"),
        &low.fresh,
    );
    m.details.insert(
        "writes".into(),
        json!({"ours_closed_loop": max.ours, "ours_projector_paused": max.alone, "ours_half_open_loop": half.writes, "half_rate": rate, "raw_before": max.raw_before, "raw_after": max.raw_after, "relay": max.relay, "freshness": half.fresh,
               "ours_low_open_loop": low.writes, "low_rate": low_rate, "freshness_low": low.fresh,
               "sweep": rates.sweep.iter().zip(SWEEP).map(|(at, (share, _))| json!({"share_of_max": share, "rate": at.rate, "writes": at.writes, "freshness": at.fresh})).collect::<Vec<_>>()}),
    );
}

/// Writes at their maximum, beside acked JetStream publishes and beside the
/// HTTP relay (the bound of any HTTP front of JetStream).
fn max_figures(clients: usize, max: &AtMax) -> [Figure; 4] {
    let ceiling = format!("acked JetStream publishes/s, {clients} clients");
    let samples = [max.raw_before.per_second, max.raw_after.per_second];
    let relay = format!(
        "a minimal HTTP handler publishing the body and awaiting the ack, requests/s, {clients} clients"
    );
    [
        Figure::new(
            "writes_per_second",
            format!(
                "writes: validated votes/s through command-api ({clients} clients, closed loop)"
            ),
            "/s",
            max.ours.per_second,
        )
        .against(&ceiling, &samples)
        .note("no target against raw publishes: HTTP on both ends costs more than the publish; the relay below is the bound"),
        Figure::new(
            "writes_vs_relay",
            "writes: votes/s through command-api beside the HTTP relay, projector running",
            "/s",
            max.ours.per_second,
        )
        .against(&relay, &[max.relay.per_second])
        .ratio_at_least(0.5)
        .note("HTTP → JWT → decide → publish with the expected subject sequence → ack; the projector applies them meanwhile"),
        Figure::new(
            "writes_per_second_alone",
            "writes: votes/s with the projector paused (the write path alone)",
            "/s",
            max.alone.per_second,
        )
        .against(&ceiling, &samples)
        .note("no target against raw publishes: what the projector and the store take from the write path on 2 shared cores"),
        Figure::new(
            "writes_alone_vs_relay",
            "writes: votes/s with the projector paused beside the HTTP relay",
            "/s",
            max.alone.per_second,
        )
        .against(&relay, &[max.relay.per_second])
        .ratio_at_least(0.7),
    ]
}

/// Latency and freshness at 50% and 10% of the maximum.
fn rate_figures(rates: &AtRates) -> [Figure; 5] {
    let (half, low) = (&rates.half, &rates.low);
    let (rate, low_rate) = (half.rate, low.rate);
    let (batch_events, batch_ms) = (rates.batch_events, rates.batch_ms);
    [
        Figure::new(
            "writes_p50",
            format!("writes: p50 latency at 50% of max ({rate:.0} votes/s, open loop)"),
            "ms",
            half.writes.p50_ms,
        )
        .note(format!("{} ok, {} failed", half.writes.ok, half.writes.errors)),
        Figure::new(
            "writes_p99",
            format!("writes: p99 latency at 50% of max ({rate:.0} votes/s, open loop)"),
            "ms",
            half.writes.p99_ms,
        ),
        Figure::new(
            "freshness_p50",
            "freshness: write accepted → visible to a read, p50, at 50% of max writes",
            "ms",
            half.fresh.p50_ms,
        )
        .note(format!(
            "{} writes followed (1 in {}); {} not visible within the 2 s wait; \
             the projector's batches: {batch_events:.0} events, {batch_ms:.1} ms from the first event received to the documents written",
            half.fresh.ok, half.every, half.fresh.errors
        )),
        Figure::new(
            "freshness_p99",
            "freshness: write accepted → visible to a read, p99, at 50% of max writes",
            "ms",
            half.fresh.p99_ms,
        )
        .at_most(50.0),
        Figure::new(
            "freshness_p99_low",
            format!("freshness: p99 at 10% of max writes ({low_rate:.0} votes/s)"),
            "ms",
            low.fresh.p99_ms,
        )
        .note(format!(
            "no target: the floor when the projector keeps up; p50 {:.1} ms; writes p99 {:.1} ms; 1 write in {} followed",
            low.fresh.p50_ms, low.writes.p99_ms, low.every
        )),
    ]
}

/// Freshness p99 between 50% and 10% of max: the rate up to which the
/// projector keeps up, and the floor below it.
fn sweep_figures(rates: &AtRates) -> Vec<Figure> {
    SWEEP
        .iter()
        .zip(&rates.sweep)
        .map(|((share, id), at)| {
            Figure::new(
                id,
                format!(
                    "freshness: p99 at {share}% of max writes ({:.0} votes/s)",
                    at.rate
                ),
                "ms",
                at.fresh.p99_ms,
            )
            .note(format!(
                "no target: where the projector stops keeping up; p50 {:.1} ms; writes p99 {:.1} ms; {} not visible within the 2 s wait",
                at.fresh.p50_ms, at.writes.p99_ms, at.fresh.errors
            ))
        })
        .collect()
}

/// The bench's clients posting a vote's body to the relay, which publishes it
/// to the raw stream and answers once it is acknowledged.
async fn relay_publish(bench: &Bench) -> anyhow::Result<Summary> {
    let (relay, base) = crate::ceiling::start(
        "relay",
        &bench.system.nats_url,
        &bench.system.logs,
        &bench.http,
    )
    .await?;
    let http = bench.http.clone();
    let summary = bench
        .closed_loop(move |client, _| {
            let (http, url) = (http.clone(), format!("{base}/relay/{client}"));
            async move {
                let sent = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(r#"{"direction":"up"}"#)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await;
    drop(relay);
    Ok(summary)
}

/// A separate stream configured like ours, for the raw publish ceiling.
async fn raw_stream(js: &jetstream::Context) -> anyhow::Result<stream::Stream> {
    let mut config =
        flow_runtime::nats::stream_config(&NatsConfig::local("", RAW_STREAM, "benchraw"));
    config.subjects = vec!["benchraw.>".into()];
    Ok(js.create_stream(config).await?)
}

/// A vote envelope as command-api writes it: the payload of the raw ceiling.
fn sample_vote_payload(threads: &[String]) -> bytes::Bytes {
    let mut generator = Generator::new(3, 1, 1);
    let _ = generator.take_proposals();
    let mut envelope = workload::envelope(generator.next_vote(), "bench-user-1");
    if let (flow_domain::events::Event::VoteCast { thread_id, .. }, Some(t)) =
        (&mut envelope.event, threads.first())
        && let Ok(id) = flow_domain::ThreadId::parse(t)
    {
        *thread_id = id;
    }
    envelope.to_json().into()
}

/// The bench's clients publishing to JetStream back to back, each awaiting
/// its ack, with a message id, on one connection (as command-api does).
async fn raw_publish(bench: &Bench, payload: bytes::Bytes) -> Summary {
    let js = bench.js.clone();
    bench
        .closed_loop(move |client, _| {
            let (js, payload) = (js.clone(), payload.clone());
            async move {
                let mut headers = HeaderMap::new();
                headers.insert(NATS_MESSAGE_ID, uuid::Uuid::new_v4().to_string().as_str());
                match js
                    .publish_with_headers(format!("benchraw.vote.{client}"), headers, payload)
                    .await
                {
                    Ok(ack) => ack.await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await
}
