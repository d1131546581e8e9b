//! The documents of the read model and the names of their fields.

pub use flow_domain::{ModerationStatus, ThreadType};
use serde::{Deserialize, Serialize};

/// The names of the fields the queries and indexes name, as the document
/// types below write them (a test checks that they do).
pub mod field {
    /// Every document's key.
    pub const ID: &str = "_id";
    /// The stream sequence of the last event that changed a document.
    pub const SEQ: &str = "seq";
    /// The stream sequence that created a project or thread.
    pub const CREATED_SEQ: &str = "created_seq";
    /// `up_vote - down_vote` of a thread, or its sum over a project's threads.
    pub const SCORE: &str = "score";
    pub const LAST_ACTIVITY_SEQ: &str = "last_activity_seq";
    pub const TAGS: &str = "tags";
    pub const SEARCH_PREFIXES: &str = "search_prefixes";
    pub const PROJECT_ID: &str = "project_id";
    pub const PARENT_THREAD_ID: &str = "parent_thread_id";
    pub const THREAD_TYPE: &str = "thread_type";
    pub const STATUS: &str = "status";
    pub const TAG: &str = "tag";
    pub const PROJECT_COUNT: &str = "project_count";
    pub const PROJECT_NAME: &str = "project_name";
    pub const TAGLINE: &str = "tagline";
    pub const PROPOSER: &str = "proposer";
    pub const CREATED_AT: &str = "created_at";
    pub const THREAD_COUNT: &str = "thread_count";
    pub const PROBLEM_COUNT: &str = "problem_count";
    pub const SOLUTION_COUNT: &str = "solution_count";
    pub const LAST_ACTIVITY_AT: &str = "last_activity_at";
    pub const MESSAGE: &str = "message";
    pub const UP_VOTE: &str = "up_vote";
    pub const DOWN_VOTE: &str = "down_vote";
    pub const REPLY_COUNT: &str = "reply_count";
    pub const AUTHOR: &str = "author";
    pub const EDITED_AT: &str = "edited_at";
    pub const COMMENT_COUNT: &str = "comment_count";
    /// The `name` claim of the proposer's token.
    pub const PROPOSER_NAME: &str = "proposer_name";
    /// The `name` claim of the author's token.
    pub const AUTHOR_NAME: &str = "author_name";
    /// Why a thread was rejected (the moderator's or the automatic moderator's reason).
    pub const MODERATION_REASON: &str = "moderation_reason";
    /// The stream sequence at which a thread entered its current status: the
    /// key of the moderation queues (oldest first).
    pub const STATUS_SEQ: &str = "status_seq";
    /// Of a vote document: the thread voted on.
    pub const THREAD_ID: &str = "thread_id";
    /// Of a vote document: the voter's user id.
    pub const VOTER: &str = "voter";
    /// Of a vote document: `up`, `down` or `none`.
    pub const DIRECTION: &str = "direction";
    /// Of a hidden-project document: the user's id.
    pub const USER: &str = "user";
    /// Of a hidden-project document: whether the user hides the project now.
    pub const HIDDEN: &str = "hidden";
    /// Of a hidden-project document: when the user last hid it (a stream
    /// sequence): the key of `GET /me/hidden`.
    pub const HIDDEN_SEQ: &str = "hidden_seq";
    /// Of a user document: the tags the user follows.
    pub const FOLLOWED_TAGS: &str = "followed_tags";
    /// Of the position document in [`PROJECTOR_STATE`](crate::PROJECTOR_STATE).
    pub const POSITION: &str = "position";
    /// Of the position document: the largest batch span any run recorded,
    /// so that a later run knows how far past the position an earlier one
    /// may have written.
    pub const MAX_BATCH: &str = "max_batch";
    /// Of the active-generation document in [`PROJECTOR_STATE`](crate::PROJECTOR_STATE).
    pub const GENERATION: &str = "generation";
}

