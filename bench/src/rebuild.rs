//! The rebuild phase: `projector rebuild` of the whole stream into a new
//! generation, beside reading the whole stream and the store's ceiling.

use std::time::{Duration, Instant};

use anyhow::bail;
use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use serde_json::json;

use crate::{measured::Measured, report::Figure, store, system::Bench, system::PREFIX};

/// Runs the rebuild phase and records its figures; `store_before` is the
/// store's ceiling measured last. Returns when the new generation was
/// switched to.
pub async fn run(m: &mut Measured, bench: &Bench, store_before: f64) -> anyhow::Result<Instant> {
    m.phase("rebuild");
    let read_ceiling = read_stream(&bench.stream).await?;
    say!("ordered consumer: {read_ceiling:.0} events/s reading the whole stream");
    let wire_before = bench.system.wire.snapshot();
    let answer = projector::control::request(
        &bench.nats,
        &bench.subjects,
        &projector::control::Request::Rebuild,
        Duration::from_secs(3_600),
    )
    .await?;
    let wire = bench.system.wire.snapshot().since(&wire_before);
    if let Some(error) = &answer.error {
        bail!("the rebuild failed: {error}");
    }
    let switched_at = Instant::now();
    let rebuild_secs = answer.seconds.unwrap_or(0.0);
    let rebuild_events = answer.position.unwrap_or(0);
    let rebuild_rate = if rebuild_secs > 0.0 {
        rebuild_events as f64 / rebuild_secs
    } else {
        0.0
    };
    let statements = wire.statements;
    let rebuild_wpe = statements as f64 / rebuild_events.max(1) as f64;
    say!(
        "rebuild: {rebuild_events} events in {rebuild_secs:.1} s = {rebuild_rate:.0}/s, {rebuild_wpe:.4} statements/event"
    );
    let store_after = store::ceiling(bench).await?;
    let store = [store_before, store_after];
    m.figures.push(
        Figure::new(
            "rebuild_events_per_second",
            format!("rebuild: events/s for {rebuild_events} events (`projector rebuild`)"),
            "/s",
            rebuild_rate,
        )
        .against("bulk upserts/s into the same server", &store)
        .ratio_at_least(0.8)
        .note(format!("{rebuild_secs:.1} s in all")),
    );
    m.figures.push(
        Figure::new(
            "rebuild_vs_stream_read",
            "rebuild: events/s beside reading the whole stream",
            "/s",
            rebuild_rate,
        )
        .against("ordered consumer, events/s", &[read_ceiling])
        .note("no target: shows whether the stream or the store bounds the rebuild"),
    );
    m.figures.push(
        Figure::new(
            "rebuild_writes_per_event",
            "rebuild: writes per event (update statements counted on the wire)",
            "writes",
            rebuild_wpe,
        )
        .at_most(0.05)
        .note(format!(
            "{statements} statements in {} update commands",
            wire.commands
        )),
    );
    m.details.insert(
        "rebuild".into(),
        json!({"answer": answer, "events_per_second": rebuild_rate, "statements": statements, "writes_per_event": rebuild_wpe,
               "stream_read_events_per_second": read_ceiling, "store_ceiling_samples": store}),
    );
    Ok(switched_at)
}

/// Reads the whole stream with an ordered consumer: events per second.
async fn read_stream(stream: &jetstream::stream::Stream) -> anyhow::Result<f64> {
    let mut stream = stream.clone();
    let total = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: format!("{PREFIX}.evt.>"),
            ..Default::default()
        })
        .await?;
    let start = Instant::now();
    let mut messages = consumer.messages().await?;
    let mut read = 0u64;
    while read < total {
        match tokio::time::timeout(Duration::from_secs(30), messages.next()).await {
            Ok(Some(Ok(_))) => read += 1,
            Ok(Some(Err(err))) => bail!("reading the stream: {err}"),
            Ok(None) | Err(_) => bail!("the stream stopped delivering after {read} of {total}"),
        }
    }
    Ok(read as f64 / start.elapsed().as_secs_f64())
}
