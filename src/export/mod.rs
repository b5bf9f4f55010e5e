//! Exporters, one per format (`csv`, `manifest`, `backtest`, and `briefing`: charts, summary.md,
//! report.html and the DSG plan workbook, made from a run folder's own files), each reading a report
//! view that the library builds from a run, never the engine's results. CSV rows are flat
//! `#[derive(Serialize)]` structs (or tuples of them: the csv crate names the columns from the
//! field names). Every file is written to a temporary file in the output folder and renamed into
//! place only when all of them were written; an interrupt handler can remove the temporary files
//! (`remove_staged_files`), and the next command into the folder removes any that a killed one
//! left behind.

pub mod backtest;
pub mod briefing;
pub mod compare;
pub mod csv;
pub mod manifest;
pub mod sensitivity;
pub mod size;
pub mod sweep;
pub mod tornado;

use crate::backtest::Backtest;
use crate::run::RunReport;
use crate::summary::Stats;
use crate::sweep::VariantRecord;
use anyhow::{Context, Result};
use manifest::{Manifest, Provenance};
use serde::{Serialize, Serializer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Checks before a run what it will write: the councils given for fan charts (`--council`) are
/// councils of the seeds, and the files fit in `size::MAX_OUTPUT_BYTES`.
pub fn check_run(
    ls: &crate::scenario::LoadedScenario,
    baseline: &crate::seeds::Baseline,
    councils: &[String],
) -> Result<(), crate::InputError> {
    briefing::check_councils(councils, baseline)?;
    size::check_run(ls, baseline, councils.len())
}

/// Writes every file of a run into `dir`: the CSVs, the manifest, and the briefing files made
/// from them (charts, with a fan chart for each council in `councils`; summary.md; report.html).
/// A report with a figure that is not finite and plausible is refused before anything is written.
pub fn write_run(
    dir: &Path,
    report: &RunReport,
    provenance: &Provenance,
    councils: &[String],
) -> Result<()> {
    write_run_files(dir, report, provenance, councils, None)
}

/// Writes a sweep's variant into `dir`: the files of a run (no council's fan chart), with a
/// manifest that names the variant and has no timings ([`Manifest::for_variant`]).
pub fn write_variant(
    dir: &Path,
    report: &RunReport,
    provenance: &Provenance,
    variant: &VariantRecord,
) -> Result<()> {
    write_run_files(dir, report, provenance, &[], Some(variant))
}

fn write_run_files(
    dir: &Path,
    report: &RunReport,
    provenance: &Provenance,
    councils: &[String],
    variant: Option<&VariantRecord>,
) -> Result<()> {
    report.check_figures()?;
    let mut staged = Staged::new(dir)?;
    // The four CSVs are staged in this order and written side by side on rayon's pool (each
    // file's bytes depend only on the report).
    type Writer = fn(&mut dyn Write, &RunReport) -> Result<()>;
    let writers: [(&str, Writer); 4] = [
        ("councils.csv", csv::write_councils),
        ("national.csv", csv::write_national),
        ("summary.csv", csv::write_summary),
        (
            "councils_over_reserves.csv",
            csv::write_councils_over_reserves,
        ),
    ];
    staged.files_side_by_side(&writers, |write, w| write(w, report))?;
    let outputs = [staged.names(), briefing::file_names(councils)].concat();
    let n = report.councils.len();
    let mut manifest = Manifest::new(provenance, &report.horizon, None, n, outputs)?;
    if report.percentiles == crate::sketch::Percentiles::Sketched {
        manifest.percentiles = Some(crate::sketch::SketchRecord::new());
    }
    let manifest = match variant {
        Some(variant) => manifest.for_variant(variant),
        None => manifest,
    };
    staged.json("manifest.json", &manifest)?;
    let folder = briefing::folder::RunFolder::read_from(dir, &|name| staged.staged_path(name))?;
    for (name, bytes) in briefing::files(&folder, councils)? {
        staged.bytes(&name, &bytes)?;
    }
    staged.commit()?;
    Ok(())
}

/// Remakes the briefing files of the run folder `run_dir` into `out` [default: `run_dir`];
/// returns a line saying what was written.
pub fn write_briefing(run_dir: &Path, out: Option<&Path>, councils: &[String]) -> Result<String> {
    let folder = briefing::folder::RunFolder::read(run_dir)?;
    let out = out.unwrap_or(run_dir);
    let mut staged = Staged::new(out)?;
    for (name, bytes) in briefing::files(&folder, councils)? {
        staged.bytes(&name, &bytes)?;
    }
    let names = staged.names().join(", ");
    staged.commit()?;
    Ok(format!("wrote {names} in {}", out.display()))
}

/// Writes DSG management plan workbooks from the run folder `run_dir`, for the councils given
/// (or all). `out` is the workbook [default: `RUN_DIR/dsg_plan_<CODE>.xlsx`, or
/// `dsg_plan_all.xlsx`]; an existing folder gets one workbook per council. Returns a line
/// saying what was written.
pub fn write_plans(
    run_dir: &Path,
    councils: &[String],
    all: bool,
    out: Option<&Path>,
) -> Result<String> {
    let folder = briefing::folder::RunFolder::read(run_dir)?;
    let mut codes: Vec<String> = Vec::new();
    if all {
        codes = folder.councils.iter().map(|c| c.la_code.clone()).collect();
    } else {
        for code in councils {
            let c = folder.find_council(code)?.la_code.clone();
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    let workbooks: Vec<(PathBuf, Vec<String>)> = match out {
        Some(dir) if dir.is_dir() => codes
            .iter()
            .map(|c| (dir.join(format!("dsg_plan_{c}.xlsx")), vec![c.clone()]))
            .collect(),
        Some(path) => vec![(path.to_owned(), codes)],
        None => {
            let name = match codes.as_slice() {
                _ if all => "dsg_plan_all.xlsx".to_string(),
                [one] => format!("dsg_plan_{one}.xlsx"),
                _ => "dsg_plan.xlsx".to_string(),
            };
            vec![(run_dir.join(name), codes)]
        }
    };
    for (path, codes) in &workbooks {
        let bytes = briefing::plan::workbook(&folder, codes)?;
        let (dir, name) = match (path.parent(), path.file_name()) {
            (Some(d), Some(n)) => (d, n.to_string_lossy().into_owned()),
            _ => return Err(crate::InputError::invalid(path, "is not a file name").into()),
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let mut staged = Staged::new(dir)?;
        staged.bytes(&name, &bytes)?;
        staged.commit()?;
    }
    let paths: Vec<String> = workbooks
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    Ok(format!("wrote {}", paths.join(", ")))
}

/// Writes every file of a back-test into `dir`: the scored rows, the scores and the manifest.
/// A figure that is not finite and plausible is refused before anything is written.
pub fn write_backtest(dir: &Path, bt: &Backtest, provenance: &Provenance) -> Result<()> {
    bt.check_figures()?;
    let mut staged = Staged::new(dir)?;
    staged.file("backtest.csv", |w| backtest::write_rows(w, bt))?;
    staged.file("backtest_summary.csv", |w| backtest::write_summary(w, bt))?;
    staged.file("backtest_sv_track.csv", |w| {
        backtest::write_off_track(w, bt)
    })?;
    let origin = Some(bt.origin);
    let manifest = Manifest::new(provenance, &bt.horizon, origin, bt.councils, staged.names())?;
    staged.json("manifest.json", &manifest)?;
    staged.commit()?;
    Ok(())
}

/// Writes the paired comparison's files into `dir`: `compare.csv` and `compare_summary.csv`.
pub fn write_compare(dir: &Path, comparison: &crate::compare::Comparison) -> Result<()> {
    let mut staged = Staged::new(dir)?;
    staged.file("compare.csv", |w| compare::write_councils(w, comparison))?;
    staged.file("compare_summary.csv", |w| {
        compare::write_summary(w, comparison)
    })?;
    staged.commit()?;
    Ok(())
}

/// Writes a sensitivity analysis's files into `dir`: `sensitivity.csv`,
/// `sensitivity_global.csv`, the tornado chart and the manifest (of the base run's size). A
/// figure that is not finite and plausible is refused before anything is written.
pub fn write_sensitivity(
    dir: &Path,
    s: &crate::sensitivity::Sensitivity,
    provenance: &Provenance,
) -> Result<()> {
    s.check_figures()?;
    let mut staged = Staged::new(dir)?;
    staged.file("sensitivity.csv", |w| sensitivity::write_inputs(w, s))?;
    staged.file("sensitivity_global.csv", |w| {
        sensitivity::write_global(w, s)
    })?;
    let svg = tornado::svg(s)?;
    staged.file("tornado.svg", |w| Ok(w.write_all(svg.as_bytes())?))?;
    let manifest = Manifest::new(provenance, &s.horizon, None, s.councils, staged.names())?;
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

impl Fixed {
    /// Calls `f` with the figure's text: `format!("{:.d$}")`, without the sign where that
    /// text is a negative zero (`-0.00` -> `0.00`). The text is formatted into a buffer on
    /// the stack, not a `String` per figure; one too long for it (|value| above about
    /// 10^40) takes the heap.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let d = self.decimals;
        let mut buf = [0; STACK_TEXT];
        // Whole figures (most of a run's, in pounds): `{:.0}` rounds the exact value to the
        // nearest whole number, ties to even, which is `round_ties_even` (exact in f64); below
        // 2^53 that is an i64, written as an integer (a negative zero is `0`, as the rule
        // wants). NaN fails the comparison and takes the general path.
        if d == 0 {
            let r = self.value.round_ties_even();
            if r.abs() < WHOLE_EXACT {
                if let Some(s) = on_stack(&mut buf, format_args!("{}", r as i64)) {
                    return f(s);
                }
            }
        }
        if let Some(s) = on_stack(&mut buf, format_args!("{:.d$}", self.value)) {
            return f(without_negative_zero(s));
        }
        let s = format!("{:.d$}", self.value);
        f(without_negative_zero(&s))
    }
}

/// Bytes of the stack buffer [`Fixed::with_text`] formats into.
const STACK_TEXT: usize = 48;

/// `text` formatted into `buf` (`std::io::Write` on a slice, an error past its end); `None`
/// where it does not fit.
fn on_stack<'a>(buf: &'a mut [u8; STACK_TEXT], text: std::fmt::Arguments) -> Option<&'a str> {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    std::io::Write::write_fmt(&mut cursor, text).ok()?;
    let len = cursor.position() as usize;
    std::str::from_utf8(&buf[..len]).ok()
}

/// 2^53: every whole f64 below it in size is exactly an i64.
const WHOLE_EXACT: f64 = 9_007_199_254_740_992.0;

/// `s` without its `-` where all that follows is zeros and the point.
fn without_negative_zero(s: &str) -> &str {
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|c| c == b'0' || c == b'.') => rest,
        _ => s,
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|s| f.write_str(s))
    }
}

