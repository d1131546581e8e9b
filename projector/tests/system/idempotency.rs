//! `Idempotency-Key` under concurrent duplicates, a paused NATS and a
//! response that could not be recorded: never a 5xx for a duplicate, and
//! every keyed write appended exactly once.

use std::{sync::atomic::Ordering, time::Duration};

use flow_domain::events::{Envelope, Event};
use flow_http::protect::HttpConfig;
use flow_testkit::{NatsProcess, TestEnv, eventually, free_port, on_keeper_thread};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Reply, System};

const PROPOSAL: &str = r#"{"project_name": "Keyed proposal", "tagline": "proposed once",
    "problems": ["a problem"], "solutions": ["a solution"], "tags": ["keyed"]}"#;

/// One keyed POST as a request builder.
fn keyed(
    system: &System,
    path: &str,
    user: &str,
    roles: &[&str],
    key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    system
        .http
        .post(format!("{}{path}", system.command))
        .bearer_auth(system.env.token(user, roles))
        .header("Idempotency-Key", key)
        .json(body)
}

/// Sends 16 copies of a keyed POST at once: each is answered with the same
/// success or 409 with `Retry-After`, never anything else; returns a success.
async fn sixteen_at_once(
    system: &System,
    path: &str,
    user: &str,
    roles: &[&str],
    body: Value,
) -> Reply {
    let replies =
        join_all((0..16).map(|_| system.send(keyed(system, path, user, roles, "dup-1", &body))))
            .await;
    let mut successes = replies.iter().filter(|r| r.status.is_success());
    let first = successes
        .next()
        .expect("at least one duplicate succeeds")
        .clone();
    for reply in &replies {
        match reply.status {
            s if s.is_success() => {
                assert_eq!(reply.status, first.status, "{path}");
                assert_eq!(
                    reply.body, first.body,
                    "{path}: every success answers the one write"
                );
            }
            StatusCode::CONFLICT => {
                assert!(
                    reply.header("retry-after").is_some(),
                    "{path}: 409 says when to retry"
                );
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/problem+json")
                );
            }
            other => panic!("{path}: a duplicate was answered {other}: {:?}", reply.body),
        }
    }
    // Once the first has finished, a retry gets its answer.
    let again = system
        .send(keyed(system, path, user, roles, "dup-1", &body))
        .await;
    assert_eq!(again.status, first.status, "{path}: {:?}", again.body);
    assert_eq!(again.body, first.body, "{path}");
    first
}

fn count(events: &[(u64, Envelope)], matches: impl Fn(&Envelope) -> bool) -> usize {
    events.iter().filter(|(_, e)| matches(e)).count()
}

fn is_thread_with(message: &str) -> impl Fn(&Envelope) -> bool + '_ {
    move |e| matches!(&e.event, Event::ThreadStarted { message: m, .. } if m.as_str() == message)
}

