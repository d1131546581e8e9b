//! Re-applying parked events on request (`projector retry <seq>`, handled
//! by the live loop between batches): the event and, in order, those parked
//! behind it are read again from the stream, planned, written without their
//! guards, and unparked.

use std::sync::atomic::Ordering;

use anyhow::Context as _;
use async_nats::jetstream;

use crate::{
    parking, plan::decode, projection::writes, sink::Projection, status::Status, store,
    write::Write,
};

/// Re-applies parked event `seq` and, in order, those parked behind it.
pub async fn retry(
    projection: &mut Projection,
    stream: &jetstream::stream::Stream,
    status: &Status,
    seq: u64,
) -> anyhow::Result<String> {
    if let Some(fence) = &projection.fence {
        fence.valid_epoch()?;
    }
    let model = &projection.model;
    let parked = parking::list(model).await?;
    let root = parked
        .iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| anyhow::anyhow!("event {seq} is not parked"))?;
    if let Some(behind) = root.behind {
        anyhow::bail!("event {seq} waits behind parked event {behind}: retry {behind} first");
    }
    let chain: Vec<u64> = parked
        .iter()
        .filter(|p| p.seq == seq || p.behind == Some(seq))
        .map(|p| p.seq)
        .collect();
    let mut applied = Vec::new();
    for event_seq in chain {
        let message = stream
            .direct_get(event_seq)
            .await
            .with_context(|| format!("cannot read event {event_seq}"))?;
        let envelope = decode(&message.payload, projection.settings.max_schema_version)
            .map_err(|e| anyhow::anyhow!("event {event_seq} still cannot be applied: {e}"))?;
        let uncounted = &mut projection.uncounted;
        let event_writes: Vec<Write> = writes(event_seq as i64, &envelope, uncounted)
            .into_iter()
            .map(parking::unguarded)
            .collect();
        store::write_statements(model, &event_writes, crate::settings::LIVE_COMMAND).await?;
        parking::unpark(model, event_seq).await?;
        applied.push(event_seq);
    }
    projection.blocked = parking::load_blocked(model).await?;
    status
        .parked
        .store(parking::list(model).await?.len() as u64, Ordering::Relaxed);
    tracing::info!(?applied, "parked events applied");
    Ok(format!("applied {applied:?}"))
}
