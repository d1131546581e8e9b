//! The writes of the app's journeys: changing a project (a rename through
//! the name-claim subject) and withdrawing a thread, with their races.

use flow_domain::{
    Aggregate,
    events::{Envelope, Event},
    project::NameClaim,
};
use futures::{StreamExt, future::join_all};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, System};
use crate::journeys_reads::{assert_problem, decided, id, moderate, project, start};

async fn rename(system: &System, project_id: &str, user: &str, body: Value) -> Reply {
    system
        .patch(&format!("/projects/{project_id}"), user, body)
        .await
}

async fn withdraw(system: &System, thread_id: &str, user: &str, roles: &[&str]) -> Reply {
    let request = system
        .http
        .delete(format!("{}/threads/{thread_id}", system.command))
        .bearer_auth(system.env.token(user, roles));
    system.send(request).await
}

async fn vote(system: &System, thread_id: &str, user: &str, direction: &str) -> Reply {
    system
        .put(
            &format!("/threads/{thread_id}/vote"),
            user,
            json!({"direction": direction}),
        )
        .await
}

/// A proposal of `name` by `user`, answered whatever its status.
async fn try_propose(system: &System, user: &str, name: &str) -> Reply {
    system
        .write(
            Method::POST,
            "/projects/propose",
            user,
            json!({"project_name": name, "tagline": "t", "problems": ["p"], "solutions": ["s"]}),
        )
        .await
}

