//! A 3-node NATS cluster with a 3-replica stream: one node killed in the
//! middle of a write workload loses no acknowledged write and doubles none.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use flow_testkit::{NatsProcess, TestEnv, free_port, on_keeper_thread};
use mongodb::bson::doc;
use reqwest::StatusCode;

use crate::harness::System;

/// At most this many writes; the workload goes on for 60 writes after the kill.
const MAX_WRITES: usize = 2_000;

struct Node {
    process: NatsProcess,
}

fn cluster() -> (Vec<Node>, String) {
    let dir = std::env::temp_dir().join(format!("flow-cluster-{}", uuid::Uuid::now_v7()));
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let routes: Vec<String> = ports
        .iter()
        .map(|(_, c)| format!("nats://127.0.0.1:{c}"))
        .collect();
    let nodes = (0..3)
        .map(|i| {
            let node_dir = dir.join(format!("n{i}"));
            std::fs::create_dir_all(&node_dir).expect("dir");
            let conf = node_dir.join("nats.conf");
            std::fs::write(
                &conf,
                format!(
                    "server_name: n{i}\ncluster {{\n  name: flow\n  listen: 127.0.0.1:{}\n  routes: [{}]\n}}\n",
                    ports[i].1,
                    routes.join(", ")
                ),
            )
            .expect("writes");
            let conf = conf.to_string_lossy().into_owned();
            let port = ports[i].0;
            // Started on the keeper thread: the nodes must outlive this test's threads.
            let process = on_keeper_thread(move || NatsProcess::start(&node_dir.join("js"), port, &["-c", &conf]));
            Node { process }
        })
        .collect();
    let urls: Vec<String> = ports
        .iter()
        .map(|(p, _)| format!("nats://127.0.0.1:{p}"))
        .collect();
    (nodes, urls.join(","))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_mid_workload_loses_and_doubles_no_acknowledged_write() {
    let (mut nodes, urls) = cluster();
    let mut env = TestEnv::new();
    env.nats.url = urls;
    env.nats.replicas = 3;
    let mut system = System::with_env(env).await;
    system.start_projector().await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let killed = std::sync::atomic::AtomicBool::new(false);
    let writes = async {
        // Write before, during and for a while after the kill.
        let mut after_kill = 0;
        for i in 0..MAX_WRITES {
            if killed.load(std::sync::atomic::Ordering::SeqCst) {
                after_kill += 1;
                if after_kill > 60 {
                    break;
                }
            }
            let reply = system
                .post(
                    "/projects/propose",
                    "alice",
                    serde_json::json!({"project_name": format!("replicated {i}"), "tagline": "t", "problems": ["p", "q"], "solutions": ["s"]}),
                )
                .await;
            // Writes during the fail-over may be refused (503), never lost once acknowledged.
            if reply.status == StatusCode::CREATED {
                let id = reply.body["project_id"].as_str().expect("id").to_owned();
                acknowledged.lock().expect("lock").push(id);
            } else {
                assert!(reply.status.is_server_error(), "{:?}", reply.body);
            }
        }
    };
    let kill = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let victim = &mut nodes[1].process.child;
        victim.kill().expect("SIGKILL");
        let _ = victim.wait();
        killed.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    tokio::join!(writes, kill);
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        killed.load(std::sync::atomic::Ordering::SeqCst),
        "the node was killed mid-workload"
    );
    assert!(!acknowledged.is_empty(), "writes went through");

    // The read model catches up through the surviving nodes, without a restart.
    let model = system.read_model().await;
    let expected = acknowledged.len() as u64;
    flow_testkit::eventually(
        "every acknowledged write is projected",
        Duration::from_secs(60),
        || {
            let model = model.clone();
            async move { model.projects.count_documents(doc! {}).await.unwrap_or(0) >= expected }
        },
    )
    .await;
    for id in &acknowledged {
        let project = model
            .projects
            .find_one(doc! {"_id": id})
            .await
            .expect("finds");
        let project = project.unwrap_or_else(|| panic!("acknowledged project {id} is missing"));
        assert_eq!(
            (
                project.thread_count,
                project.problem_count,
                project.solution_count
            ),
            (3, 2, 1),
            "{id}"
        );
    }
    // A write refused with 503 may still have been stored; none is stored twice.
    let total = model
        .projects
        .count_documents(doc! {})
        .await
        .expect("counts");
    assert!(total <= MAX_WRITES as u64, "{total}");
    let exact = model
        .projects
        .count_documents(doc! {"thread_count": 3})
        .await
        .expect("counts");
    assert_eq!(exact, total, "every project counts its threads once");
    // The services reconnected without a restart: writes go through again
    // once the stream has a leader among the surviving nodes.
    flow_testkit::eventually("writes are acknowledged again", Duration::from_secs(30), || async {
        let reply = system
            .post(
                "/projects/propose",
                "alice",
                serde_json::json!({"project_name": format!("after the fail-over {}", uuid::Uuid::now_v7()), "tagline": "t", "problems": ["p"], "solutions": ["s"]}),
            )
            .await;
        reply.status == StatusCode::CREATED
    })
    .await;
    system.stop().await;
}
