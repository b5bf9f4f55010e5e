//! The tornado chart of a sensitivity analysis, with the global measure beside it: on the left,
//! each input's change in England's deficit at the override end when moved to its low and its
//! high value (sorted by swing, the base at zero); on the right, each drawn parameter's rank
//! correlation with that deficit in the base run.

use super::briefing::charts::Chart;
use crate::scenario::value_label;
use crate::sensitivity::{InputEffect, Sensitivity};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &str = "sans-serif";
const LOW: RGBColor = RGBColor(31, 119, 180);
const HIGH: RGBColor = RGBColor(230, 120, 20);
const GREY: RGBColor = RGBColor(90, 90, 90);
const LIGHT: RGBColor = RGBColor(200, 200, 200);
/// The global measure's bars (neither side of an input: a correlation's sign is its direction).
const GLOBAL: RGBColor = RGBColor(110, 110, 150);
/// Pixels per input row.
const ROW: u32 = 34;
/// The left panel's share of the width.
const TORNADO_SHARE: f64 = 0.62;
const WIDTH: u32 = 1600;
/// Room for the captions, legend and axis below the rows.
const FRAME: u32 = 190;
/// Pixels for the row labels left of each panel.
const LABEL_WIDTH: u32 = 300;

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the tornado chart: {e}")
}

/// The chart's size in pixels for `s`.
pub fn size(s: &Sensitivity) -> (u32, u32) {
    let rows = s.inputs.len().max(s.global.len()) as u32;
    (WIDTH, FRAME + rows * ROW)
}

/// The chart as SVG text.
pub fn svg(s: &Sensitivity) -> Result<String> {
    // Text is laid out with the bundled font (plotters' `ab_glyph`), registered once.
    super::briefing::charts::ensure_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size(s)).into_drawing_area();
        draw(&root, s)?;
    }
    Ok(out)
}

/// Draws the tornado and the global measure side by side on `root`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Sensitivity) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (width, _) = root.dim_in_pixel();
    let (left, right) = root.split_horizontally((width as f64 * TORNADO_SHARE) as u32);
    draw_tornado(&left, s)?;
    draw_global(&right, s)?;
    root.present().map_err(err)?;
    Ok(())
}

/// `£1.2bn`, with a sign unless zero.
fn billions(v: f64) -> String {
    let v = if v.abs() < 5e-4 { 0.0 } else { v };
    if v == 0.0 {
        "0".into()
    } else {
        format!("{}£{:.1}bn", if v < 0.0 { "-" } else { "+" }, v.abs())
    }
}

/// Draws a row label right-aligned just left of the plotting area, at chart coordinate `y`.
fn row_label<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    x: f64,
    y: f64,
    text: &str,
    colour: &RGBColor,
) -> Result<()> {
    let (px, py) = chart.backend_coord(&(x, y));
    let (ox, oy) = area.get_base_pixel();
    let style = TextStyle::from((FONT, 15).into_font())
        .color(colour)
        .pos(Pos::new(HPos::Right, VPos::Center));
    area.draw_text(text, &style, (px - ox - 8, py - oy))
        .map_err(err)
}

/// The mesh both charts share: vertical grid lines only, `labels` labels across.
fn draw_mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    labels: usize,
    format: &dyn Fn(&f64) -> String,
    desc: String,
) -> Result<()> {
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT.mix(0.6))
        .x_labels(labels)
        .x_label_formatter(format)
        .x_desc(desc)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(err)
}

/// Grey text at chart coordinates `at`, anchored at its `h` end.
fn note<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    text: String,
    at: (f64, f64),
    h: HPos,
) -> Result<()> {
    let style = TextStyle::from((FONT, 12).into_font())
        .color(&GREY)
        .pos(Pos::new(h, VPos::Center));
    chart
        .draw_series(std::iter::once(Text::new(text, at, style)))
        .map_err(err)?;
    Ok(())
}

fn draw_tornado<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Sensitivity) -> Result<()> {
    let sorted = s.by_swing();
    let n = sorted.len();
    let d = |v: f64| v / 1e9;
    let ends = sorted
        .iter()
        .flat_map(|e| [d(e.low[0].difference.p50), d(e.high[0].difference.p50)]);
    let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(anyhow!(
            "cannot draw the tornado chart: its range {lo:e} to {hi:e} is not finite"
        ));
    }
    let pad = (hi - lo).max(0.1) * 0.22;
    let (x0, x1) = (lo - pad, hi + pad);
    let fy = s.horizon.override_end_fy();
    let base = s.base[0].p50;
    let title = format!(
        "What moves England's deficit at 31 March {} ({}, {} paths)",
        fy.end_year(),
        s.scenario,
        s.paths
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&title, (FONT, 20))
        .margin(14)
        .margin_top(20)
        .x_label_area_size(62)
        .y_label_area_size(LABEL_WIDTH)
        .build_cartesian_2d(x0..x1, -0.6f64..(n as f64 + 0.3))
        .map_err(err)?;
    let desc = format!(
        "change from the base (£{:.2}bn, median) in England's deficit at 31 March {}, £ billion nominal; median of per-path differences",
        base / 1e9,
        fy.end_year()
    );
    draw_mesh(&mut chart, 8, &|v| billions(*v), desc)?;
    // Row i from the top: the largest swing first.
    let y_of = |i: usize| (n - 1 - i) as f64;
    for (i, e) in sorted.iter().enumerate() {
        draw_input_row(area, &mut chart, e, y_of(i), (x0, x1))?;
    }
    // The base: zero change.
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.6), (0.0, n as f64 - 0.35)],
            ShapeStyle::from(&BLACK).stroke_width(2),
        ))
        .map_err(err)?;
    draw_legend(area, &chart, x0, n, base)
}