impl Serialize for Fixed {
    /// The text as a string field (what `collect_str` gives, without a `String` per figure).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|s| serializer.serialize_str(s))
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

/// Every file a run, a back-test or a sweep writes, besides a council's charts and the plan
/// workbooks (`is_output_file`). While one is written it is a temporary file `.NAME.XXXXXX`
/// (six letters or digits) in the output folder.
pub const OUTPUT_FILES: [&str; 23] = [
    "councils.csv",
    "national.csv",
    "summary.csv",
    "councils_over_reserves.csv",
    "national_deficit.svg",
    "national_deficit.png",
    "national_ehcps.svg",
    "national_ehcps.png",
    "risk_ranking.svg",
    "risk_ranking.png",
    "councils_over_reserves.svg",
    "councils_over_reserves.png",
    "councils_wide.csv",
    "summary.md",
    "report.html",
    "backtest.csv",
    "backtest_summary.csv",
    "sensitivity.csv",
    "sensitivity_global.csv",
    "tornado.svg",
    "manifest.json",
    "sweep.csv",
    "sweep_summary.csv",
];

/// Whether `name` is a file this program writes: one of `OUTPUT_FILES`, a council's fan chart
/// (`council_886_deficit.svg`) or a DSG plan workbook (`dsg_plan_886.xlsx`).
pub fn is_output_file(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let council_chart = name
        .strip_prefix("council_")
        .and_then(|r| r.strip_suffix(".svg").or_else(|| r.strip_suffix(".png")))
        .and_then(|r| r.strip_suffix("_deficit"))
        .is_some_and(digits);
    let plan = name
        .strip_prefix("dsg_plan")
        .and_then(|r| r.strip_suffix(".xlsx"))
        .is_some_and(|r| r.is_empty() || r == "_all" || r.strip_prefix('_').is_some_and(digits));
    OUTPUT_FILES.contains(&name) || council_chart || plan
}

/// Whether `file_name` is one of this program's temporary files (`.councils.csv.a1B2c3`).
pub fn is_temporary_file(file_name: &str) -> bool {
    let Some(rest) = file_name.strip_prefix('.') else {
        return false;
    };
    let Some((name, random)) = rest.rsplit_once('.') else {
        return false;
    };
    is_output_file(name)
        && random.len() == TEMP_RANDOM_CHARS
        && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Random letters and digits in a temporary file's name.
const TEMP_RANDOM_CHARS: usize = 6;

/// The temporary files this process has staged and not yet moved into place.
struct Registry {
    paths: Vec<PathBuf>,
    /// Set by `remove_staged_files`: no more files may be staged or committed.
    interrupted: bool,
}

static STAGED: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    interrupted: false,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    STAGED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Deletes every temporary file this process has staged and not yet moved into place, and stops
/// any more being staged or committed (for an interrupt handler, which then exits). A commit
/// in progress finishes first, so an interrupt never leaves old and new files mixed.
pub fn remove_staged_files() {
    let mut registry = registry();
    registry.interrupted = true;
    for path in registry.paths.drain(..) {
        // Already gone is fine: the goal is that it is gone.
        let _ = std::fs::remove_file(&path);
    }
}

/// Files staged in the output folder; nothing is visible until `commit`. While staging, the
/// folder is locked against other `highneeds` commands writing into it.
pub struct Staged {
    dir: PathBuf,
    files: Vec<(tempfile::NamedTempFile, PathBuf)>,
    /// The output folder, locked (where the platform and file system allow it).
    _lock: Option<std::fs::File>,
}

impl Staged {
    /// Creates the output folder, locks it, and removes temporary files that an earlier
    /// command of this program left behind (killed before it could clean up).
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        let lock = lock_folder(dir)?;
        if lock.is_some() {
            remove_stale_temporary_files(dir)?;
        }
        Ok(Staged {
            dir: dir.to_owned(),
            files: Vec::new(),
            _lock: lock,
        })
    }
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let mut tmp = self.temporary(name)?;
        write_through_buffer(&mut tmp, write)?;
        self.files.push((tmp, self.dir.join(name)));
        Ok(())
    }
    /// Stages a file for each `(name, item)`, in this order, and writes them side by side on
    /// rayon's pool (`write` of the item into its file). The error of the first file (in
    /// order) that failed, if any; the staged files are then removed with the rest.
    pub fn files_side_by_side<T: Sync>(
        &mut self,
        items: &[(&str, T)],
        write: impl Fn(&T, &mut dyn Write) -> Result<()> + Sync,
    ) -> Result<()> {
        use rayon::prelude::*;
        let start = self.files.len();
        for (name, _) in items {
            let tmp = self.temporary(name)?;
            self.files.push((tmp, self.dir.join(name)));
        }
        let results: Vec<Result<()>> = self.files[start..]
            .par_iter_mut()
            .zip(items)
            .map(|((tmp, _), (_, item))| write_through_buffer(tmp, |w| write(item, w)))
            .collect();
        results.into_iter().collect()
    }
    /// A new temporary file for `name`, registered for removal on an interrupt.
    fn temporary(&self, name: &str) -> Result<tempfile::NamedTempFile> {
        let mut registry = registry();
        if registry.interrupted {
            anyhow::bail!("interrupted");
        }
        let tmp = temporary_file(&self.dir, name)?;
        registry.paths.push(tmp.path().to_owned());
        Ok(tmp)
    }
    /// Stages a pretty-printed JSON file (the run manifest).
    pub fn json(&mut self, name: &str, value: &impl Serialize) -> Result<()> {
        self.file(name, |w| {
            serde_json::to_writer_pretty(&mut *w, value)?;
            writeln!(w)?;
            Ok(())
        })
    }
    /// Where a staged file is until `commit`.
    pub fn staged_path(&self, name: &str) -> Option<PathBuf> {
        let target = self.dir.join(name);
        self.files
            .iter()
            .find(|(_, path)| *path == target)
            .map(|(tmp, _)| tmp.path().to_owned())
    }
    /// Stages a file whose contents are already in memory.
    pub fn bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.file(name, |w| Ok(w.write_all(bytes)?))
    }
    /// The names of the files staged so far, in order.
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|(_, path)| path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }
    /// Moves every staged file into place, all of them or (if interrupted first) none.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut registry = registry();
        if registry.interrupted {
            anyhow::bail!("interrupted");
        }
        let mut written = Vec::new();
        for (tmp, path) in std::mem::take(&mut self.files) {
            let staged = tmp.path().to_owned();
            tmp.persist(&path)
                .with_context(|| format!("cannot move output into {}", path.display()))?;
            registry.paths.retain(|p| *p != staged);
            written.push(path);
        }
        Ok(written)
    }
}

