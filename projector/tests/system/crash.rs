//! The projector killed (SIGKILL) halfway through and restarted loses and
//! doubles nothing.

use std::time::Duration;

use flow_testkit::eventually;
use futures::{StreamExt, stream};
use mongodb::bson::doc;

use crate::harness::System;

const PROPOSALS: usize = 1_000;

fn projector_process(system: &System) -> tokio::process::Child {
    // A restart waits out the killed instance's lease: a short one.
    system.projector_process("127.0.0.1:0", 1_000, 25, 200)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_projector_restarts_without_losing_or_doubling_anything() {
    let system = System::without_projector().await;
    stream::iter(0..PROPOSALS)
        .for_each_concurrent(16, |i| {
            let system = &system;
            async move {
                system.propose("alice", &format!("proposal {i}")).await;
            }
        })
        .await;
    let model = system.read_model().await;

    let mut projector = projector_process(&system);
    eventually("the projector is halfway", Duration::from_secs(60), || {
        let model = model.clone();
        async move {
            model.projects.count_documents(doc! {}).await.unwrap_or(0) >= (PROPOSALS / 3) as u64
        }
    })
    .await;
    projector.start_kill().expect("SIGKILL");
    projector.wait().await.expect("reaped");
    let at_kill = model
        .projects
        .count_documents(doc! {})
        .await
        .expect("counts");
    assert!(
        at_kill < PROPOSALS as u64,
        "the projector was killed before it finished ({at_kill})"
    );

    let mut projector = projector_process(&system);
    system.settle_within(Duration::from_secs(180)).await;
    let total = model
        .projects
        .count_documents(doc! {})
        .await
        .expect("counts");
    assert_eq!(total, PROPOSALS as u64);
    let exact = model
        .projects
        .count_documents(doc! {"thread_count": 3, "problem_count": 2, "solution_count": 1})
        .await
        .expect("counts");
    assert_eq!(
        exact, PROPOSALS as u64,
        "every project counts its threads exactly once"
    );
    assert_eq!(
        model
            .threads
            .count_documents(doc! {})
            .await
            .expect("counts"),
        3 * PROPOSALS as u64
    );
    projector.start_kill().expect("stops");
    system.stop().await;
}
