//! Coalescing a batch's writes: consecutive commuting updates of one
//! document (many votes on one thread or project) become one statement.
//!
//! A merged statement keeps the guard of its first event and sets `seq` to
//! its last; it is atomic on one document, so the document has either all of
//! the merged events or none. That holds as long as no earlier attempt applied
//! a *different* partition of the same events, which is why the runner only
//! coalesces once everything written before a restart is behind its position.

use std::collections::HashMap;

use mongodb::bson::{Bson, Document, doc};

use crate::projection::Write;

/// Whether a write commutes with others of its kind: it only adds to
/// counters (`$inc`) and raises values (`$max`), besides `$set: {seq}`.
fn commutes(write: &Write) -> bool {
    !write.upsert
        && write
            .update
            .keys()
            .all(|k| k == "$inc" || k == "$max" || k == "$set")
        && write
            .update
            .get_document("$set")
            .map(|set| set.keys().all(|k| k == "seq"))
            .unwrap_or(true)
}

fn add(into: &mut Document, from: &Document) {
    for (field, value) in from {
        let sum = match (into.get(field), value) {
            (Some(Bson::Int64(a)), Bson::Int64(b)) => Bson::Int64(a + b),
            (Some(Bson::Int32(a)), Bson::Int32(b)) => Bson::Int64(i64::from(*a) + i64::from(*b)),
            (Some(a), _) => a.clone(),
            (None, v) => v.clone(),
        };
        into.insert(field.clone(), sum);
    }
}

fn raise(into: &mut Document, from: &Document) {
    for (field, value) in from {
        let higher = match (into.get(field), value) {
            (Some(Bson::Int64(a)), Bson::Int64(b)) => Bson::Int64(*a.max(b)),
            (Some(Bson::String(a)), Bson::String(b)) => Bson::String(a.max(b).clone()),
            (_, v) => v.clone(),
        };
        into.insert(field.clone(), higher);
    }
}

type Combine = fn(&mut Document, &Document);

/// Folds `write` into `merged` (both commuting writes of one document).
fn merge(merged: &mut Write, write: &Write) {
    let combiners: [(&str, Combine); 2] = [("$inc", add), ("$max", raise)];
    for (operator, combine) in combiners {
        if let Ok(fields) = write.update.get_document(operator) {
            match merged.update.get_document_mut(operator) {
                Ok(target) => combine(target, fields),
                Err(_) => {
                    merged.update.insert(operator, fields.clone());
                }
            }
        }
    }
    if let Some(seq) = write
        .update
        .get_document("$set")
        .ok()
        .and_then(|s| s.get("seq"))
    {
        match merged.update.get_document_mut("$set") {
            Ok(set) => {
                set.insert("seq", seq.clone());
            }
            Err(_) => {
                merged.update.insert("$set", doc! {"seq": seq.clone()});
            }
        }
    }
}

/// Merges writes; returns them in an order that keeps every document's own
/// order of writes.
pub fn coalesce(writes: Vec<Write>) -> Vec<Write> {
    let mut out: Vec<Write> = Vec::with_capacity(writes.len());
    // The index in `out` of the last write of each document.
    let mut last: HashMap<(&'static str, String), usize> = HashMap::new();
    for write in writes {
        let Some(id) = write.filter.get("_id").map(Bson::to_string) else {
            out.push(write);
            continue;
        };
        let key = (write.collection, id);
        if let Some(&i) = last.get(&key)
            && commutes(&out[i])
            && commutes(&write)
        {
            merge(&mut out[i], &write);
            continue;
        }
        last.insert(key, out.len());
        out.push(write);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(id: &str, seq: i64, up: i64) -> Write {
        Write {
            collection: "threads",
            filter: doc! {"_id": id, "seq": {"$lt": seq}},
            update: doc! {"$inc": {"up_vote": up, "score": up}, "$set": {"seq": seq}},
            upsert: false,
        }
    }

    #[test]
    fn consecutive_counter_updates_of_one_document_merge() {
        let merged = coalesce(vec![
            vote("a", 10, 1),
            vote("b", 11, 1),
            vote("a", 12, -1),
            vote("a", 13, 1),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].filter, doc! {"_id": "a", "seq": {"$lt": 10_i64}});
        assert_eq!(
            merged[0].update,
            doc! {"$inc": {"up_vote": 1_i64, "score": 1_i64}, "$set": {"seq": 13_i64}}
        );
    }

    #[test]
    fn raised_values_keep_the_highest() {
        let activity = |seq: i64, at: &str| Write {
            collection: "projects",
            filter: doc! {"_id": "p", "seq": {"$lt": seq}},
            update: doc! {"$inc": {"score": 1_i64}, "$max": {"last_activity_seq": seq, "last_activity_at": at}, "$set": {"seq": seq}},
            upsert: false,
        };
        let merged = coalesce(vec![activity(5, "2026-01-02"), activity(6, "2026-01-01")]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].update,
            doc! {"$inc": {"score": 2_i64}, "$max": {"last_activity_seq": 6_i64, "last_activity_at": "2026-01-02"}, "$set": {"seq": 6_i64}}
        );
    }

    #[test]
    fn a_non_commuting_write_in_between_is_not_merged_across() {
        let edit = Write {
            collection: "threads",
            filter: doc! {"_id": "a", "seq": {"$lt": 11_i64}},
            update: doc! {"$set": {"message": "m", "seq": 11_i64}},
            upsert: false,
        };
        let merged = coalesce(vec![vote("a", 10, 1), edit.clone(), vote("a", 12, 1)]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[1], edit);
    }
}
