//! The run's SVG fan charts of England metrics: the 90% and 50% bands and the median by year.

use crate::metric::{Metric, NationalMetric};
use crate::run::RunReport;
use crate::summary::{Band, Stats};
use anyhow::Result;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use std::io::Write;

/// One fan chart: which England metric, in which unit, under which title.
pub struct FanChart {
    pub file: &'static str,
    /// Followed by the scenario name in brackets.
    pub title: &'static str,
    pub metric: NationalMetric,
    /// Values are divided by this before plotting (e.g. 1e9 for £ billion).
    pub scale: f64,
    pub unit_label: &'static str,
    /// A limit drawn beside the fan as its median (dashed), with its legend label.
    pub limit: Option<(NationalMetric, &'static str)>,
}

/// The charts a run writes.
pub const FAN_CHARTS: [FanChart; 2] = [
    FanChart {
        file: "national_deficit.svg",
        title: "England: cumulative high-needs deficit, councils in deficit",
        metric: NationalMetric::Council(Metric::CumulativeDeficit),
        scale: 1e9,
        unit_label: "£ billion (nominal)",
        limit: None,
    },
    FanChart {
        file: "national_ehcps.svg",
        title: "England: EHCPs in force each January",
        metric: NationalMetric::Council(Metric::Ehcps),
        scale: 1e3,
        unit_label: "thousand plans",
        limit: Some((
            NationalMetric::Council(Metric::EhcpCeiling),
            "prevalence ceiling (median)",
        )),
    },
];

const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(214, 39, 40);
const SIZE: (u32, u32) = (900, 520);

/// (year ending 31 March, scaled stats) per FY.
type Points = [(i32, Stats)];
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordi32, RangedCoordf64>>;

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the chart: {e}")
}

pub fn write_fan_chart(w: &mut dyn Write, chart: &FanChart, r: &RunReport) -> Result<()> {
    let points: Vec<(i32, Stats)> = r
        .horizon
        .years
        .iter()
        .enumerate()
        .map(|(t, fy)| {
            (
                fy.end_year(),
                r.national.get(t, chart.metric).scaled(chart.scale),
            )
        })
        .collect();
    let limit = chart.limit.map(|(metric, label)| {
        let line: Vec<(i32, f64)> = r
            .horizon
            .years
            .iter()
            .enumerate()
            .map(|(t, fy)| (fy.end_year(), r.national.get(t, metric).p50 / chart.scale))
            .collect();
        (line, label)
    });
    let title = format!("{} ({})", chart.title, r.scenario);
    let mut svg = String::new();
    draw(&mut svg, &title, chart.unit_label, &points, limit.as_ref())?;
    w.write_all(svg.as_bytes())?;
    Ok(())
}

/// A line beside the fan: (year ending 31 March, scaled value) per FY, and its legend label.
type Limit = (Vec<(i32, f64)>, &'static str);

fn draw(
    svg: &mut String,
    title: &str,
    unit_label: &str,
    points: &Points,
    limit: Option<&Limit>,
) -> Result<()> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let top = limit.map_or(0.0, |(line, _)| {
        line.iter().map(|(_, v)| *v).fold(0.0, f64::max)
    });
    let mut chart = axes(&root, title, unit_label, points, top)?;
    draw_band(
        &mut chart,
        points,
        Band::Central90,
        0.18,
        "90% band (p05-p95)",
    )?;
    draw_band(
        &mut chart,
        points,
        Band::Central50,
        0.38,
        "50% band (p25-p75)",
    )?;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|(x, s)| (*x, s.p50)),
            BLUE.stroke_width(3),
        ))
        .map_err(plot_error)?
        .label("median")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLUE.stroke_width(3)));
    if let Some((line, label)) = limit {
        chart
            .draw_series(DashedLineSeries::new(
                line.iter().copied(),
                8,
                5,
                RED.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(*label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// The chart area, from 0 (or the lowest p05) to 8% above the highest p95 or `top`, with its
/// mesh. A point or a range that is not finite is refused: plotters would never finish its mesh.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    unit_label: &str,
    points: &Points,
    top: f64,
) -> Result<Chart<'a, 'b>> {
    if let Some((x, s)) = points
        .iter()
        .find(|(_, s)| s.named().iter().any(|(_, v)| !v.is_finite()))
    {
        anyhow::bail!("cannot draw the chart: the figures for {x} are not finite ({s:?})");
    }
    let ymax = points.iter().map(|(_, s)| s.p95).fold(top, f64::max) * 1.08 + 1e-9;
    let ymin = points.iter().map(|(_, s)| s.p05).fold(0.0, f64::min);
    if !(ymin.is_finite() && ymax.is_finite()) {
        anyhow::bail!("cannot draw the chart: its y-range {ymin:e} to {ymax:e} is not finite");
    }
    let x0 = points.first().map_or(2025, |p| p.0);
    let x1 = points.last().map_or(2036, |p| p.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, ymin..ymax)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_labels(points.len().min(14))
        .x_desc("31 March of year (end of financial year)")
        .y_desc(unit_label)
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// A shaded band: along the high ends, then back along the low ends.
fn draw_band(
    chart: &mut Chart,
    points: &Points,
    band: Band,
    opacity: f64,
    label: &str,
) -> Result<()> {
    let mut outline: Vec<(i32, f64)> = points.iter().map(|(x, s)| (*x, s.band(band).1)).collect();
    outline.extend(points.iter().rev().map(|(x, s)| (*x, s.band(band).0)));
    let fill = BLUE.mix(opacity);
    chart
        .draw_series(std::iter::once(Polygon::new(outline, fill)))
        .map_err(plot_error)?
        .label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], fill.filled()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws in a thread and waits at most 20 s: an infinite range used to hang plotters.
    fn draw_within_time(points: Vec<(i32, Stats)>) -> Result<String, String> {
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut svg = String::new();
            let result = draw(&mut svg, "t", "u", &points, None).map(|()| svg);
            let _ = send.send(result.map_err(|e| e.to_string()));
        });
        receive
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the chart writer hung")
    }

    #[test]
    fn non_finite_ranges_are_refused() {
        let fine = Stats::constant(1.0, 1.0);
        assert!(draw_within_time(vec![(2026, fine), (2027, fine)]).is_ok());
        // 1.7e308 is finite, but 8% above it is not.
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1.7e308] {
            let s = Stats { p95: bad, ..fine };
            let result = draw_within_time(vec![(2026, fine), (2027, s)]);
            let e = result.err().unwrap_or_else(|| panic!("{bad:e} was drawn"));
            assert!(e.contains("cannot draw the chart"), "{e}");
        }
    }
}
