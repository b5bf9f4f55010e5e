//! Tidy CSV exports, the run manifest and charts. Every file is written to a temporary file in
//! the output folder and renamed into place only when all of them were written.

use crate::engine::{m, METRICS, NATIONAL_METRICS};
use crate::run::RunResult;
use crate::summary::Stats;
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Decimal places for a metric's figures: money in whole pounds, plans to 0.1, ratios and
/// probabilities to 4 places.
pub fn decimals(metric: &str) -> usize {
    match metric {
        "deficit_to_reserves" | "deficit_exceeds_reserves" | "sv_breach" => 4,
        "councils_over_reserves" | "councils_sv_breach" | "councils_in_deficit" => 2,
        _ if metric.starts_with("ehcps") => 1,
        "new_plans" | "ceased_plans" | "aged_out" | "special_places" | "overflow"
        | "induced_placements" => 1,
        _ => 0,
    }
}

pub fn fmt(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

fn push_stats(row: &mut Vec<String>, s: &Stats, d: usize) {
    row.extend(s.iter().map(|v| fmt(*v, d)));
}

/// Files staged in the output folder; nothing is visible until `commit`.
pub struct Staged {
    dir: PathBuf,
    files: Vec<(tempfile::NamedTempFile, PathBuf)>,
}

impl Staged {
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        Ok(Staged {
            dir: dir.to_owned(),
            files: Vec::new(),
        })
    }
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(&self.dir)
            .with_context(|| format!("cannot write in {}", self.dir.display()))?;
        {
            let mut w = std::io::BufWriter::new(tmp.as_file_mut());
            write(&mut w)?;
            w.flush()?;
        }
        self.files.push((tmp, self.dir.join(name)));
        Ok(())
    }
    /// Stages a pretty-printed JSON file (the run manifest).
    pub fn json(&mut self, name: &str, value: &impl Serialize) -> Result<()> {
        self.file(name, |w| {
            serde_json::to_writer_pretty(&mut *w, value)?;
            writeln!(w)?;
            Ok(())
        })
    }
    /// The names of the files staged so far, in order.
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|(_, path)| path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (tmp, path) in self.files {
            tmp.persist(&path)
                .with_context(|| format!("cannot move output into {}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }
}

pub fn write_councils_csv(w: &mut dyn Write, scenario: &str, r: &RunResult) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "scenario", "la_code", "la_name", "fy", "metric", "mean", "p05", "p25", "p50", "p75", "p95",
    ])?;
    let years = &r.model.schedule.years;
    for cs in &r.councils {
        let c = &r.model.councils[cs.council];
        let code = c.la_code.to_string();
        for (t, fy) in years.iter().enumerate() {
            let fy = fy.to_string();
            for (k, name) in METRICS.iter().enumerate() {
                let mut row = vec![
                    scenario.to_string(),
                    code.clone(),
                    c.la_name.clone(),
                    fy.clone(),
                    name.to_string(),
                ];
                push_stats(&mut row, &cs.stats[t * m::COUNT + k], decimals(name));
                csv.write_record(&row)?;
            }
        }
    }
    csv.flush()?;
    Ok(())
}

pub fn write_national_csv(w: &mut dyn Write, scenario: &str, r: &RunResult) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "scenario", "fy", "metric", "mean", "p05", "p25", "p50", "p75", "p95",
    ])?;
    for (t, fy) in r.model.schedule.years.iter().enumerate() {
        for (k, name) in NATIONAL_METRICS.iter().enumerate() {
            let mut row = vec![scenario.to_string(), fy.to_string(), name.to_string()];
            push_stats(
                &mut row,
                &r.national[t * NATIONAL_METRICS.len() + k],
                decimals(name),
            );
            csv.write_record(&row)?;
        }
    }
    csv.flush()?;
    Ok(())
}

pub const SUMMARY_COLUMNS: [&str; 16] = [
    "scenario",
    "la_code",
    "la_name",
    "fy",
    "deficit_p50",
    "deficit_p95",
    "reserves",
    "p_deficit_exceeds_reserves",
    "p_deficit_exceeds_reserves_se",
    "expected_shortfall",
    "expected_shortfall_se",
    "deficit_mean",
    "deficit_p05",
    "deficit_to_reserves_p50",
    "p_sv_breach",
    "safety_valve",
];

