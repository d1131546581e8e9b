use super::*;
use crate::FieldError;

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

fn popee() -> ProposeProjectRequest {
    ProposeProjectRequest {
        project_name: Some("Popee the Performer".into()),
        tagline: Some("an apprentice clown in Wolf Circus".into()),
        problems: strings(&["short temper", "self centered"]),
        solutions: strings(&["play the drums"]),
        tags: strings(&["clown", "circus"]),
    }
}

/// The tags of a valid proposal, as text.
fn proposed_tags(req: ProposeProjectRequest) -> Vec<String> {
    ProposeProject::parse(req)
        .expect("valid")
        .tags
        .into_iter()
        .map(String::from)
        .collect()
}

fn alice() -> Actor {
    Actor::new(UserId::parse("alice").expect("valid"))
}

fn fields(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn the_original_request_is_valid() {
    let cmd = ProposeProject::parse(popee()).expect("valid");
    assert_eq!(cmd.project_name.as_str(), "Popee the Performer");
    assert_eq!(cmd.problems.len(), 2);
    assert_eq!(cmd.solutions.len(), 1);
}

#[test]
fn names_and_taglines_are_trimmed_and_bounded() {
    let mut req = popee();
    req.project_name = Some("  Popee  ".into());
    assert_eq!(
        ProposeProject::parse(req)
            .expect("valid")
            .project_name
            .as_str(),
        "Popee"
    );
    for (name, ok) in [
        ("x".repeat(80), true),
        ("é".repeat(80), true),
        ("x".repeat(81), false),
        ("   ".into(), false),
        (String::new(), false),
    ] {
        let mut req = popee();
        req.project_name = Some(name.clone());
        assert_eq!(ProposeProject::parse(req).is_ok(), ok, "name {name:?}");
    }
    for (tagline, ok) in [
        ("t".repeat(255), true),
        ("t".repeat(256), false),
        (" ".into(), false),
    ] {
        let mut req = popee();
        req.tagline = Some(tagline.clone());
        assert_eq!(
            ProposeProject::parse(req).is_ok(),
            ok,
            "tagline {tagline:?}"
        );
    }
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let req = ProposeProjectRequest {
        project_name: None,
        tagline: Some(String::new()),
        tags: strings(&["ok", ""]),
        problems: Some(vec![]),
        solutions: None,
    };
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("invalid")),
        [
            "project_name",
            "tagline",
            "tags[1]",
            "problems",
            "solutions"
        ]
    );
}

#[test]
fn at_least_one_problem_and_one_solution() {
    let mut req = popee();
    req.problems = Some(vec![]);
    req.solutions = Some(vec![]);
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("invalid")),
        ["problems", "solutions"]
    );
    let mut req = popee();
    req.solutions = strings(&["ok", ""]);
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("invalid")),
        ["solutions[1]"]
    );
    let mut req = popee();
    req.problems = Some(vec!["m".repeat(10_001)]);
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("invalid")),
        ["problems[0]"]
    );
}

#[test]
fn tags_are_trimmed_lowercased_deduplicated_and_bounded() {
    let mut req = popee();
    req.tags = strings(&[" Clown ", "clown", "CIRCUS", "circus "]);
    let tags = proposed_tags(req);
    assert_eq!(tags, ["clown", "circus"]);

    let mut req = popee();
    req.tags = Some((0..11).map(|i| format!("tag{i}")).collect());
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("too many")),
        ["tags"]
    );

    let mut req = popee();
    req.tags = Some((0..11).map(|i| format!("Tag{}", i % 10)).collect());
    assert!(
        ProposeProject::parse(req).is_ok(),
        "duplicates do not count"
    );

    let mut req = popee();
    req.tags = Some(vec!["t".repeat(51)]);
    assert_eq!(
        fields(ProposeProject::parse(req).expect_err("long")),
        ["tags[0]"]
    );

    let mut req = popee();
    req.tags = None;
    assert!(
        ProposeProject::parse(req)
            .expect("tags are optional")
            .tags
            .is_empty()
    );
}

