//! From events to read-document writes. Pure: each event at a stream
//! sequence becomes update statements guarded by the documents' `seq`, so a
//! statement applied twice changes nothing the second time.

use mongodb::bson::{Bson, Document, doc};
use shared::{
    domain::{Direction, ModerationStatus, ThreadType},
    events::{Envelope, Event},
    readmodel::{PROJECTS, THREADS},
};
use time::format_description::well_known::Rfc3339;

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
    fn guarded(collection: &'static str, id: String, seq: i64, mut update: Document) -> Self {
        match update.get_document_mut("$set") {
            Ok(set) => {
                set.insert("seq", seq);
            }
            Err(_) => {
                update.insert("$set", doc! {"seq": seq});
            }
        }
        Self {
            collection,
            filter: doc! {"_id": id, "seq": {"$lt": seq}},
            update,
            upsert: false,
        }
    }

    /// Creates the document unless it exists.
    fn create(collection: &'static str, id: String, fields: Document) -> Self {
        Self {
            collection,
            filter: doc! {"_id": id},
            update: doc! {"$setOnInsert": fields},
            upsert: true,
        }
    }

    pub fn statement(&self) -> Document {
        doc! {"q": self.filter.clone(), "u": self.update.clone(), "upsert": self.upsert}
    }
}

fn timestamp(envelope: &Envelope) -> String {
    envelope.occurred_at.format(&Rfc3339).unwrap_or_default()
}

fn tags(tags: &[shared::domain::Tag]) -> Vec<String> {
    tags.iter().map(|t| t.as_str().to_owned()).collect()
}

/// The writes that project `envelope`, stored at stream sequence `seq`.
pub fn writes(seq: i64, envelope: &Envelope) -> Vec<Write> {
    match &envelope.event {
        Event::ProjectNameClaimed { .. } => Vec::new(),
        Event::ProjectProposed {
            project_id,
            project_name,
            tagline,
            tags: project_tags,
            proposer,
        } => {
            vec![Write::create(
                PROJECTS,
                project_id.to_string(),
                doc! {
                    "project_name": project_name,
                    "tagline": tagline,
                    "tags": tags(project_tags),
                    "proposer": proposer.as_str(),
                    "created_at": timestamp(envelope),
                    "created_seq": seq,
                    "thread_count": 0_i64,
                    "problem_count": 0_i64,
                    "solution_count": 0_i64,
                    "seq": seq,
                },
            )]
        }
        Event::ProjectTagsChanged {
            project_id,
            tags: project_tags,
        } => vec![Write::guarded(
            PROJECTS,
            project_id.to_string(),
            seq,
            doc! {"$set": {"tags": tags(project_tags)}},
        )],
        Event::ThreadStarted {
            thread_id,
            project_id,
            parent_thread_id,
            thread_type,
            message,
            author,
        } => {
            let mut writes = vec![Write::create(
                THREADS,
                thread_id.to_string(),
                doc! {
                    "project_id": project_id.to_string(),
                    "parent_thread_id": parent_thread_id.map(|p| Bson::String(p.to_string())).unwrap_or(Bson::Null),
                    "thread_type": thread_type.as_str(),
                    "message": message,
                    "up_vote": 0_i64,
                    "down_vote": 0_i64,
                    "score": 0_i64,
                    "reply_count": 0_i64,
                    "status": ModerationStatus::Pending.as_str(),
                    "author": author.as_str(),
                    "created_at": timestamp(envelope),
                    "edited_at": Bson::Null,
                    "created_seq": seq,
                    "seq": seq,
                },
            )];
            let (problems, solutions) = match thread_type {
                ThreadType::Problem => (1_i64, 0_i64),
                ThreadType::Solution => (0, 1),
                ThreadType::Comment => (0, 0),
            };
            writes.push(Write::guarded(
                PROJECTS,
                project_id.to_string(),
                seq,
                doc! {"$inc": {"thread_count": 1_i64, "problem_count": problems, "solution_count": solutions}},
            ));
            if let Some(parent) = parent_thread_id {
                writes.push(Write::guarded(
                    THREADS,
                    parent.to_string(),
                    seq,
                    doc! {"$inc": {"reply_count": 1_i64}},
                ));
            }
            writes
        }
        Event::ThreadEdited {
            thread_id, message, ..
        } => vec![Write::guarded(
            THREADS,
            thread_id.to_string(),
            seq,
            doc! {"$set": {
                "message": message,
                "edited_at": timestamp(envelope),
                "status": ModerationStatus::Pending.as_str(),
            }},
        )],
        Event::ThreadModerated {
            thread_id, status, ..
        } => vec![Write::guarded(
            THREADS,
            thread_id.to_string(),
            seq,
            doc! {"$set": {"status": status.as_str()}},
        )],
        Event::VoteCast {
            thread_id,
            direction,
            previous,
            ..
        } => {
            let (up, down) = vote_delta(*direction, *previous);
            vec![Write::guarded(
                THREADS,
                thread_id.to_string(),
                seq,
                doc! {"$inc": {"up_vote": up, "down_vote": down, "score": up - down}},
            )]
        }
    }
}

/// How a vote changing from `previous` to `direction` moves the counts.
pub fn vote_delta(direction: Direction, previous: Direction) -> (i64, i64) {
    let (nu, nd) = direction.counts();
    let (pu, pd) = previous.counts();
    (nu - pu, nd - pd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::{ProjectId, ThreadId, UserId};
    use time::OffsetDateTime;

    fn envelope(event: Event) -> Envelope {
        Envelope::new(event, "alice", OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn every_update_is_guarded_by_the_document_sequence() {
        let thread_id = ThreadId::new();
        let writes = writes(
            42,
            &envelope(Event::VoteCast {
                thread_id,
                project_id: ProjectId::new(),
                voter: UserId::parse("bob").expect("valid"),
                direction: Direction::Down,
                previous: Direction::Up,
            }),
        );
        assert_eq!(writes.len(), 1);
        assert_eq!(
            writes[0].filter,
            doc! {"_id": thread_id.to_string(), "seq": {"$lt": 42_i64}}
        );
        assert_eq!(
            writes[0].update,
            doc! {"$inc": {"up_vote": -1_i64, "down_vote": 1_i64, "score": -2_i64}, "$set": {"seq": 42_i64}}
        );
    }

    #[test]
    fn a_reply_counts_on_its_project_and_its_parent() {
        let parent = ThreadId::new();
        let writes = writes(
            7,
            &envelope(Event::ThreadStarted {
                thread_id: ThreadId::new(),
                project_id: ProjectId::new(),
                parent_thread_id: Some(parent),
                thread_type: ThreadType::Problem,
                message: "m".into(),
                author: UserId::parse("a").expect("valid"),
            }),
        );
        let collections: Vec<&str> = writes.iter().map(|w| w.collection).collect();
        assert_eq!(collections, [THREADS, PROJECTS, THREADS]);
        assert!(writes[0].upsert && !writes[1].upsert && !writes[2].upsert);
        assert_eq!(
            writes[2].filter.get_str("_id").expect("id"),
            parent.to_string()
        );
    }
}
