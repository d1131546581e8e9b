//! The store's ceiling: how many statements a second the MongoDB-compatible
//! server takes in bulk, measured beside the projection and the rebuild.

use std::time::{Duration, Instant};

use anyhow::bail;
use flow_readmodel::ReadModel;
use mongodb::bson::doc;

use crate::system::Bench;

/// The statements of a store ceiling.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// `{_id}` upserts with `$inc` and `$set: {seq}`: the raw ceiling.
    Upsert,
    /// The projector's shape: `{_id, seq: {$lt}}` guard, `$inc` and three
    /// `$set`s, no upsert. Not a ceiling: shows what the guard costs the store.
    Guarded,
}

/// The store's ceiling now: bulk upserts per second for a timed phase.
pub async fn ceiling(bench: &Bench) -> anyhow::Result<f64> {
    let rate = bulk(&bench.store, bench.phase, Shape::Upsert).await?;
    say!("store ceiling: {rate:.0} bulk upserts/s");
    Ok(rate)
}

/// One writer sending ordered `update` commands of 500 statements of `shape`,
/// as the projector does, for `duration`: statements per second.
pub async fn bulk(model: &ReadModel, duration: Duration, shape: Shape) -> anyhow::Result<f64> {
    const BATCH: u64 = 500;
    const KEYS: u64 = 5_000;
    let collection = "bench_bulk_ceiling";
    let mut n = 0u64;
    let batch = |n: &mut u64, shape: Shape| {
        let statements: Vec<mongodb::bson::Document> = (0..BATCH)
            .map(|j| {
                *n += 1;
                let key = format!("k{}", (*n * 7_919 + j) % KEYS);
                let seq = *n as i64;
                match shape {
                    Shape::Upsert => doc! {"q": {"_id": key}, "u": {"$inc": {"count": 1_i64}, "$set": {"seq": seq}}, "upsert": true},
                    Shape::Guarded => doc! {
                        "q": {"_id": key, "seq": {"$lt": seq}},
                        "u": {"$inc": {"count": 1_i64}, "$set": {"last_activity_seq": seq, "last_activity_at": "2026-01-01T00:00:00Z", "seq": seq}},
                        "upsert": false,
                    },
                }
            })
            .collect();
        doc! {"update": collection, "updates": statements, "ordered": true}
    };
    // Warm up: the first pass inserts the documents.
    for _ in 0..(KEYS / BATCH) {
        model.db.run_command(batch(&mut n, Shape::Upsert)).await?;
    }
    let start = Instant::now();
    let mut statements = 0u64;
    while start.elapsed() < duration {
        let reply = model.db.run_command(batch(&mut n, shape)).await?;
        if reply.get_array("writeErrors").is_ok_and(|e| !e.is_empty()) {
            bail!("the store refused a bulk write: {reply:?}");
        }
        statements += BATCH;
    }
    let rate = statements as f64 / start.elapsed().as_secs_f64();
    model
        .db
        .collection::<mongodb::bson::Document>(collection)
        .drop()
        .await?;
    Ok(rate)
}
