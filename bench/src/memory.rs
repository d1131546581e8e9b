//! The end of the run: each process's peak and current resident memory, the
//! services' peaks as figures.

use serde_json::{Value, json};

use crate::{measured::Measured, report::Figure, system::System};

/// Ends the last phase and records the memory of every process.
pub fn run(m: &mut Measured, system: &System) {
    m.phase("end");
    let services = system.services();
    let mut memory = serde_json::Map::new();
    for proc in system.procs() {
        let (peak, now) = proc.memory_kib().unwrap_or((0, 0));
        memory.insert(
            proc.name.clone(),
            json!({"peak_rss_mib": peak as f64 / 1024.0, "rss_mib": now as f64 / 1024.0}),
        );
        if services.iter().any(|p| p.pid() == proc.pid()) {
            m.figures.push(
                Figure::new(
                    "peak_rss",
                    format!("memory: peak RSS of {} (VmHWM, whole run)", proc.name),
                    "MiB",
                    peak as f64 / 1024.0,
                )
                .at_most(64.0),
            );
        }
    }
    m.details.insert("memory".into(), Value::Object(memory));
}
