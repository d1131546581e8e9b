//! From events to read-document writes. Pure: each event at a stream
//! sequence becomes update statements guarded by the documents' `seq`, so a
//! statement applied twice changes nothing the second time.
//!
//! A project's `score` counts the votes of its threads that are neither
//! rejected nor withdrawn. A vote moves it only while its thread counts
//! ([`Uncounted`], the planner's state); when a thread's status changes, the
//! project's score is computed again from its threads' documents
//! ([`RESCORE`](crate::write::RESCORE) statements, run after the batch's other statements), which
//! holds whatever part of a batch an earlier attempt wrote.

use std::collections::HashSet;

use flow_domain::events::{Envelope, Event};
use flow_domain::{Direction, ModerationStatus, ProjectId, ThreadId, ThreadType};
use flow_readmodel::{
    HIDDEN, HiddenDoc, PROJECTS, SEARCH_FIELD, TAGS, THREADS, USERS, VOTES, VoteDoc, field,
    search_prefixes,
};
use mongodb::bson::{Bson, Document, doc};
use time::format_description::well_known::Rfc3339;

use crate::write::Write;

/// Threads whose votes do not count toward their project's score, as the
/// events planned so far leave them: rejected ones (a vote that raced the
/// rejection still counts on the thread, and on the project again if it is
/// approved) and withdrawn ones (final: a vote that raced the withdrawal is
/// recorded nowhere).
#[derive(Debug, Default, Clone)]
pub struct Uncounted {
    rejected: HashSet<ThreadId>,
    withdrawn: HashSet<ThreadId>,
}

impl Uncounted {
    pub fn new(
        rejected: impl IntoIterator<Item = ThreadId>,
        withdrawn: impl IntoIterator<Item = ThreadId>,
    ) -> Self {
        Self {
            rejected: rejected.into_iter().collect(),
            withdrawn: withdrawn.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.rejected.len() + self.withdrawn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Follows a thread's status as `event` changes it.
    fn follow(&mut self, event: &Event) {
        match event {
            Event::ThreadModerated {
                thread_id, status, ..
            } => {
                if *status == ModerationStatus::Rejected {
                    self.rejected.insert(*thread_id);
                } else {
                    self.rejected.remove(thread_id);
                }
            }
            Event::ThreadEdited { thread_id, .. } => {
                self.rejected.remove(thread_id);
            }
            Event::ThreadWithdrawn { thread_id, .. } => {
                self.rejected.remove(thread_id);
                self.withdrawn.insert(*thread_id);
            }
            _ => {}
        }
    }

    fn counts(&self, thread_id: &ThreadId) -> bool {
        !self.rejected.contains(thread_id) && !self.withdrawn.contains(thread_id)
    }

    fn is_withdrawn(&self, thread_id: &ThreadId) -> bool {
        self.withdrawn.contains(thread_id)
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
        proposer_name,
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
            field::PROPOSER_NAME: proposer_name.as_deref().map_or(Bson::Null, Bson::from),
            field::CREATED_AT: timestamp(envelope),
            field::CREATED_SEQ: seq,
            field::THREAD_COUNT: 0_i64,
            field::PROBLEM_COUNT: 0_i64,
            field::SOLUTION_COUNT: 0_i64,
            field::COMMENT_COUNT: 0_i64,
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
        author_name,
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
            field::MODERATION_REASON: Bson::Null,
            field::STATUS_SEQ: seq,
            field::AUTHOR: author.as_str(),
            field::AUTHOR_NAME: author_name.as_deref().map_or(Bson::Null, Bson::from),
            field::CREATED_AT: timestamp(envelope),
            field::EDITED_AT: Bson::Null,
            field::CREATED_SEQ: seq,
            field::SEQ: seq,
        },
    )];
    let activity = doc! {"$max": activity(envelope, seq)};
    count_thread(
        &mut writes,
        *project_id,
        *parent_thread_id,
        *thread_type,
        seq,
        1,
        activity,
    );
    writes
}

/// Counts a thread on (`delta` 1) or off (-1) its project, with the
/// project's other changes in `project`, and for a reply on its parent.
fn count_thread(
    writes: &mut Vec<Write>,
    project_id: ProjectId,
    parent_thread_id: Option<ThreadId>,
    thread_type: ThreadType,
    seq: i64,
    delta: i64,
    project: Document,
) {
    let mut update = doc! {"$inc": thread_counts(thread_type, parent_thread_id.is_some(), delta)};
    update.extend(project);
    writes.push(Write::guarded(
        PROJECTS,
        project_id.to_string(),
        seq,
        update,
    ));
    if let Some(parent) = parent_thread_id {
        writes.push(Write::guarded(
            THREADS,
            parent.to_string(),
            seq,
            doc! {"$inc": {field::REPLY_COUNT: delta}},
        ));
    }
}

