//! Parked events: those the projector could not decode or apply after the
//! configured number of attempts. A parked event is recorded with its
//! sequence, subject and error; the documents it would create or set are
//! blocked, so later events touching them are parked behind it, in order, and
//! no document is projected out of order. `projector retry <seq>` re-applies a
//! parked event and the ones parked behind it.

use std::collections::HashMap;

use flow_readmodel::{PARKED, PROJECTS, ReadModel, THREADS, field};
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use crate::write::Write;

/// A document a write touches: `collection/_id`.
pub fn doc_key(write: &Write) -> Option<String> {
    match write.filter.get(field::ID) {
        Some(Bson::String(id)) => Some(format!("{}/{id}", write.collection)),
        _ => None,
    }
}

/// Whether a write's effect depends on the order of events (it creates the
/// document or sets fields), as opposed to adding to counters.
pub fn is_ordered(write: &Write) -> bool {
    write.upsert
        || write
            .update
            .get_document("$set")
            .map(|set| set.keys().any(|k| k != field::SEQ))
            .unwrap_or(false)
        || write
            .update
            .keys()
            .any(|k| k != "$set" && k != "$inc" && k != "$max")
}

/// The documents an event on `subject` touches when its payload cannot be read.
pub fn subject_keys(subject: &str) -> Vec<String> {
    let tokens: Vec<&str> = subject.split('.').collect();
    let Some(i) = tokens.iter().position(|t| *t == "evt") else {
        return Vec::new();
    };
    match (tokens.get(i + 1), tokens.get(i + 2)) {
        (Some(&"project"), Some(id)) => vec![format!("{PROJECTS}/{id}")],
        (Some(&"thread" | &"vote"), Some(id)) => vec![format!("{THREADS}/{id}")],
        _ => Vec::new(),
    }
}

/// A parked event as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParkedEvent {
    pub seq: u64,
    pub subject: String,
    pub error: String,
    /// The parked event this one waits behind, if any.
    pub behind: Option<u64>,
    pub blocks: Vec<String>,
}

