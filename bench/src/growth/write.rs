//! The write-up of the growth mode: `growth.json` (every summary, the
//! machine and the versions), `growth.md` (the tables) and `growth.svg`
//! (listing p99 against projects).

use serde_json::json;

use super::{
    listings::{CACHE_OFF, Kind, Point},
    subjects::Step,
};
use crate::{cli::Options, load::Summary, plot, report, report::trim, setup::Setup};

/// The target: p99 at the largest size at most this many times p99 at the smallest.
const LISTING_GROWTH_TARGET: f64 = 2.0;

pub fn write(
    options: &Options,
    setup: &Setup,
    listings: &[Point],
    votes: &[Step],
) -> anyhow::Result<()> {
    let header = report::RunHeader::new(options, report::machine(), setup.versions());
    let results = header.with(json!({
        "settings": {
            "clients": options.clients,
            "phase_seconds": options.phase.as_secs(),
            "query_api_env": {CACHE_OFF.0: CACHE_OFF.1},
        },
        "listings": listings,
        "votes": votes,
    }));
    report::write_json(&setup.out.join("growth.json"), &results)?;
    let series: Vec<(String, Vec<(f64, f64)>)> = Kind::ALL
        .iter()
        .map(|kind| {
            let points = listings
                .iter()
                .filter(|p| p.kind == *kind && p.http.ok > 0)
                .map(|p| (p.projects as f64, p.http.p99_ms))
                .collect();
            (format!("GET /projects?{}", kind.query()), points)
        })
        .collect();
    plot::growth(
        &setup.out.join("growth.svg"),
        &format!(
            "GET /projects p99 against projects ({} clients, closed loop, response cache off)",
            options.clients
        ),
        "projects in the read model",
        &series,
    )?;
    let run = header.line(
        "Growth run",
        &format!(
            "{} clients, {} s phases",
            options.clients,
            options.phase.as_secs()
        ),
    );
    let markdown = format!(
        "{run}\n\n{}\n{}\n{}",
        listings_table(listings),
        listings_targets(listings),
        votes_table(votes)
    );
    std::fs::write(setup.out.join("growth.md"), &markdown)?;
    eprintln!("\n{markdown}");
    say!("results in {}", setup.out.display());
    Ok(())
}

fn listings_table(points: &[Point]) -> String {
    let mut out = format!(
        "`GET /projects` (first page of 20), query-api started with `{}={}` (its response cache off: every read reaches the store); \
         the driver runs query-api's first find of the same listing (for `sort=top`, the ranking of up to {} projects it freezes):\n\n\
         | projects | listing | matching | GET /s | p50 ms | p99 ms | errors | driver finds/s | driver p50 ms | driver p99 ms |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        CACHE_OFF.0,
        CACHE_OFF.1,
        trim((query_api::snapshots::SnapshotConfig::default().max_per_snapshot + 1) as f64)
    );
    for p in points {
        out.push_str(&format!(
            "| {} | `?{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            p.projects,
            p.query,
            p.matching,
            trim(p.http.per_second),
            latency(&p.http, p.http.p50_ms),
            latency(&p.http, p.http.p99_ms),
            p.http.errors,
            trim(p.driver.per_second),
            latency(&p.driver, p.driver.p50_ms),
            latency(&p.driver, p.driver.p99_ms),
        ));
    }
    out.push_str(&format!(
        "\n{NONE_COMPLETED}: no request completed within the timed phase.\n"
    ));
    out
}

const NONE_COMPLETED: &str = "—";

/// A latency of `summary`, or [`NONE_COMPLETED`] when nothing completed in
/// the timed phase (slower than the phase itself).
fn latency(summary: &Summary, ms: f64) -> String {
    if summary.ok == 0 {
        NONE_COMPLETED.into()
    } else {
        trim(ms)
    }
}

/// p99 at the largest size against p99 at the smallest, per listing.
fn listings_targets(points: &[Point]) -> String {
    let mut out = format!(
        "Target: p99 at the largest size at most {LISTING_GROWTH_TARGET}× p99 at the smallest.\n\n\
         | listing | smallest | p99 ms | largest | p99 ms | ratio | target |\n|---|---:|---:|---:|---:|---:|---|\n"
    );
    for kind in Kind::ALL {
        let of_kind: Vec<&Point> = points.iter().filter(|p| p.kind == kind).collect();
        let (Some(first), Some(last)) = (of_kind.first(), of_kind.last()) else {
            continue;
        };
        if first.http.ok == 0 || last.http.ok == 0 {
            out.push_str(&format!(
                "| `?{}` | {} | {} | {} | {} | — | not measured: a longer --seconds |\n",
                kind.query(),
                first.projects,
                latency(&first.http, first.http.p99_ms),
                last.projects,
                latency(&last.http, last.http.p99_ms),
            ));
            continue;
        }
        let ratio = last.http.p99_ms / first.http.p99_ms.max(0.001);
        let verdict = if ratio <= LISTING_GROWTH_TARGET {
            "met"
        } else {
            "missed"
        };
        out.push_str(&format!(
            "| `?{}` | {} | {} | {} | {} | {:.1}× | {verdict} |\n",
            kind.query(),
            first.projects,
            trim(first.http.p99_ms),
            last.projects,
            trim(last.http.p99_ms),
            ratio
        ));
    }
    out
}

fn votes_table(steps: &[Step]) -> String {
    let mut out = String::from(
        "Votes through command-api (`PUT /threads/{id}/vote`, closed loop, the write phases' users and Zipf-skewed threads) \
         with the stream filled beforehand with first votes of distinct (thread, voter) pairs; the projector paused (`SIGSTOP`) throughout:\n\n\
         | stream subjects (num_subjects) before → after | messages | votes published to fill | votes/s | p50 ms | p99 ms | errors | nats-server RSS MiB | command-api RSS MiB |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in steps {
        out.push_str(&format!(
            "| {} → {} | {} | {} in {:.0} s | {} | {} | {} | {} | {:.0} | {:.0} |\n",
            s.subjects_before,
            s.subjects_after,
            s.messages_before,
            s.published,
            s.publish_seconds,
            trim(s.votes.per_second),
            trim(s.votes.p50_ms),
            trim(s.votes.p99_ms),
            s.votes.errors,
            s.nats_rss_mib,
            s.command_api_rss_mib,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(projects: usize, ok: u64, p99_ms: f64) -> Point {
        Point {
            projects,
            kind: Kind::Top,
            query: Kind::Top.query(),
            matching: projects as u64,
            http: Summary {
                ok,
                p99_ms,
                ..Summary::default()
            },
            driver: Summary::default(),
        }
    }

    #[test]
    fn a_listing_that_completed_nothing_is_not_given_a_ratio() {
        let measured = listings_targets(&[point(1_000, 30, 1_000.0), point(10_000, 60, 3_000.0)]);
        assert!(measured.contains("| 3.0× | missed |"), "{measured}");
        let slow = listings_targets(&[point(1_000, 30, 1_000.0), point(10_000, 0, 0.0)]);
        assert!(slow.contains("not measured"), "{slow}");
        assert!(listings_table(&[point(10_000, 0, 0.0)]).contains("| — |"));
    }
}
