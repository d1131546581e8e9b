//! The reads of the app's journeys: who sees what, the moderation queue, a
//! user's own things, reply paging, withdrawn threads.

use std::{collections::HashSet, time::Duration};

use flow_testkit::eventually;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Reply, System};

pub(crate) async fn project(system: &System, user: &str, name: &str) -> Reply {
    system.propose(user, name).await
}

pub(crate) fn id(reply: &Reply, field: &str) -> String {
    reply.body[field].as_str().expect("an id").to_owned()
}

pub(crate) async fn start(
    system: &System,
    project_id: &str,
    user: &str,
    message: &str,
    parent: Option<&str>,
) -> Reply {
    let mut body = json!({"thread_type": "COMMENT", "message": message});
    if let Some(parent) = parent {
        body["parent_thread_id"] = json!(parent);
    }
    let reply = system
        .post(&format!("/projects/{project_id}/threads"), user, body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply
}

pub(crate) async fn moderate(
    system: &System,
    thread_id: &str,
    status: &str,
    reason: Option<&str>,
) -> Reply {
    let mut body = json!({"status": status});
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    let request = system
        .http
        .post(format!("{}/threads/{thread_id}/moderation", system.command))
        .bearer_auth(system.env.token("mod", &["moderator"]))
        .json(&body);
    let reply = system.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply
}

/// Waits until the automatic moderator has decided `thread_id`.
pub(crate) async fn decided(system: &System, thread_id: &str, status: &str) {
    eventually("the moderator decides", Duration::from_secs(20), || async {
        system
            .get_as(
                &format!("/threads/{thread_id}"),
                "mod",
                &["moderator"],
                None,
            )
            .await
            .body["status"]
            == status
    })
    .await;
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|t| {
            t["thread_id"]
                .as_str()
                .or(t["project_id"].as_str())
                .expect("an id")
                .to_owned()
        })
        .collect()
}

/// Every page of a listing read by `user`, `between` run after each page.
async fn pages_as<F, Fut>(
    system: &System,
    path: &str,
    user: &str,
    roles: &[&str],
    mut between: F,
) -> Vec<Value>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    // Each page is read after the write made before it (reads of one's own
    // writes); a write that a later event decides (a moderation) may show later.
    let mut token: Option<String> = None;
    for _ in 0..1_000 {
        let page_path = match &cursor {
            None => path.to_owned(),
            Some(c) if path.contains('?') => format!("{path}&cursor={c}"),
            Some(c) => format!("{path}?cursor={c}"),
        };
        let page = system
            .get_as(&page_path, user, roles, token.as_deref())
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page_path}: {:?}", page.body);
        items.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        token = Some(between().await.token());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
    panic!("{path} did not end");
}

pub(crate) fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.body["status"], status.as_u16());
}

#[tokio::test(flavor = "multi_thread")]
async fn withheld_text_is_for_the_author_and_moderators() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "withheld").await, "project_id");
    let bad = id(
        &start(&system, &project_id, "alice", "I support racism.", None).await,
        "thread_id",
    );
    let clean = id(
        &start(&system, &project_id, "alice", "a fine comment", None).await,
        "thread_id",
    );
    decided(&system, &bad, "rejected").await;
    decided(&system, &clean, "approved").await;
    let path = format!("/threads/{bad}");
    let listing = format!("/projects/{project_id}/threads?sort=new&limit=100");
    for (who, roles, sees) in [
        (None, &[][..], false),
        (Some("bob"), &[][..], false),
        (Some("alice"), &[][..], true),
        (Some("mod"), &["moderator"][..], true),
    ] {
        let (shown, listed) = match who {
            None => (system.get(&path).await, system.get(&listing).await),
            Some(user) => (
                system.get_as(&path, user, roles, None).await,
                system.get_as(&listing, user, roles, None).await,
            ),
        };
        assert_eq!(shown.status, StatusCode::OK);
        let item = listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["thread_id"] == bad.as_str())
            .cloned()
            .expect("a rejected thread keeps its place");
        for view in [&shown.body, &item] {
            assert_eq!(view["status"], "rejected");
            assert_eq!(view["message_withheld"], !sees, "{who:?}: {view}");
            if sees {
                assert_eq!(view["message"], "I support racism.", "{who:?}");
            } else {
                assert_eq!(view["message"], Value::Null, "{who:?}");
                assert_eq!(view["moderation_reason"], Value::Null, "{who:?}");
            }
        }
        let approved = system.get(&format!("/threads/{clean}")).await;
        assert_eq!(approved.body["message"], "a fine comment");
        assert_eq!(approved.body["message_withheld"], false);
    }
    system.stop().await;
}