/// Above the rows: which colour is which side, and the base at the zero line.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    x0: f64,
    n: usize,
    base: f64,
) -> Result<()> {
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let (ox, oy) = area.get_base_pixel();
    let (px, py) = chart.backend_coord(&(x0, n as f64 - 0.05));
    let (mut px, py) = (px - ox, py - oy);
    for (colour, text) in [
        (LOW, "low value of the input"),
        (HIGH, "high value (the values are at the bars' ends)"),
    ] {
        area.draw(&Rectangle::new(
            [(px, py - 6), (px + 14, py + 6)],
            colour.filled(),
        ))
        .map_err(err)?;
        area.draw_text(text, &style, (px + 20, py)).map_err(err)?;
        let (w, _) = area.estimate_text_size(text, &style).map_err(err)?;
        px += 20 + w as i32 + 24;
    }
    let (zx, zy) = chart.backend_coord(&(0.0, n as f64 - 0.05));
    let base_text = format!("base £{:.2}bn", base / 1e9);
    let bx = (zx - ox + 6).max(px);
    area.draw_text(&base_text, &style, (bx, zy - oy))
        .map_err(err)?;
    Ok(())
}

/// One input: its label, the low side's bar in the upper half of its row and the high side's in
/// the lower half, each with the input's value at its end.
fn draw_input_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &mut Chart<'_, DB>,
    e: &InputEffect,
    y: f64,
    (x0, x1): (f64, f64),
) -> Result<()> {
    row_label(area, chart, x0, y, &e.input.label, &BLACK)?;
    let sides = [
        (
            LOW,
            &e.input.low,
            e.low[0].difference.p50 / 1e9,
            y + 0.04,
            y + 0.36,
        ),
        (
            HIGH,
            &e.input.high,
            e.high[0].difference.p50 / 1e9,
            y - 0.36,
            y - 0.04,
        ),
    ];
    let no_effect = e.swing(0) == 0.0 && e.low[0].difference.p50 == 0.0;
    for (colour, value, change, y_lo, y_hi) in sides {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y_lo), (change, y_hi)],
                colour.filled(),
            )))
            .map_err(err)?;
        if no_effect {
            continue;
        }
        let gap = (x1 - x0) * 0.006;
        let (x, h) = if change < 0.0 {
            (change - gap, HPos::Right)
        } else {
            (change + gap, HPos::Left)
        };
        note(chart, value_label(value), (x, (y_lo + y_hi) / 2.0), h)?;
    }
    if no_effect {
        let text = format!(
            "no effect in this scenario ({} to {})",
            value_label(&e.input.low),
            value_label(&e.input.high)
        );
        note(chart, text, ((x1 - x0) * 0.01, y), HPos::Left)?;
    }
    Ok(())
}

fn draw_global<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Sensitivity) -> Result<()> {
    let mut sorted: Vec<_> = s.global.iter().collect();
    sorted.sort_by(|a, b| {
        let size = |g: &crate::sensitivity::GlobalEffect| g.spearman.map_or(-1.0, f64::abs);
        size(b).total_cmp(&size(a))
    });
    let n = sorted.len();
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Global: rank correlation with that deficit, one run",
            (FONT, 20),
        )
        .margin(14)
        .margin_right(30)
        .margin_top(20)
        .x_label_area_size(62)
        .y_label_area_size(260)
        .build_cartesian_2d(-1.25f64..1.25, -0.6f64..(n as f64 + 0.3))
        .map_err(err)?;
    let correlation = |v: &f64| {
        if v.abs() > 1.0 + 1e-9 {
            String::new()
        } else {
            format!("{v:.2}")
        }
    };
    let desc = "Spearman correlation over paths (line: 90% interval)".to_string();
    draw_mesh(&mut chart, 11, &correlation, desc)?;
    for (i, g) in sorted.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        row_label(area, &chart, -1.25, y, &g.parameter.description(), &BLACK)?;
        let Some(rho) = g.spearman else {
            note(
                &mut chart,
                "the same on every path".to_string(),
                (0.02, y),
                HPos::Left,
            )?;
            continue;
        };
        let colour = GLOBAL;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.3), (rho, y + 0.3)],
                colour.mix(0.8).filled(),
            )))
            .map_err(err)?;
        if let Some((a, b)) = g.interval {
            chart
                .draw_series(LineSeries::new(
                    [(a, y), (b, y)],
                    ShapeStyle::from(&BLACK).stroke_width(1),
                ))
                .map_err(err)?;
        }
        let (x, h) = if rho < 0.0 {
            (rho - 0.02, HPos::Right)
        } else {
            (rho + 0.02, HPos::Left)
        };
        let x = if rho < 0.0 {
            x.min(g.interval.map_or(x, |i| i.0 - 0.02))
        } else {
            x.max(g.interval.map_or(x, |i| i.1 + 0.02))
        };
        note(&mut chart, format!("{rho:+.2}"), (x, y), h)?;
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.6), (0.0, n as f64 - 0.35)],
            ShapeStyle::from(&BLACK).stroke_width(1),
        ))
        .map_err(err)?;
    Ok(())
}
