//! Reads the baseline in `seeds/` (see `seeds/README.md` for every column's source).
//! Every file is checked: a missing file, a bad value or a missing council-year is an
//! [`InputError`] that names the file and line.

use crate::caseload::{age_band_index, setting_index, Cells, AGE_BANDS, SETTINGS};
use crate::error::InputError;
use crate::FinancialYear;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A council's ceased plans in a calendar year.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flow {
    pub ceased_plans: f64,
    /// Of which plans ended at the maximum age (ageing out).
    pub ceased_max_age: f64,
}

/// A safety-valve agreement: the FY it was signed in, its last instalment FY, the FY by which
/// the council is to balance, and the instalments by FY.
#[derive(Debug, Clone)]
pub struct SafetyValveSeed {
    pub cohort: FinancialYear,
    pub final_fy: FinancialYear,
    pub target_fy: FinancialYear,
    pub instalments: BTreeMap<FinancialYear, f64>,
}

/// Everything the seeds say about one council. Dated series are keyed by January year,
/// calendar year, or FY (balances by the FY they close).
#[derive(Debug, Clone)]
pub struct CouncilSeed {
    pub la_code: u16,
    pub la_name: String,
    /// Population aged 2-18 (ONS mid-2021 projection; estimated for 4 councils, rules R6, R7).
    pub pop_2_18: f64,
    pub ehcps: BTreeMap<i32, f64>,
    pub caseload: BTreeMap<i32, Cells>,
    pub flows: BTreeMap<i32, Flow>,
    pub new_plans_mix: BTreeMap<i32, Cells>,
    /// (before deductions, after deductions)
    pub hnb: BTreeMap<FinancialYear, (f64, f64)>,
    pub deficits: BTreeMap<FinancialYear, f64>,
    pub reserves: BTreeMap<FinancialYear, f64>,
    pub safety_valve: Option<SafetyValveSeed>,
    /// Januaries whose EHCP count is estimated (not scored by the back-test).
    pub ehcps_estimated: std::collections::BTreeSet<i32>,
    /// Januaries whose placements (setting totals) are estimated: the count is estimated, or the
    /// placements were suppressed and raked (rule R3). Not scored by the back-test.
    pub placements_estimated: std::collections::BTreeSet<i32>,
    /// Balances (by FY closed) that are estimated.
    pub deficits_estimated: std::collections::BTreeSet<FinancialYear>,
}

/// The whole baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub dir: PathBuf,
    pub councils: Vec<CouncilSeed>,
    /// England caseload by single year of age and setting, by January.
    pub national_caseload_by_age: CaseloadByAge,
    /// England ceased plans by age band: (total, at maximum age), by calendar year.
    pub national_ceased_by_age: CeasedByAge,
    pub national_new_plans_mix: BTreeMap<i32, Cells>,
    /// Published national figures, to check that the council tables add up.
    pub national_totals: Vec<NationalTotal>,
    /// (file name, SHA-256) of every file read.
    pub hashes: Vec<(String, String)>,
    /// Local figures supplied with the run (`run --local`), if any.
    pub local: crate::local::LocalFigures,
}

/// The seeds' rule for a council-year whose placements were suppressed and raked (seeds/README.md).
const RAKED_PLACEMENTS_RULE: &str = "R3";

/// A published national figure from `national_totals.csv`.
#[derive(Debug, Clone)]
pub struct NationalTotal {
    pub metric: String,
    pub period: String,
    pub value: f64,
}

/// A published national figure compared with the sum of the council tables.
#[derive(Debug, Clone)]
pub struct TotalCheck {
    pub metric: String,
    pub period: String,
    pub published: f64,
    /// The councils' sum in the seeds (`None` when the seeds do not cover the period).
    pub seeds: Option<f64>,
    /// The largest relative difference accepted (see [`checked_metric`]).
    pub tolerance: f64,
}

impl TotalCheck {
    /// Relative difference of the seeds from the published figure.
    pub fn difference(&self) -> Option<f64> {
        self.seeds.map(|s| s / self.published - 1.0)
    }
    /// The seeds cover the period and are within the tolerance of the published figure.
    pub fn agrees(&self) -> bool {
        self.difference().is_some_and(|d| d.abs() <= self.tolerance)
    }
}