/// Needs the write side: the projector keeps the moderation reason.
#[tokio::test(flavor = "multi_thread")]
async fn reasons_are_shown_to_the_author_and_moderators_only() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "reasons").await, "project_id");
    let thread = id(
        &start(&system, &project_id, "alice", "a fine comment", None).await,
        "thread_id",
    );
    decided(&system, &thread, "approved").await;
    let token = moderate(&system, &thread, "rejected", Some("off topic"))
        .await
        .token();
    let path = format!("/threads/{thread}");
    let anonymous = system.get_after(&path, &token).await;
    assert_eq!(anonymous.body["moderation_reason"], Value::Null);
    let bob = system.get_as(&path, "bob", &[], Some(&token)).await;
    assert_eq!(bob.body["moderation_reason"], Value::Null);
    for (user, roles) in [("alice", &[][..]), ("mod", &["moderator"][..])] {
        let shown = system.get_as(&path, user, roles, Some(&token)).await;
        assert_eq!(shown.body["moderation_reason"], "off topic", "{user}");
    }
    // The automatic moderator names the banned word.
    let bad = id(
        &start(&system, &project_id, "alice", "Terrorism, again", None).await,
        "thread_id",
    );
    decided(&system, &bad, "rejected").await;
    let shown = system
        .get_as(&format!("/threads/{bad}"), "alice", &[], None)
        .await;
    assert!(
        shown.body["moderation_reason"]
            .as_str()
            .is_some_and(|r| r.contains("terrorism")),
        "{:?}",
        shown.body
    );
    system.stop().await;
}

