//! How much a run or a back-test will write, known before it starts: the row counts do not
//! depend on the number of paths, and no written figure is wider than a plausible one (see
//! `summary::MAX_PLAUSIBLE`), so rows x widest row bounds every CSV. A PNG is bounded by its
//! pixels; an SVG, `summary.md` and `report.html` by a fixed frame plus a bound per element
//! drawn or row written. A run that would write more than `MAX_OUTPUT_BYTES` is refused before
//! it simulates anything.

use super::briefing::{charts, RANKED_MAX};
use crate::error::InputError;
use crate::metric::{Metric, NationalMetric};
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;

/// The most a run or a back-test may write into its output folder: 1 GB.
pub const MAX_OUTPUT_BYTES: u64 = 1_000_000_000;

/// The widest figure and its comma: below 1e15 in size, a figure has at most 16 digits, a
/// sign, a point and 4 decimals.
const FIGURE: u64 = 23;
/// A financial year (`2027-28`) or a short code and its comma.
const SHORT: u64 = 12;
/// An SVG chart's frame: axes, ticks, grid, legend and text other than names (the bundled
/// charts are 13 to 26 kB in all).
const SVG_FRAME: u64 = 32 * 1024;
/// One element of an SVG chart: a bar, a point with its error bar, or a FY's share of a band.
const SVG_ELEMENT: u64 = 1024;
/// `summary.md` and `report.html` without their per-council rows: text, styles, script, and
/// the scenario's terms (the bundled summary.md is 6 kB; report.html's script and styles 8 kB).
const PAGE: u64 = 256 * 1024;
/// The manifest without the scenario (command line, input hashes, timings).
const MANIFEST: u64 = 64 * 1024;

/// A CSV text field and its comma: quoting at most doubles it and adds two quotes.
fn text(s: &str) -> u64 {
    2 * s.len() as u64 + 3
}

/// Text as it can grow when escaped in SVG or JSON (`&quot;`, `\u0001`).
fn escaped(s: &str) -> u64 {
    6 * s.len() as u64
}

/// At most this many bytes of CSV rows of `figures` figures after `key` bytes of fields.
fn rows(count: u64, key: u64, figures: u64) -> u64 {
    count * (key + figures * FIGURE + 1)
}

/// Bytes shared by every kind of output: the manifest, with the resolved scenario in it.
fn manifest(ls: &LoadedScenario) -> u64 {
    let scenario = serde_json::to_vec_pretty(&ls.scenario).map_or(0, |v| v.len() as u64);
    MANIFEST + 2 * scenario + escaped(&ls.scenario.name)
}

fn years(ls: &LoadedScenario) -> u64 {
    let h = &ls.scenario.horizon;
    (h.last_fy.0 - h.first_fy.0 + 1).max(0) as u64
}

/// A PNG of `(width, height)` pixels, whatever the compression: the raw RGB rows with their
/// filter bytes, deflate's framing of stored blocks (5 bytes per 64 KiB), and the chunks.
fn png((width, height): (u32, u32)) -> u64 {
    let raw = u64::from(height) * (3 * u64::from(width) + 1);
    raw + 5 * (raw / 65_535 + 1) + 1024
}

/// The briefing files of a run with `council_charts` councils' fan charts (`--council`): the
/// charts as SVG and PNG, `councils_wide.csv`, `summary.md` and `report.html`.
pub fn briefing_bytes(ls: &LoadedScenario, baseline: &Baseline, council_charts: u64) -> u64 {
    let name = escaped(&ls.scenario.name);
    let years = years(ls);
    let councils = baseline.councils.len() as u64;
    let widest_la_name = baseline
        .councils
        .iter()
        .map(|c| escaped(&c.la_name))
        .max()
        .unwrap_or(0);
    // A band, the median and the reserves: a few elements per FY.
    let fan_svg = SVG_FRAME + name + widest_la_name + 4 * years * SVG_ELEMENT;
    let fan = fan_svg + png(charts::FAN_SIZE);
    let ranked_rows = councils.min(RANKED_MAX as u64);
    let ranked = SVG_FRAME
        + name
        + ranked_rows * (SVG_ELEMENT + widest_la_name)
        + png(charts::ranked_size(ranked_rows as usize));
    // A bar for each number of councils over reserves, from 0 to all of them.
    let distribution_svg = SVG_FRAME + name + (councils + 1) * SVG_ELEMENT;
    let distribution = distribution_svg + png(charts::DISTRIBUTION_SIZE);
    let la_names: u64 = baseline.councils.iter().map(|c| text(&c.la_name)).sum();
    let wide_rows = councils * super::briefing::wide::ROWS.len() as u64;
    let wide_csv = 4096
        + rows(wide_rows, text(&ls.scenario.name) + 5 * SHORT, years)
        + super::briefing::wide::ROWS.len() as u64 * la_names;
    let summary_md = PAGE + name + 10 * (widest_la_name + 8 * FIGURE);
    // Each council's row: its names, 11 figures and 7 figures a FY; and three charts inline.
    let council_data = councils * (widest_la_name + SHORT + (11 + 7 * years) * FIGURE);
    let report_html = PAGE + name + council_data + 2 * fan_svg + distribution_svg;
    (2 + council_charts) * fan + ranked + distribution + wide_csv + summary_md + report_html
}

