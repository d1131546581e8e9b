//! Standbys and failover: two projector processes against the same stream
//! and database, one active at a time; the store guard refuses a deposed
//! writer.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use flow_testkit::{eventually, free_port};
use futures::{StreamExt, stream};
use mongodb::bson::doc;
use projector::{
    control::Request,
    fence::{self, EPOCH, Fence},
    settings::{BULK_COMMAND, Settings},
    sink::{self, Projection},
    status::StatusReply,
    store::{Guard, WriteFailure},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::System;

/// The lease in these tests: short, so that each failover is quick.
const LEASE_MS: u64 = 2_000;
/// A standby applies new events within this long after the active one
/// stops (the bound).
const FAILOVER_BOUND: Duration = Duration::from_secs(10);

/// One projector process and the port of its `/status`.
struct Instance {
    port: u16,
    child: tokio::process::Child,
}

impl Instance {
    fn start(system: &System, port: u16) -> Self {
        let addr = format!("127.0.0.1:{port}");
        Self {
            port,
            child: system.projector_process(&addr, LEASE_MS, 50, 300),
        }
    }

    fn pid(&self) -> i32 {
        self.child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .expect("running")
    }

    /// Sends `signal` (`STOP`, `CONT`) with kill(1).
    async fn signal(&self, signal: &str) {
        let sent = tokio::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success(), "SIG{signal} sent");
    }

    async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reaped");
    }

    /// Its `/status`, if it answers.
    async fn status(&self) -> Option<StatusReply> {
        let reply = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/status", self.port))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        reply.json().await.ok()
    }

    async fn readyz(&self) -> Option<(u16, serde_json::Value)> {
        let reply = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/readyz", self.port))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let code = reply.status().as_u16();
        Some((code, reply.json().await.ok()?))
    }

    async fn is_active(&self) -> bool {
        self.status().await.is_some_and(|s| s.role == "active")
    }

    async fn is_standby(&self) -> bool {
        self.status().await.is_some_and(|s| s.role == "standby")
    }
}

