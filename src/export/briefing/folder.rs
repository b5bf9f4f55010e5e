//! A finished run folder read back: the manifest and the CSVs that `highneeds run` writes.
//! Every figure keeps the line of the CSV it came from, so a briefing can cite its cell.

use crate::error::InputError;
use crate::summary::Stats;
use anyhow::Result;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `Struct { field: row.num("field")?, .. }`: each listed field read from the column of its own
/// name, in the order listed, then the fields given `with` their values.
macro_rules! numbers {
    ($row:expr => $Struct:ident { $($field:ident),* $(,)? }
     $(with { $($name:ident $(: $value:expr)?),* $(,)? })?) => {
        $Struct {
            $($field: $row.num(stringify!($field))?,)*
            $($($name $(: $value)?,)*)?
        }
    };
}

/// Mean and percentiles of one metric in one FY, as written in a CSV row (read as the run's
/// own [`Stats`], so `band.p50` reads like a summary's).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Band {
    pub stats: Stats,
    /// Line of the CSV file (1 = header) the figures were read from.
    pub line: u64,
}

impl std::ops::Deref for Band {
    type Target = Stats;
    fn deref(&self) -> &Stats {
        &self.stats
    }
}

/// What the manifest says about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub program_version: String,
    pub command: String,
    pub scenario_name: String,
    pub seed: u64,
    pub paths: u64,
    pub first_fy: String,
    pub last_fy: String,
    pub override_end_fy: String,
    pub started_utc: String,
    /// The fully resolved scenario, as recorded in the manifest.
    pub scenario: serde_json::Value,
    /// (file, SHA-256) of every input.
    pub inputs: Vec<(String, String)>,
}

/// One row of `summary.csv`: a council's figures at the override end.
#[derive(Debug, Clone)]
pub struct CouncilRisk {
    pub la_code: String,
    pub la_name: String,
    pub deficit_p50: f64,
    pub deficit_p05: f64,
    pub deficit_p95: f64,
    pub deficit_mean: f64,
    pub reserves: f64,
    pub p_deficit_exceeds_reserves: f64,
    pub p_deficit_exceeds_reserves_se: f64,
    pub expected_shortfall: f64,
    pub deficit_to_reserves_p50: f64,
    pub safety_valve: bool,
    /// Line of `summary.csv` (1 = header).
    pub line: u64,
}

impl RunInfo {
    /// `, run 2026-11-23T19:12:28Z` (empty for a sweep's variant, whose manifest has no time).
    pub fn when(&self) -> String {
        if self.started_utc.is_empty() {
            String::new()
        } else {
            format!(", run {}", self.started_utc)
        }
    }
}

/// A run folder read back.
#[derive(Debug, Clone)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub info: RunInfo,
    /// The FYs of the run, in order (`2024-25`, ...).
    pub years: Vec<String>,
    /// Councils in `summary.csv` order.
    pub councils: Vec<CouncilRisk>,
    /// `la_code` -> metric -> one band per FY.
    council_bands: HashMap<String, HashMap<String, Vec<Band>>>,
    /// metric -> one band per FY.
    national_bands: HashMap<String, Vec<Band>>,
    /// `(number of councils over reserves, share of paths)`, ascending.
    pub over_reserves: Vec<(u32, f64)>,
}

pub const MANIFEST: &str = "manifest.json";
pub const COUNCILS_CSV: &str = "councils.csv";
pub const NATIONAL_CSV: &str = "national.csv";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const OVER_RESERVES_CSV: &str = "councils_over_reserves.csv";

impl RunFolder {
    /// Reads a folder written by `highneeds run`. A missing file or column is an input error
    /// that names it.
    pub fn read(dir: &Path) -> Result<RunFolder> {
        Self::read_from(dir, &|name| Some(dir.join(name)))
    }