impl Drop for Staged {
    /// Files not committed are deleted (by `NamedTempFile`) and no longer registered.
    fn drop(&mut self) {
        let mut registry = registry();
        for (tmp, _) in &self.files {
            registry.paths.retain(|p| p != tmp.path());
        }
    }
}

/// Writes into `tmp` through a buffer, flushed at the end.
fn write_through_buffer(
    tmp: &mut tempfile::NamedTempFile,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let mut w = std::io::BufWriter::new(tmp.as_file_mut());
    write(&mut w)?;
    w.flush()?;
    Ok(())
}

/// A temporary file `.NAME.XXXXXX` in `dir`, readable as the umask allows (like any file the
/// user creates), where `tempfile` alone would make it private to the user.
fn temporary_file(dir: &Path, name: &str) -> Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).rand_bytes(TEMP_RANDOM_CHARS);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode is passed to open(2), which applies the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))
}

/// Locks the output folder against other `highneeds` commands writing into it. `None` where it
/// cannot be locked (a folder cannot be opened on Windows; some network file systems refuse).
fn lock_folder(dir: &Path) -> Result<Option<std::fs::File>> {
    let Ok(folder) = std::fs::File::open(dir) else {
        return Ok(None);
    };
    match folder.try_lock() {
        Ok(()) => Ok(Some(folder)),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "another highneeds command is writing into {}: wait for it, or choose another --out",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(_)) => Ok(None),
    }
}