/// Needs the write side: the projector keeps each user's votes.
#[tokio::test(flavor = "multi_thread")]
async fn my_vote_is_the_readers_own() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "my votes").await, "project_id");
    let thread = id(
        &start(&system, &project_id, "alice", "vote on me", None).await,
        "thread_id",
    );
    let reply = id(
        &start(&system, &project_id, "carol", "a reply", Some(&thread)).await,
        "thread_id",
    );
    let mut token = String::new();
    for (user, on, direction) in [
        ("bob", &thread, "up"),
        ("carol", &thread, "down"),
        ("bob", &reply, "down"),
    ] {
        let voted = system
            .put(
                &format!("/threads/{on}/vote"),
                user,
                json!({"direction": direction}),
            )
            .await;
        assert_eq!(voted.status, StatusCode::OK, "{:?}", voted.body);
        token = voted.token();
    }
    let path = format!("/threads/{thread}");
    let anonymous = system.get_after(&path, &token).await;
    assert_eq!(anonymous.body["my_vote"], Value::Null);
    assert_eq!(anonymous.body["replies"][0]["my_vote"], Value::Null);
    for (user, on_thread, on_reply) in [
        ("bob", "up", "down"),
        ("carol", "down", "none"),
        ("dave", "none", "none"),
    ] {
        let shown = system.get_as(&path, user, &[], Some(&token)).await;
        assert_eq!(shown.body["my_vote"], on_thread, "{user}");
        assert_eq!(shown.body["replies"][0]["my_vote"], on_reply, "{user}");
        let listed = system
            .get_as(
                &format!("/projects/{project_id}/threads?sort=new"),
                user,
                &[],
                None,
            )
            .await;
        let item = listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["thread_id"] == thread.as_str())
            .cloned()
            .expect("listed");
        assert_eq!(item["my_vote"], on_thread, "{user}");
    }
    // Withdrawn: `none` again.
    let withdrawn = system
        .put(
            &format!("/threads/{thread}/vote"),
            "bob",
            json!({"direction": "none"}),
        )
        .await;
    let shown = system
        .get_as(&path, "bob", &[], Some(&withdrawn.token()))
        .await;
    assert_eq!(shown.body["my_vote"], "none");
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_token_is_401_even_where_anonymous_works() {
    let system = System::start().await;
    let proposed = project(&system, "alice", "tokens").await;
    let project_id = id(&proposed, "project_id");
    // Visible before the anonymous reads below, which carry no token.
    let _ = system
        .get_after(&format!("/projects/{project_id}"), &proposed.token())
        .await;
    let other_secret = flow_http::auth::Jwt::new(&flow_runtime::config::SecretString::from(
        "another-secret-of-some-length",
    ))
    .mint("alice", &[], 60);
    let paths = [
        "/projects".to_owned(),
        format!("/projects/{project_id}"),
        format!("/projects/{project_id}/threads"),
        "/tags".to_owned(),
    ];
    for path in &paths {
        let anonymous = system.get(path).await;
        assert_eq!(anonymous.status, StatusCode::OK, "{path}");
        for header in [
            "Bearer not.a.token".to_owned(),
            format!("Bearer {other_secret}"),
            "Basic YWxpY2U6c2VjcmV0".to_owned(),
            "Bearer".to_owned(),
        ] {
            let reply = system
                .send(
                    system
                        .http
                        .get(format!("{}{path}", system.query))
                        .header("Authorization", &header),
                )
                .await;
            assert_problem(&reply, StatusCode::UNAUTHORIZED);
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{path}");
        }
        let good = system.get_as(path, "bob", &[], None).await;
        assert_eq!(good.status, StatusCode::OK, "{path}");
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_is_for_moderators_and_me_for_a_user() {
    let system = System::start().await;
    for path in ["/moderation/threads", "/moderation/threads?status=rejected"] {
        assert_problem(&system.get(path).await, StatusCode::UNAUTHORIZED);
        let bad = system
            .send(
                system
                    .http
                    .get(format!("{}{path}", system.query))
                    .bearer_auth("garbage"),
            )
            .await;
        assert_problem(&bad, StatusCode::UNAUTHORIZED);
        assert_problem(
            &system.get_as(path, "bob", &[], None).await,
            StatusCode::FORBIDDEN,
        );
        let ok = system.get_as(path, "mod", &["moderator"], None).await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    }
    for path in ["/me/projects", "/me/threads"] {
        let anonymous = system.get(path).await;
        assert_problem(&anonymous, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
        let ok = system.get_as(path, "bob", &[], None).await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body, json!({"items": [], "next_cursor": null}));
    }
    for (path, field) in [
        ("/moderation/threads?status=approved", "status"),
        ("/moderation/threads?limit=0", "limit"),
        ("/moderation/threads?cursor=@@", "cursor"),
        ("/moderation/threads?colour=red", "colour"),
        ("/me/threads?status=withdrawn", "status"),
        ("/me/threads?limit=101", "limit"),
        ("/me/projects?status=pending", "status"),
    ] {
        let reply = system.get_as(path, "mod", &["moderator"], None).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.body["errors"][0]["field"], field, "{path}");
    }
    // A cursor of one listing does not continue another.
    let project_id = id(&project(&system, "bob", "cursor owner").await, "project_id");
    let _ = project_id;
    let mut token = String::new();
    for i in 0..3 {
        token = project(&system, "bob", &format!("cursor owner {i}"))
            .await
            .token();
    }
    let page = system
        .get_as("/me/projects?limit=1", "bob", &[], Some(&token))
        .await;
    let cursor = page.body["next_cursor"].as_str().expect("more").to_owned();
    for other in [
        format!("/me/threads?cursor={cursor}"),
        format!("/moderation/threads?cursor={cursor}"),
    ] {
        let reply = system.get_as(&other, "mod", &["moderator"], None).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Nor is another user's.
    let carol = system
        .get_as(&format!("/me/projects?cursor={cursor}"), "carol", &[], None)
        .await;
    assert_problem(&carol, StatusCode::UNPROCESSABLE_ENTITY);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rejected_queue_pages_oldest_first_while_writes_arrive() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "queue").await, "project_id");
    let mut rejected = Vec::new();
    for i in 0..7 {
        let t = id(
            &start(&system, &project_id, "alice", &format!("racism {i}"), None).await,
            "thread_id",
        );
        decided(&system, &t, "rejected").await;
        rejected.push(t);
    }
    let mut more = 0;
    let project_for_more = project_id.clone();
    let system_ref = &system;
    let items = pages_as(
        &system,
        "/moderation/threads?status=rejected&limit=3",
        "mod",
        &["moderator"],
        || {
            more += 1;
            let project_id = project_for_more.clone();
            async move { start(system_ref, &project_id, "bob", "more racism", None).await }
        },
    )
    .await;
    let seen = ids(&items);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats: {seen:?}");
    assert_eq!(&seen[..7], &rejected[..], "oldest first, none skipped");
    for item in &items {
        assert_eq!(item["status"], "rejected");
        assert!(
            item["message"]
                .as_str()
                .is_some_and(|m| m.contains("racism")),
            "{item}"
        );
        assert_eq!(item["message_withheld"], false);
    }
    assert!(more >= 3);
    // Approving one moves it out of the queue.
    let token = moderate(&system, &rejected[0], "approved", None)
        .await
        .token();
    let queue = system
        .get_as(
            "/moderation/threads?status=rejected&limit=100",
            "mod",
            &["moderator"],
            Some(&token),
        )
        .await;
    assert!(!ids(queue.body["items"].as_array().expect("items")).contains(&rejected[0]));
    // The pending queue holds only pending threads.
    let pending = system
        .get_as("/moderation/threads", "mod", &["moderator"], None)
        .await;
    for item in pending.body["items"].as_array().expect("items") {
        assert_eq!(item["status"], "pending");
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn my_projects_page_newest_first_while_projects_arrive() {
    let system = System::start().await;
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(id(
            &project(&system, "alice", &format!("mine {i}")).await,
            "project_id",
        ));
    }
    let token = project(&system, "bob", "not mine").await.token();
    system.get_after("/projects", &token).await;
    let system_ref = &system;
    let mut n = 0;
    let items = pages_as(&system, "/me/projects?limit=2", "alice", &[], || {
        n += 1;
        let name = format!("arrived {n}");
        async move { project(system_ref, "alice", &name).await }
    })
    .await;
    let seen = ids(&items);
    mine.reverse();
    assert_eq!(seen, mine, "newest first, no repeats or skips");
    assert!(items.iter().all(|p| p["comment_count"].is_i64()));
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn my_threads_list_every_status_newest_first() {
    let system = System::start().await;
    let project_id = id(
        &project(&system, "bob", "their threads").await,
        "project_id",
    );
    let clean = id(
        &start(&system, &project_id, "alice", "clean words", None).await,
        "thread_id",
    );
    let bad = id(
        &start(&system, &project_id, "alice", "racism here", None).await,
        "thread_id",
    );
    let reply = id(
        &start(&system, &project_id, "alice", "a reply", Some(&clean)).await,
        "thread_id",
    );
    start(&system, &project_id, "bob", "bob's own", None).await;
    decided(&system, &bad, "rejected").await;
    decided(&system, &clean, "approved").await;
    let system_ref = &system;
    let project_ref = project_id.clone();
    let items = pages_as(&system, "/me/threads?limit=1", "alice", &[], || {
        let project_id = project_ref.clone();
        async move {
            start(
                system_ref,
                &project_id,
                "alice",
                "arrives while paging",
                None,
            )
            .await
        }
    })
    .await;
    let seen = ids(&items);
    assert_eq!(
        seen,
        vec![reply.clone(), bad.clone(), clean.clone()],
        "newest first, no repeats or skips"
    );
    let rejected = items
        .iter()
        .find(|t| t["thread_id"] == bad.as_str())
        .expect("listed");
    assert_eq!(rejected["message"], "racism here");
    assert_eq!(rejected["message_withheld"], false);
    let only = system
        .get_as("/me/threads?status=rejected", "alice", &[], None)
        .await;
    let only = ids(only.body["items"].as_array().expect("items"));
    assert_eq!(only, vec![bad]);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_page_past_a_hundred() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "chatty").await, "project_id");
    let parent = id(
        &start(&system, &project_id, "alice", "talk to me", None).await,
        "thread_id",
    );
    let mut replies = Vec::new();
    let mut token = String::new();
    for i in 0..120 {
        let reply = start(
            &system,
            &project_id,
            "bob",
            &format!("reply {i}"),
            Some(&parent),
        )
        .await;
        token = reply.token();
        replies.push(id(&reply, "thread_id"));
    }
    let shown = system
        .get_after(&format!("/threads/{parent}"), &token)
        .await;
    assert_eq!(shown.body["reply_count"], 120);
    let embedded = ids(shown.body["replies"].as_array().expect("replies"));
    assert_eq!(embedded, replies[..100].to_vec());
    let system_ref = &system;
    let (project_ref, parent_ref) = (project_id.clone(), parent.clone());
    let items = pages_as(
        &system,
        &format!("/threads/{parent}/replies?limit=50"),
        "carol",
        &[],
        || {
            let (project_id, parent) = (project_ref.clone(), parent_ref.clone());
            async move { start(system_ref, &project_id, "bob", "late", Some(&parent)).await }
        },
    )
    .await;
    let seen = ids(&items);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats");
    assert_eq!(seen[..120].to_vec(), replies, "oldest first, every reply");
    assert!(seen.len() > 120, "replies arriving while paging come after");
    let missing = system
        .get(&format!("/threads/{}/replies", uuid::Uuid::now_v7()))
        .await;
    assert_problem(&missing, StatusCode::NOT_FOUND);
    assert_problem(
        &system.get("/threads/nope/replies").await,
        StatusCode::NOT_FOUND,
    );
    let page = system
        .get(&format!("/threads/{parent}/replies?limit=1"))
        .await;
    let cursor = page.body["next_cursor"].as_str().expect("more").to_owned();
    let foreign = system
        .get(&format!("/threads/{}/replies?cursor={cursor}", replies[0]))
        .await;
    assert_problem(&foreign, StatusCode::UNPROCESSABLE_ENTITY);
    system.stop().await;
}

