//! The thread aggregate: start (top-level or reply), edit, moderation.

use serde::Deserialize;

use super::{
    Actor, DomainError, Errors, Message, ModerationStatus, ProjectId, ThreadId, ThreadType, UserId,
};
use crate::events::Event;
use crate::project::Project;

/// The body of `POST /projects/{id}/threads`, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct StartThreadRequest {
    pub thread_type: Option<String>,
    pub message: Option<String>,
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

/// The body of `PATCH /threads/{id}`.
#[derive(Debug, Default, Deserialize)]
pub struct EditThreadRequest {
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

/// The body of `POST /threads/{id}/moderation`.
#[derive(Debug, Default, Deserialize)]
pub struct ModerateRequest {
    pub status: Option<String>,
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
    pub author: UserId,
    pub message: String,
    pub status: ModerationStatus,
}

impl Thread {
    pub fn apply(state: Option<Self>, event: &Event) -> Option<Self> {
        match event {
            Event::ThreadStarted {
                thread_id,
                project_id,
                message,
                author,
                ..
            } => Some(Self {
                id: *thread_id,
                project_id: *project_id,
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
        let belongs = parent.is_some_and(|p| p.id == parent_id && p.project_id == project.id);
        if !belongs {
            return Err(DomainError::Validation(vec![super::FieldError::new(
                "parent_thread_id",
                "the parent thread must be a thread of the same project",
            )]));
        }
    }
    Ok(vec![Event::ThreadStarted {
        thread_id,
        project_id: project.id,
        parent_thread_id: cmd.parent_thread_id,
        thread_type: cmd.thread_type,
        message: cmd.message.to_string(),
        author: actor.user_id.clone(),
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
    Ok(vec![Event::ThreadModerated {
        thread_id: thread.id,
        project_id: thread.project_id,
        status: cmd.status,
        reason: cmd.reason,
        moderator: Some(actor.user_id.clone()),
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
                .map(|w| w.as_ref().trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        )
    }

    /// The first banned word the text contains as a whole word, if any.
    pub fn find(&self, text: &str) -> Option<&str> {
        let lower = text.to_lowercase();
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
mod tests {
    use super::*;
    use crate::Tag;

    fn user(id: &str) -> Actor {
        Actor::new(UserId::parse(id).expect("valid"))
    }

    fn moderator(id: &str) -> Actor {
        Actor {
            roles: vec!["moderator".into()],
            ..user(id)
        }
    }

    fn project(proposer: &str) -> Project {
        Project {
            id: ProjectId::new(),
            proposer: UserId::parse(proposer).expect("valid"),
            tags: vec![Tag::parse("t").expect("valid")],
        }
    }

    fn started(project: &Project, author: &str, message: &str) -> Thread {
        let cmd = StartThread::parse(StartThreadRequest {
            thread_type: Some("COMMENT".into()),
            message: Some(message.into()),
            parent_thread_id: None,
        })
        .expect("valid");
        let events =
            start(Some(project), None, &user(author), cmd, ThreadId::new()).expect("starts");
        events
            .iter()
            .fold(None, Thread::apply)
            .expect("thread exists")
    }

    #[test]
    fn start_thread_validates_every_field() {
        let err = StartThread::parse(StartThreadRequest {
            thread_type: Some("IDEA".into()),
            message: Some(" ".into()),
            parent_thread_id: Some("not-a-uuid".into()),
        })
        .expect_err("invalid");
        let DomainError::Validation(errors) = err else {
            panic!("validation expected")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["thread_type", "message", "parent_thread_id"]);
        assert!(StartThread::parse(StartThreadRequest::default()).is_err());
        assert!(
            StartThread::parse(StartThreadRequest {
                thread_type: Some("SOLUTION".into()),
                message: Some("m".repeat(10_000)),
                parent_thread_id: None,
            })
            .is_ok()
        );
    }

    #[test]
    fn messages_keep_their_lines_and_refuse_unreadable_text() {
        let p = project("bob");
        let thread = started(&p, "alice", "line1\r\nline2\tx");
        assert_eq!(thread.message, "line1\nline2\tx");
        for raw in ["\u{0007}bell", "\u{200B}\u{200B}", "evil\u{202E}txt.exe"] {
            let err = StartThread::parse(StartThreadRequest {
                thread_type: Some("COMMENT".into()),
                message: Some(raw.into()),
                parent_thread_id: None,
            })
            .expect_err("refused");
            assert!(
                matches!(err, DomainError::Validation(ref e) if e[0].field == "message"),
                "{raw:?}: {err:?}"
            );
            let edit = EditThreadRequest {
                message: Some(raw.into()),
            };
            assert!(edit.parse().is_err(), "{raw:?}");
        }
    }

    #[test]
    fn new_threads_start_pending_on_an_existing_project() {
        let p = project("bob");
        let thread = started(&p, "alice", "hello");
        assert_eq!(thread.status, ModerationStatus::Pending);
        assert_eq!(thread.project_id, p.id);
        let cmd = StartThread {
            thread_type: ThreadType::Comment,
            message: Message::parse("x").expect("valid"),
            parent_thread_id: None,
        };
        assert_eq!(
            start(None, None, &user("a"), cmd, ThreadId::new()),
            Err(DomainError::NotFound("project"))
        );
    }

    #[test]
    fn a_reply_must_name_a_thread_of_the_same_project() {
        let p = project("bob");
        let other = project("carol");
        let parent = started(&p, "alice", "parent");
        let foreign = started(&other, "alice", "elsewhere");
        let reply = |parent_id| StartThread {
            thread_type: ThreadType::Comment,
            message: Message::parse("reply").expect("valid"),
            parent_thread_id: Some(parent_id),
        };
        assert!(
            start(
                Some(&p),
                Some(&parent),
                &user("dan"),
                reply(parent.id),
                ThreadId::new()
            )
            .is_ok()
        );
        for (loaded, id) in [(Some(&foreign), foreign.id), (None, ThreadId::new())] {
            let err = start(Some(&p), loaded, &user("dan"), reply(id), ThreadId::new())
                .expect_err("refused");
            assert!(
                matches!(err, DomainError::Validation(ref e) if e[0].field == "parent_thread_id")
            );
        }
    }

    #[test]
    fn only_the_author_edits_and_an_edit_goes_back_to_pending() {
        let p = project("bob");
        let mut thread = started(&p, "alice", "first");
        thread.status = ModerationStatus::Approved;
        let msg = || Message::parse("second").expect("valid");
        assert_eq!(
            edit(Some(&thread), &user("mallory"), msg()),
            Err(DomainError::Forbidden("only the author may edit a thread"))
        );
        let events = edit(Some(&thread), &user("alice"), msg()).expect("author edits");
        let after = Thread::apply(Some(thread), &events[0]).expect("exists");
        assert_eq!(after.message, "second");
        assert_eq!(after.status, ModerationStatus::Pending);
        assert_eq!(
            edit(None, &user("alice"), msg()),
            Err(DomainError::NotFound("thread"))
        );
    }

    #[test]
    fn banned_words_match_whole_words_in_any_case() {
        let banned = BannedWords::default();
        assert_eq!(banned.find("Stop TERRORISM now"), Some("terrorism"));
        assert_eq!(banned.find("racism."), Some("racism"));
        assert_eq!(banned.find("antiracism is fine"), None);
        assert_eq!(banned.find("terrorismo"), None);
        let custom = BannedWords::new([" Spam ", ""]);
        assert_eq!(custom.find("no SPAM please"), Some("spam"));
    }

    #[test]
    fn the_automatic_moderator_decides_pending_threads_once() {
        let p = project("bob");
        let banned = BannedWords::default();
        let clean = started(&p, "alice", "drums");
        let event = auto_moderate(&clean, &banned).expect("decides");
        let approved = Thread::apply(Some(clean), &event).expect("exists");
        assert_eq!(approved.status, ModerationStatus::Approved);
        assert_eq!(auto_moderate(&approved, &banned), None);

        let bad = started(&p, "alice", "I love racism");
        let event = auto_moderate(&bad, &banned).expect("decides");
        assert!(matches!(
            event,
            Event::ThreadModerated {
                status: ModerationStatus::Rejected,
                moderator: None,
                ..
            }
        ));
    }

    #[test]
    fn only_moderators_override() {
        let p = project("bob");
        let thread = started(&p, "alice", "I love racism");
        let decision = || {
            ModerateRequest {
                status: Some("approved".into()),
                reason: Some(" fine in context ".into()),
            }
            .parse()
            .expect("valid")
        };
        assert!(matches!(
            moderate(Some(&thread), &user("alice"), decision()),
            Err(DomainError::Forbidden(_))
        ));
        let events = moderate(Some(&thread), &moderator("mod"), decision()).expect("overrides");
        assert!(
            matches!(&events[0], Event::ThreadModerated { status: ModerationStatus::Approved, reason: Some(r), .. } if r == "fine in context")
        );
        assert!(
            ModerateRequest {
                status: Some("pending".into()),
                reason: None
            }
            .parse()
            .is_err()
        );
        assert!(ModerateRequest::default().parse().is_err());
    }
}
