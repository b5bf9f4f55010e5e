//! Shared helpers: crate paths, the baseline seeds (loaded once), scenario variants and runs.

#![allow(dead_code)]

use highneeds::calibration::{calibrate, Model, Vintage};
use highneeds::engine::{simulate, CouncilPaths, EnglandPaths, RunConfig};
use highneeds::scenario::LoadedScenario;
use highneeds::seeds::Baseline;
use highneeds::FinancialYear;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const SEED: u64 = 20260331;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn seeds_dir() -> PathBuf {
    root().join("seeds")
}

pub fn baseline_toml() -> PathBuf {
    root().join("scenarios").join("baseline.toml")
}

/// The crate's seeds, loaded once for the whole test binary.
pub fn baseline() -> &'static Baseline {
    static B: OnceLock<Baseline> = OnceLock::new();
    B.get_or_init(|| Baseline::load(&seeds_dir()).expect("seeds/ loads"))
}

/// A fresh copy of the baseline scenario (mutate `ls.scenario` to make variants).
pub fn scenario() -> LoadedScenario {
    highneeds::scenario::load(&baseline_toml()).expect("scenarios/baseline.toml loads")
}

pub fn fy(s: &str) -> FinancialYear {
    s.parse().expect("financial year")
}

/// Calibrates a scenario on the crate's seeds with all data (a projection made today).
pub fn model(ls: &LoadedScenario) -> Model {
    calibrate(baseline(), ls, Vintage::latest()).expect("calibration")
}

/// Runs a model and keeps every council's paths.
pub fn sim(model: &Model, paths: usize, seed: u64) -> (Vec<CouncilPaths>, EnglandPaths) {
    simulate(model, RunConfig { paths, seed }, |cp| cp.clone(), &|| {})
}

/// Index of a financial year in the model's horizon.
pub fn t_of(model: &Model, fy_label: &str) -> usize {
    let f = fy(fy_label);
    model
        .schedule
        .years
        .iter()
        .position(|y| *y == f)
        .unwrap_or_else(|| panic!("{fy_label} is not in the horizon"))
}

/// A national metric by its name in national.csv.
pub fn nat(name: &str) -> highneeds::metric::NationalMetric {
    highneeds::metric::NationalMetric::ALL
        .into_iter()
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no national metric {name}"))
}

/// Relative closeness with an absolute floor.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= abs + rel * a.abs().max(b.abs())
}

/// Copies the crate's seeds/ into a new temporary folder.
pub fn copy_seeds() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(seeds_dir()).expect("read seeds/") {
        let entry = entry.expect("dir entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy seed");
        }
    }
    dir
}

/// Reads a CSV as (header, rows of strings).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let header = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Writes a CSV (header + rows).
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("create csv");
    w.write_record(header).expect("write header");
    for r in rows {
        w.write_record(r).expect("write row");
    }
    w.flush().expect("flush");
}

pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// A scenario file that extends the crate's baseline (by absolute path) with `extra` TOML.
pub fn child_scenario(dir: &Path, file: &str, extra: &str) -> PathBuf {
    let path = dir.join(file);
    let text = format!(
        "extends = {:?}\n{extra}\n",
        baseline_toml().display().to_string()
    );
    std::fs::write(&path, text).expect("write scenario");
    path
}

pub fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("highneeds").expect("binary");
    c.current_dir(root());
    c
}

/// `highneeds run scenarios/baseline.toml --paths PATHS`, for more arguments to follow.
pub fn run_baseline(paths: &str) -> assert_cmd::Command {
    let mut c = bin();
    c.args(["run", "scenarios/baseline.toml", "--paths", paths]);
    c
}

/// The same value in every setting.
pub fn per_setting(value: f64) -> highneeds::scenario::PerSetting {
    highneeds::scenario::PerSetting {
        mainstream: value,
        special_state: value,
        special_independent: value,
        post16: value,
        ap_other: value,
    }
}

/// A value for each placement group.
pub fn per_group(specialist: f64, post16: f64, ap_other: f64) -> highneeds::scenario::PerGroup {
    highneeds::scenario::PerGroup {
        specialist,
        post16,
        ap_other,
    }
}

/// Steps a council's caseload from the first projected year with the demand step alone: no
/// census replaces a year's caseload and the placement trends never start (their latest census
/// is put after the horizon), so settings change only by the entry mix and phase transfer.
pub fn without_census_or_trends(c: &mut highneeds::calibration::CouncilModel) {
    let years = c.census.len();
    c.census = vec![None; years];
    c.latest_census = years as i32;
}
