//! The projector's `/status`: read at the edges of a phase to see what the
//! projector did in it, and every 250 ms all along for the lag plot.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Deserialize;
use tokio::task::JoinHandle;

use crate::since_start;

const STATUS_EVERY: Duration = Duration::from_millis(250);

/// One reading of the projector's `/status`: the fields the bench reads, as
/// the projector names them (`projector::runner::Status`, all `u64`). A field
/// the reply lacks reads as 0.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct StatusSample {
    /// When it was read, in seconds since the start of the run.
    #[serde(skip)]
    pub at: f64,
    /// The highest contiguous applied stream sequence.
    pub position: u64,
    /// Events stored in the stream, not yet applied.
    #[serde(rename = "lag_events")]
    pub lag: u64,
    /// Update statements written, since the projector started.
    pub writes: u64,
    /// Events applied, since the projector started.
    #[serde(rename = "applied_events")]
    pub applied: u64,
    /// Batches (or folds of batches) written, since the projector started.
    pub batches: u64,
    /// Time from each batch's first event received to its documents written,
    /// summed over the batches (µs).
    #[serde(rename = "batch_visible_micros")]
    pub batch_micros: u64,
}

impl StatusSample {
    /// What the projector did since `earlier`: each counter's increase.
    pub fn since(&self, earlier: &Self) -> Progress {
        Progress {
            position: self.position.saturating_sub(earlier.position),
            writes: self.writes.saturating_sub(earlier.writes),
            applied: self.applied.saturating_sub(earlier.applied),
            batches: self.batches.saturating_sub(earlier.batches),
            batch_micros: self.batch_micros.saturating_sub(earlier.batch_micros),
        }
    }
}

/// The increase of the projector's counters between two samples.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub position: u64,
    pub writes: u64,
    pub applied: u64,
    pub batches: u64,
    pub batch_micros: u64,
}

/// The projector's `/status` now.
pub async fn now(http: &reqwest::Client, projector_url: &str) -> anyhow::Result<StatusSample> {
    let mut sample: StatusSample = http
        .get(format!("{projector_url}/status"))
        .timeout(Duration::from_secs(5))
        .send()
        .await?
        .json()
        .await?;
    sample.at = since_start();
    Ok(sample)
}

/// `/status`, sampled in the background until stopped.
pub struct StatusLog {
    samples: Arc<Mutex<Vec<StatusSample>>>,
    task: JoinHandle<()>,
}

impl StatusLog {
    pub fn start(http: &reqwest::Client, projector_url: &str) -> Self {
        let samples = Arc::<Mutex<Vec<StatusSample>>>::default();
        let task = tokio::spawn(sample(
            http.clone(),
            projector_url.to_owned(),
            samples.clone(),
        ));
        Self { samples, task }
    }

    /// Stops sampling: the samples, oldest first.
    pub fn stop(self) -> Vec<StatusSample> {
        self.task.abort();
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn sample(http: reqwest::Client, url: String, samples: Arc<Mutex<Vec<StatusSample>>>) {
    let mut tick = tokio::time::interval(STATUS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Ok(sample) = now(&http, &url).await
            && let Ok(mut s) = samples.lock()
        {
            s.push(sample);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reply_is_read_by_its_field_names() {
        let reply = r#"{"generation": 2, "position": 120, "stream_last": 130, "lag_events": 10,
            "lag_seconds": 0.5, "applied_events": 100, "writes": 40, "writes_per_event": 0.4,
            "batches": 4, "batch_visible_micros": 9000, "store_ok": true, "rebuild": null}"#;
        let s: StatusSample = serde_json::from_str(reply).expect("a status");
        assert_eq!(
            (
                s.position,
                s.lag,
                s.writes,
                s.applied,
                s.batches,
                s.batch_micros
            ),
            (120, 10, 40, 100, 4, 9_000)
        );
        let missing: StatusSample = serde_json::from_str(r#"{"position": 7}"#).expect("a status");
        assert_eq!((missing.position, missing.lag, missing.writes), (7, 0, 0));
    }

    #[test]
    fn progress_is_the_increase_of_each_counter() {
        let earlier = StatusSample {
            position: 100,
            applied: 90,
            batches: 3,
            ..StatusSample::default()
        };
        let later = StatusSample {
            position: 160,
            applied: 150,
            batches: 5,
            writes: 12,
            ..StatusSample::default()
        };
        let p = later.since(&earlier);
        assert_eq!(
            (p.position, p.applied, p.batches, p.writes),
            (60, 60, 2, 12)
        );
        assert_eq!(earlier.since(&later).position, 0);
    }
}