/// The national totals that are sums of the council tables, with the relative difference
/// accepted between the seeds and the published figure and why:
/// - `ehcp_total`, `ehcp_total_published`, `seeds_ehcp_total` (January `YYYY`, ehcps.csv):
///   0.5%, room for the Newham correction (R2, +0.28% in January 2025);
/// - `hnb_before_deductions` (FY, hnb.csv): 0.1%, room for the two estimated councils;
/// - `dsg_gross_deficit_sum_las` (31 Mar `YYYY`, positive balances in deficits.csv): 2%, the
///   published figure is rounded to £0.01bn and covers 150 councils.
///
/// Other metrics in the file are national facts that no council table sums to.
pub fn checked_metric(metric: &str) -> Option<f64> {
    match metric {
        "ehcp_total" | "ehcp_total_published" | "seeds_ehcp_total" => Some(0.005),
        "hnb_before_deductions" => Some(0.001),
        "dsg_gross_deficit_sum_las" => Some(0.02),
        _ => None,
    }
}

/// The SHA-256 of every seed file as shipped (`seeds/SEEDS.sha256`, `sha256sum` format).
pub const SHIPPED_HASHES: &str = include_str!("../seeds/SEEDS.sha256");

pub const SEED_FILES: [&str; 14] = [
    "councils.csv",
    "ehcps.csv",
    "caseload.csv",
    "flows.csv",
    "new_plans_mix.csv",
    "national_new_plans_mix.csv",
    "national_ceased_by_age.csv",
    "national_caseload_by_age.csv",
    "hnb.csv",
    "deficits.csv",
    "reserves.csv",
    "safety_valve.csv",
    "sv_instalments.csv",
    "national_totals.csv",
];

struct Reader {
    dir: PathBuf,
    hashes: Vec<(String, String)>,
}

impl Reader {
    fn rows<T: DeserializeOwned>(&mut self, name: &str) -> Result<Vec<(u64, T)>, InputError> {
        let path = self.dir.join(name);
        let bytes = crate::input::read_regular(&path, crate::input::MAX_SEED_BYTES)?;
        self.hashes
            .push((name.to_string(), format!("{:x}", Sha256::digest(&bytes))));
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let at = |e: csv::Error| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            InputError::at_line(&path, line, csv_message(&e))
        };
        let headers = rdr.headers().map_err(at)?.clone();
        let mut out = Vec::new();
        // One record, read into again for each row.
        let mut record = csv::StringRecord::new();
        while rdr.read_record(&mut record).map_err(at)? {
            check_figures(&path, &headers, &record)?;
            let row = record.deserialize::<T>(Some(&headers)).map_err(at)?;
            out.push((out.len() as u64 + 2, row));
        }
        Ok(out)
    }
}

/// The largest size of any figure in the seeds: no council has a trillion pounds or plans,
/// and a larger figure (or NaN, or infinity) would make results the model cannot represent.
pub const MAX_SEED_FIGURE: f64 = 1e12;

/// Every cell that is a number is finite and smaller than [`MAX_SEED_FIGURE`] in size.
fn check_figures(
    path: &Path,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<(), InputError> {
    for (column, cell) in headers.iter().zip(record.iter()) {
        let Ok(value) = cell.trim().parse::<f64>() else {
            continue;
        };
        if !value.is_finite() || value.abs() >= MAX_SEED_FIGURE {
            let line = record.position().map_or(0, |p| p.line());
            return Err(InputError::at_line(
                path,
                line,
                format!(
                    "column `{column}`: `{cell}` is not allowed: a figure must be a finite \
                     number smaller than 1e12 in size"
                ),
            ));
        }
    }
    Ok(())
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(f) => format!("column {}: {}", f + 1, err.kind()),
            None => err.kind().to_string(),
        },
        _ => e.to_string(),
    }
}

fn status_ok(path: &Path, line: u64, s: &str) -> Result<(), InputError> {
    if s == "real" || s == "estimated" {
        Ok(())
    } else {
        Err(InputError::at_line(
            path,
            line,
            format!("status `{s}` is not allowed; use `real` or `estimated`"),
        ))
    }
}

fn fy_of_date(path: &Path, line: u64, date: &str) -> Result<FinancialYear, InputError> {
    match crate::calendar::parse_date(date) {
        Some((y, 3, 31)) => Ok(FinancialYear::ending_in(y)),
        _ => Err(InputError::at_line(
            path,
            line,
            format!("balance_date `{date}` must be a 31 March date like 2024-03-31"),
        )),
    }
}

fn finite(path: &Path, line: u64, v: f64, what: &str) -> Result<f64, InputError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(InputError::at_line(
            path,
            line,
            format!("{what} must be a finite number"),
        ))
    }
}

