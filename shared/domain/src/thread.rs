//! The thread aggregate: start (top-level or reply), edit, moderation.

use serde::{Deserialize, Serialize};

use super::{
    Actor, Aggregate, DomainError, Errors, Message, ModerationStatus, ProjectId, ThreadId,
    ThreadType, UserId,
};
use crate::events::Event;
use crate::project::Project;

/// The body of `POST /projects/{project_id}/threads`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"thread_type": "COMMENT", "message": "Try juggling."})))]
pub struct StartThreadRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = ThreadType, required = true))]
    pub thread_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Message, required = true))]
    pub message: Option<String>,
    /// A thread of the same project, for a reply.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub parent_thread_id: Option<String>,
}

/// A valid request to start a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartThread {
    pub thread_type: ThreadType,
    pub message: Message,
    pub parent_thread_id: Option<ThreadId>,
}

impl StartThread {
    pub fn parse(raw: StartThreadRequest) -> Result<Self, DomainError> {
        let mut errors = Errors::default();
        let thread_type = match raw.thread_type {
            Some(t) => errors.take("thread_type", ThreadType::parse(&t)),
            None => {
                errors.push("thread_type", "thread_type is required");
                None
            }
        };
        let message = parse_message(&mut errors, raw.message);
        let parent_thread_id = raw
            .parent_thread_id
            .and_then(|p| errors.take("parent_thread_id", ThreadId::parse(&p)));
        errors.into_result()?;
        match (thread_type, message) {
            (Some(thread_type), Some(message)) => Ok(Self {
                thread_type,
                message,
                parent_thread_id,
            }),
            _ => Err(DomainError::Validation(Vec::new())),
        }
    }
}

fn parse_message(errors: &mut Errors, raw: Option<String>) -> Option<Message> {
    match raw {
        Some(m) => errors.take("message", Message::parse(&m)),
        None => {
            errors.push("message", "message is required");
            None
        }
    }
}

/// The body of `PATCH /threads/{thread_id}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"message": "Try juggling, with three balls."})))]
pub struct EditThreadRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Message, required = true))]
    pub message: Option<String>,
}

impl EditThreadRequest {
    pub fn parse(self) -> Result<Message, DomainError> {
        let mut errors = Errors::default();
        let message = parse_message(&mut errors, self.message);
        errors.into_result()?;
        message.ok_or(DomainError::Validation(Vec::new()))
    }
}

/// The body of `POST /threads/{thread_id}/moderation` (moderators only).
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "rejected", "reason": "off topic"})))]
pub struct ModerateRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::Decision, required = true))]
    pub status: Option<String>,
    /// At most 1,000 characters once trimmed; blank means none.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: Option<String>,
}

/// A moderator's valid decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderate {
    pub status: ModerationStatus,
    pub reason: Option<String>,
}

/// A moderation reason is at most this long.
pub const MAX_REASON_CHARS: usize = 1_000;

impl ModerateRequest {
    pub fn parse(self) -> Result<Moderate, DomainError> {
        let mut errors = Errors::default();
        let status = match self.status {
            Some(s) => errors.take("status", ModerationStatus::parse_decision(&s)),
            None => {
                errors.push("status", "status is required");
                None
            }
        };
        let reason = self
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
        {
            errors.push(
                "reason",
                format!("reason must be at most {MAX_REASON_CHARS} characters"),
            );
        }
        errors.into_result()?;
        status
            .map(|status| Moderate { status, reason })
            .ok_or(DomainError::Validation(Vec::new()))
    }
}

/// The state of a thread needed to decide commands on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: ThreadId,
    pub project_id: ProjectId,
    pub parent_thread_id: Option<ThreadId>,
    pub thread_type: ThreadType,
    pub author: UserId,
    pub message: String,
    pub status: ModerationStatus,
}

impl Thread {
    /// Whether the thread takes replies and votes: not while rejected or
    /// withdrawn.
    pub fn is_open(&self) -> bool {
        !matches!(
            self.status,
            ModerationStatus::Rejected | ModerationStatus::Withdrawn
        )
    }
}

impl Aggregate for Thread {
    type State = Option<Self>;

    fn apply(state: Option<Self>, event: &Event) -> Option<Self> {
        match event {
            Event::ThreadStarted {
                thread_id,
                project_id,
                parent_thread_id,
                thread_type,
                message,
                author,
                ..
            } => Some(Self {
                id: *thread_id,
                project_id: *project_id,
                parent_thread_id: *parent_thread_id,
                thread_type: *thread_type,
                author: author.clone(),
                message: message.clone(),
                status: ModerationStatus::Pending,
            }),
            Event::ThreadEdited { message, .. } => state.map(|mut t| {
                t.message = message.clone();
                t.status = ModerationStatus::Pending;
                t
            }),
            Event::ThreadModerated { status, .. } => state.map(|mut t| {
                t.status = *status;
                t
            }),
            Event::ThreadWithdrawn { .. } => state.map(|mut t| {
                t.status = ModerationStatus::Withdrawn;
                t
            }),
            _ => state,
        }
    }
}

