use super::*;
use crate::{Direction, ProjectName, Tag};

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
        project_name: "p".into(),
        tagline: "t".into(),
        name_key: ProjectName::key_of_stored("p"),
    }
}

fn started(project: &Project, author: &str, message: &str) -> Thread {
    let cmd = StartThread::parse(StartThreadRequest {
        thread_type: Some("COMMENT".into()),
        message: Some(message.into()),
        parent_thread_id: None,
    })
    .expect("valid");
    let events = start(Some(project), None, &user(author), cmd, ThreadId::new()).expect("starts");
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
        let err =
            start(Some(&p), loaded, &user("dan"), reply(id), ThreadId::new()).expect_err("refused");
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "parent_thread_id"));
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
    // As people read them: invisible characters and compatibility forms hide nothing.
    assert_eq!(banned.find("terr\u{200B}orism"), Some("terrorism"));
    assert_eq!(banned.find("ＲＡＣＩＳＭ"), Some("racism"));
    assert_eq!(banned.find("soft\u{AD}ware racism"), Some("racism"));
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

#[test]
fn the_author_or_a_moderator_withdraws_once_and_a_withdrawn_thread_is_closed() {
    let p = project("alice");
    let thread = started(&p, "bob", "hello");
    assert!(matches!(
        withdraw(Some(&thread), &user("carol")),
        Err(DomainError::Forbidden(_))
    ));
    assert_eq!(
        withdraw(None, &user("bob")),
        Err(DomainError::NotFound("thread"))
    );
    let events = withdraw(Some(&thread), &moderator("mod")).expect("a moderator may");
    assert_eq!(
        events,
        [Event::ThreadWithdrawn {
            thread_id: thread.id,
            project_id: p.id,
            parent_thread_id: None,
            thread_type: ThreadType::Comment,
            by: UserId::parse("mod").expect("valid"),
        }]
    );
    let withdrawn = Thread::fold(Some(thread.clone()), &events).expect("a thread");
    assert_eq!(withdrawn.status, ModerationStatus::Withdrawn);
    assert_eq!(withdraw(Some(&withdrawn), &user("bob")), Ok(Vec::new()));
    assert!(matches!(
        edit(
            Some(&withdrawn),
            &user("bob"),
            Message::parse("x").expect("valid")
        ),
        Err(DomainError::Conflict(_))
    ));
    let approve = Moderate {
        status: ModerationStatus::Approved,
        reason: None,
    };
    assert!(matches!(
        moderate(Some(&withdrawn), &moderator("mod"), approve),
        Err(DomainError::Conflict(_))
    ));
}

#[test]
fn rejected_and_withdrawn_threads_take_no_replies_and_no_votes() {
    let p = project("alice");
    let mut parent = started(&p, "bob", "hello");
    for status in [ModerationStatus::Rejected, ModerationStatus::Withdrawn] {
        parent.status = status;
        let reply = StartThread {
            thread_type: ThreadType::Comment,
            message: Message::parse("a reply").expect("valid"),
            parent_thread_id: Some(parent.id),
        };
        assert!(matches!(
            start(
                Some(&p),
                Some(&parent),
                &user("carol"),
                reply,
                ThreadId::new()
            ),
            Err(DomainError::Conflict(_))
        ));
        assert!(matches!(
            crate::vote::cast(
                Some(&parent),
                Direction::None,
                &user("carol"),
                Direction::Up
            ),
            Err(DomainError::Conflict(_))
        ));
    }
    parent.status = ModerationStatus::Pending;
    assert!(
        crate::vote::cast(
            Some(&parent),
            Direction::None,
            &user("carol"),
            Direction::Up
        )
        .is_ok()
    );
}
