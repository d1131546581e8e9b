//! The seed phase: projects proposed over HTTP, whose threads the HTTP writes
//! then vote on.

use std::time::Duration;

use anyhow::bail;
use serde_json::{Value, json};

use crate::{measured::Measured, system::Bench};

pub const SEED_PROJECTS: usize = 50;

/// Proposes the seed projects and waits until they are projected: their
/// threads' ids, sorted.
pub async fn run(m: &mut Measured, bench: &Bench) -> anyhow::Result<Vec<String>> {
    m.phase("seed");
    propose(bench).await?;
    bench.settle(Duration::from_secs(120)).await?;
    let threads = threads(bench).await?;
    say!("{} projects with {} threads", SEED_PROJECTS, threads.len());
    Ok(threads)
}

/// Proposes the seed projects over HTTP.
async fn propose(bench: &Bench) -> anyhow::Result<()> {
    let token = bench.system.jwt.mint("bench-proposer", &[], 24 * 3600);
    for i in 0..SEED_PROJECTS {
        let body = json!({
            "project_name": format!("Bench project {i}"),
            "tagline": format!("the tagline of bench project {i}"),
            "problems": ["the first problem", "the second problem"],
            "solutions": ["a solution"],
            "tags": ["bench", format!("group-{}", i % 5)],
        });
        let response = bench
            .http
            .post(format!("{}/projects/propose", bench.system.command_url))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        if response.status().as_u16() != 201 {
            bail!(
                "proposing a seed project answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// The seed projects' threads, read back through query-api.
async fn threads(bench: &Bench) -> anyhow::Result<Vec<String>> {
    let (http, query_url) = (&bench.http, &bench.system.query_url);
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let url = match &page {
            Some(cursor) => format!("{query_url}/projects?limit=100&cursor={cursor}"),
            None => format!("{query_url}/projects?limit=100"),
        };
        let projects: Value = http.get(url).send().await?.json().await?;
        for project in projects["items"].as_array().into_iter().flatten() {
            let id = project["project_id"].as_str().unwrap_or_default();
            let threads: Value = http
                .get(format!("{query_url}/projects/{id}/threads?limit=100"))
                .send()
                .await?
                .json()
                .await?;
            ids.extend(
                threads["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["thread_id"].as_str().map(str::to_owned)),
            );
        }
        match projects["next_cursor"].as_str() {
            Some(cursor) => page = Some(cursor.to_owned()),
            None => break,
        }
    }
    if ids.len() < SEED_PROJECTS {
        bail!(
            "the seed projects' threads are not visible ({} found)",
            ids.len()
        );
    }
    ids.sort();
    Ok(ids)
}