/// Needs the write side: `DELETE /threads/{id}` and the withdrawn status.
#[tokio::test(flavor = "multi_thread")]
async fn withdrawn_threads_leave_every_listing() {
    let system = System::start().await;
    let project_id = id(
        &project(&system, "alice", "withdrawals").await,
        "project_id",
    );
    let thread = id(
        &start(&system, &project_id, "alice", "soon gone", None).await,
        "thread_id",
    );
    let reply = id(
        &start(&system, &project_id, "bob", "stays", Some(&thread)).await,
        "thread_id",
    );
    let gone_reply = id(
        &start(&system, &project_id, "alice", "gone too", Some(&thread)).await,
        "thread_id",
    );
    decided(&system, &thread, "approved").await;
    let mut token = String::new();
    for t in [&thread, &gone_reply] {
        let request = system
            .http
            .delete(format!("{}/threads/{t}", system.command))
            .bearer_auth(system.token("alice"));
        let withdrawn = system.send(request).await;
        assert_eq!(withdrawn.status, StatusCode::OK, "{:?}", withdrawn.body);
        assert_eq!(withdrawn.body["status"], "withdrawn");
        token = withdrawn.token();
    }
    let shown = system
        .get_as(&format!("/threads/{thread}"), "alice", &[], Some(&token))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["status"], "withdrawn");
    assert_eq!(shown.body["message"], Value::Null);
    assert_eq!(shown.body["message_withheld"], true);
    assert_eq!(
        ids(shown.body["replies"].as_array().expect("replies")),
        vec![reply.clone()]
    );
    let replies = system.get(&format!("/threads/{thread}/replies")).await;
    assert_eq!(
        ids(replies.body["items"].as_array().expect("items")),
        vec![reply.clone()]
    );
    for (path, user, roles) in [
        (
            format!("/projects/{project_id}/threads?sort=new&limit=100"),
            "bob",
            &[][..],
        ),
        (
            format!("/projects/{project_id}/threads?limit=100"),
            "bob",
            &[][..],
        ),
        ("/me/threads?limit=100".to_owned(), "alice", &[][..]),
        (
            "/moderation/threads?limit=100".to_owned(),
            "mod",
            &["moderator"][..],
        ),
        (
            "/moderation/threads?status=rejected&limit=100".to_owned(),
            "mod",
            &["moderator"][..],
        ),
    ] {
        let listed = system.get_as(&path, user, roles, None).await;
        let seen = ids(listed.body["items"].as_array().expect("items"));
        assert!(
            !seen.contains(&thread) && !seen.contains(&gone_reply),
            "{path}: {seen:?}"
        );
    }
    system.stop().await;
}
