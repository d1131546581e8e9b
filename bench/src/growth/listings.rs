//! Listings as the projects grow: `ProjectProposed` events published straight
//! into the stream up to each size, projected, then `GET /projects` four ways
//! through query-api (its response cache off, so that every read reaches the
//! store) and the same find with the driver.

use std::time::{Duration, Instant};

use flow_domain::{ProjectId, Tag, UserId, events::Event};
use flow_readmodel::ReadModel;
use mongodb::bson::Document;
use query_api::listing::{self, ProjectFilter, Sort};
use serde::Serialize;

use crate::{
    cli::Options,
    hidden,
    load::Summary,
    reads::http_reads,
    setup::Setup,
    system::{Bench, System},
    workload::Rng,
};

/// query-api's response cache, off for this part.
pub const CACHE_OFF: (&str, &str) = ("FLOW_READ_CACHE_STALENESS_MS", "0");

/// How long the projector may take to apply one step's proposals.
const SETTLE: Duration = Duration::from_secs(1_800);

/// The tags of the generated projects, three each.
const TAGS: [&str; 20] = [
    "circus", "music", "garden", "code", "repair", "food", "books", "bikes", "water", "energy",
    "school", "health", "housing", "art", "sport", "games", "radio", "film", "birds", "tools",
];

/// The words of their names and taglines; no word is a prefix of another.
const WORDS: [&str; 40] = [
    "lantern", "harbour", "meadow", "copper", "violet", "canyon", "ember", "falcon", "glacier",
    "hollow", "island", "juniper", "kettle", "lagoon", "marble", "nectar", "orchard", "pepper",
    "quartz", "ribbon", "saddle", "thistle", "umber", "velvet", "willow", "yarrow", "zephyr",
    "bramble", "cobalt", "dune", "fjord", "gable", "heron", "ivory", "jasper", "kelp", "linen",
    "mosaic", "nomad", "oxbow",
];

/// The tag and the search word the filtered listings ask for.
const TAG: &str = TAGS[0];
const SEARCH: &str = WORDS[0];

/// The four listings measured at each size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    New,
    Top,
    Tag,
    Search,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::New, Kind::Top, Kind::Tag, Kind::Search];

    /// The query string of `GET /projects`.
    pub fn query(self) -> String {
        match self {
            Kind::New => "sort=new".into(),
            Kind::Top => "sort=top".into(),
            Kind::Tag => format!("tag={TAG}"),
            Kind::Search => format!("q={SEARCH}"),
        }
    }

    fn filter(self) -> ProjectFilter {
        let mut filter = ProjectFilter::default();
        match self {
            Kind::Tag => filter.tags = vec![TAG.into()],
            Kind::Search => filter.terms = flow_readmodel::search_terms(SEARCH),
            Kind::New | Kind::Top => {}
        }
        filter
    }
}

/// One listing at one size.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub projects: usize,
    pub kind: Kind,
    pub query: String,
    /// Projects the listing's filter matches.
    pub matching: u64,
    pub http: Summary,
    /// The driver running query-api's first find of that listing.
    pub driver: Summary,
}

/// Grows the projects step by step and measures the listings at each size.
pub async fn run(
    options: &Options,
    setup: &Setup,
    http: &reqwest::Client,
    sizes: &[usize],
) -> anyhow::Result<Vec<Point>> {
    let system = System::start_with(setup, http, &[CACHE_OFF]).await?;
    let bench = Bench::connect(system, http, options).await?;
    say!(
        "query-api runs with {}={}: its response cache is off, every read reaches the store",
        CACHE_OFF.0,
        CACHE_OFF.1
    );
    let mut points = Vec::new();
    let mut have = 0;
    for &size in sizes {
        say!("== listings at {size} projects");
        let started = Instant::now();
        propose(&bench, have, size).await?;
        let published = started.elapsed().as_secs_f64();
        bench.settle(SETTLE).await?;
        say!(
            "{} projects published in {published:.0} s, projected after {:.0} s",
            size - have,
            started.elapsed().as_secs_f64()
        );
        have = size;
        let model = bench
            .store
            .with_generation(bench.store.active_generation().await?);
        for kind in Kind::ALL {
            let point = measure(&bench, &model, size, kind).await?;
            say!(
                "{size} projects, GET /projects?{}: {:.0}/s (p50 {:.2} ms, p99 {:.2} ms, {} errors); driver {:.0}/s (p99 {:.2} ms); {} match",
                point.query,
                point.http.per_second,
                point.http.p50_ms,
                point.http.p99_ms,
                point.http.errors,
                point.driver.per_second,
                point.driver.p99_ms,
                point.matching
            );
            points.push(point);
        }
    }
    Ok(points)
}

async fn measure(
    bench: &Bench,
    model: &ReadModel,
    projects: usize,
    kind: Kind,
) -> anyhow::Result<Point> {
    let matching = model
        .projects
        .count_documents(kind.filter().document())
        .await?;
    let url = format!("{}/projects?{}", bench.system.query_url, kind.query());
    let http = http_reads(bench, &url).await;
    let driver = driver_reads(bench, model, kind).await;
    Ok(Point {
        projects,
        kind,
        query: kind.query(),
        matching,
        http,
        driver,
    })
}

/// Proposes projects `from..to`, 10,000 events at a time: three tags of
/// [`TAGS`] each, names and taglines of six words of [`WORDS`].
async fn propose(bench: &Bench, from: usize, to: usize) -> anyhow::Result<()> {
    let proposer = UserId::parse("bench-proposer").map_err(anyhow::Error::msg)?;
    let tags: Vec<Tag> = TAGS
        .iter()
        .map(|t| Tag::parse(t).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let mut rng = Rng::new(from as u64 + 17);
    let mut i = from;
    while i < to {
        let end = to.min(i + 10_000);
        let events = (i..end)
            .map(|n| {
                let mut word = || WORDS[rng.below(WORDS.len())];
                let project_name = format!("{} {} {n}", word(), word());
                let tagline = format!("a {} {} for the {} {}", word(), word(), word(), word());
                let first = rng.below(TAGS.len());
                let tags = (0..3)
                    .map(|k| tags[(first + k * 7) % TAGS.len()].clone())
                    .collect();
                Event::ProjectProposed {
                    project_id: ProjectId::new(),
                    project_name,
                    tagline,
                    tags,
                    proposer: proposer.clone(),
                    proposer_name: None,
                }
            })
            .collect();
        hidden::publish(bench, events).await?;
        i = end;
    }
    Ok(())
}

/// The bench's clients running query-api's first find of the listing with
/// the driver: a page of summaries by `created_seq` for `new`, a tag and a
/// search; for `top`, the ranking query-api freezes for a first page (ids
/// and keys of up to `FLOW_RANKING_SIZE` + 1 projects, 1,001 by default,
/// before the page's summaries by id).
async fn driver_reads(bench: &Bench, model: &ReadModel, kind: Kind) -> Summary {
    let projects = model.projects.clone();
    let documents = model.projects.clone_with_type::<Document>();
    let filter = kind.filter();
    let max = query_api::snapshots::SnapshotConfig::default().max_per_snapshot;
    bench
        .closed_loop(move |_, _| {
            let (projects, documents, filter) =
                (projects.clone(), documents.clone(), filter.clone());
            async move {
                match kind {
                    Kind::Top => listing::ranking(Sort::Top, &filter, None, max)
                        .run(&documents)
                        .await
                        .is_ok(),
                    _ => listing::newest(&filter, None, 20)
                        .run(&projects)
                        .await
                        .is_ok(),
                }
            }
        })
        .await
}
