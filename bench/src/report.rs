//! The results: every figure beside the ceiling measured in the same run, the
//! ratio, and the target; the machine and the versions they were measured on.

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

/// One row of the results table.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub id: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub ours: f64,
    /// What we are measured against, when anything.
    pub ceiling: Option<Ceiling>,
    /// `ours / ceiling` (or as the target defines it).
    pub ratio: Option<f64>,
    pub target: Target,
    pub met: Option<bool>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub name: String,
    pub value: f64,
    /// Each measurement of the ceiling in this run (before and after ours).
    pub samples: Vec<f64>,
}

/// What a figure should reach.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// `ours / ceiling` at least this.
    RatioAtLeast(f64),
    /// `ours` at most this.
    AtMost(f64),
    None,
}

impl Target {
    pub fn describe(self, unit: &str) -> String {
        match self {
            Self::RatioAtLeast(r) => format!("≥ {:.0}% of ceiling", r * 100.0),
            Self::AtMost(v) => format!("≤ {} {unit}", trim(v)),
            Self::None => "—".into(),
        }
    }
}

impl Figure {
    pub fn new(id: &'static str, name: impl Into<String>, unit: &'static str, ours: f64) -> Self {
        Self {
            id,
            name: name.into(),
            unit,
            ours,
            ceiling: None,
            ratio: None,
            target: Target::None,
            met: None,
            note: String::new(),
        }
    }

    /// Beside a ceiling measured (possibly several times) in this run: their mean.
    pub fn against(mut self, name: impl Into<String>, samples: &[f64]) -> Self {
        let value = if samples.is_empty() {
            0.0
        } else {
            samples.iter().sum::<f64>() / samples.len() as f64
        };
        self.ratio = (value > 0.0).then(|| self.ours / value);
        self.ceiling = Some(Ceiling {
            name: name.into(),
            value,
            samples: samples.to_vec(),
        });
        self
    }

    /// The target: `ours / ceiling` at least `target`.
    pub fn ratio_at_least(mut self, target: f64) -> Self {
        self.target = Target::RatioAtLeast(target);
        self.met = self.ratio.map(|r| r >= target);
        self
    }

    pub fn at_most(mut self, limit: f64) -> Self {
        self.target = Target::AtMost(limit);
        self.met = Some(self.ours <= limit);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// A number with at most three significant decimals, without trailing zeros.
pub fn trim(v: f64) -> String {
    let text = if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        group(&text)
    }
}

/// `1234567` → `1,234,567`.
fn group(digits: &str) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// The markdown table of the figures.
pub fn table(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| figure | ours | ceiling (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for f in figures {
        let ceiling = f
            .ceiling
            .as_ref()
            .map(|c| format!("{} {} ({})", trim(c.value), f.unit, c.name))
            .unwrap_or_else(|| "—".into());
        let ratio = f
            .ratio
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_else(|| "—".into());
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let note = if f.note.is_empty() {
            String::new()
        } else {
            format!(" <br>*{}*", f.note)
        };
        out.push_str(&format!(
            "| {}{note} | {} {} | {ceiling} | {ratio} | {} | {met} |\n",
            f.name,
            trim(f.ours),
            f.unit,
            f.target.describe(f.unit)
        ));
    }
    out
}

/// One value of each process in each phase (`key` of each row), as a markdown table.
pub fn phase_table(rows: &[Value], key: &str, unit: &str) -> String {
    let processes = [
        "command-api",
        "projector",
        "query-api",
        "nats-server",
        "nx-27017",
        "flow-bench",
    ];
    let mut out = format!(
        "| phase | seconds | {} |\n|---|---|{}\n",
        processes.join(" | "),
        "---|".repeat(processes.len())
    );
    for row in rows {
        let cells: Vec<String> = processes
            .iter()
            .map(|p| {
                row[key][p]
                    .as_f64()
                    .map(|v| format!("{}{unit}", trim(v)))
                    .unwrap_or_else(|| "—".into())
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            row["phase"].as_str().unwrap_or(""),
            row["seconds"].as_f64().map(trim).unwrap_or_default(),
            cells.join(" | ")
        ));
    }
    out
}

/// CPU model, cores, memory, kernel and load, from /proc.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib = crate::procs::status_field(&meminfo, "MemTotal").unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("PRETTY_NAME=")
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_default();
    serde_json::json!({
        "cpu_model": cpu,
        "cores": cores,
        "memory_mib": memory_kib / 1024,
        "kernel": kernel.trim(),
        "os": os,
        "load_average": load_average(),
    })
}

/// `/proc/loadavg`'s 1, 5 and 15-minute figures.
pub fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect()
}

pub fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}

/// What every results file opens with: when, in which mode, for how long,
/// the command, the machine, its load at the end and the versions.
pub struct RunHeader {
    pub fields: serde_json::Map<String, Value>,
    generated_at: String,
    mode: &'static str,
    machine: Value,
}

impl RunHeader {
    pub fn new(options: &crate::cli::Options, machine: Value, versions: Value) -> Self {
        let generated_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mode = if options.quick { "quick" } else { "full" };
        let fields = match json!({
            "generated_at": generated_at,
            "mode": mode,
            "duration_seconds": crate::since_start().round(),
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "machine": machine,
            "load_average_at_end": load_average(),
            "versions": versions,
        }) {
            Value::Object(fields) => fields,
            _ => serde_json::Map::new(),
        };
        Self {
            fields,
            generated_at,
            mode,
            machine,
        }
    }

    /// The header fields with `rest` (an object) after them.
    pub fn with(&self, rest: Value) -> Value {
        let mut all = self.fields.clone();
        if let Value::Object(rest) = rest {
            all.extend(rest);
        }
        Value::Object(all)
    }

    /// "`what` of <when> (<mode> mode, `settings`) on <machine>, in <seconds> s."
    pub fn line(&self, what: &str, settings: &str) -> String {
        format!(
            "{what} of {} ({} mode, {settings}) on {} × {} ({} MiB), in {:.0} s.",
            self.generated_at,
            self.mode,
            self.machine["cores"],
            self.machine["cpu_model"].as_str().unwrap_or(""),
            self.machine["memory_mib"],
            crate::since_start(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(trim(1_234_567.8), "1,234,568");
        assert_eq!(trim(12.34), "12.3");
        assert_eq!(trim(1.5), "1.5");
        assert_eq!(trim(0.05), "0.05");
        assert_eq!(trim(2.0), "2");
    }

    #[test]
    fn a_figure_is_met_by_its_ratio_or_its_limit() {
        let f = Figure::new("w", "writes", "/s", 60.0)
            .against("raw", &[100.0, 140.0])
            .ratio_at_least(0.5);
        assert_eq!(f.ratio, Some(0.5));
        assert_eq!(f.met, Some(true));
        let f = Figure::new("m", "memory", "MiB", 70.0).at_most(64.0);
        assert_eq!(f.met, Some(false));
        let t = table(&[f]);
        assert!(
            t.contains("| memory | 70 MiB | — | — | ≤ 64 MiB | **no** |"),
            "{t}"
        );
    }
}
