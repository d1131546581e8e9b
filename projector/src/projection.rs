//! From events to read-document writes. Pure: each event at a stream
//! sequence becomes update statements guarded by the documents' `seq`, so a
//! statement applied twice changes nothing the second time.

use flow_domain::events::{Envelope, Event};
use flow_domain::{Direction, ModerationStatus, ThreadType};
use flow_readmodel::{PROJECTS, SEARCH_FIELD, TAGS, THREADS, field, search_prefixes};
use mongodb::bson::{Bson, Document, doc};
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

    /// Creates the document unless it exists.
    fn create(collection: &'static str, id: String, fields: Document) -> Self {
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

fn timestamp(envelope: &Envelope) -> String {
    envelope.occurred_at.format(&Rfc3339).unwrap_or_default()
}

fn tags(tags: &[flow_domain::Tag]) -> Vec<String> {
    tags.iter().map(|t| t.as_str().to_owned()).collect()
}

/// Moves the project count of each tag by `delta`. A tag seen for the first
/// time is created at zero first: the counting update is guarded by `seq`,
/// and an upsert with that guard in its filter would collide with an
/// existing `_id`.
fn count_tags(writes: &mut Vec<Write>, tags: &[flow_domain::Tag], seq: i64, delta: i64) {
    for tag in tags {
        if delta > 0 {
            writes.push(Write::create(
                TAGS,
                tag.as_str().to_owned(),
                doc! {field::TAG: tag.as_str(), field::PROJECT_COUNT: 0_i64, field::SEQ: 0_i64},
            ));
        }
        writes.push(Write::guarded(
            TAGS,
            tag.as_str().to_owned(),
            seq,
            doc! {"$inc": {field::PROJECT_COUNT: delta}},
        ));
    }
}

/// A thread of the project was started, edited or voted on: the project
/// moves up in `sort=active`. `$max`, so that the order in which such updates
/// land (a coalesced batch, a retried parked event) does not matter.
fn activity(envelope: &Envelope, seq: i64) -> Document {
    doc! {field::LAST_ACTIVITY_SEQ: seq, field::LAST_ACTIVITY_AT: timestamp(envelope)}
}

/// A project is created, and counted on each of its tags (for
/// `ProjectProposed` only).
fn project_proposed(seq: i64, envelope: &Envelope) -> Vec<Write> {
    let Event::ProjectProposed {
        project_id,
        project_name,
        tagline,
        tags: project_tags,
        proposer,
    } = &envelope.event
    else {
        return Vec::new();
    };
    let mut writes = vec![Write::create(
        PROJECTS,
        project_id.to_string(),
        doc! {
            field::PROJECT_NAME: project_name,
            field::TAGLINE: tagline,
            field::TAGS: tags(project_tags),
            field::PROPOSER: proposer.as_str(),
            field::CREATED_AT: timestamp(envelope),
            field::CREATED_SEQ: seq,
            field::THREAD_COUNT: 0_i64,
            field::PROBLEM_COUNT: 0_i64,
            field::SOLUTION_COUNT: 0_i64,
            field::SCORE: 0_i64,
            field::LAST_ACTIVITY_SEQ: seq,
            field::LAST_ACTIVITY_AT: timestamp(envelope),
            SEARCH_FIELD: search_prefixes(&[project_name, tagline]),
            field::SEQ: seq,
        },
    )];
    count_tags(&mut writes, project_tags, seq, 1);
    writes
}

/// A thread is created, and counted on its project and, for a reply, its
/// parent (for `ThreadStarted` only).
fn thread_started(seq: i64, envelope: &Envelope) -> Vec<Write> {
    let Event::ThreadStarted {
        thread_id,
        project_id,
        parent_thread_id,
        thread_type,
        message,
        author,
    } = &envelope.event
    else {
        return Vec::new();
    };
    let mut writes = vec![Write::create(
        THREADS,
        thread_id.to_string(),
        doc! {
            field::PROJECT_ID: project_id.to_string(),
            field::PARENT_THREAD_ID: parent_thread_id.map(|p| Bson::String(p.to_string())).unwrap_or(Bson::Null),
            field::THREAD_TYPE: thread_type.as_str(),
            field::MESSAGE: message,
            field::UP_VOTE: 0_i64,
            field::DOWN_VOTE: 0_i64,
            field::SCORE: 0_i64,
            field::REPLY_COUNT: 0_i64,
            field::STATUS: ModerationStatus::Pending.as_str(),
            field::AUTHOR: author.as_str(),
            field::CREATED_AT: timestamp(envelope),
            field::EDITED_AT: Bson::Null,
            field::CREATED_SEQ: seq,
            field::SEQ: seq,
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
        doc! {
            "$inc": {field::THREAD_COUNT: 1_i64, field::PROBLEM_COUNT: problems, field::SOLUTION_COUNT: solutions},
            "$max": activity(envelope, seq),
        },
    ));
    if let Some(parent) = parent_thread_id {
        writes.push(Write::guarded(
            THREADS,
            parent.to_string(),
            seq,
            doc! {"$inc": {field::REPLY_COUNT: 1_i64}},
        ));
    }
    writes
}

/// The writes that project `envelope`, stored at stream sequence `seq`.
pub fn writes(seq: i64, envelope: &Envelope) -> Vec<Write> {
    match &envelope.event {
        Event::ProjectNameClaimed { .. } => Vec::new(),
        Event::ProjectProposed { .. } => project_proposed(seq, envelope),
        Event::ProjectTagsChanged {
            project_id,
            tags: project_tags,
            added,
            removed,
        } => {
            // Events recorded before `added`/`removed` existed carry neither:
            // the tag counts cannot be moved from the event alone and stay as they are.
            let mut writes = vec![Write::guarded(
                PROJECTS,
                project_id.to_string(),
                seq,
                doc! {"$set": {field::TAGS: tags(project_tags)}},
            )];
            count_tags(&mut writes, added, seq, 1);
            count_tags(&mut writes, removed, seq, -1);
            writes
        }
        Event::ThreadStarted { .. } => thread_started(seq, envelope),
        Event::ThreadEdited {
            thread_id,
            project_id,
            message,
        } => vec![
            Write::guarded(
                THREADS,
                thread_id.to_string(),
                seq,
                doc! {"$set": {
                    field::MESSAGE: message,
                    field::EDITED_AT: timestamp(envelope),
                    field::STATUS: ModerationStatus::Pending.as_str(),
                }},
            ),
            Write::guarded(
                PROJECTS,
                project_id.to_string(),
                seq,
                doc! {"$max": activity(envelope, seq)},
            ),
        ],
        Event::ThreadModerated {
            thread_id, status, ..
        } => vec![Write::guarded(
            THREADS,
            thread_id.to_string(),
            seq,
            doc! {"$set": {field::STATUS: status.as_str()}},
        )],
        Event::VoteCast {
            thread_id,
            project_id,
            direction,
            previous,
            ..
        } => {
            let (up, down) = vote_delta(*direction, *previous);
            vec![
                Write::guarded(
                    THREADS,
                    thread_id.to_string(),
                    seq,
                    doc! {"$inc": {field::UP_VOTE: up, field::DOWN_VOTE: down, field::SCORE: up - down}},
                ),
                Write::guarded(
                    PROJECTS,
                    project_id.to_string(),
                    seq,
                    doc! {"$inc": {field::SCORE: up - down}, "$max": activity(envelope, seq)},
                ),
            ]
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
    use flow_domain::{ProjectId, Tag, ThreadId, UserId};
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
        assert_eq!(writes.len(), 2);
        assert_eq!(
            writes[0].filter,
            doc! {"_id": thread_id.to_string(), "seq": {"$lt": 42_i64}}
        );
        assert_eq!(
            writes[0].update,
            doc! {"$inc": {"up_vote": -1_i64, "down_vote": 1_i64, "score": -2_i64}, "$set": {"seq": 42_i64}}
        );
        assert_eq!(writes[1].collection, PROJECTS);
        assert_eq!(
            writes[1].update,
            doc! {
                "$inc": {"score": -2_i64},
                "$max": {"last_activity_seq": 42_i64, "last_activity_at": "1970-01-01T00:00:00Z"},
                "$set": {"seq": 42_i64},
            }
        );
        assert_every_update_is_guarded(&writes, 42);
    }

    /// Every non-creating statement: filter `{_id, seq: {$lt: seq}}` and `$set: {seq}`;
    /// every creating one: `$setOnInsert` on `{_id}` only.
    fn assert_every_update_is_guarded(writes: &[Write], seq: i64) {
        for write in writes {
            if write.upsert {
                assert_eq!(
                    write.filter.keys().collect::<Vec<_>>(),
                    ["_id"],
                    "{write:?}"
                );
                assert_eq!(
                    write.update.keys().collect::<Vec<_>>(),
                    ["$setOnInsert"],
                    "{write:?}"
                );
            } else {
                assert_eq!(
                    write.filter.get_document("seq").expect("guarded"),
                    &doc! {"$lt": seq},
                    "{write:?}"
                );
                assert_eq!(
                    write
                        .update
                        .get_document("$set")
                        .expect("sets seq")
                        .get_i64("seq"),
                    Ok(seq),
                    "{write:?}"
                );
            }
        }
    }

    fn tag(t: &str) -> Tag {
        Tag::parse(t).expect("valid")
    }

    #[test]
    fn a_proposal_creates_its_tags_before_counting_them() {
        let project_id = ProjectId::new();
        let writes = writes(
            9,
            &envelope(Event::ProjectProposed {
                project_id,
                project_name: "Popee the Performer".into(),
                tagline: "a clown".into(),
                tags: vec![tag("clown"), tag("circus")],
                proposer: UserId::parse("alice").expect("valid"),
            }),
        );
        assert_every_update_is_guarded(&writes, 9);
        let shape: Vec<(&str, &str, bool)> = writes
            .iter()
            .map(|w| (w.collection, w.filter.get_str("_id").expect("id"), w.upsert))
            .collect();
        let id = project_id.to_string();
        assert_eq!(
            shape,
            [
                (PROJECTS, id.as_str(), true),
                (TAGS, "clown", true),
                (TAGS, "clown", false),
                (TAGS, "circus", true),
                (TAGS, "circus", false),
            ]
        );
        let fields = writes[0]
            .update
            .get_document("$setOnInsert")
            .expect("fields");
        assert_eq!(fields.get_i64("last_activity_seq"), Ok(9));
        assert_eq!(fields.get_i64("score"), Ok(0));
        let prefixes = fields.get_array(SEARCH_FIELD).expect("prefixes");
        assert!(prefixes.contains(&Bson::String("perf".into())));
        assert_eq!(
            writes[2].update,
            doc! {"$inc": {"project_count": 1_i64}, "$set": {"seq": 9_i64}}
        );
    }

    #[test]
    fn a_tag_change_counts_what_was_added_and_removed() {
        let writes = writes(
            12,
            &envelope(Event::ProjectTagsChanged {
                project_id: ProjectId::new(),
                tags: vec![tag("a"), tag("c")],
                added: vec![tag("c")],
                removed: vec![tag("b")],
            }),
        );
        assert_every_update_is_guarded(&writes, 12);
        let counts: Vec<(&str, bool, Option<i64>)> = writes
            .iter()
            .filter(|w| w.collection == TAGS)
            .map(|w| {
                (
                    w.filter.get_str("_id").expect("id"),
                    w.upsert,
                    w.update
                        .get_document("$inc")
                        .ok()
                        .and_then(|i| i.get_i64("project_count").ok()),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("c", true, None),
                ("c", false, Some(1)),
                ("b", false, Some(-1))
            ]
        );
    }

    #[test]
    fn edits_and_new_threads_are_project_activity_moderation_is_not() {
        let project_id = ProjectId::new();
        let thread_id = ThreadId::new();
        let edited = writes(
            20,
            &envelope(Event::ThreadEdited {
                thread_id,
                project_id,
                message: "m".into(),
            }),
        );
        assert_every_update_is_guarded(&edited, 20);
        assert!(edited.iter().any(|w| {
            w.collection == PROJECTS
                && w.update
                    .get_document("$max")
                    .expect("max")
                    .get_i64("last_activity_seq")
                    == Ok(20)
        }));
        let moderated = writes(
            21,
            &envelope(Event::ThreadModerated {
                thread_id,
                project_id,
                status: ModerationStatus::Approved,
                reason: None,
                moderator: None,
            }),
        );
        assert!(moderated.iter().all(|w| w.collection == THREADS));
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
        assert_every_update_is_guarded(&writes, 7);
        assert_eq!(
            writes[2].filter.get_str("_id").expect("id"),
            parent.to_string()
        );
    }
}