/// Waits until exactly one of the instances says it is active; its index.
async fn the_active(instances: &[Instance]) -> usize {
    let mut found = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while found.is_none() {
        let mut active = Vec::new();
        for (i, instance) in instances.iter().enumerate() {
            if instance.is_active().await {
                active.push(i);
            }
        }
        if let [one] = active.as_slice() {
            found = Some(*one);
        } else {
            assert!(
                tokio::time::Instant::now() < deadline,
                "one instance becomes active (active: {active:?})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    found.unwrap_or_default()
}

async fn project_with_threads(system: &System, n: usize) -> (String, Vec<String>) {
    let project_id = system.propose("alice", "failover").await.body["project_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ids = system.comment_threads(&project_id, n).await;
    (project_id, ids)
}

/// Votes through command-api; every one acknowledged.
async fn vote(system: &System, threads: &[String], from: usize, count: usize) {
    let directions = ["up", "down", "none", "up"];
    stream::iter(from..from + count)
        .for_each_concurrent(32, |i| async move {
            let reply = system
                .put(
                    &format!("/threads/{}/vote", threads[i % threads.len()]),
                    &format!("voter{}", i % 97),
                    json!({"direction": directions[i % 4]}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        })
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_active_projector_killed_three_times_a_standby_takes_over_and_nothing_is_lost_or_doubled()
 {
    let system = System::without_projector().await;
    let (project_id, threads) = project_with_threads(&system, 25).await;
    let mut instances = vec![
        Instance::start(&system, free_port()),
        Instance::start(&system, free_port()),
    ];
    the_active(&instances).await;
    // The standby is ready, and says why it does nothing.
    for instance in &instances {
        if instance.is_standby().await {
            let (code, body) = instance.readyz().await.expect("answers");
            assert_eq!(code, 200);
            assert!(
                body["detail"].as_str().unwrap_or("").contains("standby"),
                "{body}"
            );
        }
    }

    let done = Arc::new(AtomicBool::new(false));
    let workload = {
        let done = done.clone();
        let (system, threads) = (&system, &threads);
        async move {
            vote(system, threads, 0, 4_000).await;
            done.store(true, Ordering::SeqCst);
        }
    };
    let killer = async {
        for round in 0..3u64 {
            let active = the_active(&instances).await;
            // A random point each round.
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 4;
            tokio::time::sleep(Duration::from_millis(200 + round * 100 + jitter)).await;
            let killed_at = Instant::now();
            instances[active].kill().await;
            let other = 1 - active;
            // The standby takes over within the bound; the killed one comes
            // back as a standby.
            eventually("the standby takes over", FAILOVER_BOUND, || {
                instances[other].is_active()
            })
            .await;
            assert!(killed_at.elapsed() <= FAILOVER_BOUND);
            let port = instances[active].port;
            instances[active] = Instance::start(&system, port);
            eventually(
                "the restarted instance stands by",
                Duration::from_secs(30),
                || instances[active].is_standby(),
            )
            .await;
        }
    };
    tokio::join!(workload, killer);
    assert!(done.load(Ordering::SeqCst));
    system.settle().await;

    let verified = system.control(Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");
    system
        .assert_vote_counts_match_stream(&project_id, threads.len())
        .await;
    let active = the_active(&instances).await;
    let status = instances[active].status().await.expect("status");
    assert!(status.failovers >= 1);
    for mut instance in instances {
        instance.kill().await;
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_active_projector_paused_past_its_lease_is_replaced_and_writes_nothing_when_it_resumes()
{
    let system = System::without_projector().await;
    let (project_id, threads) = project_with_threads(&system, 10).await;
    let mut instances = vec![Instance::start(&system, free_port())];
    eventually(
        "the first instance is active",
        Duration::from_secs(30),
        || instances[0].is_active(),
    )
    .await;
    instances.push(Instance::start(&system, free_port()));
    eventually("the second stands by", Duration::from_secs(30), || {
        instances[1].is_standby()
    })
    .await;
    vote(&system, &threads, 0, 500).await;
    system.settle().await;

    // Paused past its lease.
    let before = instances[0].status().await.expect("status");
    instances[0].signal("STOP").await;
    let paused_at = Instant::now();
    let writes = async {
        vote(&system, &threads, 500, 500).await;
    };
    let takeover = eventually("the standby takes over", FAILOVER_BOUND, || {
        instances[1].is_active()
    });
    tokio::join!(writes, takeover);
    let last = system.stream_last().await;
    let model = system.read_model().await;
    eventually(
        "the new active one applies the new events",
        FAILOVER_BOUND,
        || {
            let model = model.clone();
            async move { model.position().await.unwrap_or(0) >= last }
        },
    )
    .await;
    let took = paused_at.elapsed();
    assert!(
        took <= FAILOVER_BOUND + FAILOVER_BOUND,
        "applied after {took:?}"
    );
    let epoch_now = instances[1].status().await.expect("status").epoch;

    // Resumed: it learns it lost the lease, writes nothing and stands by.
    instances[0].signal("CONT").await;
    eventually("the resumed one stands by", Duration::from_secs(30), || {
        instances[0].is_standby()
    })
    .await;
    vote(&system, &threads, 1_000, 300).await;
    system.settle().await;
    let after = instances[0].status().await.expect("status");
    assert_eq!(
        after.applied_events, before.applied_events,
        "the resumed instance committed nothing"
    );
    assert_eq!(after.role, "standby");
    assert!(instances[1].is_active().await);
    let state = model
        .state
        .find_one(doc! {"_id": model.position_id()})
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(
        flow_readmodel::bson_u64(state.get(EPOCH).expect("an epoch")),
        epoch_now
    );
    let verified = system.control(Request::Verify).await;
    assert_eq!(verified.result.as_deref(), Some("equal"), "{verified:?}");
    system
        .assert_vote_counts_match_stream(&project_id, threads.len())
        .await;
    for mut instance in instances {
        instance.kill().await;
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_guard_refuses_a_stale_epoch_or_a_stale_position_and_changes_nothing() {
    let system = System::without_projector().await;
    for i in 0..3 {
        system.propose("alice", &format!("guarded {i}")).await;
    }
    let events = system.events().await;
    let last = events.last().map(|(seq, _)| *seq).expect("events");
    let model = system.read_model().await;
    let mut uncounted = sink::load_uncounted(&model).await.expect("loads");
    let statements: Vec<_> = events
        .iter()
        .flat_map(|(seq, e)| projector::projection::writes(*seq as i64, e, &mut uncounted))
        .collect();
    let stale = Arc::new(Fence::fixed(5));
    let newer = Arc::new(Fence::fixed(7));
    // Epoch 5 opens (claims) the generation, then epoch 7 takes it over.
    let opened = Projection::open(model.clone(), Settings::default(), Some(stale.clone()))
        .await
        .expect("opens");
    assert_eq!(opened.recorded, 0);
    assert_eq!(fence::claim(&model, 7).await.expect("claims"), 0);
    // Epoch 5 can no longer claim it.
    assert!(fence::claim(&model, 5).await.is_err());

    let position = || async { model.position().await.expect("reads") };
    let projects = || async {
        model
            .projects
            .count_documents(doc! {})
            .await
            .expect("counts")
    };
    // A commit from the stale epoch: refused before any document.
    let refused = sink::write_all(
        &model,
        &statements,
        &[],
        last,
        BULK_COMMAND,
        Some(Guard {
            fence: &stale,
            from: 0,
        }),
        || {},
    )
    .await;
    assert!(
        matches!(refused, Err(WriteFailure::Deposed(_))),
        "{refused:?}"
    );
    assert_eq!((position().await, projects().await), (0, 0));

    // A commit from a stale position (the batch started elsewhere): refused.
    let refused = sink::write_all(
        &model,
        &statements,
        &[],
        last,
        BULK_COMMAND,
        Some(Guard {
            fence: &newer,
            from: 2,
        }),
        || {},
    )
    .await;
    assert!(
        matches!(refused, Err(WriteFailure::Deposed(_))),
        "{refused:?}"
    );
    assert_eq!((position().await, projects().await), (0, 0));

    // The position compare-and-set on its own: a stale epoch or position
    // moves nothing.
    assert!(fence::advance(&model, 5, 0, last).await.is_err());
    assert!(fence::advance(&model, 7, 1, last).await.is_err());
    assert_eq!(position().await, 0);

    // The current epoch from the recorded position: written.
    sink::write_all(
        &model,
        &statements,
        &[],
        last,
        BULK_COMMAND,
        Some(Guard {
            fence: &newer,
            from: 0,
        }),
        || {},
    )
    .await
    .expect("written");
    assert_eq!((position().await, projects().await), (last, 3));
    // A stale writer that already passed its claim cannot move the position
    // back or on.
    assert!(fence::advance(&model, 5, 0, 1).await.is_err());
    assert_eq!(position().await, last);
    system.stop().await;
}
