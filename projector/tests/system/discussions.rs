//! Threads, replies, votes, tags and moderation, from write to read.

use std::time::Duration;

use flow_domain::Direction;
use flow_domain::events::Event;
use flow_readmodel::ReadModel;
use flow_testkit::{TestEnv, eventually};
use futures::{StreamExt, stream};
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Reply, System};

async fn project(system: &System, user: &str, name: &str) -> String {
    system.propose(user, name).await.body["project_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn thread(system: &System, project_id: &str, user: &str, message: &str) -> Reply {
    let reply = system
        .post(
            &format!("/projects/{project_id}/threads"),
            user,
            json!({"thread_type": "COMMENT", "message": message}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply
}

async fn vote(system: &System, thread_id: &str, user: &str, direction: &str) -> Reply {
    let reply = system
        .put(
            &format!("/threads/{thread_id}/vote"),
            user,
            json!({"direction": direction}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["direction"], direction);
    reply
}

#[tokio::test(flavor = "multi_thread")]
async fn votes_switch_repeat_and_withdraw() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "voted").await;
    let thread_id = thread(&system, &project_id, "alice", "vote on me")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = system.stream_last().await;
    vote(&system, &thread_id, "bob", "up").await;
    let repeat = vote(&system, &thread_id, "bob", "up").await;
    assert_eq!(
        system.stream_last().await,
        before + 1,
        "repeating a vote appends nothing"
    );
    let after_up = system
        .get_after(&format!("/threads/{thread_id}"), &repeat.token())
        .await;
    assert_eq!(
        (
            after_up.body["up_vote"].clone(),
            after_up.body["down_vote"].clone()
        ),
        (json!(1), json!(0))
    );
    let down = vote(&system, &thread_id, "bob", "down").await;
    let after_down = system
        .get_after(&format!("/threads/{thread_id}"), &down.token())
        .await;
    assert_eq!(
        (
            after_down.body["up_vote"].clone(),
            after_down.body["down_vote"].clone()
        ),
        (json!(0), json!(1))
    );
    vote(&system, &thread_id, "bob", "none").await;
    let last = vote(&system, &thread_id, "carol", "up").await;
    let end = system
        .get_after(&format!("/threads/{thread_id}"), &last.token())
        .await;
    assert_eq!(
        (end.body["up_vote"].clone(), end.body["down_vote"].clone()),
        (json!(1), json!(0))
    );
    let invalid = system
        .put(
            &format!("/threads/{thread_id}/vote"),
            "bob",
            json!({"direction": "sideways"}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_votes_by_one_user_count_once() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "contested").await;
    let thread_id = thread(&system, &project_id, "alice", "contested thread")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let directions = ["up", "down", "none"];
    let replies: Vec<Reply> = stream::iter(0..50)
        .map(|i| {
            let system = &system;
            let thread_id = &thread_id;
            async move {
                system
                    .put(
                        &format!("/threads/{thread_id}/vote"),
                        "bob",
                        json!({"direction": directions[i % 3]}),
                    )
                    .await
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    system.settle().await;
    // The stream is the judge: bob's votes form one chain, each starting where the last ended.
    let mut current = Direction::None;
    let (mut up, mut down) = (0i64, 0i64);
    for (_, envelope) in system.events().await {
        if let Event::VoteCast {
            direction,
            previous,
            ..
        } = envelope.event
        {
            assert_eq!(
                previous, current,
                "every vote was decided on the latest one"
            );
            current = direction;
            let (du, dd) = projector::projection::vote_delta(direction, previous);
            up += du;
            down += dd;
        }
    }
    let expected = current.counts();
    assert_eq!((up, down), expected);
    let shown = system.get(&format!("/threads/{thread_id}")).await;
    assert_eq!(
        (
            shown.body["up_vote"].as_i64(),
            shown.body["down_vote"].as_i64()
        ),
        (Some(expected.0), Some(expected.1))
    );
    assert!(expected.0 + expected.1 <= 1);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_stay_within_their_project() {
    let system = System::start().await;
    let first = project(&system, "alice", "first").await;
    let second = project(&system, "bob", "second").await;
    let parent = thread(&system, &first, "alice", "parent").await.body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let foreign = system
        .post(
            &format!("/projects/{second}/threads"),
            "bob",
            json!({"thread_type": "COMMENT", "message": "reply", "parent_thread_id": parent}),
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        foreign.body
    );
    assert_eq!(foreign.body["errors"][0]["field"], "parent_thread_id");
    let reply = system
        .post(
            &format!("/projects/{first}/threads"),
            "bob",
            json!({"thread_type": "SOLUTION", "message": "a reply", "parent_thread_id": parent}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // Read by the reply's author: a pending reply shows its text to them only.
    let shown = system
        .get_as(
            &format!("/threads/{parent}"),
            "bob",
            &[],
            Some(&reply.token()),
        )
        .await;
    assert_eq!(shown.body["reply_count"], 1);
    assert_eq!(shown.body["replies"][0]["message"], "a reply");
    assert_eq!(
        shown.body["replies"][0]["parent_thread_id"],
        parent.as_str()
    );
    let detail = system
        .get_after(&format!("/projects/{first}"), &reply.token())
        .await;
    // Every thread counts in `thread_count`; only top-level ones by type.
    assert_eq!(
        (
            detail.body["thread_count"].clone(),
            detail.body["solution_count"].clone()
        ),
        (json!(5), json!(1))
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_author_edits_and_only_the_proposer_tags() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "owned").await;
    let thread_id = thread(&system, &project_id, "bob", "original").await.body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let denied = system
        .patch(
            &format!("/threads/{thread_id}"),
            "mallory",
            json!({"message": "hijacked"}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let edited = system
        .patch(
            &format!("/threads/{thread_id}"),
            "bob",
            json!({"message": "edited"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    // An edited thread is pending again: its author still sees the text.
    let shown = system
        .get_as(
            &format!("/threads/{thread_id}"),
            "bob",
            &[],
            Some(&edited.token()),
        )
        .await;
    assert_eq!(shown.body["message"], "edited");
    assert!(shown.body["edited_at"].is_string());

    let tags = system
        .put(
            &format!("/projects/{project_id}/tags"),
            "alice",
            json!({"add": [" Drums ", "drums"], "remove": ["test"]}),
        )
        .await;
    assert_eq!(tags.status, StatusCode::OK, "{:?}", tags.body);
    assert_eq!(tags.body["tags"], json!(["drums"]));
    let detail = system
        .get_after(&format!("/projects/{project_id}"), &tags.token())
        .await;
    assert_eq!(detail.body["tags"], json!(["drums"]));
    let denied = system
        .put(
            &format!("/projects/{project_id}/tags"),
            "bob",
            json!({"add": ["x"]}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    system.stop().await;
}

async fn status_of(system: &System, thread_id: &str) -> Value {
    system.get(&format!("/threads/{thread_id}")).await.body
}

#[tokio::test(flavor = "multi_thread")]
async fn banned_words_are_rejected_and_moderators_override() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "moderated").await;
    let clean = thread(&system, &project_id, "bob", "drums are great")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bad = thread(&system, &project_id, "bob", "I support TERRORISM.")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    eventually("the moderator decides", Duration::from_secs(20), || async {
        status_of(&system, &clean).await["status"] == "approved"
            && status_of(&system, &bad).await["status"] == "rejected"
    })
    .await;
    let rejected = status_of(&system, &bad).await;
    assert_eq!(
        rejected["message"],
        Value::Null,
        "a rejected message is withheld"
    );
    let listing = system
        .get(&format!("/projects/{project_id}/threads?sort=new"))
        .await;
    assert!(
        listing.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|t| t["thread_id"] == bad.as_str()),
        "it keeps its place"
    );

    let denied = system
        .post(
            &format!("/threads/{bad}/moderation"),
            "bob",
            json!({"status": "approved"}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let request = system
        .http
        .post(format!("{}/threads/{bad}/moderation", system.command))
        .bearer_auth(system.env.token("mod", &["moderator"]))
        .json(&json!({"status": "approved", "reason": "quoted in context"}));
    let approved = system.send(request).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let shown = system
        .get_after(&format!("/threads/{bad}"), &approved.token())
        .await;
    assert_eq!(shown.body["status"], "approved");
    assert_eq!(shown.body["message"], "I support TERRORISM.");
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotent_retry_makes_one_thread() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "retried").await;
    let send = |body: Value| {
        let request = system
            .http
            .post(format!("{}/projects/{project_id}/threads", system.command))
            .bearer_auth(system.token("bob"))
            .header("Idempotency-Key", "retry-1")
            .json(&body);
        system.send(request)
    };
    let body = json!({"thread_type": "COMMENT", "message": "only once"});
    let first = send(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let before = system.stream_last().await;
    let second = send(body).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body, first.body, "the first response again");
    assert_eq!(
        second.header("consistency-token"),
        first.header("consistency-token")
    );
    assert_eq!(system.stream_last().await, before, "nothing appended");
    let different = send(json!({"thread_type": "COMMENT", "message": "something else"})).await;
    assert_eq!(different.status, StatusCode::UNPROCESSABLE_ENTITY);
    let listing = system
        .get_after(
            &format!("/projects/{project_id}/threads?type=COMMENT"),
            &first.token(),
        )
        .await;
    assert_eq!(listing.body["items"].as_array().expect("items").len(), 1);
    system.stop().await;
}

async fn documents(model: &ReadModel, collection: &str) -> Vec<Document> {
    let mut cursor = model
        .db
        .collection::<Document>(collection)
        .find(doc! {})
        .sort(doc! {"_id": 1})
        .await
        .expect("finds");
    let mut docs = Vec::new();
    while let Some(doc) = cursor.next().await {
        docs.push(doc.expect("a document"));
    }
    docs
}

#[tokio::test(flavor = "multi_thread")]
async fn applying_every_event_twice_equals_applying_it_once() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "redelivered").await;
    let parent = thread(&system, &project_id, "bob", "parent").await.body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    system
        .post(
            &format!("/projects/{project_id}/threads"),
            "carol",
            json!({"thread_type": "PROBLEM", "message": "reply", "parent_thread_id": parent}),
        )
        .await;
    for (user, direction) in [
        ("bob", "up"),
        ("carol", "down"),
        ("bob", "down"),
        ("dan", "up"),
        ("carol", "none"),
    ] {
        vote(&system, &parent, user, direction).await;
    }
    system
        .patch(
            &format!("/threads/{parent}"),
            "bob",
            json!({"message": "edited"}),
        )
        .await;
    system
        .put(
            &format!("/projects/{project_id}/tags"),
            "alice",
            json!({"add": ["x"]}),
        )
        .await;
    system.settle().await;
    let events = system.events().await;

    let once = ReadModel::connect(&TestEnv::new().mongo, "tests", Duration::from_secs(10))
        .await
        .expect("connects");
    let twice = ReadModel::connect(&TestEnv::new().mongo, "tests", Duration::from_secs(10))
        .await
        .expect("connects");
    projector::runner::apply_events(&once, &events)
        .await
        .expect("applies");
    for event in &events {
        // Each event redelivered right away, and the whole stream again after.
        projector::runner::apply_events(&twice, std::slice::from_ref(event))
            .await
            .expect("applies");
        projector::runner::apply_events(&twice, std::slice::from_ref(event))
            .await
            .expect("applies");
    }
    projector::runner::apply_events(&twice, &events)
        .await
        .expect("applies");
    let live = system.read_model().await;
    for collection in [
        flow_readmodel::PROJECTS,
        flow_readmodel::THREADS,
        flow_readmodel::TAGS,
        flow_readmodel::VOTES,
    ] {
        let expected = documents(&once, collection).await;
        assert!(!expected.is_empty());
        assert_eq!(
            documents(&twice, collection).await,
            expected,
            "{collection}"
        );
        assert_eq!(
            documents(&live, collection).await,
            expected,
            "{collection} as projected live"
        );
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_command_apis_never_act_on_a_stale_vote() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "two writers").await;
    let thread_id = thread(&system, &project_id, "alice", "voted from two sides")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    // A second command-api on the same stream, with its own memory.
    let (second_url, second) = system.second_command_api().await;
    let vote_as = |user: &'static str, base: &str, direction: &str| {
        let request = system
            .http
            .put(format!("{base}/threads/{thread_id}/vote"))
            .bearer_auth(system.token(user))
            .json(&json!({"direction": direction}));
        system.send(request)
    };
    let vote_at = |base: &str, direction: &str| vote_as("bob", base, direction);
    assert_eq!(vote_at(&system.command, "up").await.status, StatusCode::OK);
    assert_eq!(vote_at(&second_url, "none").await.status, StatusCode::OK);
    // The first instance remembers "up"; it must not take this for a repeat.
    let again = vote_at(&system.command, "up").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(vote_at(&second_url, "down").await.status, StatusCode::OK);
    // And here its memory says "up" with an old sequence: the append clashes and is decided again.
    let last = vote_at(&system.command, "none").await;
    assert_eq!(last.status, StatusCode::OK);

    // Carol votes on the first instance; the second never saw her vote and
    // first guesses that she has none: the stream refuses the guess.
    let first = vote_as("carol", &system.command, "up").await;
    assert_eq!(first.status, StatusCode::OK);
    let repeat = vote_as("carol", &second_url, "up").await;
    assert_eq!(repeat.status, StatusCode::OK);
    assert_eq!(
        repeat.token(),
        first.token(),
        "a repeat records nothing: its token is the vote's own"
    );
    let last = vote_as("carol", &second_url, "down").await;
    assert_eq!(last.status, StatusCode::OK);
    let shown = system
        .get_after(&format!("/threads/{thread_id}"), &last.token())
        .await;
    assert_eq!(
        (
            shown.body["up_vote"].as_i64(),
            shown.body["down_vote"].as_i64()
        ),
        (Some(0), Some(1))
    );
    let mut chains = std::collections::HashMap::new();
    let mut casts = Vec::new();
    for (_, envelope) in system.events().await {
        if let Event::VoteCast {
            direction,
            previous,
            voter,
            ..
        } = envelope.event
        {
            let chain = chains
                .entry(voter.as_str().to_owned())
                .or_insert(Direction::None);
            assert_eq!(previous, *chain, "{voter:?}");
            *chain = direction;
            casts.push(format!("{}:{}", voter.as_str(), direction.as_str()));
        }
    }
    assert_eq!(
        casts,
        [
            "bob:up",
            "bob:none",
            "bob:up",
            "bob:down",
            "bob:none",
            "carol:up",
            "carol:down"
        ],
        "each change recorded once, on what the stream held"
    );
    second.stop().await;
    system.stop().await;
}

/// A command-api keeps a thread's status in memory to decide votes; a
/// withdrawal or a moderator's rejection written through another instance
/// reaches it on the thread subjects well before that memory would expire.
#[tokio::test(flavor = "multi_thread")]
async fn a_thread_changed_through_another_command_api_is_heard_at_once() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "heard from afar").await;
    let threads = system.comment_threads(&project_id, 2).await;
    let (second_url, second) = system.second_command_api().await;
    let vote_at_second = |thread_id: &str, direction: &str| {
        let request = system
            .http
            .put(format!("{second_url}/threads/{thread_id}/vote"))
            .bearer_auth(system.token("bob"))
            .json(&json!({"direction": direction}));
        system.send(request)
    };
    let from_memory = |text: &str| -> f64 {
        text.lines()
            .find(|l| {
                l.starts_with("flow_thread_status_lookups_total") && l.contains("source=\"memory\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    for (thread_id, change) in threads.iter().zip(["withdraw", "reject"]) {
        // Until the second instance answers votes on the thread from memory
        // (a thread heard changing is read from the stream for a while).
        let up = std::cell::Cell::new(false);
        let before = from_memory(&system.metrics(&second_url).await);
        eventually(
            "votes decided from memory",
            Duration::from_secs(10),
            || async {
                up.set(!up.get());
                let voted = vote_at_second(thread_id, if up.get() { "up" } else { "down" }).await;
                assert_eq!(voted.status, StatusCode::OK, "{:?}", voted.body);
                from_memory(&system.metrics(&second_url).await) > before
            },
        )
        .await;
        let changed = match change {
            "withdraw" => {
                let request = system
                    .http
                    .delete(format!("{}/threads/{thread_id}", system.command))
                    .bearer_auth(system.token("author"));
                system.send(request).await
            }
            _ => {
                let request = system
                    .http
                    .post(format!("{}/threads/{thread_id}/moderation", system.command))
                    .bearer_auth(system.env.token("mo", &["moderator"]))
                    .json(&json!({"status": "rejected", "reason": "off topic"}));
                system.send(request).await
            }
        };
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        // Bounded well below the memory's five seconds.
        eventually(
            "the second instance refuses the vote",
            Duration::from_secs(2),
            || async { vote_at_second(thread_id, "up").await.status == StatusCode::CONFLICT },
        )
        .await;
    }
    second.stop().await;
    system.stop().await;
}

/// A rebuild folds each document's events into one statement (counters add
/// up, the last edit and moderation win, a tag is created once); the result
/// must equal the live documents, projected batch by batch.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_discussion_rebuilds_to_the_same_documents() {
    let system = System::start().await;
    let project_id = project(&system, "alice", "busy").await;
    let thread_id = thread(&system, &project_id, "bob", "first words")
        .await
        .body["thread_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let moderator = system.env.token("mod", &["moderator"]);
    let writes = (0..60).map(|i| {
        let (system, project_id, thread_id, moderator) =
            (&system, &project_id, &thread_id, &moderator);
        async move {
            let reply = match i % 6 {
                0 => {
                    system
                        .patch(
                            &format!("/threads/{thread_id}"),
                            "bob",
                            json!({"message": format!("edit {i}")}),
                        )
                        .await
                }
                1 | 2 => {
                    let direction = if i % 4 == 1 { "down" } else { "up" };
                    system
                        .put(
                            &format!("/threads/{thread_id}/vote"),
                            &format!("voter{}", i % 7),
                            json!({"direction": direction}),
                        )
                        .await
                }
                3 => {
                    system
                        .post(
                            &format!("/projects/{project_id}/threads"),
                            "carol",
                            json!({"thread_type": "COMMENT", "message": format!("reply {i}"),
                                   "parent_thread_id": thread_id}),
                        )
                        .await
                }
                4 => {
                    let (add, remove) = if i % 12 == 4 {
                        (format!("t{}", i % 5), "t0".to_owned())
                    } else {
                        ("t0".to_owned(), format!("t{}", i % 5))
                    };
                    system
                        .put(
                            &format!("/projects/{project_id}/tags"),
                            "alice",
                            json!({"add": [add], "remove": [remove]}),
                        )
                        .await
                }
                _ => {
                    let status = if i % 12 == 5 { "rejected" } else { "approved" };
                    let request = system
                        .http
                        .post(format!("{}/threads/{thread_id}/moderation", system.command))
                        .bearer_auth(moderator)
                        .json(&json!({"status": status}));
                    system.send(request).await
                }
            };
            // A rejected thread takes no replies and no votes: 409.
            assert!(
                reply.status.is_success() || reply.status == StatusCode::CONFLICT,
                "{i}: {} {:?}",
                reply.status,
                reply.body
            );
            i % 6 == 3 && reply.status == StatusCode::CREATED
        }
    });
    let replied = stream::iter(writes)
        .buffer_unordered(8)
        .collect::<Vec<bool>>()
        .await
        .into_iter()
        .filter(|created| *created)
        .count();
    system.settle().await;
    let shown = system
        .get_as(&format!("/threads/{thread_id}"), "bob", &[], None)
        .await;
    assert_eq!(shown.body["reply_count"], replied, "{:?}", shown.body);
    let verified = system.control(projector::control::Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");
    system.stop().await;
}