#[tokio::test(flavor = "multi_thread")]
async fn sixteen_concurrent_duplicates_of_every_post_make_one_write() {
    let system = System::without_projector().await;
    let proposal: Value = serde_json::from_str(PROPOSAL).expect("json");
    let proposed = sixteen_at_once(&system, "/projects/propose", "alice", &[], proposal).await;
    assert_eq!(proposed.status, StatusCode::CREATED);
    let project_id = proposed.body["project_id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let thread = json!({"thread_type": "COMMENT", "message": "said once"});
    let started = sixteen_at_once(
        &system,
        &format!("/projects/{project_id}/threads"),
        "bob",
        &[],
        thread,
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let thread_id = started.body["thread_id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let decision = json!({"status": "rejected", "reason": "off topic"});
    let moderated = sixteen_at_once(
        &system,
        &format!("/threads/{thread_id}/moderation"),
        "mod",
        &["moderator"],
        decision,
    )
    .await;
    assert_eq!(moderated.status, StatusCode::OK);

    let events = system.events().await;
    assert_eq!(
        count(&events, |e| matches!(
            e.event,
            Event::ProjectProposed { .. }
        )),
        1
    );
    assert_eq!(
        count(&events, |e| matches!(
            e.event,
            Event::ProjectNameClaimed { .. }
        )),
        1
    );
    assert_eq!(count(&events, is_thread_with("said once")), 1);
    assert_eq!(
        count(&events, |e| matches!(
            e.event,
            Event::ThreadModerated { .. }
        ) && e.actor == "mod"),
        1
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_whose_answer_was_not_recorded_answers_the_same_on_retry() {
    let system = System::without_projector().await;
    let proposal: Value = serde_json::from_str(PROPOSAL).expect("json");
    let thread = json!({"thread_type": "PROBLEM", "message": "recorded late"});

    system.record_failures.store(true, Ordering::SeqCst);
    let first = system
        .send(keyed(
            &system,
            "/projects/propose",
            "alice",
            &[],
            "k-1",
            &proposal,
        ))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let project_id = first.body["project_id"].as_str().expect("an id").to_owned();
    let path = format!("/projects/{project_id}/threads");
    let first_thread = system
        .send(keyed(&system, &path, "bob", &[], "k-2", &thread))
        .await;
    assert_eq!(
        first_thread.status,
        StatusCode::CREATED,
        "{:?}",
        first_thread.body
    );
    system.record_failures.store(false, Ordering::SeqCst);

    // The keys were released: the retries run the writes again, which
    // append nothing and answer the first writes' ids and tokens.
    for (path, user, key, body, answer) in [
        ("/projects/propose", "alice", "k-1", &proposal, &first),
        (path.as_str(), "bob", "k-2", &thread, &first_thread),
    ] {
        let retry = eventually_answered(&system, keyed(&system, path, user, &[], key, body)).await;
        assert_eq!(
            retry.status,
            StatusCode::CREATED,
            "{path}: {:?}",
            retry.body
        );
        assert_eq!(retry.body, answer.body, "{path}: the first write's answer");
    }
    let events = system.events().await;
    assert_eq!(
        count(&events, |e| matches!(
            e.event,
            Event::ProjectProposed { .. }
        )),
        1
    );
    assert_eq!(count(&events, is_thread_with("recorded late")), 1);
    system.stop().await;
}

/// Sends until the answer is not "still in progress" (the release of a
/// failed request's claim runs in the background), bounded.
async fn eventually_answered(system: &System, request: reqwest::RequestBuilder) -> Reply {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = system.send(request.try_clone().expect("clonable")).await;
        if reply.status != StatusCode::CONFLICT || tokio::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn signal(process: &NatsProcess, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &process.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal}");
}

/// How many keyed writes each of the writers sends while NATS is paused once.
const WRITES_PER_WRITER: usize = 30;
const WRITERS: usize = 6;

#[tokio::test(flavor = "multi_thread")]
async fn nats_paused_past_the_request_timeout_then_retried_writes_once() {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("flow-paused-{}", uuid::Uuid::now_v7()));
    let mut nats = on_keeper_thread(move || NatsProcess::start(&dir, port, &[]));
    let mut env = TestEnv::new();
    env.nats.url = format!("nats://127.0.0.1:{port}");
    let http = HttpConfig {
        request_timeout: Duration::from_millis(1_000),
        ..HttpConfig::default()
    };
    let system = System::with_env_and_http(env, http).await;
    let project_id = system.propose("alice", "Paused NATS").await.body["project_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let path = format!("/projects/{project_id}/threads");
    let owned = system;
    let system = &owned;
    let request = |n: usize| {
        let (key, body) = if n % 10 == 9 {
            // Some proposals too: an atomic batch cut off by the pause.
            let body = json!({"project_name": format!("Paused {n}"), "tagline": "cut off",
                "problems": ["p"], "solutions": ["s"]});
            (format!("p-{n}"), ("/projects/propose", body))
        } else {
            (
                format!("t-{n}"),
                (
                    path.as_str(),
                    json!({"thread_type": "COMMENT", "message": format!("message {n}")}),
                ),
            )
        };
        keyed(system, body.0, "bob", &[], &key, &body.1)
    };

    // Writers send keyed writes one after another; NATS is paused (past the
    // request timeout) once a few have gone through, then resumed.
    let done = std::sync::atomic::AtomicUsize::new(0);
    let writers = join_all((0..WRITERS).map(|w| {
        let (done, request) = (&done, &request);
        let system = &system;
        async move {
            let mut failed = Vec::new();
            for i in 0..WRITES_PER_WRITER {
                let n = w * WRITES_PER_WRITER + i;
                let reply = system.send(request(n)).await;
                match reply.status {
                    s if s.is_success() => {}
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT => failed.push(n),
                    other => panic!("write {n} answered {other}: {:?}", reply.body),
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
            failed
        }
    }));
    let pause = async {
        let done = &done;
        eventually("some writes", Duration::from_secs(60), || async move {
            done.load(Ordering::SeqCst) >= 20
        })
        .await;
        signal(&nats, "-STOP");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        signal(&nats, "-CONT");
    };
    let (failed, ()) = tokio::join!(writers, pause);
    let failed: Vec<usize> = failed.into_iter().flatten().collect();
    assert!(!failed.is_empty(), "the pause cut some writes off");

    let mut retried = Vec::new();
    for n in failed {
        let reply = eventually_answered(system, request(n)).await;
        assert!(
            reply.status.is_success(),
            "retry of {n}: {} {:?}",
            reply.status,
            reply.body
        );
        let again = system.send(request(n)).await;
        assert_eq!(
            again.body, reply.body,
            "retry of {n} answers the same again"
        );
        retried.push((n, reply));
    }
    let events = system.events().await;
    // A retry answers the ids of what is in the stream, even when the cut-off
    // attempt is the one that was stored.
    for (n, reply) in retried {
        let stored = events.iter().find_map(|(_, e)| match &e.event {
            Event::ThreadStarted {
                thread_id, message, ..
            } if *message == format!("message {n}") => Some(("thread_id", thread_id.to_string())),
            Event::ProjectProposed {
                project_id,
                project_name,
                ..
            } if *project_name == format!("Paused {n}") => {
                Some(("project_id", project_id.to_string()))
            }
            _ => None,
        });
        let (field, id) = stored.unwrap_or_else(|| panic!("write {n} is in the stream"));
        assert_eq!(reply.body[field].as_str(), Some(id.as_str()), "write {n}");
    }
    for n in 0..WRITERS * WRITES_PER_WRITER {
        let matches = |e: &Envelope| match &e.event {
            Event::ThreadStarted { message, .. } => *message == format!("message {n}"),
            Event::ProjectProposed { project_name, .. } => *project_name == format!("Paused {n}"),
            _ => false,
        };
        assert_eq!(
            count(&events, matches),
            1,
            "write {n} is in the stream exactly once"
        );
    }
    owned.stop().await;
    let _ = nats.child.kill();
}