/// How a thread moves its project's counts (`delta` 1 when started, -1 when
/// withdrawn): every thread counts in `thread_count`; only top-level ones in
/// the count of their type, as the listing by type pages through them.
fn thread_counts(thread_type: ThreadType, reply: bool, delta: i64) -> Document {
    let by_type = match thread_type {
        ThreadType::Problem => field::PROBLEM_COUNT,
        ThreadType::Solution => field::SOLUTION_COUNT,
        ThreadType::Comment => field::COMMENT_COUNT,
    };
    let mut counts = doc! {field::THREAD_COUNT: delta};
    if !reply {
        counts.insert(by_type, delta);
    }
    counts
}

/// A thread was withdrawn: out of its project's counts and its parent's
/// replies, its votes out of the project's score (for `ThreadWithdrawn` only).
fn thread_withdrawn(seq: i64, envelope: &Envelope) -> Vec<Write> {
    let Event::ThreadWithdrawn {
        thread_id,
        project_id,
        parent_thread_id,
        thread_type,
        ..
    } = &envelope.event
    else {
        return Vec::new();
    };
    let mut writes = vec![Write::guarded(
        THREADS,
        thread_id.to_string(),
        seq,
        doc! {"$set": {
            field::STATUS: ModerationStatus::Withdrawn.as_str(),
            field::MODERATION_REASON: Bson::Null,
            field::STATUS_SEQ: seq,
        }},
    )];
    let (project, parent) = (*project_id, *parent_thread_id);
    count_thread(
        &mut writes,
        project,
        parent,
        *thread_type,
        seq,
        -1,
        Document::new(),
    );
    writes.push(Write::rescore(project_id.to_string()));
    writes
}