#[test]
fn proposal_claims_the_name_case_insensitively_and_starts_threads() {
    let cmd = ProposeProject::parse(popee()).expect("valid");
    let project_id = ProjectId::new();
    let events = propose(&None, cmd, &alice(), project_id, ThreadId::new).expect("a free name");
    assert_eq!(events.len(), 2 + 3);
    let Event::ProjectNameClaimed { name_key, .. } = &events[0] else {
        panic!("first event must claim the name");
    };
    assert_eq!(
        name_key,
        &ProjectName::parse("POPEE THE PERFORMER")
            .expect("valid")
            .unique_key()
    );
    let types: Vec<ThreadType> = events
        .iter()
        .filter_map(|e| match e {
            Event::ThreadStarted {
                thread_type,
                project_id: p,
                ..
            } if *p == project_id => Some(*thread_type),
            _ => None,
        })
        .collect();
    assert_eq!(
        types,
        [
            ThreadType::Problem,
            ThreadType::Problem,
            ThreadType::Solution
        ]
    );
}

#[test]
fn names_read_as_equal_claim_the_same_key_and_are_stored_alike() {
    let claim = |raw: &str| {
        let mut req = popee();
        req.project_name = Some(raw.into());
        let cmd = ProposeProject::parse(req).expect("valid");
        let events =
            propose(&None, cmd, &alice(), ProjectId::new(), ThreadId::new).expect("a free name");
        match (&events[0], &events[1]) {
            (
                Event::ProjectNameClaimed { name_key, .. },
                Event::ProjectProposed { project_name, .. },
            ) => (name_key.clone(), project_name.clone()),
            other => panic!("a claim and a proposal, got {other:?}"),
        }
    };
    let (key, stored) = claim("Café Society");
    assert_eq!(stored, "Café Society");
    for raw in [
        "Cafe\u{301}  Society",
        "café\tsociety",
        "Ｃａｆé Society",
        "Caf\u{200B}é Society",
    ] {
        assert_eq!(claim(raw).0, key, "{raw:?}");
    }
    assert_eq!(claim("Cafe\u{301}  Society").1, "Café Society");
    assert_ne!(claim("Cafe Society").0, key, "an accent still counts");
}

#[test]
fn unreadable_text_is_refused_in_every_field() {
    let req = ProposeProjectRequest {
        project_name: Some("\u{200B}".into()),
        tagline: Some("\u{0007}bell".into()),
        tags: strings(&["ok", "\u{202E}kool"]),
        problems: strings(&["fine", "\u{200B}\n\u{200D}"]),
        solutions: strings(&["\u{0007}bell"]),
    };
    let DomainError::Validation(errors) = ProposeProject::parse(req).expect_err("invalid") else {
        panic!("a validation error");
    };
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "project_name",
                "project name must contain a visible character"
            ),
            (
                "tagline",
                "tagline must not contain control characters (found U+0007)"
            ),
            (
                "tags[1]",
                "tag must not contain bidirectional override or isolate characters (found U+202E)"
            ),
            ("problems[1]", "message must contain a visible character"),
            (
                "solutions[0]",
                "message must not contain control characters (found U+0007)"
            ),
        ]
    );
}

#[test]
fn tags_written_in_another_form_are_the_same_tag() {
    let mut req = popee();
    req.tags = strings(&[
        "Café",
        "cafe\u{301}",
        "ＣＡＦÉ",
        "rock\t\u{00A0}pop",
        "Rock Pop",
    ]);
    let tags = proposed_tags(req);
    assert_eq!(tags, ["café", "rock pop"]);

    let state = proposed("alice", &["cafe\u{301}"]);
    let (tags, _) = change_tags(state.as_ref(), &alice(), &change(&[], &["CAFÉ"])).expect("ok");
    assert!(tags.is_empty(), "removed in another form: {tags:?}");
}

