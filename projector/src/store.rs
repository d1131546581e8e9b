//! The MongoDB commands a batch is sent as: per collection, ordered
//! multi-statement `update` commands built as raw BSON from the statements,
//! a guarded upsert refused as a duplicate key taken as done, projects'
//! scores computed again after the other statements, the parked events and
//! the position; and which failures are worth a retry (see [`WriteFailure`]).
//! The order a crash relies on is [`crate::sink`]'s.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use flow_domain::ModerationStatus;
use flow_readmodel::{PARKED, PROJECTS, ReadModel, THREADS, field};
use mongodb::bson::{Bson, Document, RawArrayBuf, RawDocumentBuf, doc};

use crate::{
    fence::{self, Deposed, Fence, GuardError},
    parking::ParkedEvent,
    write::{RESCORE, Write},
};

/// Why a batch could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    /// MongoDB could not be reached: retry, never park.
    #[error("MongoDB is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// MongoDB refused a statement: after some attempts, find and park it.
    #[error("MongoDB refused a write: {0:#}")]
    Rejected(anyhow::Error),
    /// Another instance took over: write nothing more, stand by.
    #[error(transparent)]
    Deposed(#[from] Deposed),
}

impl From<GuardError> for WriteFailure {
    fn from(err: GuardError) -> Self {
        match err {
            GuardError::Deposed(deposed) => Self::Deposed(deposed),
            GuardError::Store(err) => classify(err, "the position document"),
        }
    }
}

/// The store guard of a batch: the instance's fence and the position the
/// batch starts from (see [`crate::fence`]).
#[derive(Clone, Copy)]
pub struct Guard<'a> {
    pub fence: &'a Fence,
    pub from: u64,
}

fn classify(err: mongodb::error::Error, what: &str) -> WriteFailure {
    use mongodb::error::ErrorKind;
    let rejected = matches!(
        *err.kind,
        ErrorKind::Command(_) | ErrorKind::Write(_) | ErrorKind::InvalidArgument { .. }
    );
    let err = anyhow::Error::from(err).context(what.to_owned());
    if rejected {
        WriteFailure::Rejected(err)
    } else {
        WriteFailure::Unavailable(err)
    }
}

/// Per collection, ordered multi-statement `update` commands of at most
/// `per_command` statements. Each command is built as raw BSON straight from
/// the writes: a large fold is not copied into document trees on its way out.
pub async fn write_statements(
    model: &ReadModel,
    writes: &[Write],
    per_command: usize,
) -> Result<(), WriteFailure> {
    write_documents(model, writes, per_command, None).await
}

/// [`write_statements`], with the store guard checked again before the
/// scores are computed again: that `$set` is absolute, not guarded by a
/// document's `seq`, so a deposed writer must not send it after the new
/// holder has started writing.
pub(crate) async fn write_documents(
    model: &ReadModel,
    writes: &[Write],
    per_command: usize,
    guard: Option<Guard<'_>>,
) -> Result<(), WriteFailure> {
    let mut by_collection: BTreeMap<&'static str, Vec<&Write>> = BTreeMap::new();
    let mut rescore = BTreeSet::new();
    for write in writes {
        if write.collection == RESCORE {
            if let Ok(project_id) = write.filter.get_str(field::ID) {
                rescore.insert(project_id.to_owned());
            }
            continue;
        }
        by_collection
            .entry(write.collection)
            .or_default()
            .push(write);
    }
    // Documents of different collections never depend on each other: their
    // commands go out at once, each collection's in order.
    let per_collection = by_collection.into_iter().map(|(base, writes)| async move {
        let collection = model.collection(base);
        let writes = last_of_each(writes);
        for chunk in writes.chunks(per_command.max(1)) {
            write_chunk(model, &collection, chunk).await?;
        }
        Ok::<_, WriteFailure>(())
    });
    futures::future::try_join_all(per_collection).await?;
    if let (Some(guard), false) = (guard, rescore.is_empty()) {
        fence::claim(model, guard.fence.valid_epoch()?).await?;
    }
    rescore_projects(model, &rescore).await
}

