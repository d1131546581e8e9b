//! What a run measured, gathered for the report as the phases go: figures,
//! details, latency curves, and each process's CPU use and peak memory per
//! phase.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::{
    load::Summary, procs, proxy, report::Figure, since_start, status::StatusSample, system::System,
};

#[derive(Default)]
pub struct Measured {
    pub figures: Vec<Figure>,
    pub details: serde_json::Map<String, Value>,
    /// `(seconds since start, name)` of each phase's start.
    pub phases: Vec<(f64, String)>,
    /// The latency plot's series, in the order they are drawn.
    pub curves: Vec<(String, Vec<(f64, f64)>)>,
    /// `(seconds since start, ms)` of each write followed at 50% of max.
    pub freshness_points: Vec<(f64, f64)>,
    /// The projector's `/status`, sampled all along.
    pub status_samples: Vec<StatusSample>,
    /// The processes whose CPU time is read at each phase boundary.
    pids: Vec<(String, u32)>,
    /// When the current phase started, its name, and each process's CPU seconds then.
    cpu_mark: Option<(f64, String, HashMap<String, f64>)>,
    /// Per phase: each process's CPU use (100 = one core) and peak RSS.
    pub cpu: Vec<Value>,
    /// The largest RSS (KiB) of each process since the last phase boundary.
    rss_peaks: Arc<Mutex<HashMap<String, u64>>>,
}

impl Measured {
    /// Ends the current phase (its CPU use and peak RSS make a row) and starts `name`.
    pub fn phase(&mut self, name: &str) {
        say!("== {name}");
        let now = since_start();
        if let Some((started, previous, cpu)) = self.cpu_mark.take() {
            let wall = (now - started).max(0.001);
            let mut row = serde_json::Map::new();
            for (process, pid) in &self.pids {
                let used = procs::cpu_seconds(*pid).unwrap_or(0.0)
                    - cpu.get(process).copied().unwrap_or(0.0);
                row.insert(process.clone(), json!((100.0 * used / wall).round()));
            }
            let peaks = self
                .rss_peaks
                .lock()
                .map(|mut p| std::mem::take(&mut *p))
                .unwrap_or_default();
            let rss: serde_json::Map<String, Value> = peaks
                .into_iter()
                .map(|(process, kib)| (process, json!((kib as f64 / 1024.0 * 10.0).round() / 10.0)))
                .collect();
            self.cpu.push(json!({"phase": previous, "seconds": wall.round(), "cpu_percent": row, "peak_rss_mib": rss}));
        }
        let cpu = self
            .pids
            .iter()
            .map(|(n, pid)| (n.clone(), procs::cpu_seconds(*pid).unwrap_or(0.0)))
            .collect();
        self.cpu_mark = Some((now, name.to_owned(), cpu));
        self.phases.push((now, name.to_owned()));
    }

    /// Watches the system's processes and this one from now on: their CPU
    /// time at each phase boundary, and their resident memory in the
    /// returned task.
    pub fn watch(&mut self, system: &System) -> JoinHandle<()> {
        self.pids = system
            .procs()
            .iter()
            .map(|p| (p.name.clone(), p.pid()))
            .chain(std::iter::once((
                "flow-bench".to_owned(),
                std::process::id(),
            )))
            .collect();
        tokio::spawn(sample_rss(self.pids.clone(), self.rss_peaks.clone()))
    }

    /// A series of the latency plot.
    pub fn curve(&mut self, name: String, summary: &Summary) {
        self.curves.push((name, summary.curve.clone()));
    }

    /// Each process's CPU use and peak memory, by phase.
    pub fn record_cpu(&mut self) {
        self.details
            .insert("cpu_by_phase".into(), Value::Array(self.cpu.clone()));
    }

    /// The `/status` samples, kept for the lag plot and in the details.
    pub fn record_status(&mut self, samples: Vec<StatusSample>) {
        let rows: Vec<Value> = samples
            .iter()
            .map(|s| json!([s.at, s.position, s.lag, s.writes, s.applied]))
            .collect();
        self.details.insert(
            "status_samples_columns".into(),
            json!([
                "at_seconds",
                "position",
                "lag_events",
                "writes",
                "applied_events"
            ]),
        );
        self.details
            .insert("status_samples".into(), Value::Array(rows));
        self.status_samples = samples;
    }

    /// What the projector sent to the store over the whole run.
    pub fn record_wire(&mut self, wire: &proxy::Counts) {
        let counted = wire.snapshot();
        self.details.insert(
            "wire".into(),
            json!({"update_commands": counted.commands, "update_statements": counted.statements,
                   "other_commands": wire.other_commands.load(Ordering::Relaxed)}),
        );
    }
}

/// Keeps the largest resident set of each process, every 200 ms.
async fn sample_rss(pids: Vec<(String, u32)>, peaks: Arc<Mutex<HashMap<String, u64>>>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        for (name, pid) in &pids {
            if let Some((_, rss)) = procs::memory_kib(*pid)
                && let Ok(mut p) = peaks.lock()
            {
                let peak = p.entry(name.clone()).or_default();
                *peak = (*peak).max(rss);
            }
        }
    }
}