fn non_negative(path: &Path, line: u64, v: f64, what: &str) -> Result<f64, InputError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(InputError::at_line(
            path,
            line,
            format!("{what} must be a number >= 0, found {v}"),
        ))
    }
}

fn cell_index(
    path: &Path,
    line: u64,
    age: &str,
    setting: &str,
) -> Result<(usize, usize), InputError> {
    let a = age_band_index(age).ok_or_else(|| {
        InputError::at_line(
            path,
            line,
            format!(
                "age_band `{age}` is not one of {:?}",
                crate::caseload::AGE_BAND_NAMES
            ),
        )
    })?;
    let s = setting_index(setting).ok_or_else(|| {
        InputError::at_line(
            path,
            line,
            format!(
                "setting `{setting}` is not one of {:?}",
                crate::caseload::SETTING_NAMES
            ),
        )
    })?;
    Ok((a, s))
}

// One row type per table, holding only the columns the model reads (other columns, such as
// `rule` and `note`, are provenance for people: see seeds/README.md).

#[derive(Deserialize)]
struct CouncilRow {
    la_code: u16,
    la_name: String,
    pop_2_18: f64,
}

#[derive(Deserialize)]
struct EhcpRow {
    la_code: u16,
    january: i32,
    ehcps: f64,
    status: String,
}

#[derive(Deserialize)]
struct CaseloadRow {
    la_code: u16,
    january: i32,
    age_band: String,
    setting: String,
    plans: f64,
    status: String,
    rule: String,
}

#[derive(Deserialize)]
struct FlowRow {
    la_code: u16,
    calendar_year: i32,
    ceased_plans: f64,
    ceased_max_age: f64,
    status: String,
}

#[derive(Deserialize)]
struct MixRow {
    la_code: u16,
    calendar_year: i32,
    age_band: String,
    setting: String,
    new_plans: f64,
    status: String,
}

#[derive(Deserialize)]
struct NationalMixRow {
    calendar_year: i32,
    age_band: String,
    setting: String,
    new_plans: f64,
}

#[derive(Deserialize)]
struct NationalCeasedRow {
    calendar_year: i32,
    age_band: String,
    ceased_total: f64,
    ceased_max_age: f64,
}

#[derive(Deserialize)]
struct NationalAgeRow {
    january: i32,
    age: u8,
    setting: String,
    plans: f64,
}

#[derive(Deserialize)]
struct HnbRow {
    la_code: u16,
    fy: FinancialYear,
    hnb_before_deductions: f64,
    hnb_after_deductions: f64,
    status: String,
}

#[derive(Deserialize)]
struct DeficitRow {
    la_code: u16,
    balance_date: String,
    cumulative_deficit: f64,
    status: String,
}

#[derive(Deserialize)]
struct ReservesRow {
    la_code: u16,
    balance_date: String,
    usable_reserves: f64,
    status: String,
}

#[derive(Deserialize)]
struct SvRow {
    la_code: u16,
    cohort: FinancialYear,
    final_fy: FinancialYear,
    target_fy: FinancialYear,
}

#[derive(Deserialize)]
struct NationalTotalRow {
    metric: String,
    period: String,
    value: f64,
}

#[derive(Deserialize)]
struct SvInstalmentRow {
    la_code: u16,
    fy: FinancialYear,
    amount: f64,
    status: String,
}

/// The youngest and oldest single years of age in the national caseload by age.
const MIN_AGE: u8 = 2;
const MAX_AGE: u8 = 25;

/// The line of each key seen in a table: a second row with the same key is an error naming
/// both lines (the last row would otherwise silently win).
struct KeyLines<K>(BTreeMap<K, u64>);

impl<K: Ord> KeyLines<K> {
    fn new() -> Self {
        KeyLines(BTreeMap::new())
    }

    fn insert(
        &mut self,
        path: &Path,
        line: u64,
        key: K,
        what: impl FnOnce() -> String,
    ) -> Result<(), InputError> {
        match self.0.entry(key) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(line);
                Ok(())
            }
            std::collections::btree_map::Entry::Occupied(e) => Err(InputError::at_line(
                path,
                line,
                format!(
                    "duplicate row: {} is already on line {}; each key may appear only once",
                    what(),
                    e.get()
                ),
            )),
        }
    }
}

