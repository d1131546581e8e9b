//! query-api's response cache: strong `ETag`s and `304`, answers never
//! older than a reader's own write, never another reader's, bounded
//! staleness while writes are applied, and its size in `/metrics`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Reply, System};

fn etag(reply: &Reply) -> String {
    reply.header("etag").expect("an ETag").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_again_is_304_with_its_etag_until_something_changes() {
    let system = System::start().await;
    let first = system.propose("alice", "Cached once").await;
    let listing = system.get_after("/projects", &first.token()).await;
    assert_eq!(listing.status, StatusCode::OK);
    let tag = etag(&listing);
    assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
    assert_eq!(listing.header("cache-control"), Some("public, max-age=0"));
    assert_eq!(
        listing.header("vary"),
        Some("authorization, consistency-token")
    );

    let again = system
        .send(
            system
                .http
                .get(format!("{}/projects", system.query))
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.body, serde_json::Value::Null, "no body");
    assert_eq!(etag(&again), tag);

    // A write read back with its token is a new answer, with a new ETag.
    let second = system.propose("alice", "Cached twice").await;
    let changed = system
        .send(
            system
                .http
                .get(format!("{}/projects", system.query))
                .header("If-None-Match", &tag)
                .header("Consistency-Token", second.token()),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(etag(&changed), tag);
    let names: Vec<&str> = changed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["project_name"].as_str())
        .collect();
    assert_eq!(names, ["Cached twice", "Cached once"]);
    assert!(
        changed
            .header("projection-position")
            .and_then(|p| p.parse::<u64>().ok())
            .expect("a position")
            >= second.token()[1..].parse::<u64>().expect("a sequence")
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_a_read_is_at_most_the_staleness_bound_behind() {
    let system = System::start().await;
    let first = system.propose("alice", "Seen soon").await;
    let project_id = first.body["project_id"].as_str().expect("id").to_owned();
    let path = format!("/projects/{project_id}");
    let before = system.get_after(&path, &first.token()).await;
    assert_eq!(before.body["tags"], json!(["test"]));
    let changed = system
        .put(
            &format!("/projects/{project_id}/tags"),
            "alice",
            json!({"add": ["fresh"], "remove": ["test"]}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    system.settle().await;
    // Anonymous reads without a token: the new tags within the bound (250 ms
    // by default) once the projector has applied them.
    flow_testkit::eventually(
        "the new tags read without a token",
        Duration::from_secs(5),
        || async { system.get(&path).await.body["tags"] == json!(["fresh"]) },
    )
    .await;
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_never_gets_another_readers_answer() {
    let system = System::start().await;
    let project = system.propose("alice", "Private views").await;
    let project_id = project.body["project_id"].as_str().expect("id").to_owned();
    let thread = system
        .post(
            &format!("/projects/{project_id}/threads"),
            "bob",
            json!({"thread_type": "COMMENT", "message": "about terrorism"}),
        )
        .await;
    assert_eq!(thread.status, StatusCode::CREATED, "{:?}", thread.body);
    let thread_id = thread.body["thread_id"].as_str().expect("id").to_owned();
    let path = format!("/threads/{thread_id}");
    let token = thread.token();
    // The rejection is the moderator's event after the thread: wait for it.
    flow_testkit::eventually(
        "the automatic rejection",
        Duration::from_secs(10),
        || async { system.get_after(&path, &token).await.body["status"] == "rejected" },
    )
    .await;

    let anonymous = system.get(&path).await;
    assert_eq!(anonymous.body["message"], serde_json::Value::Null);
    // The author, right after the anonymous answer was kept, sees the text.
    let author = system.get_as(&path, "bob", &[], None).await;
    assert_eq!(author.body["message"], "about terrorism");
    assert_eq!(author.header("cache-control"), Some("private, no-cache"));
    let other = system.get_as(&path, "carol", &[], None).await;
    assert_eq!(other.body["message"], serde_json::Value::Null);
    let moderator = system.get_as(&path, "carol", &["moderator"], None).await;
    assert_eq!(moderator.body["message"], "about terrorism");
    // And the anonymous answer is still not the author's.
    assert_eq!(
        system.get(&path).await.body["message"],
        serde_json::Value::Null
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_size_is_in_the_metrics() {
    let system = System::start().await;
    let first = system.propose("alice", "Measured").await;
    for path in ["/projects", "/projects?sort=top", "/tags"] {
        let reply = system.get_after(path, &first.token()).await;
        assert_eq!(reply.status, StatusCode::OK);
        system.get(path).await;
    }
    let metrics = system
        .http
        .get(format!("{}/metrics", system.query))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    let value = |name: &str| -> f64 {
        let (name, label) = name.split_once('|').unwrap_or((name, ""));
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains(label))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert!(value("flow_read_cache_entries") >= 3.0);
    assert!(value("flow_read_cache_bytes") > 0.0);
    assert!(value("flow_read_cache_lookups_total|outcome=\"hit\"") >= 1.0);
    system.stop().await;
}