fn proposed(proposer: &str, tags: &[&str]) -> Option<Project> {
    let event = Event::ProjectProposed {
        project_id: ProjectId::new(),
        project_name: "p".into(),
        tagline: "t".into(),
        tags: tags.iter().map(|t| Tag::parse(t).expect("valid")).collect(),
        proposer: UserId::parse(proposer).expect("valid"),
        proposer_name: None,
    };
    Project::apply(None, &event)
}

fn change(add: &[&str], remove: &[&str]) -> ChangeTags {
    ChangeTags::parse(ChangeTagsRequest {
        add: strings(add),
        remove: strings(remove),
    })
    .expect("valid")
}

#[test]
fn only_the_proposer_changes_tags() {
    let state = proposed("bob", &["a"]);
    assert_eq!(
        change_tags(state.as_ref(), &alice(), &change(&["b"], &[])),
        Err(DomainError::Forbidden(
            "only the proposer may change a project's tags"
        ))
    );
    assert_eq!(
        change_tags(None, &alice(), &change(&["b"], &[])),
        Err(DomainError::NotFound("project"))
    );
}

#[test]
fn tag_changes_add_remove_and_stay_within_ten() {
    let state = proposed("alice", &["a", "b"]);
    let (tags, events) =
        change_tags(state.as_ref(), &alice(), &change(&["C", "a"], &["b"])).expect("ok");
    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(events.len(), 1);
    let Event::ProjectTagsChanged { added, removed, .. } = &events[0] else {
        panic!("a tag change");
    };
    let tag = |t: &str| Tag::parse(t).expect("valid");
    assert_eq!(added, &[tag("c")], "only what is new counts as added");
    assert_eq!(removed, &[tag("b")]);
    let after = Project::apply(state, &events[0]).expect("exists");
    assert_eq!(after.tags, tags);

    let (_, none) = change_tags(Some(&after), &alice(), &change(&["a"], &["zzz"])).expect("ok");
    assert!(none.is_empty(), "no change, no event");

    let many: Vec<String> = (0..9).map(|i| format!("n{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = change_tags(Some(&after), &alice(), &change(&many, &[])).expect_err("11 tags");
    assert_eq!(
        err,
        DomainError::Validation(vec![FieldError::new(
            "add",
            "a project has at most 10 tags; this change would give it 11"
        )])
    );
}

#[test]
fn a_tag_change_needs_add_or_remove() {
    assert!(ChangeTags::parse(ChangeTagsRequest::default()).is_err());
    assert!(
        ChangeTags::parse(ChangeTagsRequest {
            add: strings(&["", "x"]),
            remove: None
        })
        .is_err()
    );
}

fn popee_project() -> (Option<Project>, Option<ProjectId>) {
    let cmd = ProposeProject::parse(popee()).expect("valid");
    let events = propose(&None, cmd, &alice(), ProjectId::new(), ThreadId::new).expect("free");
    let project = events.iter().fold(None, Project::apply);
    (project, None)
}

fn renaming(project_name: Option<&str>, tagline: Option<&str>) -> ChangeProject {
    ChangeProject::parse(ChangeProjectRequest {
        project_name: project_name.map(Into::into),
        tagline: tagline.map(Into::into),
    })
    .expect("valid")
}

#[test]
fn a_claimed_name_cannot_be_proposed_and_a_released_one_can() {
    let taken = Some(ProjectId::new());
    let cmd = ProposeProject::parse(popee()).expect("valid");
    assert!(matches!(
        propose(
            &taken,
            cmd.clone(),
            &alice(),
            ProjectId::new(),
            ThreadId::new
        ),
        Err(DomainError::Conflict(_))
    ));
    let project_id = ProjectId::new();
    let claim = NameClaim::fold(
        None,
        &[
            Event::ProjectNameClaimed {
                name_key: "k".into(),
                project_id,
            },
            Event::ProjectNameReleased {
                name_key: "k".into(),
                project_id,
            },
        ],
    );
    assert_eq!(claim, None);
    assert!(propose(&claim, cmd, &alice(), ProjectId::new(), ThreadId::new).is_ok());
}

#[test]
fn a_rename_claims_the_new_name_and_releases_the_old_one() {
    let state = popee_project();
    let project = state.0.clone().expect("a project");
    let events =
        super::change(&state, &alice(), &renaming(Some("Popee the Clown"), None)).expect("ok");
    let new_key = ProjectName::parse("popee the clown")
        .expect("valid")
        .unique_key();
    assert_eq!(
        events,
        [
            Event::ProjectNameClaimed {
                name_key: new_key.clone(),
                project_id: project.id,
            },
            Event::ProjectNameReleased {
                name_key: project.name_key.clone(),
                project_id: project.id,
            },
            Event::ProjectChanged {
                project_id: project.id,
                project_name: "Popee the Clown".into(),
                tagline: project.tagline.clone(),
                name_key: new_key.clone(),
            },
        ]
    );
    let after = Project::fold(Some(project), &events).expect("a project");
    assert_eq!(after.name_key, new_key);
}

#[test]
fn a_rename_into_a_taken_name_is_refused_and_a_change_of_case_claims_nothing() {
    let (project, _) = popee_project();
    let taken = (project.clone(), Some(ProjectId::new()));
    assert_eq!(
        super::change(&taken, &alice(), &renaming(Some("Kedamono"), None)),
        Err(DomainError::Conflict(NAME_TAKEN))
    );
    let state = (project, None);
    let events = super::change(
        &state,
        &alice(),
        &renaming(Some("POPEE the performer"), None),
    )
    .expect("ok");
    assert!(matches!(events.as_slice(), [Event::ProjectChanged { .. }]));
    let tagline_only =
        super::change(&state, &alice(), &renaming(None, Some("a clown"))).expect("ok");
    assert!(matches!(
        tagline_only.as_slice(),
        [Event::ProjectChanged { .. }]
    ));
    let same = super::change(
        &state,
        &alice(),
        &renaming(Some("Popee the Performer"), None),
    );
    assert_eq!(same, Ok(Vec::new()));
}

#[test]
fn only_the_proposer_changes_a_project_and_a_change_names_a_field() {
    let state = popee_project();
    let bob = Actor::new(UserId::parse("bob").expect("valid"));
    assert!(matches!(
        super::change(&state, &bob, &renaming(None, Some("mine now"))),
        Err(DomainError::Forbidden(_))
    ));
    assert_eq!(
        super::change(&(None, None), &alice(), &renaming(None, Some("x"))),
        Err(DomainError::NotFound("project"))
    );
    let empty = ChangeProject::parse(ChangeProjectRequest::default()).expect_err("refused");
    assert_eq!(fields(empty), ["project_name"]);
    let bad = ChangeProjectRequest {
        project_name: Some("  ".into()),
        tagline: Some("\u{202E}".into()),
    };
    assert_eq!(
        fields(ChangeProject::parse(bad).expect_err("refused")),
        ["project_name", "tagline"]
    );
}

#[test]
fn a_proposal_keeps_the_display_name_of_the_token() {
    let cmd = ProposeProject::parse(popee()).expect("valid");
    let named = alice().with_name(Some("  Alice\u{0007}  Liddell "));
    assert_eq!(named.name, None, "a control character refuses the name");
    let named = alice().with_name(Some("  Alice   Liddell "));
    let events = propose(&None, cmd, &named, ProjectId::new(), ThreadId::new).expect("free");
    assert!(events.iter().all(|e| match e {
        Event::ProjectProposed { proposer_name, .. } =>
            proposer_name.as_deref() == Some("Alice Liddell"),
        Event::ThreadStarted { author_name, .. } => author_name.as_deref() == Some("Alice Liddell"),
        _ => true,
    }));
}
