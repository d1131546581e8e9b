//! Coalescing writes: the guarded updates of one document (many votes on a
//! thread, edits and moderation of a message) become one statement, and a
//! document created twice is created once.
//!
//! A merged statement keeps the guard of its first event and sets `seq` to
//! its last (a guarded upsert, whose fields all follow from its last event,
//! takes the last event's guard); it is atomic on one document, so the document has either all of
//! the merged events or none. That holds as long as no earlier attempt applied
//! a *different* partition of the same events, which is why the runner only
//! coalesces once everything written before a restart is behind its position.

use std::collections::{HashMap, HashSet};

use flow_readmodel::field;
use mongodb::bson::{Bson, Document};

use crate::write::Write;

const OPERATORS: [&str; 3] = ["$inc", "$max", "$set"];

/// A guarded update (filter on `_id` and `seq`) made only of `$inc`, `$max`
/// and `$set`.
fn guarded(write: &Write) -> bool {
    !write.upsert
        && write.filter.contains_key(field::SEQ)
        && write.update.keys().all(|k| OPERATORS.contains(&k.as_str()))
}

/// Whether some field is changed by one operator in `a` and another in `b`:
/// such updates cannot share one statement.
fn conflict(a: &Write, b: &Write) -> bool {
    a.update.iter().any(|(op_a, fields_a)| {
        let Bson::Document(fields_a) = fields_a else {
            return true;
        };
        b.update.iter().any(|(op_b, fields_b)| match fields_b {
            Bson::Document(fields_b) => {
                op_a != op_b && fields_a.keys().any(|f| fields_b.contains_key(f))
            }
            _ => true,
        })
    })
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

fn replace(into: &mut Document, from: &Document) {
    for (field, value) in from {
        into.insert(field.clone(), value.clone());
    }
}

type Combine = fn(&mut Document, &Document);

/// Folds `write` into `merged` (guarded updates of one document, without
/// conflicting fields): counters add up, raised values keep the highest, set
/// values the last.
fn merge(merged: &mut Write, write: &Write) {
    let combiners: [(&str, Combine); 3] = [("$inc", add), ("$max", raise), ("$set", replace)];
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
}

type Key = (&'static str, String);

/// What a value takes beside its strings, roughly (the enum, a vector's or a
/// map's share).
const VALUE_BYTES: usize = 48;

fn value_bytes(value: &Bson) -> usize {
    VALUE_BYTES
        + match value {
            Bson::String(s) => s.len(),
            Bson::Document(d) => document_bytes(d),
            Bson::Array(a) => a.iter().map(value_bytes).sum(),
            _ => 0,
        }
}

fn document_bytes(document: &Document) -> usize {
    document
        .iter()
        .map(|(key, value)| key.len() + value_bytes(value))
        .sum()
}

/// Roughly the memory a statement holds: a proposal's document with the
/// prefixes of its name and tagline weighs hundreds of votes.
pub fn statement_bytes(write: &Write) -> usize {
    document_bytes(&write.filter) + document_bytes(&write.update)
}

/// Writes merged as they come, in an order that keeps every document's own
/// order of writes.
#[derive(Default)]
pub struct Coalescer {
    out: Vec<Write>,
    /// The index in `out` of the last write of each document.
    last: HashMap<Key, usize>,
    /// Documents whose creation is in `out`.
    created: HashSet<Key>,
    /// The statements' [`statement_bytes`], at most (a merge counts what it adds).
    bytes: usize,
}

impl Coalescer {
    pub fn push(&mut self, write: Write) {
        let Some(id) = write.filter.get(field::ID).map(Bson::to_string) else {
            self.out.push(write);
            return;
        };
        let key = (write.collection, id);
        self.bytes += statement_bytes(&write);
        if write.upsert && write.filter.len() == 1 && write.update.keys().eq(["$setOnInsert"]) {
            // Creating a document that an earlier statement creates changes nothing.
            if self.created.contains(&key) {
                self.bytes -= statement_bytes(&write);
                return;
            }
            self.created.insert(key.clone());
        } else if let Some(&i) = self.last.get(&key) {
            if guarded(&self.out[i]) && guarded(&write) && !conflict(&self.out[i], &write) {
                merge(&mut self.out[i], &write);
                return;
            }
            if self.out[i].is_absolute() && write.is_absolute() {
                self.out[i] = write;
                return;
            }
        }
        self.last.insert(key, self.out.len());
        self.out.push(write);
    }

    /// Statements held.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Roughly the memory they hold ([`statement_bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The statements so far; starts afresh.
    pub fn take(&mut self) -> Vec<Write> {
        self.last.clear();
        self.created.clear();
        self.bytes = 0;
        std::mem::take(&mut self.out)
    }
}

/// Merges writes; returns them in an order that keeps every document's own
/// order of writes.
pub fn coalesce(writes: impl IntoIterator<Item = Write>) -> Vec<Write> {
    let mut coalescer = Coalescer::default();
    for write in writes {
        coalescer.push(write);
    }
    coalescer.take()
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

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
    fn edits_merge_with_counters_and_the_last_set_value_wins() {
        let edit = |seq: i64, message: &str| Write {
            collection: "threads",
            filter: doc! {"_id": "a", "seq": {"$lt": seq}},
            update: doc! {"$set": {"message": message, "seq": seq}},
            upsert: false,
        };
        let merged = coalesce(vec![
            vote("a", 10, 1),
            edit(11, "first"),
            vote("a", 12, 1),
            edit(13, "second"),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].filter, doc! {"_id": "a", "seq": {"$lt": 10_i64}});
        assert_eq!(
            merged[0].update,
            doc! {"$inc": {"up_vote": 2_i64, "score": 2_i64}, "$set": {"seq": 13_i64, "message": "second"}}
        );
    }

    #[test]
    fn the_last_guarded_upsert_of_a_document_stands_for_the_earlier_ones() {
        let vote = |id: &str, seq: i64, direction: &str| Write {
            collection: "votes",
            filter: doc! {"_id": id, "seq": {"$lt": seq}},
            update: doc! {"$set": {"direction": direction, "seq": seq}},
            upsert: true,
        };
        let merged = coalesce(vec![
            vote("a", 10, "up"),
            vote("b", 11, "up"),
            vote("a", 12, "down"),
            vote("a", 13, "none"),
        ]);
        assert_eq!(merged, vec![vote("a", 13, "none"), vote("b", 11, "up")]);
    }

    #[test]
    fn a_field_changed_by_two_operators_is_not_merged() {
        let reset = Write {
            collection: "threads",
            filter: doc! {"_id": "a", "seq": {"$lt": 11_i64}},
            update: doc! {"$set": {"score": 0_i64, "seq": 11_i64}},
            upsert: false,
        };
        let merged = coalesce(vec![vote("a", 10, 1), reset.clone(), vote("a", 12, 1)]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[1], reset);
    }

    #[test]
    fn a_document_is_created_once_and_updates_stay_after_its_creation() {
        let create = |id: &str| Write {
            collection: "tags",
            filter: doc! {"_id": id},
            update: doc! {"$setOnInsert": {"tag": id, "project_count": 0_i64, "seq": 0_i64}},
            upsert: true,
        };
        let count = |id: &str, seq: i64| Write {
            collection: "tags",
            filter: doc! {"_id": id, "seq": {"$lt": seq}},
            update: doc! {"$inc": {"project_count": 1_i64}, "$set": {"seq": seq}},
            upsert: false,
        };
        let merged = coalesce(vec![
            count("old", 1),
            create("new"),
            count("new", 2),
            create("old"),
            count("old", 3),
            create("new"),
            count("new", 4),
        ]);
        assert_eq!(
            merged,
            vec![
                Write {
                    update: doc! {"$inc": {"project_count": 1_i64}, "$set": {"seq": 1_i64}},
                    ..count("old", 1)
                },
                create("new"),
                Write {
                    update: doc! {"$inc": {"project_count": 2_i64}, "$set": {"seq": 4_i64}},
                    ..count("new", 2)
                },
                create("old"),
                count("old", 3),
            ]
        );
    }
}
