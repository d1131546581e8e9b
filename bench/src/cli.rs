//! Command-line options.

use std::{path::PathBuf, time::Duration};

pub const USAGE: &str = "usage: flow-bench [--quick] [--events N] [--clients N] [--seconds S] [--out DIR] [--keep] [--no-build] [--bin-dir DIR]
       flow-bench growth [--quick] [--clients N] [--seconds S] [--out DIR] [--keep] [--no-build] [--bin-dir DIR]

Starts NATS and the MongoDB-compatible server on free ports (data in a temporary directory),
runs command-api, projector and query-api from the release build as separate processes, drives
them, and writes latest.json, latest.md, latency.svg and lag.svg. Each figure is measured in
the same run as its ceiling.

  --quick          a fast check: 50,000 generated events, 5-second phases, into bench/results/quick
  --events N       events generated directly into JetStream for the live-projection and rebuild
                   figures (default 1,000,000)
  --clients N      concurrent clients for writes, reads and their ceilings (default 32)
  --seconds S      length of each timed phase (default 20; 5 with --quick)
  --out DIR        where to write the results (default bench/results, or bench/results/quick)
  --keep           keep the servers' data and the services' logs (a temporary directory)
  --no-build       do not run `cargo build --release` for the services first
  --bin-dir DIR    where the service binaries are (default <target>/release)

growth: how the costs grow with the data. GET /projects (sort=new, sort=top, a tag, a search)
at 1,000, 10,000 and 100,000 projects, with query-api's response cache off; votes through
command-api with 10,000 and 1,000,000 distinct vote subjects in the stream. Writes growth.json,
growth.md and growth.svg into bench/results/growth (--quick: 1,000 and 10,000 projects and
10,000 subjects, into bench/results/growth/quick). Phases are 10 seconds (5 with --quick)
unless --seconds: a first page of sort=top takes seconds at 10,000 projects and more.";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `flow-bench growth`: the growth mode instead of the full run.
    pub growth: bool,
    pub quick: bool,
    pub events: u64,
    pub clients: usize,
    pub phase: Duration,
    pub out: Option<PathBuf>,
    pub build: bool,
    pub bin_dir: Option<PathBuf>,
    pub keep: bool,
}

impl Options {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut quick = false;
        let mut events = None;
        let mut clients = 32;
        let mut seconds = None;
        let mut out = None;
        let mut build = true;
        let mut bin_dir = None;
        let mut keep = false;
        let mut growth = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                // A mode, not an option: `./dev bench growth` puts `--no-build` before it.
                "growth" => growth = true,
                "--quick" => quick = true,
                "--events" => events = Some(number(&value("--events")?, "--events")?),
                "--clients" => clients = number(&value("--clients")?, "--clients")? as usize,
                "--seconds" => seconds = Some(number(&value("--seconds")?, "--seconds")?),
                "--out" => out = Some(PathBuf::from(value("--out")?)),
                "--no-build" => build = false,
                "--keep" => keep = true,
                "--bin-dir" => bin_dir = Some(PathBuf::from(value("--bin-dir")?)),
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        let events = events.unwrap_or(if quick { 50_000 } else { 1_000_000 });
        if events < 1_000 {
            return Err("--events must be at least 1000".into());
        }
        if clients == 0 || clients > 1_024 {
            return Err("--clients must be between 1 and 1024".into());
        }
        let seconds = seconds.unwrap_or(match (growth, quick) {
            (_, true) => 5,
            (true, false) => 10,
            (false, false) => 20,
        });
        if seconds == 0 {
            return Err("--seconds must be at least 1".into());
        }
        Ok(Self {
            growth,
            quick,
            events,
            clients,
            phase: Duration::from_secs(seconds),
            out,
            build,
            bin_dir,
            keep,
        })
    }
}

/// A non-negative integer; `_` and `,` may group digits (1_000_000).
fn number(raw: &str, name: &str) -> Result<u64, String> {
    raw.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{name} {raw:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_are_the_full_run() {
        let o = parse(&[]).expect("valid");
        assert_eq!(
            (o.quick, o.events, o.clients, o.phase.as_secs(), o.build),
            (false, 1_000_000, 32, 20, true)
        );
        assert!(!o.growth);
    }

    #[test]
    fn growth_is_a_mode() {
        let o = parse(&["growth", "--quick", "--no-build"]).expect("valid");
        assert!(o.growth && o.quick && !o.build);
        assert_eq!(o.phase.as_secs(), 5);
        let o = parse(&["--no-build", "growth"]).expect("valid");
        assert!(o.growth && !o.quick && !o.build);
        assert_eq!(o.phase.as_secs(), 10);
        assert!(parse(&["growths"]).is_err());
    }

    #[test]
    fn quick_shortens_unless_told_otherwise() {
        let o = parse(&["--quick"]).expect("valid");
        assert_eq!((o.events, o.phase.as_secs()), (50_000, 5));
        let o = parse(&[
            "--quick",
            "--events",
            "200_000",
            "--seconds",
            "8",
            "--no-build",
        ])
        .expect("valid");
        assert_eq!((o.events, o.phase.as_secs(), o.build), (200_000, 8, false));
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(parse(&["--events"]).is_err());
        assert!(parse(&["--events", "many"]).is_err());
        assert!(parse(&["--clients", "0"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}
