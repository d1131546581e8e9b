//! Discovery: `GET /projects` sorted by new, top and active, filtered by tags
//! and search, paged exactly while writes arrive; `GET /tags`; reading your
//! own writes; the explain plans of the listings; the OpenAPI documents.

use std::{
    collections::{HashMap, HashSet},
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration,
};

use flow_readmodel::ThreadDoc;
use flow_testkit::eventually;
use futures::{StreamExt, stream};
use mongodb::bson::{Bson, Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Reply, System};

/// Proposes a project with the given tagline and tags; returns its id and the token.
async fn propose(
    system: &System,
    user: &str,
    name: &str,
    tagline: &str,
    tags: &[&str],
) -> (String, String) {
    let reply = system
        .post(
            "/projects/propose",
            user,
            json!({"project_name": name, "tagline": tagline, "tags": tags, "problems": ["a problem", "another problem"], "solutions": ["a solution"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["project_id"].as_str().expect("id").to_owned();
    (id, reply.token())
}

async fn vote(system: &System, thread_id: &str, user: &str, direction: &str) -> String {
    let reply = system
        .put(
            &format!("/threads/{thread_id}/vote"),
            user,
            json!({"direction": direction}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.token()
}

/// The threads of every project, oldest first, from the read model.
async fn threads_by_project(system: &System) -> HashMap<String, Vec<String>> {
    system.settle().await;
    let model = system.read_model().await;
    let mut cursor = model
        .threads
        .find(doc! {})
        .sort(doc! {"created_seq": 1})
        .await
        .expect("finds");
    let mut threads: HashMap<String, Vec<String>> = HashMap::new();
    while let Some(thread) = cursor.next().await {
        let thread: ThreadDoc = thread.expect("a thread");
        threads
            .entry(thread.project_id)
            .or_default()
            .push(thread.thread_id);
    }
    threads
}

fn ids(page: &Reply) -> Vec<String> {
    page.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {:?}", page.body))
        .iter()
        .map(|p| p["project_id"].as_str().expect("id").to_owned())
        .collect()
}

fn names(page: &Reply) -> Vec<String> {
    page.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {:?}", page.body))
        .iter()
        .map(|p| p["project_name"].as_str().expect("name").to_owned())
        .collect()
}

/// `path` with `cursor` appended.
fn with_cursor(path: &str, cursor: Option<&str>) -> String {
    match cursor {
        None => path.to_owned(),
        Some(c) if path.contains('?') => format!("{path}&cursor={c}"),
        Some(c) => format!("{path}?cursor={c}"),
    }
}

/// Every page of a listing, after the write with `token`; the names in order.
async fn all_names(system: &System, path: &str, token: &str) -> Vec<String> {
    let items = system.all_items_after(path, token).await;
    items
        .iter()
        .map(|p| p["project_name"].as_str().expect("name").to_owned())
        .collect()
}

/// The project ids of a whole listing as it is now.
async fn all_ids(system: &System, path: &str, token: &str) -> Vec<String> {
    let items = system.all_items_after(path, token).await;
    items
        .iter()
        .map(|p| p["project_id"].as_str().expect("id").to_owned())
        .collect()
}

const INITIAL: usize = 250;
const ADDED_WHILE_PAGING: usize = 50;

/// Pages through `sort` with limit 7 while projects are proposed and votes
/// cast, both between pages (made visible before the next page is read) and
/// from a concurrent writer: every project that existed when paging started
/// is seen exactly once.
async fn page_while_writing(
    system: &System,
    sort: &str,
    existing: &mut Vec<String>,
    threads: &mut HashMap<String, Vec<String>>,
    token: &mut String,
) {
    let expected: HashSet<String> = existing.iter().cloned().collect();
    let path = format!("/projects?sort={sort}&limit=7");
    let first = system.get_after(&path, token).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    // The order as it stood when paging started.
    let ranked_at_start = all_ids(system, &format!("/projects?sort={sort}&limit=100"), token).await;
    assert_eq!(ranked_at_start.len(), expected.len());

    let done = AtomicBool::new(false);
    let proposed = AtomicUsize::new(0);
    let votes = AtomicUsize::new(0);
    let voter_ids = AtomicUsize::new(0);
    let pager = async {
        let mut seen: Vec<String> = Vec::new();
        let mut page = first;
        let mut pages = 0;
        loop {
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            let items = ids(&page);
            assert!(items.len() <= 7);
            seen.extend(items);
            pages += 1;
            let Some(cursor) = page.body["next_cursor"].as_str().map(str::to_owned) else {
                break;
            };
            // Between pages: votes up on a project not shown yet (it moves
            // ahead of the cursor), votes down on one already shown (it
            // falls behind it), and a new project; all visible before the
            // next page is read.
            let shown: HashSet<&String> = seen.iter().collect();
            let ahead = ranked_at_start.iter().rev().find(|id| !shown.contains(id));
            let behind = seen.get(seen.len() / 2);
            let mut last: Option<String> = None;
            for (project, direction) in [(ahead, "up"), (behind, "down")] {
                if let Some(thread) = project.and_then(|p| threads.get(p)).and_then(|t| t.first()) {
                    for _ in 0..3 {
                        let voter = format!("voter-{}", voter_ids.fetch_add(1, Ordering::Relaxed));
                        last = Some(vote(system, thread, &voter, direction).await);
                    }
                }
            }
            let n = proposed.fetch_add(1, Ordering::Relaxed);
            if n < ADDED_WHILE_PAGING {
                let name = format!("{sort} newcomer {n}");
                last = Some(propose(system, "writer", &name, "late", &["late"]).await.1);
            }
            let next = with_cursor(&path, Some(&cursor));
            page = match &last {
                Some(token) => system.get_after(&next, token).await,
                None => system.get(&next).await,
            };
            assert!(pages < 200, "paging did not end");
        }
        done.store(true, Ordering::Relaxed);
        seen
    };
    let writer = async {
        // Votes on threads all over the listing and more proposals,
        // concurrently with paging.
        let all: Vec<String> = existing.clone();
        let mut i = 0usize;
        while !done.load(Ordering::Relaxed) {
            let project = &all[(i * 37) % all.len()];
            if let Some(thread) = threads.get(project).and_then(|t| t.get(i % 3)) {
                let voter = format!("voter-{}", voter_ids.fetch_add(1, Ordering::Relaxed));
                vote(
                    system,
                    thread,
                    &voter,
                    if i.is_multiple_of(4) { "down" } else { "up" },
                )
                .await;
                votes.fetch_add(1, Ordering::Relaxed);
            }
            if i.is_multiple_of(5) {
                let n = proposed.fetch_add(1, Ordering::Relaxed);
                if n < ADDED_WHILE_PAGING {
                    propose(
                        system,
                        "writer",
                        &format!("{sort} concurrent {n}"),
                        "late",
                        &[],
                    )
                    .await;
                }
            }
            i += 1;
        }
    };
    let (seen, ()) = tokio::join!(pager, writer);
    // Whatever is left of the 50 new projects.
    loop {
        let n = proposed.fetch_add(1, Ordering::Relaxed);
        if n >= ADDED_WHILE_PAGING {
            break;
        }
        propose(system, "writer", &format!("{sort} after {n}"), "late", &[]).await;
    }

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "{sort}: a project was shown twice"
    );
    let missing: Vec<&String> = expected.iter().filter(|id| !unique.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{sort}: skipped {} projects, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let extra: Vec<&&String> = unique
        .iter()
        .filter(|id| !expected.contains(**id))
        .collect();
    assert!(
        extra.is_empty(),
        "{sort}: projects proposed after the first page are not part of its paging: {extra:?}"
    );

    // The ranking really moved while paging (otherwise this proved little).
    *token = propose(system, "writer", &format!("{sort} marker"), "marker", &[])
        .await
        .1;
    let ranked_now = all_ids(system, &format!("/projects?sort={sort}&limit=100"), token).await;
    assert!(ranked_now.len() >= expected.len() + ADDED_WHILE_PAGING);
    if sort != "new" {
        let moved: Vec<&String> = ranked_now
            .iter()
            .filter(|id| expected.contains(*id))
            .collect();
        assert_ne!(
            moved,
            ranked_at_start.iter().collect::<Vec<_>>(),
            "{sort}: the order of the existing projects changed while paging"
        );
    }
    *threads = threads_by_project(system).await;
    *existing = ranked_now;
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_never_repeats_or_skips_while_projects_and_votes_arrive() {
    let system = System::start().await;
    let proposals: Vec<(String, String)> = stream::iter(0..INITIAL)
        .map(|i| {
            let system = &system;
            async move {
                propose(
                    system,
                    "proposer",
                    &format!("project {i:03}"),
                    "one of many",
                    &["many"],
                )
                .await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut existing: Vec<String> = proposals.iter().map(|(id, _)| id.clone()).collect();
    let mut threads = threads_by_project(&system).await;
    // Some scores to start with, so that `top` is not just `new`.
    for (i, id) in existing.iter().enumerate().take(60) {
        let thread = &threads[id][0];
        vote(
            &system,
            thread,
            &format!("early-{i}"),
            if i.is_multiple_of(3) { "down" } else { "up" },
        )
        .await;
    }
    let mut token = propose(&system, "proposer", "the last before paging", "x", &[])
        .await
        .1;
    existing = all_ids(&system, "/projects?limit=100", &token).await;
    threads = threads_by_project(&system).await;
    for sort in ["new", "top", "active"] {
        page_while_writing(&system, sort, &mut existing, &mut threads, &mut token).await;
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_continues_when_the_frozen_ranking_is_gone_or_used_up() {
    // No ranking is kept: every page continues from the cursor's keys.
    let forgetful = System::start_with_query_config(|c| c.snapshots.ttl = Duration::ZERO).await;
    // Rankings of at most 5: paging goes on with a new one after the last key.
    let small = System::start_with_query_config(|c| c.snapshots.max_per_snapshot = 5).await;
    for system in [&forgetful, &small] {
        let mut token = String::new();
        let mut projects = Vec::new();
        for i in 0..13 {
            let (id, t) = propose(system, "alice", &format!("p{i:02}"), "t", &[]).await;
            projects.push(id);
            token = t;
        }
        let threads = threads_by_project(system).await;
        // p00 gets 12 up votes, p01 11, ... p11 one, p12 none: top is oldest
        // first; the latest vote is on p11, and p12 was proposed before any.
        for (i, id) in projects.iter().enumerate() {
            for v in 0..(12 - i.min(12)) {
                token = vote(system, &threads[id][0], &format!("v{v}"), "up").await;
            }
        }
        let top: Vec<String> = (0..13).map(|i| format!("p{i:02}")).collect();
        assert_eq!(
            all_names(system, "/projects?sort=top&limit=4", &token).await,
            top
        );
        let mut active: Vec<String> = (0..12).rev().map(|i| format!("p{i:02}")).collect();
        active.push("p12".into());
        assert_eq!(
            all_names(system, "/projects?sort=active&limit=3", &token).await,
            active
        );
    }
    forgetful.stop().await;
    small.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_pages_asked_at_once_share_frozen_rankings_and_stay_right() {
    // The response cache off: every first page reaches the ranking.
    let system = System::start_with_query_config(|c| c.cache.staleness = Duration::ZERO).await;
    let mut token = String::new();
    for i in 0..12 {
        token = propose(&system, "alice", &format!("p{i:02}"), "t", &[])
            .await
            .1;
    }
    let top = all_names(&system, "/projects?sort=top&limit=100", &token).await;
    assert_eq!(top.len(), 12);
    let counts = |metrics: String| {
        let of = |how: &str| {
            let label = format!("how=\"{how}\"");
            metrics
                .lines()
                .find(|l| l.starts_with("flow_rankings_total{") && l.contains(&label))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (of("frozen"), of("shared"))
    };
    let (frozen, shared) = counts(system.metrics(&system.query).await);
    assert!(frozen >= 1.0, "a first page froze a ranking");
    const AT_ONCE: usize = 24;
    let pages: Vec<Reply> = stream::iter(0..AT_ONCE)
        .map(|_| system.get("/projects?sort=top&limit=5"))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    for page in &pages {
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert_eq!(names(page), top[..5], "every first page is the listing's");
        // Each continues in a ranking that is still kept.
        let next = page.body["next_cursor"].as_str().expect("more pages");
        let rest = system
            .get(&format!("/projects?sort=top&limit=100&cursor={next}"))
            .await;
        assert_eq!(rest.status, StatusCode::OK);
        assert_eq!(rest.body["items"].as_array().expect("items").len(), 7);
    }
    let (frozen_after, shared_after) = counts(system.metrics(&system.query).await);
    // Every first page got a ranking one way or the other; later pages read
    // the kept one.
    assert_eq!(
        (frozen_after - frozen) + (shared_after - shared),
        AT_ONCE as f64,
        "frozen {frozen_after}, shared {shared_after}"
    );
    system.stop().await;
}

/// The expectation, computed by hand:
///
/// | project | proposed | tags | score | last activity |
/// |---|---|---|---|---|
/// | Popee the Performer | 1st | clown, circus | +2 | 3rd (votes) |
/// | Kedamono the Wolf | 2nd | circus, wolf | +1 | 1st (votes) |
/// | Eepop Drums | 3rd | music | -1 | 2nd (a vote) |
/// | Quiet Library | 4th | — | 0 | 4th (an edit): the latest |
/// | Papu Jam | 5th | music, circus | 0 | its proposal (before every vote) |
#[tokio::test(flavor = "multi_thread")]
async fn every_sort_and_filter_against_a_hand_computed_expectation() {
    let system = System::start().await;
    let popee = propose(
        &system,
        "alice",
        "Popee the Performer",
        "an apprentice clown in Wolf Circus",
        &["clown", "circus"],
    )
    .await
    .0;
    let kedamono = propose(
        &system,
        "bob",
        "Kedamono the Wolf",
        "a tiger-masked performer",
        &["Circus", "wolf"],
    )
    .await
    .0;
    let eepop = propose(
        &system,
        "carol",
        "Eepop Drums",
        "Perfectly timed percussion",
        &["music"],
    )
    .await
    .0;
    let quiet = propose(&system, "dan", "Quiet Library", "books for everyone", &[])
        .await
        .0;
    propose(
        &system,
        "erin",
        "Papu Jam",
        "a jam session",
        &["music", "circus"],
    )
    .await;
    let threads = threads_by_project(&system).await;
    // Kedamono: +1 +1 -1 = +1 (two threads).
    vote(&system, &threads[&kedamono][0], "u1", "up").await;
    vote(&system, &threads[&kedamono][1], "u2", "up").await;
    vote(&system, &threads[&kedamono][1], "u3", "down").await;
    // Eepop: -1.
    vote(&system, &threads[&eepop][2], "u1", "down").await;
    // Popee: +2, and a vote changed its mind (down, then up).
    vote(&system, &threads[&popee][0], "u1", "up").await;
    vote(&system, &threads[&popee][0], "u2", "down").await;
    vote(&system, &threads[&popee][1], "u2", "up").await;
    vote(&system, &threads[&popee][0], "u2", "up").await;
    vote(&system, &threads[&popee][1], "u2", "none").await;
    vote(&system, &threads[&popee][2], "u3", "up").await;
    vote(&system, &threads[&popee][2], "u3", "none").await;
    // Quiet Library: an edit of its first thread by its author.
    let edited = system
        .patch(
            &format!("/threads/{}", threads[&quiet][0]),
            "dan",
            json!({"message": "edited"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    let token = edited.token();

    let cases: &[(&str, &[&str])] = &[
        (
            "/projects",
            &[
                "Papu Jam",
                "Quiet Library",
                "Eepop Drums",
                "Kedamono the Wolf",
                "Popee the Performer",
            ],
        ),
        (
            "/projects?sort=new",
            &[
                "Papu Jam",
                "Quiet Library",
                "Eepop Drums",
                "Kedamono the Wolf",
                "Popee the Performer",
            ],
        ),
        (
            "/projects?sort=top",
            &[
                "Popee the Performer",
                "Kedamono the Wolf",
                "Papu Jam",
                "Quiet Library",
                "Eepop Drums",
            ],
        ),
        (
            "/projects?sort=active",
            &[
                "Quiet Library",
                "Popee the Performer",
                "Eepop Drums",
                "Kedamono the Wolf",
                "Papu Jam",
            ],
        ),
        (
            "/projects?tag=circus",
            &["Papu Jam", "Kedamono the Wolf", "Popee the Performer"],
        ),
        (
            "/projects?tag=CIRCUS&sort=top",
            &["Popee the Performer", "Kedamono the Wolf", "Papu Jam"],
        ),
        (
            "/projects?tag=circus&sort=active",
            &["Popee the Performer", "Kedamono the Wolf", "Papu Jam"],
        ),
        ("/projects?tag=circus&tag=wolf", &["Kedamono the Wolf"]),
        ("/projects?tag=circus&tag=music&sort=top", &["Papu Jam"]),
        ("/projects?tag=circus&tag=nothing", &[]),
        ("/projects?tag=clown&tag=clown", &["Popee the Performer"]),
        (
            "/projects?q=perf",
            &["Eepop Drums", "Kedamono the Wolf", "Popee the Performer"],
        ),
        (
            "/projects?q=PERF&sort=top",
            &["Popee the Performer", "Kedamono the Wolf", "Eepop Drums"],
        ),
        (
            "/projects?q=perf%20wolf",
            &["Kedamono the Wolf", "Popee the Performer"],
        ),
        ("/projects?q=wolf+perc", &[]),
        ("/projects?q=pop", &["Popee the Performer"]),
        ("/projects?q=erformer", &[]),
        ("/projects?q=masked", &["Kedamono the Wolf"]),
        ("/projects?q=Tiger-Mask", &["Kedamono the Wolf"]),
        ("/projects?q=perf&tag=wolf", &["Kedamono the Wolf"]),
        (
            "/projects?q=the&tag=circus&sort=active",
            &["Popee the Performer", "Kedamono the Wolf"],
        ),
        (
            "/projects?q=%20%20",
            &[
                "Papu Jam",
                "Quiet Library",
                "Eepop Drums",
                "Kedamono the Wolf",
                "Popee the Performer",
            ],
        ),
    ];
    for &(path, expected) in cases {
        let page = system.get_after(path, &token).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        assert_eq!(names(&page), expected, "{path}");
        assert!(page.body["next_cursor"].is_null(), "{path}");
        // Paged one at a time: the same.
        let sep = if path.contains('?') { '&' } else { '?' };
        assert_eq!(
            all_names(&system, &format!("{path}{sep}limit=1"), &token).await,
            expected,
            "{path} one at a time"
        );
    }
    let top = system.get_after("/projects?sort=top", &token).await;
    let scores: Vec<i64> = top.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["score"].as_i64().expect("score"))
        .collect();
    assert_eq!(scores, [2, 1, 0, 0, -1]);
    assert_eq!(top.body["items"][1]["tags"], json!(["circus", "wolf"]));
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_see_their_writes_every_time() {
    let system = System::start().await;
    let (project, _) = propose(&system, "alice", "read your writes", "t", &["ryw"]).await;
    let thread = threads_by_project(&system).await[&project][0].clone();
    let mut votes = 0;
    for i in 0..200 {
        match i % 3 {
            0 | 1 => {
                let token = vote(&system, &thread, &format!("reader-{i}"), "up").await;
                votes += 1;
                let read = system
                    .get_after(&format!("/threads/{thread}"), &token)
                    .await;
                assert_eq!(read.status, StatusCode::OK);
                assert_eq!(read.body["up_vote"], votes, "read {i} after its vote");
                assert!(
                    read.header("projection-position")
                        .and_then(|p| p.parse::<u64>().ok())
                        .expect("position")
                        >= token[1..].parse::<u64>().expect("s<seq>")
                );
            }
            _ => {
                let (id, token) =
                    propose(&system, "alice", &format!("written {i}"), "t", &[]).await;
                let detail = system.get_after(&format!("/projects/{id}"), &token).await;
                assert_eq!(detail.status, StatusCode::OK, "read {i} after its proposal");
                let newest = system.get_after("/projects?limit=1", &token).await;
                assert_eq!(ids(&newest), [id], "read {i}: newest first");
            }
        }
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_the_future_answers_after_the_bound_with_the_current_position() {
    let system = System::start_with_query_config(|c| {
        c.consistency_wait = Duration::from_millis(300);
    })
    .await;
    propose(&system, "alice", "present", "t", &[]).await;
    // The automatic moderator writes too: wait until it has decided.
    let model = system.read_model().await;
    eventually("the moderator decides", Duration::from_secs(30), || {
        let model = model.clone();
        async move {
            model
                .threads
                .count_documents(doc! {"status": "pending"})
                .await
                .ok()
                == Some(0)
                && model.threads.count_documents(doc! {}).await.ok() == Some(3)
        }
    })
    .await;
    system.settle().await;
    let position = system.stream_last().await;
    for path in ["/projects", "/tags", "/projects?sort=top"] {
        let reply = system.get_after(path, "s999999999").await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        assert_eq!(
            reply.header("projection-position"),
            Some(position.to_string().as_str()),
            "{path}"
        );
    }
    system.stop().await;
}

fn tag_counts(reply: &Reply) -> Vec<(String, i64)> {
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {:?}", reply.body))
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().expect("tag").to_owned(),
                t["project_count"].as_i64().expect("count"),
            )
        })
        .collect()
}

fn counts(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(t, n)| ((*t).to_owned(), *n))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_count_their_projects_most_used_first() {
    let system = System::start().await;
    let empty = system.get("/tags").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, json!([]));

    let (popee, _) = propose(&system, "alice", "Popee", "t", &["Clown", "circus"]).await;
    propose(&system, "bob", "Kedamono", "t", &["circus", "wolf"]).await;
    let (_, token) = propose(&system, "carol", "Papu", "t", &["circus", "music", "wolf"]).await;
    let reply = system.get_after("/tags", &token).await;
    assert_eq!(
        tag_counts(&reply),
        counts(&[("circus", 3), ("wolf", 2), ("clown", 1), ("music", 1)]),
        "most used first, ties by name"
    );

    let changed = system
        .put(
            &format!("/projects/{popee}/tags"),
            "alice",
            json!({"add": ["wolf", "drums", "Circus"], "remove": ["clown"]}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let reply = system.get_after("/tags", &changed.token()).await;
    assert_eq!(
        tag_counts(&reply),
        counts(&[("circus", 3), ("wolf", 3), ("drums", 1), ("music", 1)]),
        "a tag no project carries is not listed"
    );
    let unchanged = system
        .put(
            &format!("/projects/{popee}/tags"),
            "alice",
            json!({"add": ["wolf"]}),
        )
        .await;
    let again = system
        .put(
            &format!("/projects/{popee}/tags"),
            "alice",
            json!({"add": ["clown"], "remove": ["circus", "wolf", "drums"]}),
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::OK);
    let reply = system.get_after("/tags?limit=2", &again.token()).await;
    assert_eq!(tag_counts(&reply), counts(&[("circus", 2), ("wolf", 2)]));
    let reply = system.get_after("/tags", &again.token()).await;
    assert_eq!(
        tag_counts(&reply),
        counts(&[("circus", 2), ("wolf", 2), ("clown", 1), ("music", 1)])
    );
    // The listing agrees with the counts.
    let circus = system.get("/projects?tag=circus&limit=100").await;
    assert_eq!(ids(&circus).len(), 2);
    system.stop().await;
}

/// How the plan of `explain` names index use. MongoDB answers a tree of
/// stages (`IXSCAN`, `IDHACK`, `COLLSCAN`, ...); the local server nx-27017
/// answers SQLite's `EXPLAIN QUERY PLAN` lines (`SEARCH t USING INDEX ...`,
/// `SCAN t`) for the filter alone: it ignores `sort` and `limit`, and it
/// cannot index array elements (`tags`, search prefixes), `$or`, or `$in`
/// on fields other than `_id`.
enum Plan {
    MongoDb { collection_scan: bool, index: bool },
    Sqlite { index: bool, full_scan: bool },
}

fn stages(plan: &Bson, found: &mut Vec<String>) {
    match plan {
        Bson::Document(d) => {
            if let Ok(stage) = d.get_str("stage") {
                found.push(stage.to_owned());
            }
            for (_, v) in d {
                stages(v, found);
            }
        }
        Bson::Array(items) => items.iter().for_each(|i| stages(i, found)),
        _ => {}
    }
}

fn plan_of(reply: &Document) -> Plan {
    let winning = reply
        .get_document("queryPlanner")
        .ok()
        .and_then(|q| q.get("winningPlan"))
        .cloned()
        .unwrap_or(Bson::Null);
    match &winning {
        Bson::Array(lines) => {
            let details: Vec<String> = lines
                .iter()
                .filter_map(|l| l.as_document()?.get_str("detail").ok().map(str::to_owned))
                .collect();
            Plan::Sqlite {
                index: details.iter().any(|d| {
                    d.contains("USING INDEX")
                        || d.contains("USING COVERING INDEX")
                        || d.contains("USING INTEGER PRIMARY KEY")
                }),
                full_scan: details.iter().any(|d| {
                    d.starts_with("SCAN ") && !d.contains("USING") && !d.contains("json_each")
                }),
            }
        }
        other => {
            let mut found = Vec::new();
            stages(other, &mut found);
            Plan::MongoDb {
                collection_scan: found.iter().any(|s| s == "COLLSCAN"),
                index: found
                    .iter()
                    .any(|s| s.contains("IXSCAN") || s == "IDHACK" || s.contains("EXPRESS")),
            }
        }
    }
}

/// The shapes the local server can plan with an index: a range or equality on
/// an indexed scalar field in the filter itself.
const INDEXED_ON_THE_LOCAL_SERVER: &[&str] = &[
    "projects new next page",
    "projects page of a frozen ranking",
    "projects tag page of a frozen ranking",
    "projects q page of a frozen ranking",
    "projects tags+q page of a frozen ranking",
    "projects new tag next page",
    "projects new q next page",
    "projects new tags+q next page",
    "project detail",
    "tags",
    "threads top",
    "threads new",
    "threads new next page",
    "threads of a type",
    "replies",
    "replies next page",
    "votes of a page",
    "my projects",
    "my projects next page",
    "my threads",
    "my threads next page",
    "my threads of a status",
    "moderation pending",
    "moderation rejected",
    "hidden among a page",
    "me hidden",
    "me hidden next page",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_listing_query_is_planned_with_an_index() {
    let system = System::start().await;
    // A few documents, so that a planner has something to weigh.
    for i in 0..5 {
        propose(
            &system,
            "alice",
            &format!("planned {i}"),
            "the circus",
            &["circus", "clown"],
        )
        .await;
    }
    system.settle().await;
    let model = system.read_model().await;
    let mut unplanned = Vec::new();
    for (name, base, query) in query_api::shapes::all() {
        let reply = model
            .db
            .run_command(doc! {
                "explain": query.command(&model.collection(base)),
                "verbosity": "queryPlanner",
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: explain failed: {e}"));
        match plan_of(&reply) {
            Plan::MongoDb {
                collection_scan,
                index,
            } => {
                assert!(!collection_scan && index, "{name}: {reply:?}");
            }
            Plan::Sqlite { index, full_scan } => {
                if INDEXED_ON_THE_LOCAL_SERVER.contains(&name.as_str()) {
                    assert!(index && !full_scan, "{name}: {reply:?}");
                } else {
                    unplanned.push(name);
                }
            }
        }
    }
    // What the local server cannot show (it explains the filter without the
    // sort, and plans array elements, `$or` and `$in` outside `_id` as scans):
    // these shapes are only judged against real MongoDB.
    eprintln!(
        "not judged on the local server ({}): {unplanned:?}",
        unplanned.len()
    );
    system.stop().await;
}

/// The routes of the contract (the tables of CONTRACT.md).
const WRITE_ROUTES: &[(&str, &str)] = &[
    ("post", "/projects/propose"),
    ("put", "/projects/{project_id}/tags"),
    ("post", "/projects/{project_id}/threads"),
    ("patch", "/threads/{thread_id}"),
    ("put", "/threads/{thread_id}/vote"),
    ("post", "/threads/{thread_id}/moderation"),
];
const READ_ROUTES: &[(&str, &str)] = &[
    ("get", "/projects"),
    ("get", "/projects/{project_id}"),
    ("get", "/projects/{project_id}/threads"),
    ("get", "/threads/{thread_id}"),
    ("get", "/tags"),
];
/// The reads of the contract's second part ("The app's journeys") built so far.
const JOURNEY_WRITE_ROUTES: &[(&str, &str)] = &[
    ("patch", "/projects/{project_id}"),
    ("delete", "/threads/{thread_id}"),
    ("put", "/projects/{project_id}/hidden"),
    ("put", "/me/followed-tags"),
];
const JOURNEY_READ_ROUTES: &[(&str, &str)] = &[
    ("get", "/threads/{thread_id}/replies"),
    ("get", "/me/projects"),
    ("get", "/me/threads"),
    ("get", "/moderation/threads"),
    ("get", "/me/followed-tags"),
    ("get", "/me/hidden"),
    ("get", "/me/feed"),
    ("get", "/recommendations"),
];
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// The contract's tables, when the planning repository's CONTRACT.md is at
/// hand (`FLOW_CONTRACT`, or `../shared/CONTRACT.md` next to the workspace):
/// those of its first part. The second part, "The app's journeys", lists
/// routes that are still to be built; each joins this check as it is.
fn contract_tables() -> Option<Vec<(String, String)>> {
    contract_routes(false)
}

/// The routes of the tables of the contract's first part, or (`journeys`)
/// of its second part.
fn contract_routes(journeys: bool) -> Option<Vec<(String, String)>> {
    let path = std::env::var_os("FLOW_CONTRACT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/CONTRACT.md")
        });
    let text = std::fs::read_to_string(path).ok()?;
    let mut routes = Vec::new();
    let mut second_part = false;
    for line in text.lines() {
        if line.starts_with("## The app's journeys") {
            second_part = true;
        }
        if second_part != journeys {
            continue;
        }
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((route, _)) = cell.split_once('`') else {
            continue;
        };
        if let Some((method, path)) = route.split_once(' ')
            && ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method)
        {
            let path = path.split('?').next().unwrap_or(path);
            routes.push((method.to_lowercase(), path.to_owned()));
        }
    }
    Some(routes)
}

#[tokio::test(flavor = "multi_thread")]
async fn both_openapi_documents_name_every_route_of_the_contract() {
    let system = System::start().await;
    if let Some(tables) = contract_tables() {
        let ours: HashSet<(String, String)> = WRITE_ROUTES
            .iter()
            .chain(READ_ROUTES)
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(
            tables.into_iter().collect::<HashSet<_>>(),
            ours,
            "the routes below are the contract's tables"
        );
    }
    if let Some(journeys) = contract_routes(true) {
        for (method, path) in JOURNEY_READ_ROUTES.iter().chain(JOURNEY_WRITE_ROUTES) {
            assert!(
                journeys.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is not a route of the contract's second part"
            );
        }
    }
    let reads: Vec<(&str, &str)> = READ_ROUTES
        .iter()
        .chain(JOURNEY_READ_ROUTES)
        .copied()
        .collect();
    let writes: Vec<(&str, &str)> = WRITE_ROUTES
        .iter()
        .chain(JOURNEY_WRITE_ROUTES)
        .copied()
        .collect();
    for (base, routes) in [(&system.command, &writes[..]), (&system.query, &reads[..])] {
        let reply = system
            .send(system.http.get(format!("{base}/openapi.json")))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let doc = &reply.body;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in paths {
            for method in item.as_object().expect("a path item").keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    documented.push((method.clone(), path.clone()));
                }
            }
        }
        for (method, path) in routes.iter().chain(OPERATIONS) {
            assert!(
                documented.iter().any(|(m, p)| m == method && p == path),
                "{base}: {method} {path} is not in the document: {documented:?}"
            );
        }
        assert_eq!(
            documented.len(),
            routes.len() + OPERATIONS.len(),
            "{base}: nothing else is documented: {documented:?}"
        );
        // Every documented route is served with its method (an unknown
        // route would be the fallback's "no such route").
        for (method, path) in &documented {
            let path = path
                .replace("{project_id}", "0199b7c4-0000-7000-8000-000000000000")
                .replace("{thread_id}", "0199b7c4-0000-7000-8000-000000000000");
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let reply = system
                .send(system.http.request(method.clone(), format!("{base}{path}")))
                .await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_ne!(
                reply.body["detail"],
                Value::String("no such route".into()),
                "{method} {path}"
            );
        }
    }
    system.stop().await;
}
