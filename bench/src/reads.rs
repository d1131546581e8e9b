//! The reads phase: `GET /projects` through query-api, beside the same find
//! run with the driver before and after.

use std::time::{Duration, Instant};

use flow_readmodel::ReadModel;
use serde_json::json;

use crate::{load::Summary, measured::Measured, report::Figure, system::Bench};

/// Runs the reads phase and records its figures. The rebuild's old
/// generation is dropped [`projector::rebuild::DROP_GRACE`] after
/// `switched_at`; the reads start once that is done, so that they measure
/// reading, not reading beside the drop.
pub async fn run(m: &mut Measured, bench: &Bench, switched_at: Instant) -> anyhow::Result<()> {
    if let Some(wait) =
        (projector::rebuild::DROP_GRACE + Duration::from_secs(2)).checked_sub(switched_at.elapsed())
    {
        tokio::time::sleep(wait).await;
    }
    m.phase("reads");
    let model = bench
        .store
        .with_generation(bench.store.active_generation().await?);
    let driver_before = driver_reads(bench, &model).await;
    say!(
        "driver finds: {:.0}/s (p99 {:.2} ms)",
        driver_before.per_second,
        driver_before.p99_ms
    );
    let listing = format!("{}/projects", bench.system.query_url);
    let ours = http_reads(bench, &listing).await;
    say!(
        "GET /projects: {:.0}/s (p99 {:.2} ms, {} errors)",
        ours.per_second,
        ours.p99_ms,
        ours.errors
    );
    let project_id = first_project(bench, &listing).await?;
    let detail = format!("{}/projects/{project_id}", bench.system.query_url);
    let details = http_reads(bench, &detail).await;
    let driver_detail = driver_detail_reads(bench, &model, &project_id).await;
    say!(
        "GET /projects/{{id}}: {:.0}/s (p99 {:.2} ms); the driver's find by id {:.0}/s",
        details.per_second,
        details.p99_ms,
        driver_detail.per_second
    );
    let ceiling_listing = http_ceiling(bench, &listing).await?;
    let ceiling_detail = http_ceiling(bench, &detail).await?;
    say!(
        "HTTP ceiling (fixed bodies): {:.0}/s listing-sized, {:.0}/s detail-sized",
        ceiling_listing.per_second,
        ceiling_detail.per_second
    );
    let driver_after = driver_reads(bench, &model).await;
    say!("driver finds: {:.0}/s", driver_after.per_second);
    record(
        m,
        bench.clients,
        Listing {
            ours: &ours,
            driver: [&driver_before, &driver_after],
            http: &ceiling_listing,
        },
    );
    record_detail(m, &details, &driver_detail, &ceiling_detail);
    Ok(())
}

/// The listing's figures and their ceilings.
struct Listing<'a> {
    ours: &'a Summary,
    driver: [&'a Summary; 2],
    http: &'a Summary,
}

fn record(m: &mut Measured, clients: usize, listing: Listing<'_>) {
    let Listing { ours, driver, http } = listing;
    let [driver_before, driver_after] = driver;
    m.figures.push(
        Figure::new(
            "reads_per_second",
            format!("reads: GET /projects requests/s ({clients} clients, hot: the response cache)"),
            "/s",
            ours.per_second,
        )
        .against(
            "the same find with the driver, finds/s",
            &[driver_before.per_second, driver_after.per_second],
        )
        .ratio_at_least(10.0),
    );
    m.figures.push(
        Figure::new(
            "reads_vs_http",
            format!(
                "reads: GET /projects requests/s beside a minimal HTTP server ({clients} clients)"
            ),
            "/s",
            ours.per_second,
        )
        .against(
            "a minimal axum handler answering a fixed body of the same size, requests/s",
            &[http.per_second],
        )
        .ratio_at_least(0.5),
    );
    m.figures.push(
        Figure::new(
            "reads_p99",
            "reads: GET /projects p99 latency (closed loop)",
            "ms",
            ours.p99_ms,
        )
        .against(
            "the same find with the driver, p99",
            &[driver_before.p99_ms, driver_after.p99_ms],
        )
        .note("no target; a ratio above 100% is slower than the driver"),
    );
    m.curve(
        format!("GET /projects, {clients} clients (closed loop)"),
        ours,
    );
    m.curve(
        format!("the same find with the driver, {clients} clients"),
        driver_before,
    );
    m.curve(format!("a fixed body over HTTP, {clients} clients"), http);
    m.details.insert(
        "reads".into(),
        json!({"ours": ours, "driver_before": driver_before, "driver_after": driver_after, "http_ceiling": http}),
    );
}

fn record_detail(m: &mut Measured, ours: &Summary, driver: &Summary, http: &Summary) {
    m.figures.push(
        Figure::new(
            "detail_reads_per_second",
            "reads: GET /projects/{id} requests/s (hot: the response cache)",
            "/s",
            ours.per_second,
        )
        .against(
            "the find by id with the driver, finds/s",
            &[driver.per_second],
        )
        .ratio_at_least(10.0),
    );
    m.figures.push(
        Figure::new(
            "detail_reads_vs_http",
            "reads: GET /projects/{id} requests/s beside a minimal HTTP server",
            "/s",
            ours.per_second,
        )
        .against(
            "a minimal axum handler answering a fixed body of the same size, requests/s",
            &[http.per_second],
        )
        .ratio_at_least(0.5),
    );
    m.details.insert(
        "detail_reads".into(),
        json!({"ours": ours, "driver": driver, "http_ceiling": http}),
    );
}

/// The id of the first project of the listing at `url`.
async fn first_project(bench: &Bench, url: &str) -> anyhow::Result<String> {
    let page: serde_json::Value = bench.http.get(url).send().await?.json().await?;
    page["items"][0]["project_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no project in {page}"))
}

/// The same closed loop against a minimal server answering what `url`
/// answers now, byte for byte.
async fn http_ceiling(bench: &Bench, url: &str) -> anyhow::Result<Summary> {
    let body = bench.http.get(url).send().await?.bytes().await?;
    let file = bench.system.logs.join("fixed-body.json");
    std::fs::write(&file, &body)?;
    let (server, base) = crate::ceiling::start(
        "serve-fixed",
        &file.to_string_lossy(),
        &bench.system.logs,
        &bench.http,
    )
    .await?;
    let summary = http_reads(bench, &format!("{base}/projects")).await;
    drop(server);
    Ok(summary)
}

/// The bench's clients reading `url` back to back.
pub(crate) async fn http_reads(bench: &Bench, url: &str) -> Summary {
    let http = bench.http.clone();
    let url = url.to_owned();
    bench
        .closed_loop(move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                match http.get(&url).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
}

/// The bench's clients finding one project by id with the driver.
async fn driver_detail_reads(bench: &Bench, model: &ReadModel, id: &str) -> Summary {
    let projects = model.projects.clone();
    let filter = mongodb::bson::doc! {flow_readmodel::field::ID: id};
    bench
        .closed_loop(move |_, _| {
            let (projects, filter) = (projects.clone(), filter.clone());
            async move { matches!(projects.find_one(filter).await, Ok(Some(_))) }
        })
        .await
}

/// The bench's clients running the listing's own find with the driver.
async fn driver_reads(bench: &Bench, model: &ReadModel) -> Summary {
    let projects = model.projects.clone();
    bench
        .closed_loop(move |_, _| {
            let projects = projects.clone();
            async move {
                query_api::listing::newest(&query_api::listing::ProjectFilter::default(), None, 20)
                    .run(&projects)
                    .await
                    .is_ok()
            }
        })
        .await
}