/// A collection's statements, with only the last of each document where all
/// of them are [`Write::is_absolute`]: the earlier ones change nothing the
/// last does not (a batch not merged, as after a restart, holds every vote of
/// a user on a thread), and documents written once each go in unordered
/// commands.
fn last_of_each(writes: Vec<&Write>) -> Vec<&Write> {
    if !writes.iter().all(|w| w.is_absolute()) {
        return writes;
    }
    let id = |w: &Write| w.filter.get(field::ID).map(Bson::to_string);
    let last: HashMap<Option<String>, usize> =
        writes.iter().enumerate().map(|(i, w)| (id(w), i)).collect();
    writes
        .into_iter()
        .enumerate()
        .filter(|(i, w)| last.get(&id(w)) == Some(i))
        .map(|(_, w)| w)
        .collect()
}

/// One `update` command of `chunk`'s statements, in order. A guarded upsert
/// refused as a duplicate key found a newer document: done. In an ordered
/// command the statements after it did not run and are sent again; a chunk
/// of guarded upserts of distinct documents goes unordered instead, in one
/// round trip however many of them a replay finds done.
async fn write_chunk(
    model: &ReadModel,
    collection: &str,
    mut chunk: &[&Write],
) -> Result<(), WriteFailure> {
    while !chunk.is_empty() {
        let mut ids = HashSet::with_capacity(chunk.len());
        let unordered = chunk.iter().all(|w| {
            w.is_guarded_upsert() && ids.insert(w.filter.get(field::ID).map(Bson::to_string))
        });
        let mut updates = RawArrayBuf::new();
        for write in chunk {
            let statement = write.raw_statement().map_err(|e| {
                WriteFailure::Rejected(anyhow::anyhow!("a statement for {collection}: {e}"))
            })?;
            updates.push(statement);
        }
        let mut command = RawDocumentBuf::new();
        command.append("update", collection);
        command.append("updates", updates);
        command.append("ordered", !unordered);
        let reply = model
            .db
            .run_raw_command(command)
            .await
            .map_err(|e| classify(e, &format!("update of {collection}")))?;
        let mut resume = chunk.len();
        if let Ok(errors) = reply.get_array("writeErrors") {
            for error in errors {
                let error = error.as_document();
                let number = |key: &str| match error.and_then(|e| e.get(key)) {
                    Some(Bson::Int32(n)) => Some(i64::from(*n)),
                    Some(Bson::Int64(n)) => Some(*n),
                    _ => None,
                };
                let index = number("index").and_then(|i| usize::try_from(i).ok());
                let done = number("code") == Some(DUPLICATE_KEY)
                    && index
                        .and_then(|i| chunk.get(i))
                        .is_some_and(|w| w.is_guarded_upsert());
                if !done {
                    return Err(WriteFailure::Rejected(anyhow::anyhow!(
                        "update of {collection} refused: {error:?}"
                    )));
                }
                if !unordered && let Some(i) = index {
                    resume = i + 1;
                }
            }
        }
        chunk = &chunk[resume.min(chunk.len())..];
    }
    Ok(())
}

/// MongoDB's error code for a duplicate key.
const DUPLICATE_KEY: i64 = 11000;

