//! Coalescing a batch's writes: consecutive counter updates of one document
//! (many votes on one thread) become one statement.
//!
//! A merged statement keeps the guard of its first event and sets `seq` to
//! its last; it is atomic on one document, so the document has either all of
//! the merged events or none. That holds as long as no earlier attempt applied
//! a *different* partition of the same events, which is why the runner only
//! coalesces once everything written before a restart is behind its position.

use std::collections::HashMap;

use mongodb::bson::{Bson, Document};

use crate::projection::Write;

/// Whether a write only adds to counters (`$inc`, plus `$set: {seq}`).
fn counters_only(write: &Write) -> bool {
    !write.upsert
        && write.update.keys().all(|k| k == "$inc" || k == "$set")
        && write.update.get_document("$inc").is_ok()
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
            (None, v) => v.clone(),
            (Some(a), _) => a.clone(),
        };
        into.insert(field.clone(), sum);
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
            && counters_only(&out[i])
            && counters_only(&write)
            && let (Ok(inc), Some(seq)) = (
                write.update.get_document("$inc"),
                write
                    .update
                    .get_document("$set")
                    .ok()
                    .and_then(|s| s.get("seq"))
                    .cloned(),
            )
        {
            let inc = inc.clone();
            let merged = &mut out[i];
            if let Ok(target) = merged.update.get_document_mut("$inc") {
                add(target, &inc);
            }
            if let Ok(set) = merged.update.get_document_mut("$set") {
                set.insert("seq", seq);
            }
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
    use mongodb::bson::doc;

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
    fn a_non_counter_write_in_between_is_not_merged_across() {
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
