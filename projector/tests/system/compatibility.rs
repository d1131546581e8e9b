//! Streams written by earlier versions still rebuild: a fixture of events
//! recorded by an earlier version (`projector/tests/fixtures/`) is replayed
//! into a new stream and projected by this version.
//!
//! `record_fixture` writes such a fixture from the current version: run it
//! with `FLOW_RECORD_FIXTURE=DIR cargo test -p projector --test system
//! record_fixture -- --ignored` before a change to the events, and keep what
//! it writes beside the earlier fixtures.

use std::path::{Path, PathBuf};

use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::System;

/// One recorded message: its subject below the prefix, and its payload.
fn fixture_line(subject: &str, prefix: &str, payload: &[u8]) -> Value {
    let suffix = subject
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(subject);
    let payload: Value = serde_json::from_slice(payload).expect("a JSON payload");
    json!({"subject": suffix, "payload": payload})
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A workload that writes every kind of event this version has.
async fn workload(system: &System) {
    let moderator = system.env.token("mod", &["moderator"]);
    let mut projects = Vec::new();
    for (user, name, tags) in [
        ("alice", "Popee the Performer", json!(["clown", "circus"])),
        ("bob", "Café Society", json!(["café", "music"])),
        ("carol", "Kedamono Drops", json!([])),
    ] {
        let reply = system
            .post(
                "/projects/propose",
                user,
                json!({
                    "project_name": name,
                    "tagline": format!("the tagline of {name}"),
                    "tags": tags,
                    "problems": ["a problem", "another problem"],
                    "solutions": ["a solution"],
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        projects.push(reply.body["project_id"].as_str().expect("id").to_owned());
    }
    let tags = system
        .put(
            &format!("/projects/{}/tags", projects[0]),
            "alice",
            json!({"add": ["juggling"], "remove": ["circus"]}),
        )
        .await;
    assert_eq!(tags.status, StatusCode::OK, "{:?}", tags.body);
    let mut threads = Vec::new();
    for (project, user, kind, message, parent) in [
        (0, "bob", "COMMENT", "Try juggling.", None),
        (0, "carol", "PROBLEM", "The tent leaks.", None),
        (0, "dave", "SOLUTION", "A new tent.", None),
        (1, "alice", "COMMENT", "This is racism, plainly.", None),
        (0, "erin", "PROBLEM", "A reply that is a problem.", Some(0)),
        (0, "bob", "COMMENT", "A reply to the reply.", Some(4)),
    ] {
        let mut body = json!({"thread_type": kind, "message": message});
        if let Some(parent) = parent {
            body["parent_thread_id"] = json!(threads[parent]);
        }
        let reply = system
            .post(
                &format!("/projects/{}/threads", projects[project]),
                user,
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        threads.push(reply.body["thread_id"].as_str().expect("id").to_owned());
    }
    let edit = system
        .patch(
            &format!("/threads/{}", threads[1]),
            "carol",
            json!({"message": "The tent leaks when it rains."}),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    for (thread, user, direction) in [
        (0, "alice", "up"),
        (0, "carol", "up"),
        (0, "dave", "down"),
        (1, "alice", "up"),
        (1, "alice", "down"),
        (2, "bob", "up"),
        (2, "carol", "up"),
        (4, "frank", "up"),
        (5, "alice", "down"),
    ] {
        let reply = system
            .put(
                &format!("/threads/{}/vote", threads[thread]),
                user,
                json!({"direction": direction}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    decided(system).await;
    for (thread, status, reason) in [
        (2, "rejected", Some("off topic")),
        (5, "rejected", None),
        (5, "approved", None),
    ] {
        let reply = system
            .send(
                system
                    .http
                    .post(format!(
                        "{}/threads/{}/moderation",
                        system.command, threads[thread]
                    ))
                    .bearer_auth(&moderator)
                    .json(&json!({"status": status, "reason": reason})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
}

/// Waits until the automatic moderator decided on every thread.
async fn decided(system: &System) {
    flow_testkit::eventually(
        "every thread is moderated",
        std::time::Duration::from_secs(30),
        || async {
            system.settle().await;
            let model = system.read_model().await;
            model
                .threads
                .count_documents(doc! {"status": "pending"})
                .await
                .unwrap_or(1)
                == 0
        },
    )
    .await;
}

/// The documents of one collection, by `_id`, without `_id` order mattering.
async fn documents(system: &System, base: &str) -> Vec<Document> {
    let model = system.read_model().await;
    let collection = model.db.collection::<Document>(&model.collection(base));
    let mut cursor = collection
        .find(doc! {})
        .sort(doc! {"_id": 1})
        .await
        .expect("find");
    let mut found = Vec::new();
    while cursor.advance().await.expect("next") {
        found.push(Document::try_from(cursor.current()).expect("a document"));
    }
    found
}

#[tokio::test]
#[ignore = "writes a fixture: run with FLOW_RECORD_FIXTURE=DIR"]
async fn record_fixture() {
    let Ok(dir) = std::env::var("FLOW_RECORD_FIXTURE") else {
        return;
    };
    let system = System::start().await;
    workload(&system).await;
    system.settle().await;
    let (_, js) = system.jetstream().await;
    let stream = js
        .get_stream(&system.env.nats.stream)
        .await
        .expect("stream exists");
    let last = stream.get_info().await.expect("info").state.last_sequence;
    let mut lines = String::new();
    for seq in 1..=last {
        let message = stream.direct_get(seq).await.expect("stored");
        let line = fixture_line(
            message.subject.as_str(),
            &system.env.nats.subject_prefix,
            &message.payload,
        );
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    std::fs::write(dir.join("events.jsonl"), lines).expect("written");
    let mut read_model = serde_json::Map::new();
    for base in ["projects", "threads", "tags"] {
        let docs: Vec<Value> = documents(&system, base)
            .await
            .into_iter()
            .map(|d| serde_json::to_value(&d).expect("JSON"))
            .collect();
        read_model.insert(base.into(), Value::Array(docs));
    }
    std::fs::write(
        dir.join("documents.json"),
        serde_json::to_string_pretty(&read_model).expect("JSON"),
    )
    .expect("written");
    system.stop().await;
}

/// Publishes a recorded fixture, in order, into the stream of `env` before
/// any service runs (so that the automatic moderator finds every thread
/// already decided, as it was when the fixture was recorded). Returns the
/// last sequence.
pub async fn replay_fixture(env: &flow_testkit::TestEnv, name: &str) -> u64 {
    let text = std::fs::read_to_string(fixtures().join(name).join("events.jsonl"))
        .expect("the fixture exists");
    let timeout = std::time::Duration::from_secs(10);
    let client = flow_runtime::nats::connect(&env.nats, "fixture", timeout)
        .await
        .expect("connects");
    let js = async_nats::jetstream::new(client);
    flow_runtime::nats::ensure_stream(&js, &env.nats, timeout)
        .await
        .expect("the stream");
    let mut last = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let line: Value = serde_json::from_str(line).expect("a JSON line");
        let subject = format!(
            "{}.{}",
            env.nats.subject_prefix,
            line["subject"].as_str().expect("a subject")
        );
        let payload = serde_json::to_vec(&line["payload"]).expect("JSON");
        let ack = js
            .publish(subject, payload.into())
            .await
            .expect("published")
            .await
            .expect("stored");
        last = ack.sequence;
    }
    last
}

/// The documents the earlier version projected from the fixture.
pub fn recorded_documents(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name).join("documents.json"))
        .expect("the fixture's documents exist");
    serde_json::from_str(&text).expect("JSON")
}

/// Drops the fields this version adds, so that what remains compares with
/// what the earlier version projected.
fn without(mut document: Value, added: &[&str]) -> Value {
    if let Some(fields) = document.as_object_mut() {
        for field in added {
            fields.remove(*field);
        }
    }
    document
}

#[tokio::test]
async fn a_stream_recorded_by_the_first_version_rebuilds_to_the_same_documents() {
    let env = flow_testkit::TestEnv::new();
    let last = replay_fixture(&env, "v1").await;
    let mut system = System::with_env(env).await;
    system.start_projector().await;
    system.settle().await;
    assert_eq!(
        system.stream_last().await,
        last,
        "nothing appended to the fixture"
    );
    assert!(
        system
            .read_model()
            .await
            .position()
            .await
            .expect("position")
            >= last
    );
    let recorded = recorded_documents("v1");
    // What this version adds, and what the contract changed since: counts
    // by type are of top-level threads, and a rejected thread's votes leave
    // its project's score. Both are checked on their own below.
    let project_fields = [
        "proposer_name",
        "comment_count",
        "problem_count",
        "solution_count",
        "score",
    ];
    let thread_fields = ["moderation_reason", "status_seq", "author_name"];
    for (base, added) in [
        ("projects", &project_fields[..]),
        ("threads", &thread_fields[..]),
        ("tags", &[][..]),
    ] {
        let projected: Vec<Value> = documents(&system, base)
            .await
            .into_iter()
            .map(|d| without(serde_json::to_value(&d).expect("JSON"), added))
            .collect();
        let recorded: Vec<Value> = recorded[base]
            .as_array()
            .expect("an array")
            .iter()
            .map(|d| without(d.clone(), added))
            .collect();
        assert_eq!(projected, recorded, "{base}");
    }
    let projects = documents(&system, "projects").await;
    let popee = projects
        .iter()
        .find(|p| p.get_str("project_name") == Ok("Popee the Performer"))
        .expect("the project");
    let field = |name: &str| flow_readmodel::bson_i64(popee.get(name));
    // Two problems proposed, one started; a reply typed PROBLEM is not one.
    assert_eq!(
        [
            field("problem_count"),
            field("solution_count"),
            field("comment_count"),
            field("thread_count")
        ],
        [3, 2, 1, 8]
    );
    // Two up-votes on the rejected solution no longer count.
    assert_eq!(field("score"), 0);
    assert!(
        popee
            .get("proposer_name")
            .is_some_and(|n| n.as_null().is_some())
    );
    let threads = documents(&system, "threads").await;
    let reason = |message: &str| {
        let thread = threads
            .iter()
            .find(|t| t.get_str("message") == Ok(message))
            .expect("the thread");
        thread.get_str("moderation_reason").ok().map(str::to_owned)
    };
    assert_eq!(reason("A new tent.").as_deref(), Some("off topic"));
    assert_eq!(
        reason("This is racism, plainly.").as_deref(),
        Some("contains the banned word `racism`")
    );
    assert_eq!(reason("Try juggling."), None);
    assert!(
        threads
            .iter()
            .all(|t| flow_readmodel::bson_i64(t.get("status_seq")) > 0)
    );
    // A rebuild from the same stream is equal to the live model.
    let verified = system.control(projector::control::Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");
    system.stop().await;
}
