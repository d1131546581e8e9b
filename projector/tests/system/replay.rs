//! Replay you can trust: crashes, poison events, outages and rebuilds.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use flow_testkit::{MongoProcess, TestEnv, eventually, free_port};
use futures::{StreamExt, stream};
use mongodb::bson::doc;
use projector::control::Request;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{System, metric};

fn projector_process(system: &System) -> tokio::process::Child {
    // A restart waits out the killed instance's lease: a short one. Folds of
    // a few batches: killed while folding, and coalescing again soon after
    // each restart.
    system.projector_process("127.0.0.1:0", 1_000, 50, 300)
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_three_times_during_a_workload_the_read_model_still_verifies() {
    let system = System::without_projector().await;
    let mut projects = Vec::new();
    for i in 0..20 {
        projects.push(
            system.propose("alice", &format!("crash {i}")).await.body["project_id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let threads = system.comment_threads(&projects[0], 25).await;
    let done = Arc::new(AtomicBool::new(false));
    let workload = {
        let threads = threads.clone();
        let system = &system;
        let done = done.clone();
        async move {
            let directions = ["up", "down", "none", "up"];
            stream::iter(0..5_000usize)
                .for_each_concurrent(32, |i| {
                    let threads = &threads;
                    async move {
                        let reply = system
                            .put(
                                &format!("/threads/{}/vote", threads[i % threads.len()]),
                                &format!("voter{}", i % 97),
                                json!({"direction": directions[i % 4]}),
                            )
                            .await;
                        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                    }
                })
                .await;
            done.store(true, Ordering::SeqCst);
        }
    };
    let killer = async {
        for round in 0..3u64 {
            let mut projector = projector_process(&system);
            // Let it apply for a while: a random point each round.
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 3;
            tokio::time::sleep(Duration::from_millis(150 + round * 100 + jitter)).await;
            projector.start_kill().expect("SIGKILL");
            projector.wait().await.expect("reaped");
        }
    };
    tokio::join!(workload, killer);
    assert!(done.load(Ordering::SeqCst));
    let mut projector = projector_process(&system);
    system.settle().await;

    let verified = system.control(Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");

    system
        .assert_vote_counts_match_stream(&projects[0], 25)
        .await;
    projector.start_kill().expect("stops");
    system.stop().await;
}

async fn publish_raw(system: &System, subject: String, payload: Vec<u8>) -> u64 {
    let (_, js) = system.jetstream().await;
    js.publish(subject, payload.into())
        .await
        .expect("published")
        .await
        .expect("stored")
        .sequence
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_events_are_parked_and_a_fixed_projector_applies_them_on_retry() {
    let mut system = System::start().await;
    let project_id = system.propose("alice", "poisoned").await.body["project_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let prefix = system.env.nats.subject_prefix.clone();

    // An event from a newer writer (schema version 2) and one that is not JSON at all.
    let newer_thread = uuid::Uuid::now_v7().to_string();
    let newer = json!({
        "id": uuid::Uuid::now_v7(), "type": "ThreadStarted", "version": 2,
        "occurred_at": "2026-11-22T00:00:00Z", "actor": "bob",
        "data": {"thread_id": newer_thread, "project_id": project_id, "parent_thread_id": null,
                 "thread_type": "COMMENT", "message": "from the future", "author": "bob"}
    });
    let newer_seq = publish_raw(
        &system,
        format!("{prefix}.evt.thread.{newer_thread}"),
        newer.to_string().into_bytes(),
    )
    .await;
    let garbage_thread = uuid::Uuid::now_v7().to_string();
    let garbage_seq = publish_raw(
        &system,
        format!("{prefix}.evt.thread.{garbage_thread}"),
        b"{not json".to_vec(),
    )
    .await;

    // Later events of other aggregates are projected.
    let other = system.propose("bob", "healthy").await;
    let comment = system
        .post(
            &format!("/projects/{project_id}/threads"),
            "carol",
            json!({"thread_type": "COMMENT", "message": "still here"}),
        )
        .await;
    let listing = system.get_after("/projects", &comment.token()).await;
    assert_eq!(listing.body["items"].as_array().expect("items").len(), 2);
    let detail = system
        .get_after(&format!("/projects/{project_id}"), &comment.token())
        .await;
    assert_eq!(detail.body["thread_count"], 4);
    assert_eq!(
        system
            .get(&format!(
                "/projects/{}",
                other.body["project_id"].as_str().expect("id")
            ))
            .await
            .status,
        StatusCode::OK
    );

    let parked = system.control(Request::Parked).await;
    let list = parked.parked.clone().expect("a list");
    let roots: Vec<u64> = list
        .iter()
        .filter(|p| p.behind.is_none())
        .map(|p| p.seq)
        .collect();
    assert_eq!(roots, [newer_seq, garbage_seq], "{parked:?}");
    // Anything else (the automatic moderator's decision on the newer thread)
    // waits behind the newer event.
    for behind in list.iter().filter(|p| p.behind.is_some()) {
        assert_eq!(behind.behind, Some(newer_seq), "{parked:?}");
    }
    let projector_url = system.projector.clone().expect("running");
    let metrics = system
        .send(system.http.get(format!("{projector_url}/metrics")))
        .await;
    let gauge: f64 = metrics
        .body
        .as_str()
        .expect("text")
        .lines()
        .find(|l| l.starts_with("flow_projector_parked_events{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("the parked gauge");
    assert_eq!(gauge as usize, list.len());

    let refused = system.control(Request::Retry { seq: newer_seq }).await;
    assert!(
        refused
            .error
            .as_deref()
            .expect("an error")
            .contains("newer"),
        "{refused:?}"
    );

    // The fix: a projector that understands schema version 2.
    system.stop_projector().await;
    system
        .start_projector_with(|config| config.settings.max_schema_version = 2)
        .await;
    // The gauge is right from the start, before anything is parked again.
    let restarted = system.control(Request::Parked).await;
    let text = system
        .metrics(&system.projector.clone().expect("running"))
        .await;
    assert_eq!(
        metric(&text, "flow_projector_parked_events{"),
        Some(list.len() as f64),
        "{restarted:?}"
    );
    // Freshness too: the event at the recorded position was stored.
    assert!(
        metric(
            &text,
            "flow_projector_last_applied_event_timestamp_seconds{"
        )
        .is_some_and(|stored| stored > 0.0),
        "{text}"
    );
    let retried = system.control(Request::Retry { seq: newer_seq }).await;
    assert!(retried.result.is_some(), "{retried:?}");
    // Read by its author: the text of a thread still pending is theirs to see.
    let thread = system
        .get_as(&format!("/threads/{newer_thread}"), "bob", &[], None)
        .await;
    assert_eq!(thread.status, StatusCode::OK, "{:?}", thread.body);
    assert_eq!(thread.body["message"], "from the future");
    // Anonymous, without a token: within the response cache's staleness bound.
    flow_testkit::eventually(
        "the retried thread counted",
        Duration::from_secs(5),
        || async { system.get(&format!("/projects/{project_id}")).await.body["thread_count"] == 5 },
    )
    .await;
    let still = system.control(Request::Parked).await;
    assert_eq!(
        still.parked.as_ref().expect("a list").len(),
        1,
        "the garbage stays parked: {still:?}"
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mongodb_stopped_mid_workload_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("flow-outage-{}", uuid::Uuid::now_v7()));
    let port = free_port();
    let mongo = MongoProcess::start(&dir, port);
    let mut env = TestEnv::new();
    env.mongo.uri = flow_runtime::config::SecretString::from(format!("mongodb://127.0.0.1:{port}"));
    let system = System::with_env(env).await;
    let mut system = system;
    system.start_projector().await;
    let projector_url = system.projector.clone().expect("running");

    let written = Arc::new(AtomicU64::new(0));
    for i in 0..20 {
        system.propose("alice", &format!("before {i}")).await;
        written.fetch_add(1, Ordering::SeqCst);
    }
    system.settle().await;
    let mut mongo = mongo;
    mongo.child.kill().expect("stops MongoDB");
    let _ = mongo.child.wait();
    for i in 0..20 {
        system.propose("alice", &format!("during {i}")).await;
    }
    eventually(
        "the projector reports not ready",
        Duration::from_secs(30),
        || async {
            system
                .send(system.http.get(format!("{projector_url}/readyz")))
                .await
                .status
                == StatusCode::SERVICE_UNAVAILABLE
        },
    )
    .await;
    let restarted = MongoProcess::start(&dir, port);
    for i in 0..20 {
        system.propose("alice", &format!("after {i}")).await;
    }
    system.settle().await;
    let model = system.read_model().await;
    assert_eq!(
        model
            .projects
            .count_documents(doc! {})
            .await
            .expect("counts"),
        60
    );
    assert_eq!(
        model
            .projects
            .count_documents(doc! {"thread_count": 3})
            .await
            .expect("counts"),
        60
    );
    eventually(
        "the projector is ready again",
        Duration::from_secs(30),
        || async {
            system
                .send(system.http.get(format!("{projector_url}/readyz")))
                .await
                .status
                == StatusCode::OK
        },
    )
    .await;
    system.stop().await;
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_under_writes_and_reads_switches_without_failed_reads_and_verifies() {
    let system = System::start().await;
    let first = system.propose("alice", "seed").await.token();
    system.get_after("/projects", &first).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let system = &system;
        let stop = stop.clone();
        async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let project = system.propose("writer", &format!("live {i}")).await;
                let project_id = project.body["project_id"].as_str().expect("id").to_owned();
                system
                    .put(
                        &format!("/projects/{project_id}/tags"),
                        "writer",
                        json!({"add": ["rebuilt"]}),
                    )
                    .await;
                i += 1;
            }
            i
        }
    };
    let failures = Arc::new(AtomicU64::new(0));
    let reader = {
        let system = &system;
        let stop = stop.clone();
        let failures = failures.clone();
        async move {
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let reply = system.get("/projects?limit=5").await;
                let items = reply.body["items"].as_array().map(Vec::len).unwrap_or(0);
                if reply.status != StatusCode::OK || items == 0 {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                reads += 1;
            }
            reads
        }
    };
    let rebuild = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = system.control(Request::Rebuild).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::SeqCst);
        answer
    };
    let (written, reads, answer) = tokio::join!(writer, reader, rebuild);
    assert_eq!(answer.result.as_deref(), Some("switched"), "{answer:?}");
    assert_eq!(answer.generation, Some(1));
    assert!(written > 0 && reads > 0);
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "no read failed or came back empty"
    );
    system.settle().await;
    let status = system
        .send(system.http.get(format!(
            "{}/status",
            system.projector.clone().expect("running")
        )))
        .await;
    assert_eq!(status.body["generation"], 1);
    let verified = system.control(Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");
    // The last run's progress, as gauges.
    let text = system
        .metrics(&system.projector.clone().expect("running"))
        .await;
    let position = metric(&text, "flow_projector_rebuild_position{").expect("a position");
    let target = metric(&text, "flow_projector_rebuild_target_position{").expect("a target");
    assert!(position > 0.0 && target >= position, "{text}");
    let listing = system.all_items_after("/projects?limit=100", &first).await;
    assert_eq!(listing.len() as u64, written + 1, "every project, once");
    system.stop().await;
}
