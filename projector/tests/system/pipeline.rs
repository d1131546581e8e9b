use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{System, metric};

#[tokio::test(flavor = "multi_thread")]
async fn the_original_proposal_reaches_listings_and_details() {
    let system = System::start().await;
    let created = system
        .post(
            "/projects/propose",
            "alice",
            json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let project_id = created.body["project_id"]
        .as_str()
        .expect("a project id")
        .to_owned();
    let token = created.token();
    assert_eq!(created.header("consistency-token"), Some(token.as_str()));
    // The project is read from query-api, not from command-api's address.
    assert_eq!(created.header("location"), None);

    let listing = system.get_after("/projects", &token).await;
    assert_eq!(listing.status, StatusCode::OK);
    let items = listing.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{:?}", listing.body);
    let summary = &items[0];
    assert_eq!(summary["project_id"], project_id.as_str());
    assert_eq!(summary["project_name"], "Popee the Performer");
    assert_eq!(summary["tagline"], "an apprentice clown in Wolf Circus");
    assert_eq!(summary["tags"], json!(["clown", "circus"]));
    assert_eq!(summary["problem_count"], 2);
    assert_eq!(summary["solution_count"], 1);
    assert_eq!(summary["thread_count"], 3);
    assert!(
        summary.get("proposer").is_none(),
        "summaries do not name the proposer"
    );
    let position: u64 = listing
        .header("projection-position")
        .expect("position")
        .parse()
        .expect("a number");
    assert!(position >= token[1..].parse::<u64>().expect("s<seq>"));

    let detail = system
        .get_after(&format!("/projects/{project_id}"), &token)
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["proposer"], "alice");
    assert_eq!(detail.body["project_name"], "Popee the Performer");
    assert_eq!(detail.body["problem_count"], 2);
    assert!(detail.header("projection-position").is_some());

    let threads = system
        // Read by the author: threads still pending show their text to them only.
        .get_as(
            &format!("/projects/{project_id}/threads?sort=new"),
            "alice",
            &[],
            Some(&token),
        )
        .await;
    let messages: Vec<&str> = threads.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{:?}", threads.body);
    for expected in ["short temper", "self centered", "play the drums"] {
        assert!(messages.contains(&expected), "{messages:?}");
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_page_newest_first_with_opaque_cursors() {
    let system = System::start().await;
    let mut names = Vec::new();
    let mut token = String::new();
    for i in 0..7 {
        let name = format!("project {i}");
        token = system.propose("alice", &name).await.token();
        names.push(name);
    }
    names.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/projects?limit=3&cursor={c}"),
            None => "/projects?limit=3".to_owned(),
        };
        let page = system.get_after(&path, &token).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        pages += 1;
        for item in page.body["items"].as_array().expect("items") {
            seen.push(item["project_name"].as_str().expect("a name").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names, "newest first, each once");
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_ids_are_404_problems() {
    let system = System::start().await;
    for path in [
        "/projects/0199b7c4-0000-7000-8000-000000000000",
        "/projects/not-a-uuid",
        "/threads/0199b7c4-0000-7000-8000-000000000000",
        "/projects/0199b7c4-0000-7000-8000-000000000000/threads",
        "/no/such/route",
    ] {
        let reply = system.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(reply.body["status"], 404);
        assert!(reply.header("projection-position").is_some(), "{path}");
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_has_health_readiness_and_metrics() {
    let system = System::start().await;
    let projector = system.projector.clone().expect("running");
    for base in [&system.command, &system.query, &projector] {
        for path in ["/healthz", "/readyz"] {
            let reply = system.send(system.http.get(format!("{base}{path}"))).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{base}{path}: {:?}",
                reply.body
            );
        }
        let metrics = system
            .send(system.http.get(format!("{base}/metrics")))
            .await;
        assert_eq!(metrics.status, StatusCode::OK);
        let text = metrics.body.as_str().expect("text");
        assert!(text.contains("flow_http_requests_total"), "{base}: {text}");
    }
    let before = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let token = system.propose("alice", "measured").await.token();
    system.get_after("/projects", &token).await;
    // Freshness: when the last applied event was stored. The position is
    // announced as soon as the documents are written and the batch counted
    // just after, so the gauge may follow the read by a moment.
    let gauge = "flow_projector_last_applied_event_timestamp_seconds{";
    flow_testkit::eventually(
        "the freshness gauge set",
        std::time::Duration::from_secs(5),
        || async { metric(&system.metrics(&projector).await, gauge).is_some_and(|v| v > 0.0) },
    )
    .await;
    let text = system.metrics(&projector).await;
    assert!(text.contains("flow_projector_position"), "{text}");
    let stored = metric(&text, gauge).expect("the freshness gauge");
    let after = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(
        stored >= before - 1.0 && stored <= after + 1.0,
        "{before} <= {stored} <= {after}"
    );
    let writes = metric(&text, "flow_projector_batch_write_duration_seconds_count{")
        .expect("the batch write histogram");
    assert!(writes >= 1.0, "{text}");
    // Request latencies are counted up to 10 s.
    let reads = system.metrics(&system.query).await;
    assert!(
        reads.lines().any(
            |l| l.starts_with("flow_http_request_duration_seconds_bucket{")
                && l.contains("le=\"10.0\"")
        ),
        "{reads}"
    );
    let status = system
        .send(system.http.get(format!("{projector}/status")))
        .await;
    assert!(
        status.body["position"].as_u64().expect("position")
            >= token[1..].parse::<u64>().expect("seq")
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_projector_continues_where_it_stopped() {
    let mut system = System::start().await;
    let first = system.propose("alice", "before").await.token();
    system.get_after("/projects", &first).await;
    system.stop_projector().await;
    let second = system.propose("alice", "while stopped").await.token();
    let stale = system.get("/projects").await;
    assert_eq!(stale.body["items"].as_array().expect("items").len(), 1);
    system.start_projector().await;
    let fresh = system.get_after("/projects", &second).await;
    assert_eq!(fresh.body["items"].as_array().expect("items").len(), 2);
    system.stop().await;
}

/// One acknowledgement per batch covers every event before it: after a
/// workload nothing waits for an ack, and the ack floor is the last event.
/// A consumer made before cumulative acks keeps acknowledging each event.
#[tokio::test(flavor = "multi_thread")]
async fn batches_are_acknowledged_up_to_their_last_event() {
    use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
    async fn consumer_settles(system: &System, expected: AckPolicy) {
        let (_, js) = system.jetstream().await;
        let stream = js
            .get_stream(&system.env.nats.stream)
            .await
            .expect("the stream");
        let last = system.stream_last().await;
        let consumer: PullConsumer = stream.get_consumer("projector").await.expect("durable");
        assert_eq!(consumer.cached_info().config.ack_policy, expected);
        flow_testkit::eventually(
            "every event acknowledged",
            std::time::Duration::from_secs(20),
            || {
                let mut consumer = consumer.clone();
                async move {
                    let info = consumer.info().await.expect("info");
                    info.ack_floor.stream_sequence == last && info.num_ack_pending == 0
                }
            },
        )
        .await;
    }
    let mut system = System::start().await;
    for i in 0..30 {
        system.propose("alice", &format!("acked {i}")).await;
    }
    system.settle().await;
    consumer_settles(&system, AckPolicy::All).await;

    // An older deployment's consumer, acknowledging each event.
    system.stop_projector().await;
    let (_, js) = system.jetstream().await;
    let stream = js
        .get_stream(&system.env.nats.stream)
        .await
        .expect("the stream");
    stream.delete_consumer("projector").await.expect("deleted");
    stream
        .create_consumer(pull::Config {
            durable_name: Some("projector".into()),
            filter_subject: system.env.nats.subjects().all_events(),
            ack_policy: AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("created");
    system.start_projector().await;
    let token = system.propose("alice", "acked one by one").await.token();
    system.get_after("/projects", &token).await;
    system.settle().await;
    consumer_settles(&system, AckPolicy::Explicit).await;
    system.stop().await;
}