pub fn write_summary_csv(w: &mut dyn Write, scenario: &str, r: &RunResult) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(SUMMARY_COLUMNS)?;
    let fy = r.model.schedule.years[r.model.schedule.override_end].to_string();
    for cs in &r.councils {
        let c = &r.model.councils[cs.council];
        let o = &cs.at_override;
        let has_sv = c.safety_valve.is_some();
        csv.write_record([
            scenario.to_string(),
            c.la_code.to_string(),
            c.la_name.clone(),
            fy.clone(),
            fmt(o.deficit[3], 0),
            fmt(o.deficit[5], 0),
            fmt(o.reserves[3], 0),
            fmt(o.p_exceeds.0, 4),
            fmt(o.p_exceeds.1, 4),
            fmt(o.expected_shortfall.0, 0),
            fmt(o.expected_shortfall.1, 0),
            fmt(o.deficit[0], 0),
            fmt(o.deficit[1], 0),
            fmt(o.ratio[3], 4),
            if has_sv {
                fmt(o.p_sv_breach.0, 4)
            } else {
                String::new()
            },
            if has_sv { "yes".into() } else { "no".into() },
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// Distribution of the number of councils whose deficit exceeds reserves at the override end.
pub fn write_councils_over_reserves_csv(
    w: &mut dyn Write,
    scenario: &str,
    r: &RunResult,
) -> Result<()> {
    let t = r.model.schedule.override_end;
    let k = NATIONAL_METRICS
        .iter()
        .position(|n| *n == "councils_over_reserves")
        .unwrap_or(0);
    let n = r.model.councils.len();
    let mut counts = vec![0usize; n + 1];
    for p in 0..r.national_paths.paths {
        let v = r.national_paths.get(p, t, k).round().clamp(0.0, n as f64) as usize;
        counts[v] += 1;
    }
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "scenario",
        "fy",
        "councils_over_reserves",
        "paths",
        "share_of_paths",
    ])?;
    let fy = r.model.schedule.years[t].to_string();
    for (v, c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
        csv.write_record([
            scenario.to_string(),
            fy.clone(),
            v.to_string(),
            c.to_string(),
            fmt(*c as f64 / r.national_paths.paths as f64, 4),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[derive(Serialize)]
pub struct InputHash {
    pub file: String,
    pub sha256: String,
}

#[derive(Serialize)]
pub struct Manifest<'a> {
    pub program: &'static str,
    pub version: &'static str,
    pub command: String,
    pub scenario_name: String,
    pub scenario: &'a crate::scenario::Scenario,
    pub seed: u64,
    pub paths: usize,
    pub threads: usize,
    pub data_cutoff: Option<String>,
    pub first_fy: String,
    pub last_fy: String,
    pub override_end_fy: String,
    pub inputs: Vec<InputHash>,
    pub started_utc: String,
    pub wall_seconds: f64,
    pub council_years: u64,
    pub council_years_per_second: f64,
    pub outputs: Vec<String>,
}

pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("{:x}", sha2::Sha256::digest(&bytes)))
}

/// National fan chart (p05-p95, p25-p75 and median) of a national metric, as SVG.
pub fn write_fan_chart(
    w: &mut dyn Write,
    title: &str,
    unit: f64,
    unit_label: &str,
    r: &RunResult,
    metric: &str,
) -> Result<()> {
    use plotters::prelude::*;
    let k = NATIONAL_METRICS
        .iter()
        .position(|n| *n == metric)
        .context("unknown national metric")?;
    let years = &r.model.schedule.years;
    let pts: Vec<(i32, Stats)> = years
        .iter()
        .enumerate()
        .map(|(t, fy)| (fy.end_year(), r.national[t * NATIONAL_METRICS.len() + k]))
        .collect();
    let ymax = pts.iter().map(|(_, s)| s[5] / unit).fold(0.0, f64::max) * 1.08 + 1e-9;
    let ymin = pts.iter().map(|(_, s)| s[1] / unit).fold(0.0, f64::min);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (x0, x1) = (
            pts.first().map_or(2025, |p| p.0),
            pts.last().map_or(2036, |p| p.0),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, ymin..ymax)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .x_labels(pts.len().min(14))
            .x_desc("31 March of year (end of financial year)")
            .y_desc(unit_label)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let band = |lo: usize, hi: usize| -> Vec<(i32, f64)> {
            let mut v: Vec<(i32, f64)> = pts.iter().map(|(x, s)| (*x, s[hi] / unit)).collect();
            v.extend(pts.iter().rev().map(|(x, s)| (*x, s[lo] / unit)));
            v
        };
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(1, 5),
                RGBColor(31, 119, 180).mix(0.18),
            )))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("90% band (p05-p95)")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 15, y + 5)],
                    RGBColor(31, 119, 180).mix(0.18).filled(),
                )
            });
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(2, 4),
                RGBColor(31, 119, 180).mix(0.38),
            )))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("50% band (p25-p75)")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 15, y + 5)],
                    RGBColor(31, 119, 180).mix(0.38).filled(),
                )
            });
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|(x, s)| (*x, s[3] / unit)),
                RGBColor(31, 119, 180).stroke_width(3),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("median")
            .legend(|(x, y)| {
                PathElement::new(
                    [(x, y), (x + 15, y)],
                    RGBColor(31, 119, 180).stroke_width(3),
                )
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    w.write_all(svg.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_negative_zero() {
        assert_eq!(fmt(-0.0001, 2), "0.00");
        assert_eq!(fmt(-1.5, 0), "-2");
        assert_eq!(fmt(1234.5678, 1), "1234.6");
        assert_eq!(decimals("cumulative_deficit"), 0);
        assert_eq!(decimals("ehcps_post16"), 1);
    }
}