/// Sets each project's score to the sum of its counted threads' scores, as
/// their documents hold them now (after the batch's other statements).
async fn rescore_projects(
    model: &ReadModel,
    projects: &BTreeSet<String>,
) -> Result<(), WriteFailure> {
    if projects.is_empty() {
        return Ok(());
    }
    let ids: Vec<&String> = projects.iter().collect();
    let counted = [
        ModerationStatus::Pending.as_str(),
        ModerationStatus::Approved.as_str(),
    ];
    let pipeline = [
        doc! {"$match": {field::PROJECT_ID: {"$in": &ids}, field::STATUS: {"$in": counted.as_slice()}}},
        doc! {"$group": {"_id": format!("${}", field::PROJECT_ID), field::SCORE: {"$sum": format!("${}", field::SCORE)}}},
    ];
    let threads = model.db.collection::<Document>(&model.collection(THREADS));
    let mut sums = threads
        .aggregate(pipeline)
        .await
        .map_err(|e| classify(e, "the scores of threads"))?;
    let mut scores: HashMap<String, i64> = HashMap::new();
    while sums
        .advance()
        .await
        .map_err(|e| classify(e, "the scores of threads"))?
    {
        let sum = sums.current();
        if let Ok(id) = sum.get_str("_id") {
            scores.insert(id.to_owned(), raw_i64(sum.get(field::SCORE).ok().flatten()));
        }
    }
    let updates: Vec<Document> = projects
        .iter()
        .map(|id| {
            let score = scores.get(id).copied().unwrap_or(0);
            doc! {"q": {field::ID: id}, "u": {"$set": {field::SCORE: score}}}
        })
        .collect();
    let projects_collection = model.collection(PROJECTS);
    model
        .db
        .run_command(doc! {"update": projects_collection, "updates": updates, "ordered": false})
        .await
        .map_err(|e| classify(e, "the scores of projects"))?;
    Ok(())
}

/// An integer of a raw reply however the server stored it.
fn raw_i64(value: Option<mongodb::bson::RawBsonRef<'_>>) -> i64 {
    use mongodb::bson::RawBsonRef;
    match value {
        Some(RawBsonRef::Int64(v)) => v,
        Some(RawBsonRef::Int32(v)) => i64::from(v),
        Some(RawBsonRef::Double(v)) => v as i64,
        _ => 0,
    }
}

pub(crate) async fn write_parked(
    model: &ReadModel,
    parked: &[ParkedEvent],
) -> Result<(), WriteFailure> {
    if parked.is_empty() {
        return Ok(());
    }
    let statements: Vec<Document> = parked
        .iter()
        .map(|p| doc! {"q": {field::ID: p.seq as i64}, "u": {"$setOnInsert": p.to_document()}, "upsert": true})
        .collect();
    model
        .db
        .run_command(
            doc! {"update": model.collection(PARKED), "updates": statements, "ordered": true},
        )
        .await
        .map(|_| ())
        .map_err(|e| classify(e, "cannot record parked events"))
}

pub(crate) async fn write_position(model: &ReadModel, position: u64) -> Result<(), WriteFailure> {
    model
        .state
        .update_one(
            doc! {field::ID: model.position_id()},
            doc! {"$max": {field::POSITION: position as i64}},
        )
        .upsert(true)
        .await
        .map(|_| ())
        .map_err(|e| classify(e, "cannot record the position"))
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    fn vote(id: &str, seq: i64) -> Write {
        Write {
            collection: "votes",
            filter: doc! {"_id": id, "seq": {"$lt": seq}},
            update: doc! {"$set": {"direction": "up", "seq": seq}},
            upsert: true,
        }
    }

    #[test]
    fn of_absolute_upserts_only_the_last_of_each_document_is_sent() {
        let writes = [vote("a", 1), vote("b", 2), vote("a", 3), vote("c", 4)];
        let sent: Vec<i64> = last_of_each(writes.iter().collect())
            .iter()
            .map(|w| {
                w.update
                    .get_document("$set")
                    .and_then(|s| s.get_i64("seq"))
                    .expect("seq")
            })
            .collect();
        assert_eq!(sent, [2, 3, 4]);
        // Anything else in the collection: every statement, in order.
        let counter = Write {
            update: doc! {"$inc": {"n": 1_i64}, "$set": {"seq": 5_i64}},
            upsert: false,
            ..vote("a", 5)
        };
        let mixed = [vote("a", 1), counter, vote("a", 6)];
        assert_eq!(last_of_each(mixed.iter().collect()).len(), 3);
    }
}
