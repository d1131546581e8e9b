//! What the read API answers: the JSON shapes of the contract, and their
//! OpenAPI schemas.

use flow_domain::{Actor, Direction};
use flow_readmodel::{ModerationStatus, ProjectDoc, TagDoc, ThreadDoc, ThreadType};
use serde::Serialize;
use utoipa::ToSchema;

/// A project as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectSummary {
    #[schema(format = "uuid")]
    pub project_id: String,
    pub project_name: String,
    pub tagline: String,
    /// Lower-cased, at most 10.
    pub tags: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Every thread of the project, replies included; withdrawn ones left out.
    pub thread_count: i64,
    /// Top-level PROBLEM threads (what `GET /projects/{id}/threads?type=PROBLEM` pages through).
    pub problem_count: i64,
    /// Top-level SOLUTION threads, likewise.
    pub solution_count: i64,
    /// Top-level COMMENT threads, likewise.
    pub comment_count: i64,
    /// The `name` claim of the proposer's token; `null` when it had none.
    pub proposer_name: Option<String>,
    /// The sum over the project's threads that are neither rejected nor
    /// withdrawn of `up_vote - down_vote` (the key of `sort=top`).
    pub score: i64,
    /// When a thread of the project was last started, edited or voted on, or
    /// the project proposed (RFC 3339; the key of `sort=active`).
    pub last_activity_at: Option<String>,
}

impl From<&ProjectDoc> for ProjectSummary {
    fn from(p: &ProjectDoc) -> Self {
        Self {
            project_id: p.project_id.clone(),
            project_name: p.project_name.clone(),
            tagline: p.tagline.clone(),
            tags: p.tags.clone(),
            created_at: p.created_at.clone(),
            thread_count: p.thread_count,
            problem_count: p.problem_count,
            solution_count: p.solution_count,
            comment_count: p.comment_count,
            proposer_name: p.proposer_name.clone(),
            score: p.score,
            last_activity_at: p
                .last_activity_at
                .clone()
                .or_else(|| Some(p.created_at.clone())),
        }
    }
}

/// A project with its proposer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub summary: ProjectSummary,
    /// The user id of the proposer.
    pub proposer: String,
}

impl From<&ProjectDoc> for ProjectDetail {
    fn from(p: &ProjectDoc) -> Self {
        Self {
            summary: p.into(),
            proposer: p.proposer.clone(),
        }
    }
}

/// A page of projects.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectSummary>,
    /// Give this as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A thread as listed and shown, as the reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadView {
    #[schema(format = "uuid")]
    pub thread_id: String,
    #[schema(format = "uuid")]
    pub project_id: String,
    #[schema(format = "uuid")]
    pub parent_thread_id: Option<String>,
    /// `PROBLEM`, `SOLUTION` or `COMMENT`.
    #[schema(value_type = String)]
    pub thread_type: ThreadType,
    /// The text: shown to everyone while the thread is `approved`; while it
    /// is `pending` or `rejected` only to its author and to moderators
    /// (`null` for everyone else); `null` for everyone once `withdrawn`.
    pub message: Option<String>,
    /// Whether `message` is withheld from this reader (`null` for that reason).
    pub message_withheld: bool,
    pub up_vote: i64,
    pub down_vote: i64,
    /// Replies, withdrawn ones left out.
    pub reply_count: i64,
    #[schema(value_type = ThreadStatus)]
    pub status: ModerationStatus,
    /// Why the thread was rejected (the moderator's reason, or the automatic
    /// moderator's, naming the banned word). Shown to the author and to
    /// moderators only: `null` for everyone else, and when there is none.
    pub moderation_reason: Option<String>,
    /// The reader's vote on the thread: `up`, `down` or `none`; `null` when
    /// the read is anonymous.
    #[schema(value_type = Option<Direction>)]
    pub my_vote: Option<Direction>,
    /// The user id of the author.
    pub author: String,
    /// The `name` claim of the author's token; `null` when it had none.
    pub author_name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; `null` until edited.
    pub edited_at: Option<String>,
}

/// Where a thread stands.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ThreadStatus {
    /// Waiting for moderation (new or edited).
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by its author or a moderator: out of every listing.
    Withdrawn,
}

/// Who reads a thread, and their votes: what decides what they see of it.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub actor: Option<&'a Actor>,
}