    /// Reads a run folder whose files are found by `file` (name -> path): the files of a run
    /// still staged under temporary names, for example.
    pub fn read_from(dir: &Path, file: &dyn Fn(&str) -> Option<PathBuf>) -> Result<RunFolder> {
        let path = |name: &str| file(name).unwrap_or_else(|| dir.join(name));
        if !dir.is_dir() {
            return Err(InputError::invalid(
                dir,
                "is not a folder: give the output folder of `highneeds run`",
            )
            .into());
        }
        let info = read_manifest(&path(MANIFEST))?;
        let mut years: Vec<String> = Vec::new();
        let mut council_bands: HashMap<String, HashMap<String, Vec<Band>>> = HashMap::new();
        for_each_row(&path(COUNCILS_CSV), |row, line| {
            let fy = row.get("fy")?;
            // Rows come FY by FY within a council: the last FY seen is the likely one.
            if years.last().is_none_or(|y| y != fy) && !years.iter().any(|y| y == fy) {
                years.push(fy.to_string());
            }
            let (la_code, metric) = (row.get("la_code")?, row.get("metric")?);
            let band = row.band(line)?;
            // Looked up by `&str`, so only a new council or metric allocates its key.
            let metrics = match council_bands.get_mut(la_code) {
                Some(m) => m,
                None => council_bands.entry(la_code.to_string()).or_default(),
            };
            match metrics.get_mut(metric) {
                Some(bands) => bands.push(band),
                None => {
                    metrics.insert(metric.to_string(), vec![band]);
                }
            }
            Ok(())
        })?;
        let mut national_bands: HashMap<String, Vec<Band>> = HashMap::new();
        for_each_row(&path(NATIONAL_CSV), |row, line| {
            let metric = row.get("metric")?;
            let band = row.band(line)?;
            match national_bands.get_mut(metric) {
                Some(bands) => bands.push(band),
                None => {
                    national_bands.insert(metric.to_string(), vec![band]);
                }
            }
            Ok(())
        })?;
        let mut councils = Vec::new();
        for_each_row(&path(SUMMARY_CSV), |row, line| {
            let la_code = row.get("la_code")?.to_string();
            let la_name = row.get("la_name")?.to_string();
            councils.push(numbers!(row => CouncilRisk {
                deficit_p50, deficit_p05, deficit_p95, deficit_mean, reserves,
                p_deficit_exceeds_reserves, p_deficit_exceeds_reserves_se, expected_shortfall,
                deficit_to_reserves_p50,
            } with {
                la_code, la_name,
                safety_valve: row.get("safety_valve")? == "yes",
                line,
            }));
            Ok(())
        })?;
        let mut over_reserves = Vec::new();
        for_each_row(&path(OVER_RESERVES_CSV), |row, _| {
            let n = row.num("councils_over_reserves")?;
            over_reserves.push((n.round().max(0.0) as u32, row.num("share_of_paths")?));
            Ok(())
        })?;
        over_reserves.sort_by_key(|(n, _)| *n);
        let folder = RunFolder {
            dir: dir.to_owned(),
            info,
            years,
            councils,
            council_bands,
            national_bands,
            over_reserves,
        };
        folder.check_complete()?;
        Ok(folder)
    }

