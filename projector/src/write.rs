//! One statement of the read model ([`Write`]) in the shapes the projection
//! builds: guarded by the document's `seq` (so that a statement applied twice
//! changes nothing the second time), creating a document unless it exists,
//! and the [`RESCORE`] marker the store turns into a computed score.

use flow_readmodel::field;
use mongodb::bson::{Document, doc};

/// One update statement of MongoDB's `update` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub collection: &'static str,
    pub filter: Document,
    pub update: Document,
    pub upsert: bool,
}

impl Write {
    /// Changes the document only if no event at or after `seq` changed it yet.
    pub(crate) fn guarded(
        collection: &'static str,
        id: String,
        seq: i64,
        mut update: Document,
    ) -> Self {
        match update.get_document_mut("$set") {
            Ok(set) => {
                set.insert(field::SEQ, seq);
            }
            Err(_) => {
                update.insert("$set", doc! {field::SEQ: seq});
            }
        }
        Self {
            collection,
            filter: doc! {field::ID: id, field::SEQ: {"$lt": seq}},
            update,
            upsert: false,
        }
    }

    /// Replaces the document with `fields` (its `_id` and `seq` added),
    /// creating it if needed, unless an event at or after `seq` changed it
    /// yet: one statement for a document whose fields all follow from its
    /// latest event. Where a newer document exists the filter matches
    /// nothing and the insert it then tries is refused as a duplicate key,
    /// which the sink takes as done.
    ///
    /// A replacement, not a `$set`: the same outcome for such a document, and
    /// the local store applies it in about half the time when the document
    /// exists (it rewrites the document instead of merging fields into it).
    /// The replacement names its `_id`, which MongoDB accepts when it is the
    /// document's own and which the local store needs to insert it.
    pub(crate) fn guarded_upsert(
        collection: &'static str,
        id: String,
        seq: i64,
        fields: Document,
    ) -> Self {
        let mut document = doc! {field::ID: &id};
        document.extend(fields);
        document.insert(field::SEQ, seq);
        Self {
            collection,
            filter: doc! {field::ID: id, field::SEQ: {"$lt": seq}},
            update: document,
            upsert: true,
        }
    }

    /// Whether this is a [`Write::guarded_upsert`]: a duplicate key refusing it
    /// means a newer version of the document is there.
    pub fn is_guarded_upsert(&self) -> bool {
        self.upsert && self.filter.contains_key(field::SEQ)
    }

    /// Whether the update is a whole document rather than operators.
    pub fn is_replacement(&self) -> bool {
        !self.update.is_empty() && self.update.keys().all(|k| !k.starts_with('$'))
    }

    /// A guarded upsert that replaces the document or only sets fields: the
    /// last one of a document says all of it, whatever the document holds.
    pub fn is_absolute(&self) -> bool {
        self.is_guarded_upsert() && (self.is_replacement() || self.update.keys().eq(["$set"]))
    }

    /// Creates the document unless it exists.
    pub(crate) fn create(collection: &'static str, id: String, fields: Document) -> Self {
        Self {
            collection,
            filter: doc! {field::ID: id},
            update: doc! {"$setOnInsert": fields},
            upsert: true,
        }
    }

    /// The statement of MongoDB's `update` command, as raw BSON.
    pub fn raw_statement(&self) -> mongodb::bson::raw::Result<mongodb::bson::RawDocumentBuf> {
        let mut statement = mongodb::bson::RawDocumentBuf::new();
        statement.append(
            "q",
            mongodb::bson::RawDocumentBuf::from_document(&self.filter)?,
        );
        statement.append(
            "u",
            mongodb::bson::RawDocumentBuf::from_document(&self.update)?,
        );
        statement.append("upsert", self.upsert);
        Ok(statement)
    }
}

/// Not a collection: a statement naming a project (`{_id}`) whose score is
/// computed again from its threads once the batch's documents are written.
pub const RESCORE: &str = "rescore";

impl Write {
    /// The project's score, computed again from its threads' documents.
    pub(crate) fn rescore(project_id: String) -> Self {
        Self {
            collection: RESCORE,
            filter: doc! {field::ID: project_id},
            update: Document::new(),
            upsert: false,
        }
    }
}
