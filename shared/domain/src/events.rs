//! Events, their envelope and the subjects they travel on.
//!
//! Every aggregate has its own subject under `<prefix>.evt.`, so that the
//! stream can check the expected last sequence of exactly that aggregate:
//!
//! | aggregate | subject |
//! |---|---|
//! | project name claim | `<prefix>.evt.name.<digest of the name's key>` (claimed, released, claimed again) |
//! | project | `<prefix>.evt.project.<project_id>` |
//! | thread | `<prefix>.evt.thread.<thread_id>` |
//! | one user's vote on one thread | `<prefix>.evt.vote.<thread_id>.<digest of the user id>` |
//! | one user's choice to hide one project | `<prefix>.evt.user.<digest of the user id>.hidden.<project_id>` |
//! | the tags one user follows | `<prefix>.evt.user.<digest of the user id>.tags` |

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::model::digest_key;
use crate::model::{Direction, ModerationStatus, ProjectId, Tag, ThreadId, ThreadType, UserId};

/// The schema version written into every new envelope.
pub const SCHEMA_VERSION: u16 = 1;

/// Something that happened, named in the past tense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A project name was taken; the subject is unique per name, so a second
    /// claim of the same name (in any case) is refused by the stream.
    ProjectNameClaimed {
        name_key: String,
        project_id: ProjectId,
    },
    ProjectProposed {
        project_id: ProjectId,
        project_name: String,
        tagline: String,
        tags: Vec<Tag>,
        proposer: UserId,
        /// The `name` claim of the proposer's token (absent in events
        /// recorded before it existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proposer_name: Option<String>,
    },
    /// The proposer changed the project's name or tagline: both as they are
    /// now. A new name is claimed, and the old one released, in the same
    /// atomic batch.
    ProjectChanged {
        project_id: ProjectId,
        project_name: String,
        tagline: String,
        /// The key the project's name is claimed under now.
        name_key: String,
    },
    /// A project gave up the claim on a name (it was renamed): the name is
    /// free for others again.
    ProjectNameReleased {
        name_key: String,
        project_id: ProjectId,
    },
    /// The project's tags after the change (`tags`), and what changed.
    ProjectTagsChanged {
        project_id: ProjectId,
        tags: Vec<Tag>,
        /// Tags the project did not have before. Empty in events recorded
        /// before this field existed.
        #[serde(default)]
        added: Vec<Tag>,
        /// Tags the project had before and no longer has. Empty in events
        /// recorded before this field existed.
        #[serde(default)]
        removed: Vec<Tag>,
    },
    ThreadStarted {
        thread_id: ThreadId,
        project_id: ProjectId,
        parent_thread_id: Option<ThreadId>,
        thread_type: ThreadType,
        message: String,
        author: UserId,
        /// The `name` claim of the author's token (absent in events recorded
        /// before it existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author_name: Option<String>,
    },
    ThreadEdited {
        thread_id: ThreadId,
        project_id: ProjectId,
        message: String,
    },
    ThreadModerated {
        thread_id: ThreadId,
        project_id: ProjectId,
        status: ModerationStatus,
        reason: Option<String>,
        /// `None` for the automatic moderator.
        moderator: Option<UserId>,
    },
    /// The thread was withdrawn by its author or a moderator: it leaves every
    /// listing and count, and its votes leave its project's score. Where it
    /// stood is repeated here, so that the counts can follow from the event.
    ThreadWithdrawn {
        thread_id: ThreadId,
        project_id: ProjectId,
        parent_thread_id: Option<ThreadId>,
        thread_type: ThreadType,
        /// Who withdrew it.
        by: UserId,
    },
    /// A user hid a project from their own listings.
    ProjectHidden { user: UserId, project_id: ProjectId },
    /// A user showed a project they had hidden again.
    ProjectUnhidden { user: UserId, project_id: ProjectId },
    /// The tags a user follows now (the whole set).
    TagsFollowed { user: UserId, tags: Vec<Tag> },
    /// A user's vote on a thread changed from `previous` to `direction`.
    VoteCast {
        thread_id: ThreadId,
        project_id: ProjectId,
        voter: UserId,
        direction: Direction,
        previous: Direction,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProjectNameClaimed { .. } => "ProjectNameClaimed",
            Self::ProjectProposed { .. } => "ProjectProposed",
            Self::ProjectTagsChanged { .. } => "ProjectTagsChanged",
            Self::ProjectChanged { .. } => "ProjectChanged",
            Self::ProjectNameReleased { .. } => "ProjectNameReleased",
            Self::ThreadWithdrawn { .. } => "ThreadWithdrawn",
            Self::ProjectHidden { .. } => "ProjectHidden",
            Self::ProjectUnhidden { .. } => "ProjectUnhidden",
            Self::TagsFollowed { .. } => "TagsFollowed",
            Self::ThreadStarted { .. } => "ThreadStarted",
            Self::ThreadEdited { .. } => "ThreadEdited",
            Self::ThreadModerated { .. } => "ThreadModerated",
            Self::VoteCast { .. } => "VoteCast",
        }
    }

    /// The subject of the aggregate this event belongs to.
    pub fn subject(&self, subjects: &Subjects) -> String {
        match self {
            Self::ProjectNameClaimed { name_key, .. }
            | Self::ProjectNameReleased { name_key, .. } => subjects.name(name_key),
            Self::ProjectProposed { project_id, .. }
            | Self::ProjectTagsChanged { project_id, .. }
            | Self::ProjectChanged { project_id, .. } => subjects.project(*project_id),
            Self::ThreadStarted { thread_id, .. }
            | Self::ThreadEdited { thread_id, .. }
            | Self::ThreadModerated { thread_id, .. }
            | Self::ThreadWithdrawn { thread_id, .. } => subjects.thread(*thread_id),
            Self::VoteCast {
                thread_id, voter, ..
            } => subjects.vote(*thread_id, voter),
            Self::ProjectHidden { user, project_id }
            | Self::ProjectUnhidden { user, project_id } => subjects.hidden(user, *project_id),
            Self::TagsFollowed { user, .. } => subjects.followed_tags(user),
        }
    }
}

