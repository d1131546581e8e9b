//! The projection phase: a large backlog of generated events published
//! straight into JetStream, applied live by the projector, beside the store's
//! ceiling measured before and after.

use std::time::{Duration, Instant};

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID, jetstream};
use flow_domain::events::Subjects;
use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::json;

use crate::{
    measured::Measured,
    proxy::Updates,
    report::Figure,
    store::{self, Shape},
    system::Bench,
    workload::{self, Generator},
};

/// Runs the projection phase and records its figures: the store's ceiling
/// measured last, for the rebuild's.
pub async fn run(m: &mut Measured, bench: &Bench, events: u64) -> anyhow::Result<f64> {
    m.phase("projection");
    let store_1 = store::ceiling(bench).await?;
    let drain = drain(bench, events).await?;
    let store_2 = store::ceiling(bench).await?;
    let guarded = store::bulk(&bench.store, bench.phase, Shape::Guarded).await?;
    say!("the projector's statement shape, in bulk: {guarded:.0}/s");
    record(m, &drain, [store_1, store_2], guarded);
    Ok(store_2)
}

/// What publishing the backlog and applying it measured.
struct Drain {
    projects: usize,
    published: u64,
    publish_secs: f64,
    /// From the end of the publishing to everything applied.
    drain_secs: f64,
    drained: u64,
    /// Events per second applied while draining (or over the whole phase,
    /// when the drain was too short to measure).
    live_rate: f64,
    /// Events per second over the publishing and the drain.
    whole: f64,
    /// Statements per applied event, as the projector's `/status` counts them.
    wpe_status: f64,
    /// Statements per event, counted on the wire.
    wpe_wire: f64,
    mean_batch: f64,
    /// Counted on the wire: during the whole phase, and while publishing.
    wire: Updates,
    wire_publishing: Updates,
    /// Statements per second sent to the store while draining.
    drain_statements: f64,
}

/// Publishes `events` generated events and waits until they are applied.
async fn drain(bench: &Bench, events: u64) -> anyhow::Result<Drain> {
    let projects = (events / 1_000).clamp(50, 2_000) as usize;
    let mut generator = Generator::new(0x5eed_f10e, projects, 5_000);
    let before = bench.status().await?;
    let wire_before = bench.system.wire.snapshot();
    let t0 = Instant::now();
    let published = generate(&bench.js, &bench.subjects, &mut generator, events).await?;
    let t1 = Instant::now();
    let at_publish_end = bench.status().await?;
    let wire_mid = bench.system.wire.snapshot();
    say!(
        "published {} events in {:.1} s ({:.0}/s)",
        published,
        (t1 - t0).as_secs_f64(),
        published as f64 / (t1 - t0).as_secs_f64()
    );
    let bound = Duration::from_secs(600 + events / 200);
    let done = bench.settle(bound).await?;
    let t2 = Instant::now();
    let wire_after = bench.system.wire.snapshot();
    let drain_secs = (t2 - t1).as_secs_f64();
    let drained = done.since(&at_publish_end).position;
    let progress = done.since(&before);
    let whole = progress.position as f64 / (t2 - t0).as_secs_f64();
    let live_rate = if drain_secs >= 1.0 && drained > 0 {
        drained as f64 / drain_secs
    } else {
        whole
    };
    let applied = progress.applied.max(1);
    let wpe_status = progress.writes as f64 / applied as f64;
    let mean_batch = applied as f64 / progress.batches.max(1) as f64;
    let wire = wire_after.since(&wire_before);
    let wpe_wire = wire.statements as f64 / progress.position.max(1) as f64;
    say!(
        "live projection: {live_rate:.0} events/s while draining ({whole:.0}/s overall), {wpe_status:.3} writes/event (status), {wpe_wire:.3} statements/event (wire)"
    );
    Ok(Drain {
        projects,
        published,
        publish_secs: (t1 - t0).as_secs_f64(),
        drain_secs,
        drained,
        live_rate,
        whole,
        wpe_status,
        wpe_wire,
        mean_batch,
        wire,
        wire_publishing: wire_mid.since(&wire_before),
        drain_statements: wire_after.since(&wire_mid).statements as f64 / drain_secs.max(0.001),
    })
}

fn record(m: &mut Measured, d: &Drain, store: [f64; 2], guarded: f64) {
    let (drained, drain_secs, whole) = (d.drained, d.drain_secs, d.whole);
    m.figures.push(
        Figure::new("projection_events_per_second", "projection: events/s applied live (draining a backlog)", "/s", d.live_rate)
            .against("bulk upserts/s into the same server (batches of 500)", &store)
            .ratio_at_least(0.8)
            .note(format!("{drained} events applied in {drain_secs:.1} s after the publisher finished; {whole:.0}/s including the publishing")),
    );
    m.figures.push(
        Figure::new("projection_statements_per_second", "projection: update statements/s sent to the store while draining", "/s", d.drain_statements)
            .against("bulk upserts/s into the same server", &store)
            .note(format!("no target: how busy the projector keeps the store; the projector's own statement shape (seq guard, three $set) in bulk: {guarded:.0}/s")),
    );
    m.figures.push(
        Figure::new("projection_writes_per_event", "projection: writes per event under load (≈99% votes)", "writes", d.wpe_status)
            .at_most(0.2)
            .note(format!("/status statements per applied event, in batches of {:.0} events on average; on the wire, with position and intent writes: {:.3}", d.mean_batch, d.wpe_wire)),
    );
    m.details.insert(
        "projection".into(),
        json!({
            "projects": d.projects, "published": d.published, "publish_seconds": d.publish_secs,
            "drain_seconds": drain_secs, "drained_events": drained, "live_events_per_second": d.live_rate,
            "overall_events_per_second": whole, "writes_per_event_status": d.wpe_status,
            "statements_per_event_wire": d.wpe_wire, "update_commands_wire": d.wire.commands,
            "wire_statements_during_publishing": d.wire_publishing.statements,
            "store_ceiling_samples": store,
            "guarded_shape_statements_per_second": guarded,
            "mean_batch_events": d.mean_batch,
            "statements_per_second_while_draining": d.drain_statements,
        }),
    );
}

/// Publishes the proposals and then votes until `total` events, many in flight.
async fn generate(
    js: &jetstream::Context,
    subjects: &Subjects,
    generator: &mut Generator,
    total: u64,
) -> anyhow::Result<u64> {
    const WINDOW: usize = 2_048;
    let mut in_flight = FuturesUnordered::new();
    let mut published = 0u64;
    let proposals = generator.take_proposals();
    let mut proposals = proposals.into_iter();
    let mut progress = Instant::now();
    while published < total {
        let event = proposals.next().unwrap_or_else(|| generator.next_vote());
        let actor = match &event {
            flow_domain::events::Event::VoteCast { voter, .. } => voter.as_str().to_owned(),
            _ => "bench-proposer".to_owned(),
        };
        let envelope = workload::envelope(event, &actor);
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, envelope.id.to_string().as_str());
        headers.insert("Flow-Event-Type", envelope.event.name());
        let ack = js
            .publish_with_headers(
                envelope.event.subject(subjects),
                headers,
                envelope.to_json().into(),
            )
            .await?;
        in_flight.push(ack.into_future());
        published += 1;
        while in_flight.len() >= WINDOW {
            if let Some(ack) = in_flight.next().await {
                ack?;
            }
        }
        if progress.elapsed() > Duration::from_secs(5) {
            say!("published {published} of {total}");
            progress = Instant::now();
        }
    }
    while let Some(ack) = in_flight.next().await {
        ack?;
    }
    Ok(published)
}