impl ParkedEvent {
    pub fn to_document(&self) -> Document {
        doc! {
            field::ID: self.seq as i64,
            "subject": &self.subject,
            "error": &self.error,
            "behind": self.behind.map(|b| Bson::Int64(b as i64)).unwrap_or(Bson::Null),
            "blocks": &self.blocks,
            "parked_at": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }

    fn from_document(doc: &Document) -> Option<Self> {
        Some(Self {
            seq: doc.get(field::ID).map(flow_readmodel::bson_u64)?,
            subject: doc.get_str("subject").ok()?.to_owned(),
            error: doc.get_str("error").unwrap_or_default().to_owned(),
            behind: match doc.get("behind") {
                Some(Bson::Null) | None => None,
                Some(b) => Some(flow_readmodel::bson_u64(b)),
            },
            blocks: doc
                .get_array("blocks")
                .map(|a| {
                    a.iter()
                        .filter_map(|b| b.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// Which documents are blocked, and by which root parked event.
#[derive(Debug, Default, Clone)]
pub struct Blocked {
    by: HashMap<String, u64>,
}

impl Blocked {
    pub fn is_empty(&self) -> bool {
        self.by.is_empty()
    }

    /// The root parked event blocking any of `keys`.
    pub fn blocking<'a>(&self, keys: impl IntoIterator<Item = &'a String>) -> Option<u64> {
        keys.into_iter()
            .filter_map(|k| self.by.get(k))
            .min()
            .copied()
    }

    /// Parks an event behind an earlier parked one if it touches a blocked document.
    pub fn park_if_behind(
        &mut self,
        seq: u64,
        subject: &str,
        writes: &[Write],
    ) -> Option<ParkedEvent> {
        if self.by.is_empty() {
            return None;
        }
        let touched: Vec<String> = writes.iter().filter_map(doc_key).collect();
        let root = self.blocking(&touched)?;
        Some(self.park(
            seq,
            subject,
            writes,
            Some(root),
            format!("waits behind parked event {root}"),
        ))
    }

    /// Parks an event: the documents it would create or set wait behind it
    /// (or behind `behind`, the parked event it already waits for).
    pub fn park(
        &mut self,
        seq: u64,
        subject: &str,
        writes: &[Write],
        behind: Option<u64>,
        error: String,
    ) -> ParkedEvent {
        let blocks: Vec<String> = writes
            .iter()
            .filter(|w| is_ordered(w))
            .filter_map(doc_key)
            .collect();
        self.block(&blocks, behind.unwrap_or(seq));
        ParkedEvent {
            seq,
            subject: subject.to_owned(),
            error,
            behind,
            blocks,
        }
    }

    pub fn block(&mut self, keys: &[String], root: u64) {
        for key in keys {
            self.by.entry(key.clone()).or_insert(root);
        }
    }
}

/// Every parked event of a generation, oldest first.
pub async fn list(model: &ReadModel) -> anyhow::Result<Vec<ParkedEvent>> {
    let docs: Vec<Document> = model
        .db
        .collection::<Document>(&model.collection(PARKED))
        .find(doc! {})
        .sort(doc! {field::ID: 1})
        .await?
        .try_collect()
        .await?;
    // Sorted here: the local server orders mixed integer widths unreliably.
    let mut parked: Vec<ParkedEvent> = docs.iter().filter_map(ParkedEvent::from_document).collect();
    parked.sort_by_key(|p| p.seq);
    Ok(parked)
}

/// Forgets a parked event once it is applied.
pub async fn unpark(model: &ReadModel, seq: u64) -> anyhow::Result<()> {
    model
        .db
        .collection::<Document>(&model.collection(PARKED))
        .delete_one(doc! {field::ID: seq as i64})
        .await?;
    Ok(())
}

/// The blocked documents of a generation, from its parked events.
pub async fn load_blocked(model: &ReadModel) -> anyhow::Result<Blocked> {
    let mut blocked = Blocked::default();
    for parked in list(model).await? {
        blocked.block(&parked.blocks, parked.behind.unwrap_or(parked.seq));
    }
    Ok(blocked)
}

/// A write made to apply regardless of the document's `seq` (a retried parked
/// event comes after later events), moving `seq` forward only.
pub fn unguarded(mut write: Write) -> Write {
    write.filter.remove(field::SEQ);
    if write.is_replacement() {
        // As fields set, so that `seq` can move forward only.
        let mut fields = std::mem::take(&mut write.update);
        fields.remove(field::ID);
        write.update = doc! {"$set": fields};
    }
    let mut seq = None;
    let mut emptied = false;
    if let Ok(set) = write.update.get_document_mut("$set") {
        seq = set.remove(field::SEQ);
        emptied = set.is_empty();
    }
    if emptied {
        write.update.remove("$set");
    }
    if let Some(seq) = seq {
        match write.update.get_document_mut("$max") {
            Ok(max) => {
                max.insert(field::SEQ, seq);
            }
            Err(_) => {
                write.update.insert("$max", doc! {field::SEQ: seq});
            }
        }
    }
    write
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_documents_they_touch() {
        assert_eq!(subject_keys("flow.evt.project.abc"), ["projects/abc"]);
        assert_eq!(subject_keys("t1.x.evt.vote.th1.u9"), ["threads/th1"]);
        assert!(subject_keys("flow.evt.name.k").is_empty());
    }

    #[test]
    fn unguarded_writes_keep_their_own_max() {
        let write = Write {
            collection: PROJECTS,
            filter: doc! {"_id": "p", "seq": {"$lt": 4_i64}},
            update: doc! {"$max": {"last_activity_seq": 4_i64}, "$set": {"seq": 4_i64}},
            upsert: false,
        };
        assert_eq!(
            unguarded(write).update,
            doc! {"$max": {"last_activity_seq": 4_i64, "seq": 4_i64}}
        );
    }

    #[test]
    fn an_unguarded_replacement_sets_its_fields_and_moves_seq_forward_only() {
        let write = Write::guarded_upsert(
            "votes",
            "t.u".into(),
            7,
            doc! {"thread_id": "t", "direction": "up"},
        );
        assert!(write.is_replacement() && write.is_absolute());
        let free = unguarded(write);
        assert_eq!(free.filter, doc! {"_id": "t.u"});
        assert_eq!(
            free.update,
            doc! {"$set": {"thread_id": "t", "direction": "up"}, "$max": {"seq": 7_i64}}
        );
        assert!(free.upsert);
    }

    #[test]
    fn unguarded_writes_move_seq_forward_only() {
        let write = Write {
            collection: THREADS,
            filter: doc! {"_id": "t", "seq": {"$lt": 9_i64}},
            update: doc! {"$inc": {"up_vote": 1_i64}, "$set": {"seq": 9_i64}},
            upsert: false,
        };
        assert!(!is_ordered(&write));
        let free = unguarded(write);
        assert_eq!(free.filter, doc! {"_id": "t"});
        assert_eq!(
            free.update,
            doc! {"$inc": {"up_vote": 1_i64}, "$max": {"seq": 9_i64}}
        );
    }
}