/// A project as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDoc {
    #[serde(rename = "_id")]
    pub project_id: String,
    pub project_name: String,
    pub tagline: String,
    pub tags: Vec<String>,
    pub proposer: String,
    /// The `name` claim of the proposer's token (`None` when it had none, and
    /// in documents projected before it existed).
    #[serde(default)]
    pub proposer_name: Option<String>,
    pub created_at: String,
    /// The stream sequence of the proposal: the stable key of `sort=new`.
    pub created_seq: i64,
    /// Every thread of the project but withdrawn ones, replies included.
    pub thread_count: i64,
    /// Top-level PROBLEM threads, withdrawn ones left out (what
    /// `GET /projects/{id}/threads?type=PROBLEM` pages through).
    pub problem_count: i64,
    /// Top-level SOLUTION threads, likewise.
    pub solution_count: i64,
    /// Top-level COMMENT threads, likewise.
    #[serde(default)]
    pub comment_count: i64,
    /// The sum over the project's threads (replies included) that are
    /// neither rejected nor withdrawn of `up_vote - down_vote`: the key of
    /// `sort=top`. Absent (0) in documents projected before it existed.
    #[serde(default)]
    pub score: i64,
    /// The stream sequence of the latest activity: the proposal, or a thread
    /// of the project started, edited or voted on. The key of `sort=active`.
    #[serde(default)]
    pub last_activity_seq: i64,
    /// When that activity happened (RFC 3339).
    #[serde(default)]
    pub last_activity_at: Option<String>,
    pub seq: i64,
}

/// How many projects carry a tag. Kept at zero when the last project drops
/// it, so that every later change still finds the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagDoc {
    /// The tag.
    #[serde(rename = "_id")]
    pub id: String,
    /// The tag again, as a plain field: the local server cannot index `_id`
    /// in a compound index, and `GET /tags` sorts ties by name.
    pub tag: String,
    pub project_count: i64,
    pub seq: i64,
}

/// A thread as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadDoc {
    #[serde(rename = "_id")]
    pub thread_id: String,
    pub project_id: String,
    pub parent_thread_id: Option<String>,
    pub thread_type: ThreadType,
    pub message: String,
    pub up_vote: i64,
    pub down_vote: i64,
    /// `up_vote - down_vote`: the key of `sort=top`.
    pub score: i64,
    /// Replies, withdrawn ones left out.
    pub reply_count: i64,
    pub status: ModerationStatus,
    /// Why the thread was rejected; `None` unless it is.
    #[serde(default)]
    pub moderation_reason: Option<String>,
    /// When the thread entered its status (a stream sequence): the key of
    /// the moderation queues. 0 in documents projected before it existed.
    #[serde(default)]
    pub status_seq: i64,
    pub author: String,
    /// The `name` claim of the author's token.
    #[serde(default)]
    pub author_name: Option<String>,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub created_seq: i64,
    pub seq: i64,
}

/// One user's vote on one thread (what `my_vote` answers), under
/// [`VoteDoc::id`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoteDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub thread_id: String,
    pub voter: String,
    pub direction: flow_domain::Direction,
    pub seq: i64,
}

impl VoteDoc {
    /// The key of a user's vote on a thread: found by key for every thread
    /// of a page at once, with no index of its own.
    pub fn id(thread_id: &str, voter: &str) -> String {
        format!("{thread_id}.{}", flow_domain::events::digest_key(voter))
    }
}

/// One user's choice to hide one project from their listings, under
/// [`HiddenDoc::id`]; kept with `hidden: false` once undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub user: String,
    pub project_id: String,
    pub hidden: bool,
    pub hidden_seq: i64,
    pub seq: i64,
}

impl HiddenDoc {
    /// The key of a user's choice on a project: a page of projects is
    /// checked against the user's hidden ones by key, whatever their number.
    pub fn id(user: &str, project_id: &str) -> String {
        format!("{}.{project_id}", flow_domain::events::digest_key(user))
    }
}

/// What a user chose for themselves: the tags they follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDoc {
    /// The user's id.
    #[serde(rename = "_id")]
    pub id: String,
    pub followed_tags: Vec<String>,
    pub seq: i64,
}

