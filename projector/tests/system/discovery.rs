//! Personal discovery: hidden projects, followed tags, the feed and
//! recommendations, against the real servers.

use std::collections::HashSet;

use flow_domain::{
    ProjectId, Tag, UserId,
    events::{Envelope, Event},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::harness::{Reply, System};
use crate::journeys_reads::{assert_problem, id};

async fn propose(system: &System, user: &str, name: &str, tags: &[&str]) -> String {
    let reply = system
        .post(
            "/projects/propose",
            user,
            json!({"project_name": name, "tagline": format!("about {name}"), "tags": tags,
                   "problems": ["p"], "solutions": ["s"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    id(&reply, "project_id")
}

async fn hide(system: &System, user: &str, project_id: &str, hidden: bool) -> Reply {
    system
        .put(
            &format!("/projects/{project_id}/hidden"),
            user,
            json!({"hidden": hidden}),
        )
        .await
}

async fn follow(system: &System, user: &str, tags: Value) -> Reply {
    system
        .put("/me/followed-tags", user, json!({"tags": tags}))
        .await
}

/// Every item of a listing as `user` sees it, page after page.
async fn all_as(system: &System, user: &str, path: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let page_path = match (&cursor, path.contains('?')) {
            (None, _) => path.to_owned(),
            (Some(c), true) => format!("{path}&cursor={c}"),
            (Some(c), false) => format!("{path}?cursor={c}"),
        };
        let page = system.get_as(&page_path, user, &[], Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        for item in page.body["items"].as_array().expect("items") {
            ids.push(item["project_id"].as_str().expect("id").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
    panic!("{path} did not end");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hidden_project_leaves_every_listing_of_its_user_only() {
    let system = System::start().await;
    let kept = propose(&system, "alice", "Kept Circus", &["circus"]).await;
    let hidden = propose(&system, "alice", "Hidden Circus", &["circus"]).await;

    assert_problem(
        &hide(&system, "bob", &ProjectId::new().to_string(), true).await,
        StatusCode::NOT_FOUND,
    );
    let bad = system
        .put(
            &format!("/projects/{hidden}/hidden"),
            "bob",
            json!({"hidden": "yes"}),
        )
        .await;
    assert!(
        bad.status == StatusCode::UNPROCESSABLE_ENTITY || bad.status == StatusCode::BAD_REQUEST
    );
    assert_problem(
        &system
            .put(&format!("/projects/{hidden}/hidden"), "bob", json!({}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let anonymous = system
        .send(
            system
                .http
                .put(format!("{}/projects/{hidden}/hidden", system.command))
                .json(&json!({"hidden": true})),
        )
        .await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED);

    let done = hide(&system, "bob", &hidden, true).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["hidden"], true);
    let last = system.stream_last().await;
    assert_eq!(
        hide(&system, "bob", &hidden, true).await.status,
        StatusCode::OK
    );
    assert_eq!(
        system.stream_last().await,
        last,
        "hiding again appends nothing"
    );
    let token = done.token();
    for path in [
        "/projects",
        "/projects?sort=top",
        "/projects?sort=active",
        "/projects?tag=circus",
        "/projects?q=circus",
        "/projects?sort=top&tag=circus&q=circus",
    ] {
        let for_bob = all_as(&system, "bob", path, &token).await;
        assert!(
            for_bob.contains(&kept) && !for_bob.contains(&hidden),
            "{path}"
        );
        let for_carol = all_as(&system, "carol", path, &token).await;
        assert!(for_carol.contains(&hidden), "{path}: others are unaffected");
        let anonymous = system.all_items_after(path, &token).await;
        assert!(anonymous.iter().any(|p| p["project_id"] == hidden.as_str()));
    }
    let detail = system
        .get_as(&format!("/projects/{hidden}"), "bob", &[], Some(&token))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(
        all_as(&system, "bob", "/me/hidden", &token).await,
        [hidden.as_str()]
    );

    let shown = hide(&system, "bob", &hidden, false).await;
    assert_eq!(shown.body["hidden"], false);
    let again = all_as(&system, "bob", "/projects", &shown.token()).await;
    assert!(again.contains(&hidden));
    assert!(
        all_as(&system, "bob", "/me/hidden", &shown.token())
            .await
            .is_empty()
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn followed_tags_make_a_feed_that_pages_while_projects_arrive() {
    let system = System::start().await;
    let too_many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    assert_problem(
        &follow(&system, "bob", json!(too_many)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &follow(&system, "bob", json!(["\u{202E}x"])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let followed = follow(&system, "bob", json!(["Circus", " circus ", "juggling"])).await;
    assert_eq!(followed.status, StatusCode::OK, "{:?}", followed.body);
    assert_eq!(followed.body["tags"], json!(["circus", "juggling"]));
    let read = system
        .get_as("/me/followed-tags", "bob", &[], Some(&followed.token()))
        .await;
    assert_eq!(read.body["tags"], json!(["circus", "juggling"]));
    let empty_feed = system
        .get_as("/me/feed", "carol", &[], Some(&followed.token()))
        .await;
    assert_eq!(empty_feed.body["items"], json!([]));

    let mut expected = Vec::new();
    for i in 0..30 {
        let tags: &[&str] = match i % 3 {
            0 => &["circus"],
            1 => &["juggling", "other"],
            _ => &["other"],
        };
        let project = propose(&system, "alice", &format!("Feed {i}"), tags).await;
        if i % 3 != 2 {
            expected.push(project);
        }
    }
    let hidden = expected.remove(3);
    let hid = hide(&system, "bob", &hidden, true).await;
    // Page with limit 4 while new matching projects arrive between pages.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut arrived = 0;
    loop {
        let path = match &cursor {
            None => "/me/feed?limit=4".to_owned(),
            Some(c) => format!("/me/feed?limit=4&cursor={c}"),
        };
        let page = system.get_as(&path, "bob", &[], Some(&hid.token())).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for item in page.body["items"].as_array().expect("items") {
            seen.push(item["project_id"].as_str().expect("id").to_owned());
        }
        if arrived < 5 {
            propose(&system, "alice", &format!("Late {arrived}"), &["circus"]).await;
            arrived += 1;
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no project twice");
    expected.reverse();
    assert_eq!(seen, expected, "newest first, every one, none hidden");
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recommendations_follow_the_tags_and_leave_out_own_and_hidden_projects() {
    let system = System::start().await;
    let mut scores = Vec::new();
    for (i, (user, tags)) in [
        ("alice", &["circus"][..]),
        ("alice", &["music"][..]),
        ("bob", &["circus"][..]),
        ("alice", &["circus"][..]),
        ("alice", &["food"][..]),
    ]
    .iter()
    .enumerate()
    {
        let project = propose(&system, user, &format!("Rec {i}"), tags).await;
        scores.push(project);
    }
    // Votes give project i a score of i (on its first thread).
    for (i, project) in scores.iter().enumerate() {
        let token = format!("s{}", system.stream_last().await);
        let threads = system
            .get_as(
                &format!("/projects/{project}/threads"),
                "alice",
                &[],
                Some(&token),
            )
            .await;
        let thread = threads.body["items"][0]["thread_id"]
            .as_str()
            .expect("a thread")
            .to_owned();
        for voter in 0..i {
            let reply = system
                .put(
                    &format!("/threads/{thread}/vote"),
                    &format!("voter{voter}"),
                    json!({"direction": "up"}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        }
    }
    assert_eq!(
        follow(&system, "bob", json!(["circus"])).await.status,
        StatusCode::OK
    );
    // Stored after every vote and choice: its token reads them all.
    let hid = hide(&system, "bob", &scores[3], true).await;
    let mine = system
        .get_as("/recommendations?limit=3", "bob", &[], Some(&hid.token()))
        .await;
    let ids: Vec<&str> = mine.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["project_id"].as_str().expect("id"))
        .collect();
    // Followed first (0; not 2, bob's own; not 3, hidden), then the best others.
    assert_eq!(
        ids,
        [scores[0].as_str(), scores[4].as_str(), scores[1].as_str()]
    );
    let anonymous = system
        .get_after("/recommendations?limit=2", &hid.token())
        .await;
    let ids: Vec<&str> = anonymous.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["project_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [scores[4].as_str(), scores[3].as_str()]);
    for bad in ["0", "51", "x"] {
        assert_problem(
            &system.get(&format!("/recommendations?limit={bad}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    system.stop().await;
}

/// A user with 10,000 hidden projects: every listing still answers, with
/// only what they did not hide (the events are published straight to the
/// stream: the projector applies them as it would any others).
#[tokio::test(flavor = "multi_thread")]
async fn a_user_with_ten_thousand_hidden_projects_still_gets_listings() {
    const HIDDEN: usize = 10_000;
    const VISIBLE: usize = 30;
    let system = System::start().await;
    let (_, js) = system.jetstream().await;
    let subjects = flow_domain::events::Subjects::new(system.env.nats.subject_prefix.clone());
    let user = UserId::parse("bob").expect("valid");
    let proposer = UserId::parse("alice").expect("valid");
    let tag = Tag::parse("circus").expect("valid");
    let mut visible = Vec::new();
    let mut acks = Vec::new();
    for i in 0..HIDDEN + VISIBLE {
        let project_id = ProjectId::new();
        let mut events = vec![Event::ProjectProposed {
            project_id,
            project_name: format!("Many {i}"),
            tagline: "one of many".into(),
            tags: vec![tag.clone()],
            proposer: proposer.clone(),
            proposer_name: None,
        }];
        // The visible ones are spread through the listing.
        if i % (HIDDEN / VISIBLE + 1) == 0 && visible.len() < VISIBLE {
            visible.push(project_id.to_string());
        } else {
            events.push(Event::ProjectHidden {
                user: user.clone(),
                project_id,
            });
        }
        for event in events {
            let subject = event.subject(&subjects);
            let payload = Envelope::new(event, "alice", OffsetDateTime::now_utc()).to_json();
            acks.push(
                js.publish(subject, payload.into())
                    .await
                    .expect("published"),
            );
        }
        if acks.len() >= 500 {
            for ack in acks.drain(..) {
                ack.await.expect("stored");
            }
        }
    }
    for ack in acks.drain(..) {
        ack.await.expect("stored");
    }
    system.settle().await;
    let token = format!("s{}", system.stream_last().await);
    visible.sort();
    for path in [
        "/projects?limit=100",
        "/projects?sort=top&limit=100",
        "/projects?tag=circus&limit=100",
        "/projects?q=many&limit=100",
    ] {
        let mut seen = all_as(&system, "bob", path, &token).await;
        seen.sort();
        assert_eq!(seen, visible, "{path}");
    }
    let hidden_page = system
        .get_as("/me/hidden?limit=100", "bob", &[], Some(&token))
        .await;
    assert_eq!(
        hidden_page.body["items"].as_array().map(Vec::len),
        Some(100)
    );
    let recommended = system
        .get_as("/recommendations?limit=50", "bob", &[], Some(&token))
        .await;
    assert_eq!(recommended.status, StatusCode::OK, "{:?}", recommended.body);
    system.stop().await;
}

/// Paging `sort=new` while the reader hides projects further down and new
/// projects arrive: nothing twice, nothing hidden before its page is read,
/// and every project that existed at the start and stayed visible, once.
#[tokio::test(flavor = "multi_thread")]
async fn hiding_while_paging_and_writes_arrive_repeats_and_skips_nothing() {
    let system = System::start().await;
    let mut existing = Vec::new();
    for i in 0..40 {
        existing.push(propose(&system, "alice", &format!("Paged {i}"), &["paged"]).await);
    }
    // Newest first, as listed.
    existing.reverse();
    let mut token = format!("s{}", system.stream_last().await);
    let mut seen: Vec<String> = Vec::new();
    let mut hidden: HashSet<String> = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            None => "/projects?limit=5".to_owned(),
            Some(c) => format!("/projects?limit=5&cursor={c}"),
        };
        let page = system.get_as(&path, "bob", &[], Some(&token)).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for item in page.body["items"].as_array().expect("items") {
            let project = item["project_id"].as_str().expect("id").to_owned();
            assert!(!hidden.contains(&project), "shown after it was hidden");
            seen.push(project);
        }
        // Between pages: hide one project further down, and a new one arrives.
        let shown_up_to = seen
            .last()
            .and_then(|last| existing.iter().position(|p| p == last))
            .unwrap_or(0);
        let ahead = existing
            .iter()
            .skip(shown_up_to + 3)
            .find(|p| !hidden.contains(*p))
            .cloned();
        if let Some(ahead) = ahead {
            let reply = hide(&system, "bob", &ahead, true).await;
            token = reply.token();
            hidden.insert(ahead);
        }
        propose(&system, "carol", &format!("Arrived {round}"), &["paged"]).await;
        round += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no project twice");
    let expected: Vec<&String> = existing.iter().filter(|p| !hidden.contains(*p)).collect();
    let missing: Vec<usize> = expected
        .iter()
        .filter(|p| !seen.contains(p))
        .filter_map(|p| existing.iter().position(|e| e == *p))
        .collect();
    let extra: Vec<&String> = seen.iter().filter(|p| !expected.contains(p)).collect();
    assert_eq!(
        seen.iter().collect::<Vec<_>>(),
        expected,
        "missing at {missing:?}, extra {extra:?}"
    );
    assert!(!hidden.is_empty());
    system.stop().await;
}
