//! The write-up of a run: `latest.json` (every figure and detail), the two
//! plots, `latest.md` (the tables), and, for a full run into the default
//! place, the table in BENCHMARKS.md.

use std::path::Path;

use serde_json::{Value, json};

use crate::{
    cli::Options, freshness::FOLLOWED_PER_SECOND, measured::Measured, plot, report,
    seed::SEED_PROJECTS, setup::Setup, votes::USERS, workload::THREAD_SKEW,
};

/// Writes the results of `measured` into `setup.out`, and prints the tables.
pub fn write(
    options: &Options,
    setup: &Setup,
    machine: Value,
    versions: Value,
    mut measured: Measured,
) -> anyhow::Result<()> {
    let header = report::RunHeader::new(options, machine.clone(), versions);
    let results = header.with(json!({
        "settings": {
            "clients": options.clients,
            "phase_seconds": options.phase.as_secs(),
            "events": options.events,
            "seed_projects": SEED_PROJECTS,
            "users": USERS,
            "thread_skew_zipf_s": THREAD_SKEW,
            "freshness_followed_per_second": FOLLOWED_PER_SECOND,
        },
        "figures": measured.figures,
        "details": Value::Object(std::mem::take(&mut measured.details)),
        "phases": measured.phases.iter().map(|(t, n)| json!({"at_seconds": t, "phase": n})).collect::<Vec<_>>(),
    }));
    report::write_json(&setup.out.join("latest.json"), &results)?;
    plots(&setup.out, &measured)?;
    let tables = tables(&measured, &machine);
    let run = header.line(
        "Run",
        &format!(
            "{} events, {} clients, {} s phases",
            options.events,
            options.clients,
            options.phase.as_secs()
        ),
    );
    let markdown = format!("{run}\n\n{tables}");
    std::fs::write(setup.out.join("latest.md"), &markdown)?;
    if setup.default_out {
        update_benchmarks_md(&setup.root.join("BENCHMARKS.md"), &markdown)?;
    }
    eprintln!("\n{markdown}");
    say!("results in {}", setup.out.display());
    Ok(())
}

/// `latency.svg` and `lag.svg`.
fn plots(out: &Path, measured: &Measured) -> anyhow::Result<()> {
    plot::latency(
        &out.join("latency.svg"),
        "Latency percentiles (same run)",
        &measured.curves,
    )?;
    let lag_points: Vec<(f64, f64)> = measured
        .status_samples
        .iter()
        .map(|s| (s.at, s.lag as f64))
        .collect();
    plot::lag(
        &out.join("lag.svg"),
        &plot::LagPlot {
            lag: &lag_points,
            phases: &measured.phases,
            freshness: &measured.freshness_points,
        },
    )
}

/// The figures, then CPU use and peak memory by phase.
fn tables(measured: &Measured, machine: &Value) -> String {
    format!(
        "{}\nCPU by phase (100% = one core; the machine has {}):\n\n{}\nPeak RSS by phase (MiB, sampled every 200 ms):\n\n{}",
        report::table(&measured.figures),
        machine["cores"],
        report::phase_table(&measured.cpu, "cpu_percent", "%"),
        report::phase_table(&measured.cpu, "peak_rss_mib", ""),
    )
}

/// Replaces the generated part of BENCHMARKS.md, between its markers.
fn update_benchmarks_md(path: &Path, markdown: &str) -> anyhow::Result<()> {
    const START: &str = "<!-- bench:results:start -->";
    const END: &str = "<!-- bench:results:end -->";
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Ok(());
    };
    if b < a {
        return Ok(());
    }
    let updated = format!("{}{START}\n{markdown}{}", &text[..a], &text[b..]);
    std::fs::write(path, updated)?;
    say!("updated the table in {}", path.display());
    Ok(())
}