/// An upper bound on the bytes `highneeds run` writes for this scenario and these seeds, with
/// `council_charts` councils' fan charts (`--council`).
pub fn run_bytes(ls: &LoadedScenario, baseline: &Baseline, council_charts: u64) -> u64 {
    let name = text(&ls.scenario.name);
    let years = years(ls);
    let councils = baseline.councils.len() as u64;
    let header = 4096;
    let council_metrics: u64 = baseline
        .councils
        .iter()
        .flat_map(|c| Metric::ALL.map(|m| (text(&c.la_name), text(m.name()))))
        .map(|(la_name, metric)| rows(1, name + SHORT + la_name + SHORT + metric, 6))
        .sum();
    let councils_csv = header + years * council_metrics;
    let national_metrics: u64 = NationalMetric::ALL
        .iter()
        .map(|m| rows(1, name + SHORT + text(m.name()), 6))
        .sum();
    let national_csv = header + years * national_metrics;
    let la_names: u64 = baseline.councils.iter().map(|c| text(&c.la_name)).sum();
    let summary_csv = header + rows(councils, name + 3 * SHORT, 11) + la_names;
    let over_reserves_csv = header + rows(councils + 1, name + 3 * SHORT, 1);
    let briefing = briefing_bytes(ls, baseline, council_charts);
    councils_csv + national_csv + summary_csv + over_reserves_csv + briefing + manifest(ls)
}

/// An upper bound on the bytes `highneeds backtest` writes: one row per council (and England)
/// and year with data in the seeds, for each of the two targets.
pub fn backtest_bytes(ls: &LoadedScenario, baseline: &Baseline) -> u64 {
    let name = text(&ls.scenario.name);
    let years = baseline
        .councils
        .first()
        .map_or(0, |c| c.deficits.len().max(c.ehcps.len()) as u64);
    let areas = baseline.councils.len() as u64 + 1;
    let la_name = baseline
        .councils
        .iter()
        .map(|c| text(&c.la_name))
        .max()
        .unwrap_or(0);
    let header = 4096;
    let scored = header + rows(2 * years * areas, name + la_name + 5 * SHORT + 16, 12);
    let summary = header + rows(2 * years + 2, name + 4 * SHORT, 16);
    scored + summary + manifest(ls)
}

/// Refuses a run that would write more than `MAX_OUTPUT_BYTES`, with `council_charts`
/// councils' fan charts (`--council`).
pub fn check_run(
    ls: &LoadedScenario,
    baseline: &Baseline,
    council_charts: usize,
) -> Result<(), InputError> {
    check(run_bytes(ls, baseline, council_charts as u64), ls)
}

/// Refuses a back-test that would write more than `MAX_OUTPUT_BYTES`.
pub fn check_backtest(ls: &LoadedScenario, baseline: &Baseline) -> Result<(), InputError> {
    check(backtest_bytes(ls, baseline), ls)
}

/// Refuses a command that would write `bytes`, more than `MAX_OUTPUT_BYTES`, naming the scenario
/// file and what to change.
pub fn check(bytes: u64, ls: &LoadedScenario) -> Result<(), InputError> {
    if bytes <= MAX_OUTPUT_BYTES {
        return Ok(());
    }
    let file = ls.files.first().cloned().unwrap_or_default();
    let gb = |b: u64| b as f64 / 1e9;
    Err(InputError::invalid(
        file,
        format!(
            "this command could write up to {:.1} GB, more than the limit of {:.0} GB: the \
             size grows with the horizon's years (`horizon`) and with the scenario `name` \
             ({} characters), which is written on every CSV row; shorten them",
            gb(bytes),
            gb(MAX_OUTPUT_BYTES),
            ls.scenario.name.chars().count()
        ),
    ))
}
