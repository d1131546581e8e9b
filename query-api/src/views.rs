//! What the read API answers: the JSON shapes of the contract, and their
//! OpenAPI schemas.

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
    pub thread_count: i64,
    pub problem_count: i64,
    pub solution_count: i64,
    /// The sum over the project's threads of `up_vote - down_vote` (the key of `sort=top`).
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

/// A thread as listed and shown.
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
    /// `null` while the thread is `rejected`: it keeps its place, its message is withheld.
    pub message: Option<String>,
    pub message_withheld: bool,
    pub up_vote: i64,
    pub down_vote: i64,
    pub reply_count: i64,
    /// `pending`, `approved` or `rejected`.
    #[schema(value_type = String)]
    pub status: ModerationStatus,
    pub author: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; `null` until edited.
    pub edited_at: Option<String>,
}

impl From<&ThreadDoc> for ThreadView {
    fn from(t: &ThreadDoc) -> Self {
        let withheld = t.status == ModerationStatus::Rejected;
        Self {
            thread_id: t.thread_id.clone(),
            project_id: t.project_id.clone(),
            parent_thread_id: t.parent_thread_id.clone(),
            thread_type: t.thread_type,
            message: (!withheld).then(|| t.message.clone()),
            message_withheld: withheld,
            up_vote: t.up_vote,
            down_vote: t.down_vote,
            reply_count: t.reply_count,
            status: t.status,
            author: t.author.clone(),
            created_at: t.created_at.clone(),
            edited_at: t.edited_at.clone(),
        }
    }
}

/// A page of top-level threads.
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
