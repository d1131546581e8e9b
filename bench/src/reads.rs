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
    let ours = http_reads(bench).await;
    say!(
        "GET /projects: {:.0}/s (p99 {:.2} ms, {} errors)",
        ours.per_second,
        ours.p99_ms,
        ours.errors
    );
    let driver_after = driver_reads(bench, &model).await;
    say!("driver finds: {:.0}/s", driver_after.per_second);
    record(m, bench.clients, &ours, [&driver_before, &driver_after]);
    Ok(())
}

fn record(m: &mut Measured, clients: usize, ours: &Summary, driver: [&Summary; 2]) {
    let [driver_before, driver_after] = driver;
    m.figures.push(
        Figure::new(
            "reads_per_second",
            format!("reads: GET /projects requests/s ({clients} clients)"),
            "/s",
            ours.per_second,
        )
        .against(
            "the same find with the driver, finds/s",
            &[driver_before.per_second, driver_after.per_second],
        )
        .ratio_at_least(0.7),
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
    m.details.insert(
        "reads".into(),
        json!({"ours": ours, "driver_before": driver_before, "driver_after": driver_after}),
    );
}

/// The bench's clients reading the first page of `GET /projects` back to back.
async fn http_reads(bench: &Bench) -> Summary {
    let http = bench.http.clone();
    let url = format!("{}/projects", bench.system.query_url);
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