/// Which project holds the claim on `name`, as the stream says.
async fn holder(system: &System, name: &str) -> Option<String> {
    let key = flow_domain::ProjectName::parse(name)
        .expect("a valid name")
        .unique_key();
    let events: Vec<Envelope> = system
        .events()
        .await
        .into_iter()
        .map(|(_, envelope)| envelope)
        .filter(|e| match &e.event {
            Event::ProjectNameClaimed { name_key, .. }
            | Event::ProjectNameReleased { name_key, .. } => *name_key == key,
            _ => false,
        })
        .collect();
    NameClaim::fold(None, events.iter().map(|e| &e.event)).map(|p| p.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_is_changed_by_its_proposer_and_its_old_name_is_free_at_once() {
    let system = System::start().await;
    let proposed = project(&system, "alice", "Rename Me").await;
    let project_id = id(&proposed, "project_id");

    let by_another = rename(&system, &project_id, "bob", json!({"tagline": "mine"})).await;
    assert_problem(&by_another, StatusCode::FORBIDDEN);
    let unknown = rename(
        &system,
        &flow_domain::ProjectId::new().to_string(),
        "alice",
        json!({"tagline": "x"}),
    )
    .await;
    assert_problem(&unknown, StatusCode::NOT_FOUND);
    let nothing = rename(&system, &project_id, "alice", json!({})).await;
    assert_problem(&nothing, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = rename(
        &system,
        &project_id,
        "alice",
        json!({"project_name": " \u{200B} ", "tagline": "x".repeat(300)}),
    )
    .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["project_name", "tagline"]);
    let taken = project(&system, "dave", "Already Taken").await;
    let into_taken = rename(
        &system,
        &project_id,
        "alice",
        json!({"project_name": "ALREADY taken"}),
    )
    .await;
    assert_problem(&into_taken, StatusCode::CONFLICT);

    let renamed = rename(
        &system,
        &project_id,
        "alice",
        json!({"project_name": "Renamed Project", "tagline": "a new tagline"}),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["project_id"], project_id.as_str());
    let shown = system
        .get_after(&format!("/projects/{project_id}"), &renamed.token())
        .await;
    assert_eq!(shown.body["project_name"], "Renamed Project");
    assert_eq!(shown.body["tagline"], "a new tagline");
    let found = system
        .get_after("/projects?q=renamed", &renamed.token())
        .await;
    assert_eq!(found.body["items"][0]["project_id"], project_id.as_str());

    // The old name is free at once; the new one is taken, in any case.
    assert_eq!(
        try_propose(&system, "carol", "rename me").await.status,
        StatusCode::CREATED
    );
    assert_problem(
        &try_propose(&system, "carol", "RENAMED project").await,
        StatusCode::CONFLICT,
    );
    // A change of case keeps the claim; the same change again is no change.
    let case = rename(
        &system,
        &project_id,
        "alice",
        json!({"project_name": "renamed project"}),
    )
    .await;
    assert_eq!(case.status, StatusCode::OK, "{:?}", case.body);
    let events_before = system.stream_last().await;
    let again = rename(
        &system,
        &project_id,
        "alice",
        json!({"project_name": "renamed project"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        system.stream_last().await,
        events_before,
        "nothing appended"
    );
    assert_eq!(
        holder(&system, "Renamed Project").await.as_deref(),
        Some(project_id.as_str())
    );
    assert_eq!(
        holder(&system, "Already Taken").await.as_deref(),
        Some(id(&taken, "project_id").as_str())
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_users_renaming_into_the_same_free_name_one_wins() {
    let system = System::start().await;
    for round in 0..5 {
        let first = id(
            &project(&system, "alice", &format!("First {round}")).await,
            "project_id",
        );
        let second = id(
            &project(&system, "bob", &format!("Second {round}")).await,
            "project_id",
        );
        let prize = format!("Prize {round}");
        let answers = join_all([
            rename(&system, &first, "alice", json!({"project_name": prize})),
            rename(
                &system,
                &second,
                "bob",
                json!({"project_name": prize.to_uppercase()}),
            ),
        ])
        .await;
        let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
        assert!(
            statuses == [StatusCode::OK, StatusCode::CONFLICT]
                || statuses == [StatusCode::CONFLICT, StatusCode::OK],
            "round {round}: {statuses:?}"
        );
        let (winner, loser, loser_name, winner_name) = if statuses[0] == StatusCode::OK {
            (
                &first,
                &second,
                format!("Second {round}"),
                format!("First {round}"),
            )
        } else {
            (
                &second,
                &first,
                format!("First {round}"),
                format!("Second {round}"),
            )
        };
        // The prize is the winner's; the loser keeps its name; the winner's
        // old name is free.
        assert_eq!(
            holder(&system, &prize).await.as_deref(),
            Some(winner.as_str())
        );
        assert_eq!(
            holder(&system, &loser_name).await.as_deref(),
            Some(loser.as_str())
        );
        assert_eq!(holder(&system, &winner_name).await, None);
        let token = answers
            .iter()
            .find(|a| a.status == StatusCode::OK)
            .expect("a winner")
            .token();
        let loser_shown = system
            .get_after(&format!("/projects/{loser}"), &token)
            .await;
        assert_eq!(loser_shown.body["project_name"], loser_name.as_str());
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rename_racing_a_proposal_of_the_same_name_one_wins() {
    let system = System::start().await;
    for round in 0..5 {
        let old = format!("Before {round}");
        let project_id = id(&project(&system, "alice", &old).await, "project_id");
        let contested = format!("Contested {round}");
        let (renamed, proposed) = tokio::join!(
            rename(
                &system,
                &project_id,
                "alice",
                json!({"project_name": contested})
            ),
            try_propose(&system, "carol", &contested),
        );
        let holder_now = holder(&system, &contested).await;
        match (renamed.status, proposed.status) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                assert_eq!(holder_now.as_deref(), Some(project_id.as_str()));
                assert_eq!(holder(&system, &old).await, None);
            }
            (StatusCode::CONFLICT, StatusCode::CREATED) => {
                assert_eq!(holder_now, Some(id(&proposed, "project_id")));
                assert_eq!(holder(&system, &old).await, Some(project_id.clone()));
            }
            other => panic!(
                "round {round}: {other:?} {:?} {:?}",
                renamed.body, proposed.body
            ),
        }
        // Exactly one project carries the name.
        let token = format!("s{}", system.stream_last().await);
        let named: Vec<Value> = system
            .all_items_after(&format!("/projects?q={}&limit=100", round), &token)
            .await
            .into_iter()
            .filter(|p| p["project_name"] == contested.as_str())
            .collect();
        assert_eq!(named.len(), 1, "round {round}: {named:?}");
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_is_withdrawn_by_its_author_or_a_moderator_and_then_takes_nothing() {
    let system = System::start().await;
    let project_id = id(
        &project(&system, "alice", "Withdrawals").await,
        "project_id",
    );
    let thread = id(
        &start(&system, &project_id, "bob", "mine", None).await,
        "thread_id",
    );
    let other = id(
        &start(&system, &project_id, "carol", "theirs", None).await,
        "thread_id",
    );
    let reply = id(
        &start(&system, &project_id, "dave", "a reply", Some(&thread)).await,
        "thread_id",
    );
    decided(&system, &thread, "approved").await;

    assert_problem(
        &withdraw(&system, &thread, "carol", &[]).await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &withdraw(
            &system,
            &flow_domain::ThreadId::new().to_string(),
            "bob",
            &[],
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    let withdrawn = withdraw(&system, &thread, "bob", &[]).await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{:?}", withdrawn.body);
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert_eq!(withdrawn.body["thread_id"], thread.as_str());
    let last = system.stream_last().await;
    let again = withdraw(&system, &thread, "bob", &[]).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        system.stream_last().await,
        last,
        "withdrawing again appends nothing"
    );
    let by_moderator = withdraw(&system, &other, "mod", &["moderator"]).await;
    assert_eq!(
        by_moderator.status,
        StatusCode::OK,
        "{:?}",
        by_moderator.body
    );

    // Closed: no votes, no replies, no edits.
    assert_problem(
        &vote(&system, &thread, "erin", "up").await,
        StatusCode::CONFLICT,
    );
    let new_reply = system
        .post(
            &format!("/projects/{project_id}/threads"),
            "erin",
            json!({"thread_type": "COMMENT", "message": "late", "parent_thread_id": thread}),
        )
        .await;
    assert_problem(&new_reply, StatusCode::CONFLICT);
    let edit = system
        .patch(
            &format!("/threads/{thread}"),
            "bob",
            json!({"message": "again"}),
        )
        .await;
    assert_problem(&edit, StatusCode::CONFLICT);

    // Out of the counts; still answered by id, without its text; its reply
    // stays readable.
    let token = by_moderator.token();
    let detail = system
        .get_after(&format!("/projects/{project_id}"), &token)
        .await;
    // Three threads of the proposal, three started, two withdrawn.
    assert_eq!(detail.body["thread_count"], 3 + 3 - 2);
    assert_eq!(detail.body["comment_count"], 0);
    let shown = system
        .get_as(&format!("/threads/{thread}"), "bob", &[], Some(&token))
        .await;
    assert_eq!(shown.body["status"], "withdrawn");
    assert_eq!(shown.body["message"], Value::Null);
    let reply_shown = system
        .get_as(&format!("/threads/{reply}"), "dave", &[], Some(&token))
        .await;
    assert_eq!(reply_shown.status, StatusCode::OK);
    assert_eq!(reply_shown.body["message"], "a reply");
    system.stop().await;
}

/// Votes from many users race the withdrawal of their thread: afterwards the
/// project's score holds none of the thread's votes, every vote answered
/// after the withdrawal was refused, and the thread's own counts hold only
/// the votes the stream has before the withdrawal.
#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawal_racing_votes_leaves_none_of_them_in_the_score() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "Racing").await, "project_id");
    let thread = id(
        &start(&system, &project_id, "bob", "popular", None).await,
        "thread_id",
    );
    let kept = id(
        &start(&system, &project_id, "carol", "kept", None).await,
        "thread_id",
    );
    decided(&system, &thread, "approved").await;
    for voter in ["v1", "v2"] {
        assert_eq!(
            vote(&system, &kept, voter, "up").await.status,
            StatusCode::OK
        );
    }
    let withdrawn_at = std::sync::OnceLock::new();
    let votes = (0..40).map(|i| {
        let (system, thread, withdrawn_at) = (&system, &thread, &withdrawn_at);
        async move {
            if i == 20 {
                let reply = withdraw(system, thread, "bob", &[]).await;
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                let _ = withdrawn_at.set(std::time::Instant::now());
                return;
            }
            let direction = if i % 3 == 0 { "down" } else { "up" };
            let sent = std::time::Instant::now();
            let reply = vote(system, thread, &format!("voter{i}"), direction).await;
            assert!(
                reply.status == StatusCode::OK || reply.status == StatusCode::CONFLICT,
                "{:?}",
                reply.body
            );
            if withdrawn_at.get().is_some_and(|at| *at < sent) {
                assert_eq!(
                    reply.status,
                    StatusCode::CONFLICT,
                    "a vote sent after the withdrawal"
                );
            }
        }
    });
    futures::stream::iter(votes)
        .buffer_unordered(10)
        .collect::<Vec<()>>()
        .await;
    system.settle().await;
    let token = format!("s{}", system.stream_last().await);
    let detail = system
        .get_after(&format!("/projects/{project_id}"), &token)
        .await;
    assert_eq!(detail.body["score"], 2, "only the kept thread's votes");
    // The thread's counts: the votes the stream holds before the withdrawal.
    let mut before = (0, 0);
    for (_, envelope) in system.events().await {
        match envelope.event {
            Event::ThreadWithdrawn { thread_id, .. } if thread_id.to_string() == thread => break,
            Event::VoteCast {
                thread_id,
                direction,
                previous,
                ..
            } if thread_id.to_string() == thread => {
                let (up, down) = projector::projection::vote_delta(direction, previous);
                before = (before.0 + up, before.1 + down);
            }
            _ => {}
        }
    }
    let shown = system
        .get_as(&format!("/threads/{thread}"), "bob", &[], Some(&token))
        .await;
    assert_eq!(
        (
            shown.body["up_vote"].as_i64(),
            shown.body["down_vote"].as_i64()
        ),
        (Some(before.0), Some(before.1)),
        "{:?}",
        shown.body
    );
    system.stop().await;
}

/// A rejection takes a thread's votes out of its project's score; an
/// approval puts them back.
#[tokio::test(flavor = "multi_thread")]
async fn rejection_and_approval_move_votes_out_of_and_into_the_score() {
    let system = System::start().await;
    let project_id = id(&project(&system, "alice", "Scored").await, "project_id");
    let thread = id(
        &start(&system, &project_id, "bob", "votes", None).await,
        "thread_id",
    );
    decided(&system, &thread, "approved").await;
    for voter in ["a", "b", "c"] {
        assert_eq!(
            vote(&system, &thread, voter, "up").await.status,
            StatusCode::OK
        );
    }
    let score = |token: String| {
        let system = &system;
        let path = format!("/projects/{project_id}");
        async move { system.get_after(&path, &token).await.body["score"].clone() }
    };
    let rejected = moderate(&system, &thread, "rejected", Some("no")).await;
    assert_eq!(score(rejected.token()).await, 0);
    assert_problem(
        &vote(&system, &thread, "d", "up").await,
        StatusCode::CONFLICT,
    );
    let approved = moderate(&system, &thread, "approved", None).await;
    assert_eq!(score(approved.token()).await, 3);
    let listed = system
        .get_after("/projects?sort=top&limit=100", &approved.token())
        .await;
    assert!(
        listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["project_id"] == project_id.as_str() && p["score"] == 3)
    );
    system.stop().await;
}

/// The `name` claim of a writer's token is kept with what they write.
#[tokio::test(flavor = "multi_thread")]
async fn display_names_come_from_the_writers_token() {
    let system = System::start().await;
    let proposed = system
        .send(
            system
                .http
                .post(format!("{}/projects/propose", system.command))
                .bearer_auth(system.env.named_token("alice", "  Alice   Liddell "))
                .json(&json!({"project_name": "Named", "tagline": "t", "problems": ["p"], "solutions": ["s"]})),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{:?}", proposed.body);
    let project_id = id(&proposed, "project_id");
    let started = system
        .send(
            system
                .http
                .post(format!("{}/projects/{project_id}/threads", system.command))
                .bearer_auth(system.env.named_token("bob", "Bob \u{202E}evil"))
                .json(&json!({"thread_type": "COMMENT", "message": "hi"})),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let token = started.token();
    let detail = system
        .get_after(&format!("/projects/{project_id}"), &token)
        .await;
    assert_eq!(detail.body["proposer_name"], "Alice Liddell");
    let thread = system
        .get_as(
            &format!("/threads/{}", id(&started, "thread_id")),
            "bob",
            &[],
            Some(&token),
        )
        .await;
    // A name with a bidirectional override is not kept.
    assert_eq!(thread.body["author_name"], Value::Null, "{:?}", thread.body);
    system.stop().await;
}