impl<P: Ord + Copy> KeyLines<(P, usize, usize)> {
    /// Every period of a grid table has a row for every cell `(row, column)` in the ranges:
    /// a missing row is an error naming the period and the cell.
    fn check_complete(
        &self,
        path: &Path,
        rows: std::ops::Range<usize>,
        columns: std::ops::Range<usize>,
        describe: impl Fn(&P, usize, usize) -> String,
    ) -> Result<(), InputError> {
        let mut periods: Vec<P> = self.0.keys().map(|k| k.0).collect();
        periods.dedup();
        for period in periods {
            for r in rows.clone() {
                for c in columns.clone() {
                    if !self.0.contains_key(&(period, r, c)) {
                        return Err(InputError::invalid(
                            path,
                            format!(
                                "no row for {}; every period needs a row for every cell",
                                describe(&period, r, c)
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A national table must have rows: the model has no fallback for it.
fn not_empty<T>(path: &Path, rows: &[T], what: &str) -> Result<(), InputError> {
    if rows.is_empty() {
        Err(InputError::invalid(
            path,
            format!("no rows; the model needs {what} (see seeds/README.md)"),
        ))
    } else {
        Ok(())
    }
}

fn cell_name(a: usize, s: usize) -> String {
    format!(
        "{} x {}",
        crate::caseload::AGE_BAND_NAMES[a],
        crate::caseload::SETTING_NAMES[s]
    )
}

/// Reads the seed tables into a baseline, one table at a time.
struct Loader {
    reader: Reader,
    councils: Vec<CouncilSeed>,
    /// Council index by DfE code.
    index: BTreeMap<u16, usize>,
}

impl Loader {
    fn path(&self, file: &str) -> PathBuf {
        self.reader.dir.join(file)
    }

    /// The council of a row, which must be listed in councils.csv.
    fn council(
        &mut self,
        file: &str,
        line: u64,
        code: u16,
    ) -> Result<&mut CouncilSeed, InputError> {
        match self.index.get(&code) {
            Some(&i) => Ok(&mut self.councils[i]),
            None => Err(InputError::at_line(
                self.path(file),
                line,
                format!("council {code} is not in councils.csv"),
            )),
        }
    }

    fn councils(&mut self) -> Result<(), InputError> {
        const FILE: &str = "councils.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<CouncilRow>(FILE)? {
            keys.insert(&f, line, row.la_code, || format!("council {}", row.la_code))?;
            let pop = non_negative(&f, line, row.pop_2_18, "pop_2_18")?;
            if pop == 0.0 {
                return Err(InputError::at_line(
                    &f,
                    line,
                    "pop_2_18 must be above 0, found 0",
                ));
            }
            self.index.insert(row.la_code, self.councils.len());
            self.councils
                .push(CouncilSeed::new(row.la_code, row.la_name, pop));
        }
        if self.councils.is_empty() {
            return Err(InputError::invalid(f, "no councils listed"));
        }
        Ok(())
    }

    fn ehcps(&mut self) -> Result<(), InputError> {
        const FILE: &str = "ehcps.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<EhcpRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let v = non_negative(&f, line, row.ehcps, "ehcps")?;
            keys.insert(&f, line, (row.la_code, row.january), || {
                format!("council {} January {}", row.la_code, row.january)
            })?;
            council.ehcps.insert(row.january, v);
            if row.status == "estimated" {
                council.ehcps_estimated.insert(row.january);
                council.placements_estimated.insert(row.january);
            }
        }
        Ok(())
    }

    fn caseload(&mut self) -> Result<(), InputError> {
        const FILE: &str = "caseload.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<CaseloadRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let (a, s) = cell_index(&f, line, &row.age_band, &row.setting)?;
            let v = non_negative(&f, line, row.plans, "plans")?;
            keys.insert(&f, line, ((row.la_code, row.january), a, s), || {
                format!(
                    "council {} January {} {}",
                    row.la_code,
                    row.january,
                    cell_name(a, s)
                )
            })?;
            if row.rule.split('+').any(|r| r == RAKED_PLACEMENTS_RULE) {
                council.placements_estimated.insert(row.january);
            }
            council
                .caseload
                .entry(row.january)
                .or_insert([[0.0; SETTINGS]; AGE_BANDS])[a][s] = v;
        }
        keys.check_complete(&f, 0..AGE_BANDS, 0..SETTINGS, |(code, january), a, s| {
            format!("council {code} January {january} {}", cell_name(a, s))
        })
    }

    fn flows(&mut self) -> Result<(), InputError> {
        const FILE: &str = "flows.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<FlowRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let flow = Flow {
                ceased_plans: non_negative(&f, line, row.ceased_plans, "ceased_plans")?,
                ceased_max_age: non_negative(&f, line, row.ceased_max_age, "ceased_max_age")?,
            };
            keys.insert(&f, line, (row.la_code, row.calendar_year), || {
                format!(
                    "council {} calendar year {}",
                    row.la_code, row.calendar_year
                )
            })?;
            council.flows.insert(row.calendar_year, flow);
        }
        Ok(())
    }

    fn new_plans_mix(&mut self) -> Result<(), InputError> {
        const FILE: &str = "new_plans_mix.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<MixRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let (a, s) = cell_index(&f, line, &row.age_band, &row.setting)?;
            let v = non_negative(&f, line, row.new_plans, "new_plans")?;
            keys.insert(&f, line, ((row.la_code, row.calendar_year), a, s), || {
                format!(
                    "council {} calendar year {} {}",
                    row.la_code,
                    row.calendar_year,
                    cell_name(a, s)
                )
            })?;
            council
                .new_plans_mix
                .entry(row.calendar_year)
                .or_insert([[0.0; SETTINGS]; AGE_BANDS])[a][s] = v;
        }
        keys.check_complete(&f, 0..AGE_BANDS, 0..SETTINGS, |(code, year), a, s| {
            format!("council {code} calendar year {year} {}", cell_name(a, s))
        })
    }

    fn national_new_plans_mix(&mut self) -> Result<BTreeMap<i32, Cells>, InputError> {
        const FILE: &str = "national_new_plans_mix.csv";
        let f = self.path(FILE);
        let mut mix = BTreeMap::new();
        let mut keys = KeyLines::new();
        let rows = self.reader.rows::<NationalMixRow>(FILE)?;
        not_empty(&f, &rows, "England's new plans by age band and setting")?;
        for (line, row) in rows {
            let (a, s) = cell_index(&f, line, &row.age_band, &row.setting)?;
            let v = non_negative(&f, line, row.new_plans, "new_plans")?;
            keys.insert(&f, line, (row.calendar_year, a, s), || {
                format!("calendar year {} {}", row.calendar_year, cell_name(a, s))
            })?;
            mix.entry(row.calendar_year)
                .or_insert([[0.0; SETTINGS]; AGE_BANDS])[a][s] = v;
        }
        keys.check_complete(&f, 0..AGE_BANDS, 0..SETTINGS, |year, a, s| {
            format!("calendar year {year} {}", cell_name(a, s))
        })?;
        Ok(mix)
    }

    fn national_ceased_by_age(&mut self) -> Result<CeasedByAge, InputError> {
        const FILE: &str = "national_ceased_by_age.csv";
        let f = self.path(FILE);
        let mut ceased = BTreeMap::new();
        let mut keys = KeyLines::new();
        let rows = self.reader.rows::<NationalCeasedRow>(FILE)?;
        not_empty(&f, &rows, "England's ceased plans by age band")?;
        for (line, row) in rows {
            let a = age_band_index(&row.age_band).ok_or_else(|| {
                InputError::at_line(&f, line, format!("age_band `{}` is unknown", row.age_band))
            })?;
            keys.insert(&f, line, (row.calendar_year, a, 0), || {
                format!("calendar year {} {}", row.calendar_year, row.age_band)
            })?;
            let entry = ceased
                .entry(row.calendar_year)
                .or_insert([(0.0, 0.0); AGE_BANDS]);
            entry[a] = (
                non_negative(&f, line, row.ceased_total, "ceased_total")?,
                non_negative(&f, line, row.ceased_max_age, "ceased_max_age")?,
            );
        }
        keys.check_complete(&f, 0..AGE_BANDS, 0..1, |year, a, _| {
            format!(
                "calendar year {year} {}",
                crate::caseload::AGE_BAND_NAMES[a]
            )
        })?;
        Ok(ceased)
    }

    fn national_caseload_by_age(&mut self) -> Result<CaseloadByAge, InputError> {
        const FILE: &str = "national_caseload_by_age.csv";
        let f = self.path(FILE);
        let mut caseload = BTreeMap::new();
        let mut keys = KeyLines::new();
        let rows = self.reader.rows::<NationalAgeRow>(FILE)?;
        not_empty(&f, &rows, "England's caseload by single year of age")?;
        for (line, row) in rows {
            let s = setting_index(&row.setting).ok_or_else(|| {
                InputError::at_line(&f, line, format!("setting `{}` is unknown", row.setting))
            })?;
            if !(MIN_AGE..=MAX_AGE).contains(&row.age) {
                return Err(InputError::at_line(
                    &f,
                    line,
                    format!("age must be {MIN_AGE} to {MAX_AGE}"),
                ));
            }
            keys.insert(&f, line, (row.january, row.age as usize, s), || {
                format!("January {} age {} {}", row.january, row.age, row.setting)
            })?;
            caseload
                .entry(row.january)
                .or_insert([[0.0; SETTINGS]; MAX_AGE as usize + 1])[row.age as usize][s] =
                non_negative(&f, line, row.plans, "plans")?;
        }
        let ages = MIN_AGE as usize..MAX_AGE as usize + 1;
        keys.check_complete(&f, ages, 0..SETTINGS, |january, age, s| {
            format!(
                "January {january} age {age} {}",
                crate::caseload::SETTING_NAMES[s]
            )
        })?;
        Ok(caseload)
    }

    fn hnb(&mut self) -> Result<(), InputError> {
        const FILE: &str = "hnb.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<HnbRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let before =
                non_negative(&f, line, row.hnb_before_deductions, "hnb_before_deductions")?;
            let after = non_negative(&f, line, row.hnb_after_deductions, "hnb_after_deductions")?;
            keys.insert(&f, line, (row.la_code, row.fy), || {
                format!("council {} FY {}", row.la_code, row.fy)
            })?;
            council.hnb.insert(row.fy, (before, after));
        }
        Ok(())
    }

    fn deficits(&mut self) -> Result<(), InputError> {
        const FILE: &str = "deficits.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<DeficitRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let fy = fy_of_date(&f, line, &row.balance_date)?;
            let v = finite(&f, line, row.cumulative_deficit, "cumulative_deficit")?;
            keys.insert(&f, line, (row.la_code, fy), || {
                format!("council {} balance date {}", row.la_code, row.balance_date)
            })?;
            council.deficits.insert(fy, v);
            if row.status == "estimated" {
                council.deficits_estimated.insert(fy);
            }
        }
        Ok(())
    }

    fn reserves(&mut self) -> Result<(), InputError> {
        const FILE: &str = "reserves.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<ReservesRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let fy = fy_of_date(&f, line, &row.balance_date)?;
            let v = non_negative(&f, line, row.usable_reserves, "usable_reserves")?;
            keys.insert(&f, line, (row.la_code, fy), || {
                format!("council {} balance date {}", row.la_code, row.balance_date)
            })?;
            council.reserves.insert(fy, v);
        }
        Ok(())
    }