impl Event {
    /// Whether the event is the first of its aggregate, so that its subject
    /// must be empty when it is appended.
    pub fn creates_subject(&self) -> bool {
        matches!(
            self,
            Self::ProjectProposed { .. } | Self::ThreadStarted { .. }
        )
    }
}

/// The envelope every event travels in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    #[serde(flatten)]
    pub event: Event,
    pub version: u16,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The user on whose behalf the event was recorded; `system` for automatic ones.
    pub actor: String,
}

impl Envelope {
    pub fn new(event: Event, actor: &str, occurred_at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            event,
            version: SCHEMA_VERSION,
            occurred_at,
            actor: actor.to_owned(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // An envelope is plain data: serialising it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Builds subjects under one prefix (one per deployment, or per test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Every event subject: what the stream captures.
    pub fn all_events(&self) -> String {
        format!("{}.evt.>", self.prefix)
    }

    pub fn name(&self, name_key: &str) -> String {
        format!("{}.evt.name.{name_key}", self.prefix)
    }

    pub fn project(&self, id: ProjectId) -> String {
        format!("{}.evt.project.{id}", self.prefix)
    }

    pub fn thread(&self, id: ThreadId) -> String {
        format!("{}.evt.thread.{id}", self.prefix)
    }

    pub fn vote(&self, thread: ThreadId, voter: &UserId) -> String {
        format!(
            "{}.evt.vote.{thread}.{}",
            self.prefix,
            digest_key(voter.as_str())
        )
    }

    /// One user's choice to hide one project (a subject of that user's own).
    pub fn hidden(&self, user: &UserId, project: ProjectId) -> String {
        format!(
            "{}.evt.user.{}.hidden.{project}",
            self.prefix,
            digest_key(user.as_str())
        )
    }

    /// The tags one user follows (a subject of that user's own).
    pub fn followed_tags(&self, user: &UserId) -> String {
        format!(
            "{}.evt.user.{}.tags",
            self.prefix,
            digest_key(user.as_str())
        )
    }

    /// Where the projector announces its applied position (core NATS, not stored).
    pub fn position(&self) -> String {
        format!("{}.projector.position", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_through_json() {
        let env = Envelope::new(
            Event::ProjectTagsChanged {
                project_id: ProjectId::new(),
                tags: vec![Tag::parse("Circus").expect("valid tag")],
                added: vec![Tag::parse("circus").expect("valid tag")],
                removed: vec![Tag::parse("clown").expect("valid tag")],
            },
            "alice",
            OffsetDateTime::UNIX_EPOCH,
        );
        let json = env.to_json();
        let text = String::from_utf8(json.clone()).expect("utf-8");
        assert!(text.contains(r#""type":"ProjectTagsChanged""#), "{text}");
        assert!(text.contains(r#""tags":["circus"]"#), "{text}");
        assert_eq!(Envelope::from_json(&json).expect("decodes"), env);
    }

    #[test]
    fn tag_changes_recorded_before_added_and_removed_existed_still_decode() {
        let old = br#"{"id":"0199b7c4-0000-7000-8000-000000000000","type":"ProjectTagsChanged","data":{"project_id":"0199b7c4-0000-7000-8000-000000000001","tags":["circus"]},"version":1,"occurred_at":"2026-01-01T00:00:00Z","actor":"alice"}"#;
        let env = Envelope::from_json(old).expect("decodes");
        let Event::ProjectTagsChanged {
            tags,
            added,
            removed,
            ..
        } = env.event
        else {
            panic!("a tag change");
        };
        assert_eq!(tags, [Tag::parse("circus").expect("valid")]);
        assert!(added.is_empty() && removed.is_empty());
    }

    #[test]
    fn subjects_are_per_aggregate_and_subject_safe() {
        let s = Subjects::new("flow");
        let voter = UserId::parse("user.with.dots *>").expect("valid user");
        let thread = ThreadId::new();
        let subject = s.vote(thread, &voter);
        assert!(subject.starts_with(&format!("flow.evt.vote.{thread}.")));
        assert!(!subject.contains('*') && !subject.contains('>') && !subject.contains(' '));
        assert_eq!(subject.split('.').count(), 5);
        assert_eq!(digest_key("Popee"), digest_key("Popee"));
        assert_ne!(digest_key("popee"), digest_key("Popee"));
    }
}