/// The writes that project `envelope`, stored at stream sequence `seq`,
/// with the threads that count as the events before it leave them.
pub fn writes(seq: i64, envelope: &Envelope, uncounted: &mut Uncounted) -> Vec<Write> {
    // Whether a vote counts is decided before its own event changes anything.
    let counted = match &envelope.event {
        Event::VoteCast { thread_id, .. } if uncounted.is_withdrawn(thread_id) => {
            return Vec::new();
        }
        Event::VoteCast { thread_id, .. } => uncounted.counts(thread_id),
        _ => true,
    };
    uncounted.follow(&envelope.event);
    match &envelope.event {
        Event::ProjectNameClaimed { .. } | Event::ProjectNameReleased { .. } => Vec::new(),
        Event::ProjectProposed { .. } => project_proposed(seq, envelope),
        Event::ProjectChanged {
            project_id,
            project_name,
            tagline,
            ..
        } => vec![Write::guarded(
            PROJECTS,
            project_id.to_string(),
            seq,
            doc! {"$set": {
                field::PROJECT_NAME: project_name,
                field::TAGLINE: tagline,
                SEARCH_FIELD: search_prefixes(&[project_name, tagline]),
            }},
        )],
        Event::ThreadWithdrawn { .. } => thread_withdrawn(seq, envelope),
        Event::ProjectHidden { user, project_id } | Event::ProjectUnhidden { user, project_id } => {
            let hidden = matches!(envelope.event, Event::ProjectHidden { .. });
            let (user, project) = (user.as_str(), project_id.to_string());
            let id = HiddenDoc::id(user, &project);
            let mut set = doc! {field::HIDDEN: hidden};
            if hidden {
                set.insert(field::HIDDEN_SEQ, seq);
            }
            vec![
                Write::create(
                    HIDDEN,
                    id.clone(),
                    doc! {
                        field::USER: user,
                        field::PROJECT_ID: project,
                        field::HIDDEN: false,
                        field::HIDDEN_SEQ: 0_i64,
                        field::SEQ: 0_i64,
                    },
                ),
                Write::guarded(HIDDEN, id, seq, doc! {"$set": set}),
            ]
        }
        Event::TagsFollowed {
            user,
            tags: followed,
        } => vec![
            Write::create(
                USERS,
                user.as_str().to_owned(),
                doc! {field::FOLLOWED_TAGS: Vec::<String>::new(), field::SEQ: 0_i64},
            ),
            Write::guarded(
                USERS,
                user.as_str().to_owned(),
                seq,
                doc! {"$set": {field::FOLLOWED_TAGS: tags(followed)}},
            ),
        ],
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
                    field::MODERATION_REASON: Bson::Null,
                    field::STATUS_SEQ: seq,
                }},
            ),
            Write::guarded(
                PROJECTS,
                project_id.to_string(),
                seq,
                doc! {"$max": activity(envelope, seq)},
            ),
            // Back to pending: a rejected thread's votes count again.
            Write::rescore(project_id.to_string()),
        ],
        Event::ThreadModerated {
            thread_id,
            project_id,
            status,
            reason,
            ..
        } => {
            let reason = match (status, reason) {
                (ModerationStatus::Rejected, Some(reason)) => Bson::String(reason.clone()),
                _ => Bson::Null,
            };
            vec![
                Write::guarded(
                    THREADS,
                    thread_id.to_string(),
                    seq,
                    doc! {"$set": {
                        field::STATUS: status.as_str(),
                        field::MODERATION_REASON: reason,
                        field::STATUS_SEQ: seq,
                    }},
                ),
                Write::rescore(project_id.to_string()),
            ]
        }
        Event::VoteCast {
            thread_id,
            project_id,
            voter,
            direction,
            previous,
        } => {
            let (up, down) = vote_delta(*direction, *previous);
            let project = if counted {
                doc! {"$inc": {field::SCORE: up - down}, "$max": activity(envelope, seq)}
            } else {
                doc! {"$max": activity(envelope, seq)}
            };
            let thread = thread_id.to_string();
            let vote = VoteDoc::id(&thread, voter.as_str());
            vec![
                Write::guarded(
                    THREADS,
                    thread.clone(),
                    seq,
                    doc! {"$inc": {field::UP_VOTE: up, field::DOWN_VOTE: down, field::SCORE: up - down}},
                ),
                Write::guarded(PROJECTS, project_id.to_string(), seq, project),
                Write::guarded_upsert(
                    VOTES,
                    vote,
                    seq,
                    doc! {
                        field::THREAD_ID: thread,
                        field::VOTER: voter.as_str(),
                        field::DIRECTION: direction.as_str(),
                    },
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
    use crate::write::RESCORE;
    use flow_domain::{ProjectId, Tag, ThreadId, UserId};
    use time::OffsetDateTime;

    fn envelope(event: Event) -> Envelope {
        Envelope::new(event, "alice", OffsetDateTime::UNIX_EPOCH)
    }

    /// The writes of one event with every thread counting.
    fn writes(seq: i64, envelope: &Envelope) -> Vec<Write> {
        super::writes(seq, envelope, &mut Uncounted::default())
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
        assert_eq!(writes.len(), 3);
        assert_eq!(writes[2].collection, VOTES);
        assert_eq!(
            writes[2].filter,
            doc! {"_id": VoteDoc::id(&thread_id.to_string(), "bob"), "seq": {"$lt": 42_i64}}
        );
        assert_eq!(
            writes[2].update,
            doc! {"_id": VoteDoc::id(&thread_id.to_string(), "bob"), "thread_id": thread_id.to_string(), "voter": "bob", "direction": "down", "seq": 42_i64}
        );
        assert!(writes[2].is_replacement());
        assert!(writes[2].upsert && writes[2].is_guarded_upsert());
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

    /// Every non-creating statement: filter `{_id, seq: {$lt: seq}}` and `$set: {seq}`
    /// (a replacement: `seq` itself); every creating one: `$setOnInsert` on `{_id}` only.
    fn assert_every_update_is_guarded(writes: &[Write], seq: i64) {
        // A score computed again is absolute: it needs no guard.
        for write in writes.iter().filter(|w| w.collection != RESCORE) {
            if write.upsert && !write.is_guarded_upsert() {
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
                let sets = if write.is_replacement() {
                    &write.update
                } else {
                    write.update.get_document("$set").expect("sets seq")
                };
                assert_eq!(sets.get_i64("seq"), Ok(seq), "{write:?}");
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
                proposer_name: None,
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
        assert!(moderated.iter().all(|w| w.collection != PROJECTS));
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
                author_name: None,
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

    fn vote(thread_id: ThreadId, project_id: ProjectId) -> Envelope {
        envelope(Event::VoteCast {
            thread_id,
            project_id,
            voter: UserId::parse("bob").expect("valid"),
            direction: Direction::Up,
            previous: Direction::None,
        })
    }

    fn moves_score(writes: &[Write]) -> bool {
        writes.iter().any(|w| {
            w.collection == PROJECTS
                && w.update
                    .get_document("$inc")
                    .is_ok_and(|inc| inc.contains_key("score"))
        })
    }

    #[test]
    fn votes_on_a_rejected_or_withdrawn_thread_leave_the_project_score_alone() {
        let (thread_id, project_id) = (ThreadId::new(), ProjectId::new());
        let mut uncounted = Uncounted::default();
        assert!(moves_score(&super::writes(
            1,
            &vote(thread_id, project_id),
            &mut uncounted
        )));
        let rejected = envelope(Event::ThreadModerated {
            thread_id,
            project_id,
            status: ModerationStatus::Rejected,
            reason: Some("off topic".into()),
            moderator: None,
        });
        let decided = super::writes(2, &rejected, &mut uncounted);
        let set = decided[0].update.get_document("$set").expect("set");
        assert_eq!(set.get_str("moderation_reason"), Ok("off topic"));
        assert_eq!(set.get_i64("status_seq"), Ok(2));
        assert!(decided.iter().any(|w| w.collection == RESCORE));
        let later = super::writes(3, &vote(thread_id, project_id), &mut uncounted);
        assert!(!moves_score(&later), "not while rejected");
        assert!(
            later.iter().any(|w| w.collection == THREADS),
            "the thread still counts it"
        );
        let edited = envelope(Event::ThreadEdited {
            thread_id,
            project_id,
            message: "m".into(),
        });
        super::writes(4, &edited, &mut uncounted);
        assert!(moves_score(&super::writes(
            5,
            &vote(thread_id, project_id),
            &mut uncounted
        )));
        let withdrawn = envelope(Event::ThreadWithdrawn {
            thread_id,
            project_id,
            parent_thread_id: None,
            thread_type: ThreadType::Comment,
            by: UserId::parse("bob").expect("valid"),
        });
        super::writes(6, &withdrawn, &mut uncounted);
        assert!(
            super::writes(7, &vote(thread_id, project_id), &mut uncounted).is_empty(),
            "a vote after a withdrawal is recorded nowhere"
        );
    }

    #[test]
    fn only_top_level_threads_count_by_type_and_a_withdrawal_takes_its_counts_back() {
        let project_id = ProjectId::new();
        let parent = ThreadId::new();
        let started = |parent_thread_id| {
            writes(
                3,
                &envelope(Event::ThreadStarted {
                    thread_id: ThreadId::new(),
                    project_id,
                    parent_thread_id,
                    thread_type: ThreadType::Problem,
                    message: "m".into(),
                    author: UserId::parse("a").expect("valid"),
                    author_name: Some("A".into()),
                }),
            )
        };
        let inc = |writes: &[Write]| {
            writes
                .iter()
                .find(|w| w.collection == PROJECTS)
                .and_then(|w| w.update.get_document("$inc").ok().cloned())
                .expect("counts")
        };
        assert_eq!(
            inc(&started(None)),
            doc! {"thread_count": 1_i64, "problem_count": 1_i64}
        );
        assert_eq!(inc(&started(Some(parent))), doc! {"thread_count": 1_i64});
        let created = started(None)[0]
            .update
            .get_document("$setOnInsert")
            .expect("fields")
            .clone();
        assert_eq!(created.get_str("author_name"), Ok("A"));
        let withdrawn = writes(
            9,
            &envelope(Event::ThreadWithdrawn {
                thread_id: ThreadId::new(),
                project_id,
                parent_thread_id: Some(parent),
                thread_type: ThreadType::Comment,
                by: UserId::parse("a").expect("valid"),
            }),
        );
        assert_eq!(inc(&withdrawn), doc! {"thread_count": -1_i64});
        assert!(withdrawn.iter().any(|w| {
            w.collection == THREADS
                && w.filter.get_str("_id") == Ok(parent.to_string().as_str())
                && w.update
                    .get_document("$inc")
                    .is_ok_and(|i| i.get_i64("reply_count") == Ok(-1))
        }));
        assert!(withdrawn.iter().any(|w| w.collection == RESCORE));
    }
}
