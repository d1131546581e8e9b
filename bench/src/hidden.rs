//! Reads for readers who hid many projects: `GET /projects` (the first page
//! of `sort=new`) as a reader who hid 0, 100 and 10,000 of the newest
//! projects, the worst place for them (every page must skip them).

use std::time::Duration;

use flow_domain::{
    ProjectId, Tag, UserId,
    events::{Envelope, Event},
};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use serde_json::json;
use time::OffsetDateTime;

use crate::{load::Summary, measured::Measured, report::Figure, system::Bench};

/// The readers: how many of the newest projects each one hid.
const HIDDEN: [usize; 3] = [0, 100, 10_000];

pub async fn run(m: &mut Measured, bench: &Bench) -> anyhow::Result<()> {
    m.phase("reads: hidden");
    let most = HIDDEN.iter().copied().max().unwrap_or(0);
    let existing = bench.store.projects.count_documents(doc! {}).await? as usize;
    // Enough projects that the most hidden still leaves pages to show.
    propose(bench, (most + 100).saturating_sub(existing)).await?;
    bench.settle(Duration::from_secs(300)).await?;
    let newest: Vec<String> = bench
        .store
        .projects
        .clone_with_type::<Document>()
        .find(doc! {})
        .sort(doc! {"created_seq": -1})
        .projection(doc! {"_id": 1})
        .limit(most as i64)
        .await?
        .try_collect::<Vec<Document>>()
        .await?
        .iter()
        .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
        .collect();
    for n in HIDDEN {
        hide(bench, &reader(n), &newest[..n.min(newest.len())]).await?;
    }
    bench.settle(Duration::from_secs(300)).await?;
    let mut results = Vec::new();
    for n in HIDDEN {
        let summary = listing_as(bench, &reader(n)).await;
        say!(
            "GET /projects as a reader who hid {n}: {:.0}/s (p99 {:.2} ms, {} errors)",
            summary.per_second,
            summary.p99_ms,
            summary.errors
        );
        results.push((n, summary));
    }
    record(m, &results);
    Ok(())
}

fn reader(hidden: usize) -> String {
    format!("bench-reader-{hidden}")
}

/// Publishes `events` straight into the stream, awaiting the acks 500 at a time.
pub async fn publish(bench: &Bench, events: Vec<Event>) -> anyhow::Result<()> {
    let mut acks = Vec::with_capacity(500);
    for event in events {
        let subject = event.subject(&bench.subjects);
        let payload = Envelope::new(event, "bench", OffsetDateTime::now_utc()).to_json();
        acks.push(bench.js.publish(subject, payload.into()).await?);
        if acks.len() == 500 {
            for ack in acks.drain(..) {
                ack.await?;
            }
        }
    }
    for ack in acks {
        ack.await?;
    }
    Ok(())
}

async fn propose(bench: &Bench, count: usize) -> anyhow::Result<()> {
    let proposer = UserId::parse("bench-proposer").map_err(anyhow::Error::msg)?;
    let tag = Tag::parse("hidden-bench").map_err(anyhow::Error::msg)?;
    let events = (0..count)
        .map(|i| Event::ProjectProposed {
            project_id: ProjectId::new(),
            project_name: format!("hidden bench project {i}"),
            tagline: "one of many".into(),
            tags: vec![tag.clone()],
            proposer: proposer.clone(),
            proposer_name: None,
        })
        .collect();
    publish(bench, events).await
}

async fn hide(bench: &Bench, user: &str, projects: &[String]) -> anyhow::Result<()> {
    let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
    let events = projects
        .iter()
        .filter_map(|id| ProjectId::parse(id).ok())
        .map(|project_id| Event::ProjectHidden {
            user: user.clone(),
            project_id,
        })
        .collect();
    publish(bench, events).await
}

/// The bench's clients reading the first page of `GET /projects` as `user`.
async fn listing_as(bench: &Bench, user: &str) -> Summary {
    let http = bench.http.clone();
    let url = format!("{}/projects", bench.system.query_url);
    let token = bench.system.jwt.mint(user, &[], 24 * 3600);
    bench
        .closed_loop(move |_, _| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            async move {
                match http.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
}

fn record(m: &mut Measured, results: &[(usize, Summary)]) {
    let nothing_hidden = results.first().map(|(_, s)| s.per_second).unwrap_or(0.0);
    for (n, summary) in results {
        let (id, p99_id) = match n {
            0 => ("reads_hidden_0", "reads_hidden_0_p99"),
            100 => ("reads_hidden_100", "reads_hidden_100_p99"),
            _ => ("reads_hidden_10000", "reads_hidden_10000_p99"),
        };
        m.figures.push(
            Figure::new(
                id,
                format!("reads: GET /projects requests/s for a reader who hid {n} of the newest projects"),
                "/s",
                summary.per_second,
            )
            .against("the same listing for a reader who hid nothing", &[nothing_hidden])
            .note("no target: the cost of leaving hidden projects out, by key, run by run"),
        );
        m.figures.push(
            Figure::new(
                p99_id,
                format!("reads: that listing's p99 latency (hid {n})"),
                "ms",
                summary.p99_ms,
            )
            .note("no target"),
        );
    }
    m.details.insert(
        "reads_hidden".into(),
        json!(
            results
                .iter()
                .map(|(n, s)| json!({"hidden": n, "summary": s}))
                .collect::<Vec<_>>()
        ),
    );
}