/// The projector's durable position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionDoc {
    pub position: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread document with the given status and type.
    fn thread(status: ModerationStatus, thread_type: ThreadType) -> ThreadDoc {
        ThreadDoc {
            thread_id: "t".into(),
            project_id: "p".into(),
            parent_thread_id: None,
            thread_type,
            message: "m".into(),
            up_vote: 0,
            down_vote: 0,
            score: 0,
            reply_count: 0,
            status,
            moderation_reason: None,
            status_seq: 1,
            author: "u".into(),
            author_name: None,
            created_at: "c".into(),
            edited_at: None,
            created_seq: 1,
            seq: 1,
        }
    }

    fn keys<T: Serialize>(document: &T) -> Vec<String> {
        mongodb::bson::to_document(document)
            .expect("BSON")
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn the_field_names_are_the_documents() {
        let project = ProjectDoc {
            project_id: "p".into(),
            project_name: "n".into(),
            tagline: "t".into(),
            tags: vec![],
            proposer: "u".into(),
            proposer_name: None,
            created_at: "c".into(),
            created_seq: 1,
            thread_count: 0,
            problem_count: 0,
            solution_count: 0,
            comment_count: 0,
            score: 0,
            last_activity_seq: 1,
            last_activity_at: None,
            seq: 1,
        };
        let thread = thread(ModerationStatus::Pending, ThreadType::Problem);
        let tag = TagDoc {
            id: "x".into(),
            tag: "x".into(),
            project_count: 1,
            seq: 1,
        };
        let (project, thread, tag) = (keys(&project), keys(&thread), keys(&tag));
        for name in [field::ID, field::SEQ, field::CREATED_SEQ, field::SCORE] {
            assert!(
                project.contains(&name.into()) && thread.contains(&name.into()),
                "{name}"
            );
        }
        for name in [field::AUTHOR, field::CREATED_AT] {
            assert!(thread.contains(&name.into()), "{name}");
        }
        for name in [
            field::LAST_ACTIVITY_SEQ,
            field::TAGS,
            field::PROJECT_NAME,
            field::TAGLINE,
            field::PROPOSER,
            field::CREATED_AT,
            field::THREAD_COUNT,
            field::PROBLEM_COUNT,
            field::SOLUTION_COUNT,
            field::LAST_ACTIVITY_AT,
            field::COMMENT_COUNT,
            field::PROPOSER_NAME,
        ] {
            assert!(project.contains(&name.into()), "{name}");
        }
        for name in [
            field::PROJECT_ID,
            field::PARENT_THREAD_ID,
            field::THREAD_TYPE,
            field::STATUS,
            field::MESSAGE,
            field::UP_VOTE,
            field::DOWN_VOTE,
            field::REPLY_COUNT,
            field::EDITED_AT,
            field::MODERATION_REASON,
            field::STATUS_SEQ,
            field::AUTHOR_NAME,
        ] {
            assert!(thread.contains(&name.into()), "{name}");
        }
        for name in [field::ID, field::TAG, field::PROJECT_COUNT] {
            assert!(tag.contains(&name.into()), "{name}");
        }
        let vote = keys(&VoteDoc {
            id: VoteDoc::id("t", "u"),
            thread_id: "t".into(),
            voter: "u".into(),
            direction: flow_domain::Direction::Up,
            seq: 1,
        });
        for name in [
            field::ID,
            field::THREAD_ID,
            field::VOTER,
            field::DIRECTION,
            field::SEQ,
        ] {
            assert!(vote.contains(&name.into()), "{name}");
        }
        let position = keys(&PositionDoc { position: 1 });
        assert_eq!(position, [field::POSITION]);
    }

    #[test]
    fn status_and_type_are_stored_as_before() {
        let stored = |status: ModerationStatus, kind: ThreadType| {
            let d = mongodb::bson::to_document(&thread(status, kind)).expect("BSON");
            (
                d.get_str(field::STATUS).expect("status").to_owned(),
                d.get_str(field::THREAD_TYPE).expect("type").to_owned(),
            )
        };
        assert_eq!(
            stored(ModerationStatus::Rejected, ThreadType::Solution),
            ("rejected".to_owned(), "SOLUTION".to_owned())
        );
        assert_eq!(
            stored(ModerationStatus::Pending, ThreadType::Comment),
            ("pending".to_owned(), "COMMENT".to_owned())
        );
    }
}
