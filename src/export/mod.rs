//! Exporters, one per format (`csv`, `chart`, `manifest`, `backtest`), each reading a report
//! view that the library builds from a run, never the engine's results. CSV rows are flat
//! `#[derive(Serialize)]` structs (or tuples of them: the csv crate names the columns from the
//! field names). Every file is written to a temporary file in the output folder and renamed into
//! place only when all of them were written.

pub mod backtest;
pub mod chart;
pub mod csv;
pub mod manifest;

use crate::backtest::Backtest;
use crate::run::RunReport;
use crate::summary::Stats;
use anyhow::{Context, Result};
use manifest::{Manifest, Provenance};
use serde::{Serialize, Serializer};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes every file of a run into `dir`: the CSVs, the fan charts and the manifest.
pub fn write_run(dir: &Path, report: &RunReport, provenance: &Provenance) -> Result<()> {
    let mut staged = Staged::new(dir)?;
    staged.file("councils.csv", |w| csv::write_councils(w, report))?;
    staged.file("national.csv", |w| csv::write_national(w, report))?;
    staged.file("summary.csv", |w| csv::write_summary(w, report))?;
    staged.file("councils_over_reserves.csv", |w| {
        csv::write_councils_over_reserves(w, report)
    })?;
    for fan in &chart::FAN_CHARTS {
        staged.file(fan.file, |w| chart::write_fan_chart(w, fan, report))?;
    }
    let councils = report.councils.len();
    let manifest = Manifest::new(provenance, &report.horizon, None, councils, staged.names())?;
    staged.json("manifest.json", &manifest)?;
    staged.commit()?;
    Ok(())
}

/// Writes every file of a back-test into `dir`: the scored rows, the scores and the manifest.
pub fn write_backtest(dir: &Path, bt: &Backtest, provenance: &Provenance) -> Result<()> {
    let mut staged = Staged::new(dir)?;
    staged.file("backtest.csv", |w| backtest::write_rows(w, bt))?;
    staged.file("backtest_summary.csv", |w| backtest::write_summary(w, bt))?;
    let origin = Some(bt.origin);
    let manifest = Manifest::new(provenance, &bt.horizon, origin, bt.councils, staged.names())?;
    staged.json("manifest.json", &manifest)?;
    staged.commit()?;
    Ok(())
}

/// A figure written with a fixed number of decimals, never as `-0`.
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    pub value: f64,
    pub decimals: usize,
}

impl Fixed {
    pub fn new(value: f64, decimals: usize) -> Self {
        Fixed { value, decimals }
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.decimals;
        let s = format!("{:.d$}", self.value);
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => f.write_str(rest),
            _ => f.write_str(&s),
        }
    }
}

impl Serialize for Fixed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The mean and percentile columns of a CSV row.
#[derive(Serialize)]
pub struct StatsColumns {
    pub mean: Fixed,
    pub p05: Fixed,
    pub p25: Fixed,
    pub p50: Fixed,
    pub p75: Fixed,
    pub p95: Fixed,
}

impl StatsColumns {
    pub fn new(s: &Stats, decimals: usize) -> Self {
        let f = |v| Fixed::new(v, decimals);
        StatsColumns {
            mean: f(s.mean),
            p05: f(s.p05),
            p25: f(s.p25),
            p50: f(s.p50),
            p75: f(s.p75),
            p95: f(s.p95),
        }
    }
}

/// Writes `rows` as CSV with a header named from the row type's fields.
pub fn write_csv<R: Serialize>(w: &mut dyn Write, rows: impl IntoIterator<Item = R>) -> Result<()> {
    let mut csv = ::csv::Writer::from_writer(w);
    for row in rows {
        csv.serialize(row)?;
    }
    csv.flush()?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_negative_zero() {
        assert_eq!(Fixed::new(-0.0001, 2).to_string(), "0.00");
        assert_eq!(Fixed::new(-1.5, 0).to_string(), "-2");
        assert_eq!(Fixed::new(1234.5678, 1).to_string(), "1234.6");
        assert_eq!(Fixed::new(-0.04, 1).to_string(), "0.0");
    }

    #[test]
    fn rows_of_flat_structs_name_their_columns() {
        #[derive(Serialize)]
        struct Key<'a> {
            scenario: &'a str,
            fy: &'a str,
        }
        let stats = Stats::constant(1.5, -0.0);
        let mut out = Vec::new();
        let row = (
            Key {
                scenario: "s",
                fy: "2027-28",
            },
            StatsColumns::new(&stats, 1),
        );
        write_csv(&mut out, [row]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "scenario,fy,mean,p05,p25,p50,p75,p95\ns,2027-28,1.5,0.0,0.0,0.0,0.0,0.0\n"
        );
    }
}