/// Decides a new thread. `parent` is the loaded parent thread when the command
/// names one (`None` if it does not exist).
pub fn start(
    project: Option<&Project>,
    parent: Option<&Thread>,
    actor: &Actor,
    cmd: StartThread,
    thread_id: ThreadId,
) -> Result<Vec<Event>, DomainError> {
    let project = project.ok_or(DomainError::NotFound("project"))?;
    if let Some(parent_id) = cmd.parent_thread_id {
        let belongs = parent.filter(|p| p.id == parent_id && p.project_id == project.id);
        let Some(parent) = belongs else {
            return Err(DomainError::Validation(vec![super::FieldError::new(
                "parent_thread_id",
                "the parent thread must be a thread of the same project",
            )]));
        };
        if !parent.is_open() {
            return Err(DomainError::Conflict(
                "a rejected or withdrawn thread takes no replies",
            ));
        }
    }
    Ok(vec![Event::ThreadStarted {
        thread_id,
        project_id: project.id,
        parent_thread_id: cmd.parent_thread_id,
        thread_type: cmd.thread_type,
        message: cmd.message.to_string(),
        author: actor.user_id.clone(),
        author_name: actor.name.clone(),
    }])
}

/// Decides an edit: by its author only; the edited thread goes back to `pending`.
pub fn edit(
    state: Option<&Thread>,
    actor: &Actor,
    message: Message,
) -> Result<Vec<Event>, DomainError> {
    let thread = state.ok_or(DomainError::NotFound("thread"))?;
    if thread.author != actor.user_id {
        return Err(DomainError::Forbidden("only the author may edit a thread"));
    }
    if thread.status == ModerationStatus::Withdrawn {
        return Err(DomainError::Conflict("a withdrawn thread cannot be edited"));
    }
    Ok(vec![Event::ThreadEdited {
        thread_id: thread.id,
        project_id: thread.project_id,
        message: message.to_string(),
    }])
}

/// Decides a moderator's override: only users with the `moderator` role.
pub fn moderate(
    state: Option<&Thread>,
    actor: &Actor,
    cmd: Moderate,
) -> Result<Vec<Event>, DomainError> {
    if !actor.is_moderator() {
        return Err(DomainError::Forbidden(
            "only a user with the moderator role may moderate threads",
        ));
    }
    let thread = state.ok_or(DomainError::NotFound("thread"))?;
    if thread.status == ModerationStatus::Withdrawn {
        return Err(DomainError::Conflict(
            "a withdrawn thread cannot be moderated",
        ));
    }
    Ok(vec![Event::ThreadModerated {
        thread_id: thread.id,
        project_id: thread.project_id,
        status: cmd.status,
        reason: cmd.reason,
        moderator: Some(actor.user_id.clone()),
    }])
}

/// Decides a withdrawal: by the author or a moderator. Withdrawing again
/// changes nothing.
pub fn withdraw(state: Option<&Thread>, actor: &Actor) -> Result<Vec<Event>, DomainError> {
    let thread = state.ok_or(DomainError::NotFound("thread"))?;
    if thread.author != actor.user_id && !actor.is_moderator() {
        return Err(DomainError::Forbidden(
            "only the author or a moderator may withdraw a thread",
        ));
    }
    if thread.status == ModerationStatus::Withdrawn {
        return Ok(Vec::new());
    }
    Ok(vec![Event::ThreadWithdrawn {
        thread_id: thread.id,
        project_id: thread.project_id,
        parent_thread_id: thread.parent_thread_id,
        thread_type: thread.thread_type,
        by: actor.user_id.clone(),
    }])
}

/// The automatic moderator's list of banned words: whole words, any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannedWords(Vec<String>);

impl BannedWords {
    /// The original moderation service's list.
    pub const DEFAULT: &'static [&'static str] = &["terrorism", "racism"];

    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(words: I) -> Self {
        Self(
            words
                .into_iter()
                .map(|w| crate::text::name_key_text(w.as_ref()))
                .filter(|w| !w.is_empty())
                .collect(),
        )
    }

    /// The first banned word the text contains as a whole word, if any.
    /// Words are compared as people read them, like names: any case,
    /// compatibility forms folded (NFKC), invisible characters ignored, so
    /// neither `ＴＥＲＲＯＲＩＳＭ` nor a zero-width space inside a word hides it.
    pub fn find(&self, text: &str) -> Option<&str> {
        let lower = crate::text::name_key_text(text);
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        self.0
            .iter()
            .find(|banned| words.iter().any(|w| w == banned))
            .map(String::as_str)
    }
}

impl Default for BannedWords {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

/// The automatic moderator's decision on a pending thread; nothing once a
/// decision was made.
pub fn auto_moderate(state: &Thread, banned: &BannedWords) -> Option<Event> {
    if state.status != ModerationStatus::Pending {
        return None;
    }
    let (status, reason) = match banned.find(&state.message) {
        Some(word) => (
            ModerationStatus::Rejected,
            Some(format!("contains the banned word `{word}`")),
        ),
        None => (ModerationStatus::Approved, None),
    };
    Some(Event::ThreadModerated {
        thread_id: state.id,
        project_id: state.project_id,
        status,
        reason,
        moderator: None,
    })
}

#[cfg(test)]
mod tests;
