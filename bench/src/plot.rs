//! The plots: latency percentiles and projection lag over the run; for the
//! growth mode, latency against the size of the data.

use std::path::Path;

use plotters::prelude::*;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// `nines` → the percentile it stands for: 0 → 0%, 2 → 99%, 3 → 99.9%.
pub fn percentile_label(nines: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-nines));
    if p < 99.0 {
        format!("{p:.0}%")
    } else {
        let decimals = (nines - 2.0).ceil().max(0.0) as usize;
        format!("{p:.decimals$}%")
    }
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plot: {e}")
}

/// Latency (ms, log scale) against percentile (as nines) for each series.
pub fn latency(
    path: &Path,
    title: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let points = series.iter().flat_map(|(_, s)| s.iter());
    let max_x = points.clone().map(|p| p.0).fold(2.0_f64, f64::max).ceil();
    let min_y = points
        .clone()
        .map(|p| p.1)
        .filter(|v| *v > 0.0)
        .fold(f64::MAX, f64::min)
        .min(1.0)
        * 0.8;
    let max_y = points.map(|p| p.1).fold(1.0_f64, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..max_x, (min_y.max(0.01)..max_y).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(max_x as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| crate::report::trim(*y))
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied().filter(|p| p.1 > 0.0),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// `(x, ms)` series on log–log axes: a latency against a size.
pub fn growth(
    path: &Path,
    title: &str,
    x_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let points = series.iter().flat_map(|(_, s)| s.iter());
    let (min_x, max_x) = points
        .clone()
        .fold((f64::MAX, 1.0_f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let min_y = points
        .clone()
        .map(|p| p.1)
        .filter(|v| *v > 0.0)
        .fold(f64::MAX, f64::min)
        .min(1.0)
        * 0.8;
    let max_y = points.map(|p| p.1).fold(1.0_f64, f64::max) * 1.5;
    let min_x = min_x.min(max_x).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (min_x * 0.8..max_x * 1.25).log_scale(),
            (min_y.max(0.01)..max_y).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("latency (ms)")
        .x_label_formatter(&|x| crate::report::trim(*x))
        .y_label_formatter(&|y| crate::report::trim(*y))
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let shown: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.1 > 0.0).collect();
        chart
            .draw_series(LineSeries::new(shown.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(shown.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// What the lag plot shows.
pub struct LagPlot<'a> {
    /// `(seconds since start, unapplied events)`.
    pub lag: &'a [(f64, f64)],
    /// `(seconds since start, phase name)`.
    pub phases: &'a [(f64, String)],
    /// `(seconds since start, ms from write accepted to visible)`.
    pub freshness: &'a [(f64, f64)],
}

/// Two panels over the run's time: the projector's lag in events, and the
/// freshness of the sampled writes.
pub fn lag(path: &Path, plot: &LagPlot<'_>) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1100, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(470);
    let end = plot.lag.iter().map(|p| p.0).fold(1.0_f64, f64::max);
    let max_lag = plot.lag.iter().map(|p| p.1).fold(10.0_f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .caption(
            "Projection lag over the run (projector /status, every 250 ms)",
            ("sans-serif", 20),
        )
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..end, 0.0..max_lag)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the start of the run")
        .y_desc("events stored, not yet applied")
        .y_label_formatter(&|y| crate::report::trim(*y))
        .draw()
        .map_err(err)?;
    for (i, (at, name)) in plot.phases.iter().enumerate() {
        let color = RGBColor(160, 160, 160);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*at, 0.0), (*at, max_lag)],
                color.stroke_width(1),
            )))
            .map_err(err)?;
        let y = max_lag * (0.95 - 0.055 * (i % 6) as f64);
        chart
            .draw_series(std::iter::once(Text::new(
                name.clone(),
                (*at, y),
                ("sans-serif", 13).into_font().color(&BLACK),
            )))
            .map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(
            thin(plot.lag, 1_500),
            COLORS[0].stroke_width(2),
        ))
        .map_err(err)?;

    let max_fresh = plot.freshness.iter().map(|p| p.1).fold(10.0_f64, f64::max) * 1.1;
    let (from, to) = plot
        .freshness
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (from, to) = if from < to { (from, to) } else { (0.0, end) };
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "Freshness at 50% of max writes: write accepted → visible to a read (a read that gave up sits at the 2 s wait)",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(from..to, 0.0..max_fresh)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the start of the run")
        .y_desc("ms")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            thin(plot.freshness, 1_500)
                .into_iter()
                .map(|p| Circle::new(p, 2, COLORS[1].filled())),
        )
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// At most about `max` points: the largest value of each run of consecutive
/// points, so that peaks survive and the SVG stays small.
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(max.max(1)).max(1);
    points
        .chunks(step)
        .filter_map(|c| c.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_peaks() {
        let points: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (f64::from(i), f64::from(i % 100)))
            .collect();
        let thinned = thin(&points, 1_000);
        assert!(thinned.len() <= 1_000);
        assert!(thinned.iter().all(|p| p.1 >= 9.0));
        assert_eq!(thin(&points[..10], 1_000).len(), 10);
    }

    #[test]
    fn percentiles_are_labelled_by_their_nines() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(4.0), "99.99%");
    }

    #[test]
    fn plots_are_written_as_svg() {
        let dir = std::env::temp_dir().join(format!("flow-bench-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let curve: Vec<(f64, f64)> = (0..40)
            .map(|i| (f64::from(i) * 0.1, 1.0 + f64::from(i)))
            .collect();
        latency(&dir.join("l.svg"), "t", &[("a".into(), curve.clone())]).expect("plots");
        let lag_points = [(0.0, 0.0), (1.0, 100.0), (2.0, 0.0)];
        lag(
            &dir.join("g.svg"),
            &LagPlot {
                lag: &lag_points,
                phases: &[(1.0, "writes".into())],
                freshness: &[(1.0, 5.0)],
            },
        )
        .expect("plots");
        let sizes = vec![(1_000.0, 2.0), (10_000.0, 3.5), (100_000.0, 9.0)];
        growth(
            &dir.join("s.svg"),
            "t",
            "projects",
            &[("new".into(), sizes)],
        )
        .expect("plots");
        let svg = std::fs::read_to_string(dir.join("l.svg")).expect("written");
        assert!(svg.starts_with("<svg") && svg.contains("99%"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
