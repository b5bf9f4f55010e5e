//! Charts drawn from a run folder, as SVG (for the report and the web) and PNG (for slides):
//! fan charts of England or one council, councils ranked by the probability that the deficit
//! exceeds reserves, and the distribution of the number of councils over reserves.
//!
//! PNG text is drawn with the bundled Liberation Sans (SIL OFL, `assets/fonts/`), so no system
//! font is needed.

use super::folder::{Band, CouncilRisk};
use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(200, 55, 45);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// Registers the bundled font with plotters (once). Every chart calls it before drawing.
pub fn ensure_font() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let bytes: &'static [u8] =
            include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
        // The file is bundled at compile time and checked by a test, so this cannot fail.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

/// How a chart's values are scaled and labelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Billions,
    Millions,
    Plans,
}

impl Unit {
    /// The unit that suits money up to `max_abs` pounds.
    pub fn money(max_abs: f64) -> Unit {
        if max_abs >= 1e9 {
            Unit::Billions
        } else {
            Unit::Millions
        }
    }
    /// Counts of plans (ticks say k or m for thousands and millions).
    pub fn plans() -> Unit {
        Unit::Plans
    }
    pub fn divisor(self) -> f64 {
        match self {
            Unit::Billions => 1e9,
            Unit::Millions => 1e6,
            Unit::Plans => 1.0,
        }
    }
    /// Axis description; `negative` says the axis goes below zero (a surplus, for money).
    pub fn axis(self, negative: bool) -> &'static str {
        match (self, negative) {
            (Unit::Billions, false) => "£ billion (nominal)",
            (Unit::Billions, true) => "£ billion (nominal; below 0 = surplus)",
            (Unit::Millions, false) => "£ million (nominal)",
            (Unit::Millions, true) => "£ million (nominal; below 0 = surplus)",
            (Unit::Plans, _) => "EHCPs (plans in force; k = thousand, m = million)",
        }
    }
    /// What a FY on the x axis means for a value in this unit.
    pub fn when(self) -> &'static str {
        match self {
            Unit::Billions | Unit::Millions => {
                "financial year (the balance at 31 March, the end of the FY)"
            }
            Unit::Plans => "financial year (EHCPs at the January census within the FY)",
        }
    }
    /// A tick label for a scaled value.
    pub fn tick(self, v: f64) -> String {
        let v = if v.abs() < 1e-9 { 0.0 } else { v };
        let sign = if v < 0.0 { "-" } else { "" };
        let a = v.abs();
        match self {
            Unit::Billions if a == a.round() => format!("{sign}£{a:.0}bn"),
            Unit::Billions => format!("{sign}£{a:.1}bn"),
            Unit::Millions if a >= 100.0 || a == a.round() => format!("{sign}£{a:.0}m"),
            Unit::Millions => format!("{sign}£{a:.1}m"),
            Unit::Plans if a >= 1e6 => format!("{sign}{:.1}m", a / 1e6),
            Unit::Plans if a >= 1e4 => format!("{sign}{:.0}k", a / 1e3),
            Unit::Plans if a >= 1e3 => format!("{sign}{:.1}k", a / 1e3),
            Unit::Plans => format!("{sign}{a:.0}"),
        }
    }
}