impl Reader<'_> {
    /// Whether this reader sees what only the author and moderators see.
    pub fn is_privileged_for(&self, thread: &ThreadDoc) -> bool {
        self.actor
            .is_some_and(|a| a.is_moderator() || a.user_id.as_str() == thread.author)
    }

    /// The thread as this reader sees it; `vote` is their vote on it (for an
    /// authenticated reader: `None` when they have none).
    pub fn view(&self, t: &ThreadDoc, vote: Option<Direction>) -> ThreadView {
        let privileged = self.is_privileged_for(t);
        let shown = match t.status {
            ModerationStatus::Approved => true,
            ModerationStatus::Pending | ModerationStatus::Rejected => privileged,
            ModerationStatus::Withdrawn => false,
        };
        ThreadView {
            thread_id: t.thread_id.clone(),
            project_id: t.project_id.clone(),
            parent_thread_id: t.parent_thread_id.clone(),
            thread_type: t.thread_type,
            message: shown.then(|| t.message.clone()),
            message_withheld: !shown,
            up_vote: t.up_vote,
            down_vote: t.down_vote,
            reply_count: t.reply_count,
            status: t.status,
            moderation_reason: t.moderation_reason.clone().filter(|_| privileged),
            my_vote: self.actor.map(|_| vote.unwrap_or(Direction::None)),
            author: t.author.clone(),
            author_name: t.author_name.clone(),
            created_at: t.created_at.clone(),
            edited_at: t.edited_at.clone(),
        }
    }
}

/// A page of threads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadPage {
    pub items: Vec<ThreadView>,
    /// Give this as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A thread with its replies, oldest first (at most 100).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadWithReplies {
    #[serde(flatten)]
    pub thread: ThreadView,
    pub replies: Vec<ThreadView>,
}

/// A tag and how many projects carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub project_count: i64,
}

impl From<&TagDoc> for TagCount {
    fn from(t: &TagDoc) -> Self {
        Self {
            tag: t.tag.clone(),
            project_count: t.project_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use flow_domain::UserId;

    use super::*;

    fn thread(status: ModerationStatus) -> ThreadDoc {
        ThreadDoc {
            thread_id: "t".into(),
            project_id: "p".into(),
            parent_thread_id: None,
            thread_type: ThreadType::Problem,
            message: "the text".into(),
            up_vote: 0,
            down_vote: 0,
            score: 0,
            reply_count: 0,
            status,
            moderation_reason: Some("a reason".into()),
            status_seq: 1,
            author: "alice".into(),
            author_name: Some("Alice".into()),
            created_at: "c".into(),
            edited_at: None,
            created_seq: 1,
            seq: 1,
        }
    }

    fn actor(user: &str, roles: &[&str]) -> Actor {
        Actor {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..Actor::new(UserId::parse(user).expect("a user id"))
        }
    }

    #[test]
    fn withheld_text_and_reasons_are_for_the_author_and_moderators() {
        let (alice, bob, moderator) = (
            actor("alice", &[]),
            actor("bob", &[]),
            actor("mod", &["moderator"]),
        );
        let readers = [
            (None, false),
            (Some(&bob), false),
            (Some(&alice), true),
            (Some(&moderator), true),
        ];
        for status in [ModerationStatus::Pending, ModerationStatus::Rejected] {
            for (who, sees) in readers {
                let view = Reader { actor: who }.view(&thread(status), None);
                assert_eq!(view.message.is_some(), sees, "{status:?} {who:?}");
                assert_eq!(view.message_withheld, !sees);
                assert_eq!(view.moderation_reason.is_some(), sees);
            }
        }
        for (who, privileged) in readers {
            let approved = Reader { actor: who }.view(&thread(ModerationStatus::Approved), None);
            assert_eq!(approved.message.as_deref(), Some("the text"));
            assert!(!approved.message_withheld);
            assert_eq!(approved.moderation_reason.is_some(), privileged);
            let withdrawn = Reader { actor: who }.view(&thread(ModerationStatus::Withdrawn), None);
            assert_eq!(withdrawn.message, None);
            assert!(withdrawn.message_withheld);
        }
    }

    #[test]
    fn my_vote_is_null_only_when_anonymous() {
        let bob = actor("bob", &[]);
        let t = thread(ModerationStatus::Approved);
        assert_eq!(
            Reader { actor: None }.view(&t, Some(Direction::Up)).my_vote,
            None
        );
        assert_eq!(
            Reader { actor: Some(&bob) }.view(&t, None).my_vote,
            Some(Direction::None)
        );
        assert_eq!(
            Reader { actor: Some(&bob) }
                .view(&t, Some(Direction::Down))
                .my_vote,
            Some(Direction::Down)
        );
    }
}
