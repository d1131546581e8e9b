//! Load generation: closed loop (N clients, each sending its next request when
//! the previous one is answered: the maximum throughput) and open loop (a
//! fixed rate whatever the answers do: latency at a given load, measured from
//! when each request was due, so a stall is not hidden by the requests it
//! delays).

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::{sync::Semaphore, task::JoinSet};

/// Latencies in microseconds, from 1 µs to 10 minutes.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"))
}

pub fn record(h: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, 600_000_000);
    let _ = h.record(micros);
}

/// What a timed phase measured.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    /// Successful operations in the measured window.
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// `(nines, ms)`: the latency at percentile `1 - 10^-nines`, for the plot.
    #[serde(skip)]
    pub curve: Vec<(f64, f64)>,
}

impl Summary {
    pub fn new(h: &Histogram<u64>, ok: u64, errors: u64, seconds: f64) -> Self {
        let ms = |q: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(q) as f64 / 1000.0
            }
        };
        let curve = if h.is_empty() {
            Vec::new()
        } else {
            (0..=80)
                .map(|i| f64::from(i) * 0.05)
                .filter(|nines| 10f64.powf(*nines) <= h.len() as f64)
                .map(|nines| (nines, ms(1.0 - 10f64.powf(-nines))))
                .collect()
        };
        Self {
            ok,
            errors,
            seconds,
            per_second: if seconds > 0.0 {
                ok as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(0.5),
            p90_ms: ms(0.9),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: if h.is_empty() {
                0.0
            } else {
                h.max() as f64 / 1000.0
            },
            curve,
        }
    }
}

/// `clients` loops calling `op(client, i)` back to back for `warmup +
/// measure`; only what completes after the warm-up counts.
pub async fn closed_loop<F, Fut>(
    clients: usize,
    warmup: Duration,
    measure: Duration,
    op: F,
) -> Summary
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut tasks = JoinSet::new();
    for client in 0..clients {
        let op = op.clone();
        tasks.spawn(async move {
            let mut h = histogram();
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut i = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let success = op(client, i).await;
                let done = Instant::now();
                i += 1;
                if done < from || done > until {
                    continue;
                }
                if success {
                    ok += 1;
                    record(&mut h, done - sent);
                } else {
                    errors += 1;
                }
            }
            (h, ok, errors)
        });
    }
    let mut all = histogram();
    let (mut ok, mut errors) = (0, 0);
    while let Some(Ok((h, o, e))) = tasks.join_next().await {
        let _ = all.add(&h);
        ok += o;
        errors += e;
    }
    Summary::new(&all, ok, errors, measure.as_secs_f64())
}

/// `op(i)` started at `rate` per second for `warmup + measure`, at most
/// `max_in_flight` at once (beyond that the schedule waits, and the wait
/// counts in the latency); each latency runs from when the request was due.
pub async fn open_loop<F, Fut>(
    rate: f64,
    warmup: Duration,
    measure: Duration,
    max_in_flight: usize,
    op: F,
) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let op = Arc::new(op);
    let state = Arc::new(Mutex::new((histogram(), 0u64, 0u64)));
    let slots = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut tasks = JoinSet::new();
    let mut sent = 0u64;
    let rate = rate.max(1.0);
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let due = ((now - start).as_secs_f64() * rate) as u64;
        while sent < due {
            let scheduled = start + Duration::from_secs_f64(sent as f64 / rate);
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let (op, state) = (op.clone(), state.clone());
            let i = sent;
            tasks.spawn(async move {
                let success = op(i).await;
                let done = Instant::now();
                drop(permit);
                if scheduled < from || done > until + Duration::from_secs(30) {
                    return;
                }
                if let Ok(mut s) = state.lock() {
                    if success {
                        s.1 += 1;
                        record(&mut s.0, done - scheduled);
                    } else {
                        s.2 += 1;
                    }
                }
            });
            sent += 1;
        }
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    while tasks.join_next().await.is_some() {}
    let s = state
        .lock()
        .map(|s| (s.0.clone(), s.1, s.2))
        .unwrap_or_else(|_| (histogram(), 0, 0));
    Summary::new(&s.0, s.1, s.2, measure.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_percentiles_in_milliseconds() {
        let mut h = histogram();
        for ms in 1..=1000u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let s = Summary::new(&h, 1000, 2, 4.0);
        assert_eq!(s.per_second, 250.0);
        assert!((s.p50_ms - 500.0).abs() < 1.0, "{}", s.p50_ms);
        assert!((s.p99_ms - 990.0).abs() < 1.5, "{}", s.p99_ms);
        assert!(s.curve.first().is_some_and(|(n, _)| *n == 0.0));
        assert!(s.curve.last().is_some_and(|(n, _)| *n <= 3.0));
    }

    #[tokio::test]
    async fn the_open_loop_never_runs_ahead_of_its_schedule() {
        let s = open_loop(
            200.0,
            Duration::from_millis(100),
            Duration::from_millis(500),
            10,
            |_| async { true },
        )
        .await;
        // At most what was due in the measured half second (a slow machine may
        // fall behind the schedule, never ahead of it).
        assert!(s.ok <= 101, "{}", s.ok);
        assert_eq!(s.errors, 0);
    }
}