/// Removes this program's temporary files from `dir`. Only called with the folder locked, so
/// none of them belongs to a command still running.
fn remove_stale_temporary_files(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name().to_str().is_some_and(is_temporary_file) {
            let path = entry.path();
            std::fs::remove_file(&path).with_context(|| {
                format!("cannot remove the stale temporary file {}", path.display())
            })?;
        }
    }
    Ok(())
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

    /// What `Fixed` wrote before it formatted on the stack: `format!` and the `-0` rule.
    fn reference(value: f64, d: usize) -> String {
        let s = format!("{value:.d$}");
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => s,
        }
    }

    #[test]
    fn stack_formatting_matches_format_and_the_negative_zero_rule() {
        let awkward = [
            0.0,
            -0.0,
            -0.0001,
            -0.00005,
            -0.00004999,
            -0.5,
            0.5,
            -0.49999,
            1.5,
            2.5,
            -2.5,
            0.125,
            -0.125,
            0.045,
            -0.045,
            1234.5678,
            -1234.5678,
            1e15 + 0.5,
            -9_007_199_254_740_993.0,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_496.5,
            3.5,
            -3.5,
            0.49999999999999994,
            -0.49999999999999994,
            1_234_567.5,
            -1_234_568.5,
            1e20,
            -1e20,
            1e39,
            -1e39,
            1e40,
            1e41,
            -1e45,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for &v in &awkward {
            for d in [0, 1, 2, 4, 6, 12, 30] {
                let want = reference(v, d);
                assert_eq!(Fixed::new(v, d).to_string(), want, "{v:e} to {d} decimals");
                let mut out = Vec::new();
                let mut w = ::csv::Writer::from_writer(&mut out);
                w.serialize([Fixed::new(v, d)]).unwrap();
                w.flush().unwrap();
                drop(w);
                assert_eq!(String::from_utf8(out).unwrap(), format!("{want}\n"));
            }
        }
        // The spill to the heap: longer than the stack buffer, still the same text.
        let long = Fixed::new(-1e45, 2).to_string();
        assert!(long.len() > STACK_TEXT, "{long}");
        assert_eq!(long, format!("{:.2}", -1e45));
        assert_eq!(Fixed::new(-0.004, 2).to_string(), "0.00");
        assert_eq!(Fixed::new(-0.005, 2).to_string(), "-0.01");
        assert_eq!(Fixed::new(f64::NAN, 2).to_string(), "NaN");
        assert_eq!(Fixed::new(f64::NEG_INFINITY, 2).to_string(), "-inf");
    }

    #[test]
    fn stack_formatting_matches_on_many_values() {
        // A fixed pseudo-random walk over magnitudes and signs, near and at rounding halves.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let scale = 10f64.powi((x % 40) as i32 - 12);
            let v = mantissa * scale;
            let d = (x >> 58) as usize % 7;
            assert_eq!(Fixed::new(v, d).to_string(), reference(v, d), "{v:e} {d}");
            let half = (mantissa * 1000.0).round() / 1000.0 + 0.0005;
            assert_eq!(Fixed::new(-half, 3).to_string(), reference(-half, 3));
            // Exact halves and their neighbours, whole (the integer path) and not.
            let k = (x >> 12) as f64 * scale.min(1.0);
            let k = k.trunc() + 0.5;
            for v in [
                k,
                -k,
                k.next_up(),
                k.next_down(),
                -k.next_up(),
                -k.next_down(),
            ] {
                for d in [0, 1] {
                    assert_eq!(Fixed::new(v, d).to_string(), reference(v, d), "{v:e} {d}");
                }
            }
        }
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