    fn safety_valve(&mut self) -> Result<(), InputError> {
        const FILE: &str = "safety_valve.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<SvRow>(FILE)? {
            let council = self.council(FILE, line, row.la_code)?;
            keys.insert(&f, line, row.la_code, || {
                format!("the agreement of council {}", row.la_code)
            })?;
            council.safety_valve = Some(SafetyValveSeed {
                cohort: row.cohort,
                final_fy: row.final_fy,
                target_fy: row.target_fy,
                instalments: BTreeMap::new(),
            });
        }
        Ok(())
    }

    fn sv_instalments(&mut self) -> Result<(), InputError> {
        const FILE: &str = "sv_instalments.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        for (line, row) in self.reader.rows::<SvInstalmentRow>(FILE)? {
            status_ok(&f, line, &row.status)?;
            let council = self.council(FILE, line, row.la_code)?;
            let amount = non_negative(&f, line, row.amount, "amount")?;
            keys.insert(&f, line, (row.la_code, row.fy), || {
                format!("council {} FY {}", row.la_code, row.fy)
            })?;
            match council.safety_valve.as_mut() {
                Some(sv) => {
                    sv.instalments.insert(row.fy, amount);
                }
                None => {
                    return Err(InputError::at_line(
                        &f,
                        line,
                        format!(
                            "council {} has instalments but no row in safety_valve.csv",
                            row.la_code
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    fn national_totals(&mut self) -> Result<Vec<NationalTotal>, InputError> {
        const FILE: &str = "national_totals.csv";
        let f = self.path(FILE);
        let mut keys = KeyLines::new();
        let mut totals = Vec::new();
        for (line, row) in self.reader.rows::<NationalTotalRow>(FILE)? {
            keys.insert(&f, line, (row.metric.clone(), row.period.clone()), || {
                format!("{} {}", row.metric, row.period)
            })?;
            totals.push(NationalTotal {
                metric: row.metric,
                period: row.period,
                value: finite(&f, line, row.value, "value")?,
            });
        }
        Ok(totals)
    }
}

/// England ceased plans by age band: (total, at maximum age), by calendar year.
type CeasedByAge = BTreeMap<i32, [(f64, f64); AGE_BANDS]>;
/// England caseload by single year of age (0 to 25) and setting, by January.
type CaseloadByAge = BTreeMap<i32, [[f64; SETTINGS]; MAX_AGE as usize + 1]>;

impl CouncilSeed {
    fn new(la_code: u16, la_name: String, pop_2_18: f64) -> Self {
        CouncilSeed {
            la_code,
            la_name,
            pop_2_18,
            ehcps: BTreeMap::new(),
            caseload: BTreeMap::new(),
            flows: BTreeMap::new(),
            new_plans_mix: BTreeMap::new(),
            hnb: BTreeMap::new(),
            deficits: BTreeMap::new(),
            reserves: BTreeMap::new(),
            safety_valve: None,
            ehcps_estimated: Default::default(),
            placements_estimated: Default::default(),
            deficits_estimated: Default::default(),
        }
    }
}

/// Every council has every period that any council has (Januaries, FYs of allocations, balance
/// dates, flow years, reserves dates). New-plan mixes are the exception: a council without a
/// year uses its latest earlier year, else England's mix (see seeds/README.md).
fn check_every_period(dir: &Path, councils: &[CouncilSeed]) -> Result<(), InputError> {
    fn union<K: Ord + Copy, V>(
        councils: &[CouncilSeed],
        series: impl Fn(&CouncilSeed) -> &BTreeMap<K, V>,
    ) -> Vec<K> {
        let mut all: Vec<K> = councils
            .iter()
            .flat_map(|c| series(c).keys().copied())
            .collect();
        all.sort();
        all.dedup();
        all
    }
    let januaries = union(councils, |c| &c.ehcps);
    let fys = union(councils, |c| &c.hnb);
    let balances = union(councils, |c| &c.deficits);
    let flow_years = union(councils, |c| &c.flows);
    let reserve_dates = union(councils, |c| &c.reserves);
    for c in councils {
        let missing = |file: &str, what: String| {
            InputError::invalid(
                dir.join(file),
                format!(
                    "council {} ({}) has no row for {what}; every council needs every period",
                    c.la_code, c.la_name
                ),
            )
        };
        if let Some(j) = januaries.iter().find(|j| !c.ehcps.contains_key(j)) {
            return Err(missing("ehcps.csv", format!("January {j}")));
        }
        if let Some(fy) = fys.iter().find(|fy| !c.hnb.contains_key(fy)) {
            return Err(missing("hnb.csv", format!("FY {fy}")));
        }
        if let Some(fy) = balances.iter().find(|fy| !c.deficits.contains_key(fy)) {
            return Err(missing(
                "deficits.csv",
                format!("31 March {}", fy.end_year()),
            ));
        }
        if let Some(y) = flow_years.iter().find(|y| !c.flows.contains_key(y)) {
            return Err(missing("flows.csv", format!("calendar year {y}")));
        }
        if let Some(fy) = reserve_dates.iter().find(|fy| !c.reserves.contains_key(fy)) {
            return Err(missing(
                "reserves.csv",
                format!("31 March {}", fy.end_year()),
            ));
        }
    }
    Ok(())
}

/// Every council has every table, and its caseload cells add up to its EHCP count.
fn check_council_tables(dir: &Path, councils: &[CouncilSeed]) -> Result<(), InputError> {
    for c in councils {
        let need = |ok: bool, file: &str, what: &str| -> Result<(), InputError> {
            if ok {
                Ok(())
            } else {
                Err(InputError::invalid(
                    dir.join(file),
                    format!("council {} ({}) has no {what}", c.la_code, c.la_name),
                ))
            }
        };
        need(!c.ehcps.is_empty(), "ehcps.csv", "EHCP counts")?;
        need(
            c.caseload.keys().eq(c.ehcps.keys()),
            "caseload.csv",
            "caseload for every January in ehcps.csv",
        )?;
        need(!c.flows.is_empty(), "flows.csv", "flows")?;
        need(!c.hnb.is_empty(), "hnb.csv", "HNB allocations")?;
        need(!c.deficits.is_empty(), "deficits.csv", "DSG balances")?;
        need(!c.reserves.is_empty(), "reserves.csv", "reserves")?;
        for (jan, cells) in &c.caseload {
            let (t, e) = (crate::caseload::total(cells), c.ehcps[jan]);
            if (t - e).abs() > 1e-3 * e.max(1.0) {
                return Err(InputError::invalid(
                    dir.join("caseload.csv"),
                    format!(
                        "council {} January {jan}: cells sum to {t} but ehcps.csv says {e}",
                        c.la_code
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Baseline {
    /// Reads and checks every file in `dir`.
    pub fn load(dir: &Path) -> Result<Baseline, InputError> {
        let mut loader = Loader {
            reader: Reader {
                dir: dir.to_owned(),
                hashes: Vec::new(),
            },
            councils: Vec::new(),
            index: BTreeMap::new(),
        };
        loader.councils()?;
        loader.ehcps()?;
        loader.caseload()?;
        loader.flows()?;
        loader.new_plans_mix()?;
        let national_new_plans_mix = loader.national_new_plans_mix()?;
        let national_ceased_by_age = loader.national_ceased_by_age()?;
        let national_caseload_by_age = loader.national_caseload_by_age()?;
        loader.hnb()?;
        loader.deficits()?;
        loader.reserves()?;
        loader.safety_valve()?;
        loader.sv_instalments()?;
        let national_totals = loader.national_totals()?;
        check_every_period(dir, &loader.councils)?;
        check_council_tables(dir, &loader.councils)?;
        Ok(Baseline {
            dir: dir.to_owned(),
            councils: loader.councils,
            national_caseload_by_age,
            national_ceased_by_age,
            national_new_plans_mix,
            national_totals,
            hashes: loader.reader.hashes,
            local: Default::default(),
        })
    }

    /// Compares the council tables with every checkable figure in `national_totals.csv`.
    pub fn total_checks(&self) -> Vec<TotalCheck> {
        self.national_totals
            .iter()
            .filter_map(|t| {
                let tolerance = checked_metric(&t.metric)?;
                Some(TotalCheck {
                    metric: t.metric.clone(),
                    period: t.period.clone(),
                    published: t.value,
                    seeds: self.council_sum(&t.metric, &t.period),
                    tolerance,
                })
            })
            .collect()
    }

    /// The sum over councils of a checked metric in a period written as in
    /// `national_totals.csv` (`Jan 2025`, `2023-24`, `31 Mar 2024`).
    fn council_sum(&self, metric: &str, period: &str) -> Option<f64> {
        let year = |prefix: &str| period.strip_prefix(prefix)?.trim().parse::<i32>().ok();
        let sum = |value: &dyn Fn(&CouncilSeed) -> Option<f64>| -> Option<f64> {
            self.councils.iter().map(value).sum()
        };
        match metric {
            "hnb_before_deductions" => {
                let fy: FinancialYear = period.parse().ok()?;
                sum(&|c| c.hnb.get(&fy).map(|v| v.0))
            }
            "dsg_gross_deficit_sum_las" => {
                let fy = FinancialYear::ending_in(year("31 Mar")?);
                sum(&|c| c.deficits.get(&fy).map(|v| v.max(0.0)))
            }
            _ => {
                let january = year("Jan")?;
                sum(&|c| c.ehcps.get(&january).copied())
            }
        }
    }

    /// Warnings for every seed file read whose SHA-256 differs from the shipped one (or that was
    /// not shipped): its results will not match the published ones.
    pub fn hash_warnings(&self) -> Vec<String> {
        let shipped: BTreeMap<&str, &str> = SHIPPED_HASHES
            .lines()
            .filter_map(|l| {
                let (hash, name) = l.split_once(char::is_whitespace)?;
                Some((name.trim().trim_start_matches('*'), hash))
            })
            .collect();
        self.hashes
            .iter()
            .filter_map(|(name, hash)| match shipped.get(name.as_str()) {
                Some(expected) if expected == hash => None,
                Some(expected) => Some(format!(
                    "{} differs from the shipped seeds (SHA-256 {hash}; seeds/SEEDS.sha256 has {expected}): results will not match the published ones",
                    self.dir.join(name).display()
                )),
                None => Some(format!(
                    "{} is not listed in seeds/SEEDS.sha256",
                    self.dir.join(name).display()
                )),
            })
            .collect()
    }

    /// Adds a local figures file (validated; the manifest records its SHA-256).
    pub fn with_local(mut self, path: &Path) -> Result<Baseline, InputError> {
        let codes: Vec<u16> = self.councils.iter().map(|c| c.la_code).collect();
        self.local = crate::local::LocalFigures::load(path, &codes)?;
        let bytes = crate::input::read_regular(path, crate::input::MAX_LOCAL_BYTES)?;
        self.local.sha256 = format!("{:x}", Sha256::digest(&bytes));
        Ok(self)
    }

    pub fn council(&self, la_code: u16) -> Option<&CouncilSeed> {
        self.councils.iter().find(|c| c.la_code == la_code)
    }
}