/// A fan chart: one band per FY.
pub struct Fan<'a> {
    pub title: String,
    pub years: &'a [String],
    pub bands: &'a [Band],
    pub unit: Unit,
    /// Index of the override-end FY, marked with a dashed line.
    pub override_end: Option<usize>,
    /// A reference line (median usable reserves), drawn dashed in red.
    pub reference: Option<(&'a str, Vec<f64>)>,
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// Draws a chart into an SVG string.
pub fn svg(
    size: (u32, u32),
    draw: impl Fn(DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    ensure_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(root)?;
    }
    Ok(out)
}

/// Draws a chart into PNG bytes (RGB, 8 bits).
pub fn png(
    size: (u32, u32),
    draw: impl Fn(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    ensure_font();
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        draw(root)?;
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, size.0, size.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_filter(png::FilterType::Paeth);
        let mut w = enc.write_header().map_err(err)?;
        w.write_image_data(&pixels).map_err(err)?;
    }
    Ok(bytes)
}

pub const FAN_SIZE: (u32, u32) = (900, 560);

/// A chart with numbers on both axes (the tornado chart's too).
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a fan chart: 90% band, 50% band, median, the override end, and an optional reference.
pub fn draw_fan<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fan: &Fan) -> Result<()> {
    let n = fan.bands.len();
    if n == 0 {
        return Err(anyhow!("a fan chart needs at least one year"));
    }
    let (lo, hi) = fan_range(fan)?;
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&fan.title, (FONT, 20))
        .margin(16)
        .margin_right(28)
        .margin_bottom(LEGEND_ROW)
        .x_label_area_size(56)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), lo..hi)
        .map_err(err)?;
    fan_mesh(&mut chart, fan, lo)?;
    draw_fan_bands(&mut chart, fan)?;
    if lo < 0.0 {
        // Zero, where a deficit turns into a surplus.
        chart
            .draw_series(LineSeries::new(
                [(-0.3, 0.0), (n as f64 - 0.7, 0.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
    }
    if let Some(t) = fan.override_end {
        mark_override_end(&root, &mut chart, fan, t, (lo, hi))?;
    }
    let mut legend = vec![
        (Swatch::Fill(BLUE.mix(0.18)), "90% band (p05 to p95)"),
        (Swatch::Fill(BLUE.mix(0.38)), "50% band (p25 to p75)"),
        (Swatch::Line(BLUE), "median"),
    ];
    if let Some((name, _)) = &fan.reference {
        legend.push((Swatch::Dashed(RED), name));
    }
    draw_legend(&root, &legend)?;
    root.present().map_err(err)?;
    Ok(())
}

/// The fan's value axis in its unit: from zero (or below, padded, where a value is negative) to
/// above the highest p95 or reference value; an error where either end is not finite.
fn fan_range(fan: &Fan) -> Result<(f64, f64)> {
    let d = fan.unit.divisor();
    let mut lo = fan.bands.iter().map(|b| b.p05 / d).fold(0.0, f64::min);
    let mut hi = fan.bands.iter().map(|b| b.p95 / d).fold(0.0, f64::max);
    if let Some((_, r)) = &fan.reference {
        for v in r {
            lo = lo.min(v / d);
            hi = hi.max(v / d);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        // plotters would never finish its mesh over an infinite range.
        return Err(anyhow!(
            "cannot draw the chart: its range {lo:e} to {hi:e} is not finite"
        ));
    }
    let pad = (hi - lo).max(1e-9) * 0.08;
    Ok((if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad))
}

/// The fan's axes: every FY labelled (every other one after eight years, always including the
/// override end's and the last), values in the fan's unit.
fn fan_mesh<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, fan: &Fan, lo: f64) -> Result<()> {
    let years = fan.years;
    let n = fan.bands.len();
    let label_every = if n > 8 { 2 } else { 1 };
    let parity = fan.override_end.unwrap_or(0) % label_every;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 || i as usize >= years.len() {
                return String::new();
            }
            let i = i as usize;
            if i % label_every == parity || i + 1 == years.len() {
                years[i].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| fan.unit.tick(*v))
        .x_desc(fan.unit.when())
        .y_desc(fan.unit.axis(lo < 0.0))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)
}

/// The fan itself: the 90% and 50% bands, the median and the dashed reference line.
fn draw_fan_bands<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, fan: &Fan) -> Result<()> {
    let d = fan.unit.divisor();
    let x = |i: usize| i as f64;
    chart
        .draw_series(std::iter::once(Polygon::new(
            band_outline(fan, |b| b.p05, |b| b.p95),
            BLUE.mix(0.18),
        )))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(Polygon::new(
            band_outline(fan, |b| b.p25, |b| b.p75),
            BLUE.mix(0.38),
        )))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            fan.bands.iter().enumerate().map(|(i, b)| (x(i), b.p50 / d)),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?;
    if let Some((_, values)) = &fan.reference {
        chart
            .draw_series(DashedLineSeries::new(
                values.iter().enumerate().map(|(i, v)| (x(i), v / d)),
                8,
                5,
                RED.stroke_width(2),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// The outline of a band, in the fan's unit: along its top from the first FY to the last, then
/// back along its bottom.
fn band_outline(fan: &Fan, lo: fn(&Band) -> f64, hi: fn(&Band) -> f64) -> Vec<(f64, f64)> {
    let d = fan.unit.divisor();
    let mut v: Vec<(f64, f64)> = fan
        .bands
        .iter()
        .enumerate()
        .map(|(i, b)| (i as f64, hi(b) / d))
        .collect();
    v.extend(
        fan.bands
            .iter()
            .enumerate()
            .rev()
            .map(|(i, b)| (i as f64, lo(b) / d)),
    );
    v
}

/// A dashed vertical line at the override-end FY `t`, labelled with its date.
fn mark_override_end<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Chart<'_, DB>,
    fan: &Fan,
    t: usize,
    (lo, hi): (f64, f64),
) -> Result<()> {
    let xo = t as f64;
    chart
        .draw_series(DashedLineSeries::new(
            [(xo, lo), (xo, hi)],
            6,
            4,
            GREY.stroke_width(1),
        ))
        .map_err(err)?;
    let year_end =
        fan.years[t].get(..2).unwrap_or("").to_string() + fan.years[t].get(5..7).unwrap_or("");
    let (px, py) = chart.backend_coord(&(xo, hi));
    root.draw(&Text::new(
        format!("override ends 31 March {year_end}"),
        (px + 6, py + 4),
        (FONT, 14).into_font().color(&GREY),
    ))
    .map_err(err)
}

/// Height in pixels of the legend row under a fan chart.
const LEGEND_ROW: u32 = 40;

/// How a legend entry is drawn.
enum Swatch {
    Fill(RGBAColor),
    Line(RGBColor),
    Dashed(RGBColor),
}

/// The legend as one centred row under the chart, where it cannot cover the bands.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &[(Swatch, &str)],
) -> Result<()> {
    let font = (FONT, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (swatch, gap, space) = (22, 6, 28);
    let mut widths = Vec::new();
    for (_, label) in items {
        widths.push(root.estimate_text_size(label, &font).map_err(err)?.0 as i32);
    }
    let total: i32 = widths.iter().map(|w| swatch + gap + w).sum::<i32>()
        + space * (items.len() as i32 - 1).max(0);
    let (w, h) = root.dim_in_pixel();
    let y = h as i32 - LEGEND_ROW as i32 / 2;
    let mut x = (w as i32 - total).max(0) / 2;
    for ((kind, label), width) in items.iter().zip(widths) {
        match kind {
            Swatch::Fill(c) => root.draw(&Rectangle::new(
                [(x, y - 6), (x + swatch, y + 6)],
                c.filled(),
            )),
            Swatch::Line(c) => root.draw(&PathElement::new(
                [(x, y), (x + swatch, y)],
                c.stroke_width(3),
            )),
            Swatch::Dashed(c) => root
                .draw(&PathElement::new([(x, y), (x + 9, y)], c.stroke_width(2)))
                .and_then(|_| {
                    root.draw(&PathElement::new(
                        [(x + 13, y), (x + swatch, y)],
                        c.stroke_width(2),
                    ))
                }),
        }
        .map_err(err)?;
        root.draw(&Text::new(
            label.to_string(),
            (x + swatch + gap, y),
            font.clone(),
        ))
        .map_err(err)?;
        x += swatch + gap + width + space;
    }
    Ok(())
}

/// Size of the ranked chart for `rows` councils.
pub fn ranked_size(rows: usize) -> (u32, u32) {
    (900, 150 + 17 * rows as u32)
}

/// Councils ranked by P(deficit > reserves) at the override end, with 95% Monte Carlo error
/// bars (± 1.96 standard errors), one row per council.
pub fn draw_ranked<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    councils: &[&CouncilRisk],
) -> Result<()> {
    let n = councils.len();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(16)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(270)
        .build_cartesian_2d(0f64..1f64, (-0.5f64)..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(n.max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= n {
                return String::new();
            }
            let c = councils[n - 1 - i as usize];
            let name: String = c.la_name.chars().take(36).collect();
            format!("{}. {name}", n - i as usize)
        })
        .x_labels(11)
        .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_desc(
            "probability that the deficit exceeds usable reserves (bars: 95% Monte Carlo interval)",
        )
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    let y = |rank: usize| (n - 1 - rank) as f64;
    chart
        .draw_series(councils.iter().enumerate().map(|(rank, c)| {
            let half = 1.96 * c.p_deficit_exceeds_reserves_se;
            let p = c.p_deficit_exceeds_reserves;
            PathElement::new(
                [
                    (f64::max(p - half, 0.0), y(rank)),
                    (f64::min(p + half, 1.0), y(rank)),
                ],
                GREY.stroke_width(2),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(
            councils.iter().enumerate().map(|(rank, c)| {
                Circle::new((c.p_deficit_exceeds_reserves, y(rank)), 4, RED.filled())
            }),
        )
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

pub const DISTRIBUTION_SIZE: (u32, u32) = (900, 480);

/// The distribution over paths of the number of councils over reserves, with its median and
/// 90% band marked.
pub fn draw_distribution<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    shares: &[(u32, f64)],
    band: Option<&Band>,
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let max_n = shares.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let min_n = shares.iter().map(|(n, _)| *n).min().unwrap_or(0);
    let (x0, x1) = (min_n.saturating_sub(2) as f64 - 0.5, max_n as f64 + 2.5);
    let top = shares.iter().map(|(_, s)| *s).fold(0.0, f64::max) * 1.25 + 1e-9;
    if !top.is_finite() {
        return Err(anyhow!(
            "cannot draw the chart: a share of paths is not finite"
        ));
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(16)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0f64..top * 100.0)
        .map_err(err)?;
    distribution_mesh(&mut chart)?;
    chart
        .draw_series(shares.iter().map(|(n, s)| {
            let x = *n as f64;
            Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, s * 100.0)],
                BLUE.mix(0.75).filled(),
            )
        }))
        .map_err(err)?;
    if let Some(b) = band {
        for (name, v, dy) in [("median", b.p50, 4), ("p05", b.p05, 22), ("p95", b.p95, 22)] {
            let label = format!("{name} {}", super::count(v));
            mark_value(&root, &mut chart, v, label, dy, top * 100.0)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The distribution's axes: whole numbers of councils, shares of paths in per cent.
fn distribution_mesh<DB: DrawingBackend>(chart: &mut Chart<'_, DB>) -> Result<()> {
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(12)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .x_desc("number of councils whose deficit exceeds usable reserves")
        .y_desc("share of paths")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)
}

/// A dashed vertical line at `v` up to `top`, labelled at the top (`dy` pixels down): red for
/// the median, grey for the other marks.
fn mark_value<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Chart<'_, DB>,
    v: f64,
    label: String,
    dy: i32,
    top: f64,
) -> Result<()> {
    chart
        .draw_series(DashedLineSeries::new(
            [(v, 0.0), (v, top)],
            6,
            4,
            if label.starts_with("median") {
                RED.stroke_width(2)
            } else {
                GREY.stroke_width(1)
            },
        ))
        .map_err(err)?;
    let (px, py) = chart.backend_coord(&(v, top));
    root.draw(&Text::new(
        label,
        (px + 5, py + dy),
        (FONT, 14).into_font().color(&GREY),
    ))
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_loads() {
        let bytes: &'static [u8] =
            include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
        assert!(plotters::style::register_font("test-font", FontStyle::Normal, bytes).is_ok());
    }

    #[test]
    fn units_label_ticks() {
        assert_eq!(Unit::money(2.5e9), Unit::Billions);
        assert_eq!(Unit::money(2.5e8), Unit::Millions);
        assert_eq!(Unit::Billions.tick(1.25), "£1.2bn");
        assert_eq!(Unit::Billions.tick(14.0), "£14bn");
        assert_eq!(Unit::Millions.tick(150.0), "£150m");
        assert_eq!(Unit::Millions.tick(-0.0), "£0m");
        assert_eq!(Unit::Millions.tick(-200.0), "-£200m");
        assert_eq!(Unit::plans().tick(640_000.0), "640k");
        assert_eq!(Unit::plans().tick(1_500_000.0), "1.5m");
    }

    #[test]
    fn png_is_a_png_of_the_size_asked() {
        let bands: Vec<Band> = (0..5)
            .map(|i| Band {
                stats: crate::summary::Stats {
                    mean: i as f64,
                    p05: i as f64 - 1.0,
                    p25: i as f64 - 0.5,
                    p50: i as f64,
                    p75: i as f64 + 0.5,
                    p95: i as f64 + 1.0,
                },
                line: 0,
            })
            .collect();
        let years: Vec<String> = (24..29).map(|y| format!("20{y}-{}", y + 1)).collect();
        let fan = Fan {
            title: "test".into(),
            years: &years,
            bands: &bands,
            unit: Unit::Plans,
            override_end: Some(3),
            reference: None,
        };
        let bytes = png((300, 200), |root| draw_fan(root, &fan)).expect("png");
        let mut infinite = bands.clone();
        infinite[2].stats.p95 = f64::INFINITY;
        let bad = Fan {
            bands: &infinite,
            title: "test".into(),
            years: &years,
            unit: Unit::Plans,
            override_end: None,
            reference: None,
        };
        assert!(svg((300, 200), |root| draw_fan(root, &bad)).is_err());
        assert_eq!(&bytes[1..4], b"PNG");
        let text = svg((300, 200), |root| draw_fan(root, &fan)).expect("svg");
        assert!(text.contains("override ends 31 March 2028"), "{text}");
    }
}