    fn check_complete(&self) -> Result<()> {
        let n = self.years.len();
        let council_bands = self
            .council_bands
            .iter()
            .flat_map(|(code, m)| m.iter().map(move |(metric, v)| (code, metric, v)));
        for (code, metric, v) in council_bands {
            if v.len() != n {
                return Err(InputError::invalid(
                    self.dir.join(COUNCILS_CSV),
                    format!(
                        "council {code}, metric {metric}: {} rows for {n} FYs",
                        v.len()
                    ),
                )
                .into());
            }
        }
        for (metric, v) in &self.national_bands {
            if v.len() != n {
                return Err(InputError::invalid(
                    self.dir.join(NATIONAL_CSV),
                    format!("metric {metric}: {} rows for {n} FYs", v.len()),
                )
                .into());
            }
        }
        if !self.years.contains(&self.info.override_end_fy) {
            return Err(InputError::invalid(
                self.dir.join(MANIFEST),
                format!(
                    "override_end_fy {} is not a FY of councils.csv",
                    self.info.override_end_fy
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Index of the override-end FY in `years`.
    pub fn override_end(&self) -> usize {
        self.years
            .iter()
            .position(|y| *y == self.info.override_end_fy)
            .unwrap_or(0)
    }

    /// A council's bands of a metric, one per FY (`None` if the run has no such rows).
    pub fn council(&self, la_code: &str, metric: &str) -> Option<&[Band]> {
        self.council_bands
            .get(la_code)?
            .get(metric)
            .map(Vec::as_slice)
    }

    /// England's bands of a metric, one per FY.
    pub fn national(&self, metric: &str) -> Option<&[Band]> {
        self.national_bands.get(metric).map(Vec::as_slice)
    }

    /// The council with this code (as written in the CSVs), or an input error listing how
    /// to find the codes.
    pub fn find_council(&self, la_code: &str) -> Result<&CouncilRisk> {
        self.councils
            .iter()
            .find(|c| c.la_code == la_code.trim())
            .ok_or_else(|| {
                InputError::invalid(
                    self.dir.join(SUMMARY_CSV),
                    format!(
                        "no council with la_code {la_code}: use a DfE code from the la_code column (e.g. {})",
                        self.councils
                            .iter()
                            .take(3)
                            .map(|c| format!("{} {}", c.la_code, c.la_name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .into()
            })
    }

    /// Councils ranked by the probability that the deficit exceeds reserves (highest first,
    /// then by median deficit, then by code).
    pub fn ranked_by_risk(&self) -> Vec<&CouncilRisk> {
        let mut v: Vec<&CouncilRisk> = self.councils.iter().collect();
        v.sort_by(|a, b| {
            b.p_deficit_exceeds_reserves
                .total_cmp(&a.p_deficit_exceeds_reserves)
                .then(b.deficit_p50.total_cmp(&a.deficit_p50))
                .then(a.la_code.cmp(&b.la_code))
        });
        v
    }

    /// A scenario term from the manifest, by dotted path (`override.end`), as text.
    pub fn term(&self, dotted: &str) -> Option<String> {
        let mut v = &self.info.scenario;
        for key in dotted.split('.') {
            v = v.get(key)?;
        }
        Some(match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// A CSV file's header: its column names, and where the columns of a [`Band`] are (found once
/// per file, not once per row).
struct Header {
    names: Vec<String>,
    /// Columns `mean`, `p05`, `p25`, `p50`, `p75`, `p95` (`None`: not in the header).
    band: [Option<usize>; 6],
}

const BAND_COLUMNS: [&str; 6] = ["mean", "p05", "p25", "p50", "p75", "p95"];

impl Header {
    fn new(record: &csv::StringRecord) -> Header {
        let names: Vec<String> = record.iter().map(str::to_string).collect();
        let band = BAND_COLUMNS.map(|c| names.iter().position(|h| h == c));
        Header { names, band }
    }
}

/// One CSV row with its header, for reading named columns.
struct Row<'a> {
    path: &'a Path,
    line: u64,
    header: &'a Header,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Result<&str> {
        let i = self
            .header
            .names
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| self.no_column(column))?;
        self.at(i, column)
    }
    fn no_column(&self, column: &str) -> anyhow::Error {
        InputError::invalid(self.path, format!("no column `{column}` in the header")).into()
    }
    /// The value in column `i`, named `column`.
    fn at(&self, i: usize, column: &str) -> Result<&str> {
        self.record.get(i).ok_or_else(|| {
            InputError::at_line(self.path, self.line, format!("no value for `{column}`")).into()
        })
    }
    fn num(&self, column: &str) -> Result<f64> {
        let s = self.get(column)?;
        self.parse(s, column)
    }
    fn parse(&self, s: &str, column: &str) -> Result<f64> {
        s.parse::<f64>().map_err(|_| {
            InputError::at_line(
                self.path,
                self.line,
                format!("`{column}` is `{s}`, not a number"),
            )
            .into()
        })
    }
    fn band(&self, line: u64) -> Result<Band> {
        let mut v = [0.0; 6];
        for ((x, i), column) in v.iter_mut().zip(self.header.band).zip(BAND_COLUMNS) {
            let i = i.ok_or_else(|| self.no_column(column))?;
            *x = self.parse(self.at(i, column)?, column)?;
        }
        let [mean, p05, p25, p50, p75, p95] = v;
        let stats = Stats::with_percentiles(mean, [p05, p25, p50, p75, p95]);
        Ok(Band { stats, line })
    }
}

fn for_each_row(path: &Path, mut f: impl FnMut(&Row, u64) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let mut rdr = csv::Reader::from_reader(std::io::BufReader::new(file));
    let header = Header::new(
        rdr.headers()
            .map_err(|e| InputError::invalid(path, format!("bad CSV header: {e}")))?,
    );
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                line += 1;
                let row = Row {
                    path,
                    line,
                    header: &header,
                    record: &record,
                };
                f(&row, line)?;
            }
            Err(e) => {
                return Err(InputError::at_line(path, line + 1, format!("bad CSV: {e}")).into())
            }
        }
    }
    Ok(())
}

fn read_manifest(path: &Path) -> Result<RunInfo> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InputError::invalid(path, format!("not valid JSON: {e}")))?;
    let text_of = |key: &str| -> Result<String> {
        v.get(key)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| InputError::invalid(path, format!("no text field `{key}`")).into())
    };
    let number_of = |key: &str| -> Result<u64> {
        v.get(key).and_then(|x| x.as_u64()).ok_or_else(|| {
            InputError::invalid(path, format!("no whole-number field `{key}`")).into()
        })
    };
    let inputs = v
        .get("inputs")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .map(|i| {
                    let s = |k: &str| i.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    (s("file"), s("sha256"))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RunInfo {
        program_version: text_of("version")?,
        command: text_of("command").unwrap_or_default(),
        scenario_name: text_of("scenario_name")?,
        seed: number_of("seed")?,
        paths: number_of("paths")?,
        first_fy: text_of("first_fy")?,
        last_fy: text_of("last_fy")?,
        override_end_fy: text_of("override_end_fy")?,
        started_utc: text_of("started_utc").unwrap_or_default(),
        scenario: v
            .get("scenario")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        inputs,
    })
}
