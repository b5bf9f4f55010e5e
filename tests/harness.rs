//! The hostile-input harness (issue 11, "keep it found"). Proptest writes scenario files with
//! hostile values at one to three of the baseline's keys (every number, string and table of the
//! resolved scenario, with an entry added to its empty lists): literals of every type, huge,
//! tiny and non-finite numbers, long strings, unreal financial years, deleted keys, and values
//! inside each key's declared range (its ends included); and seeds folders with mutated tables
//! (duplicated, deleted or emptied rows, hostile cells, Excel's BOM and CRLF, truncation,
//! swapped columns). It runs the real binary on each (`run`, or `backtest` one case in five),
//! time-boxed. Every case must end in
//! - exit 0 with only finite, plausible figures in every CSV and on stdout, and a bounded output;
//! - or exit 2 with a message naming the file and (scenarios) the whole key, its line and what
//!   it allows, or (seeds) a line, a column or what the table lacks, with nothing written;
//! - or, only where several in-range scenario values combine (or a longer horizon compounds
//!   them), exit 1 with the engine's refusal of an implausible result, naming where;
//!
//! never a panic, another exit code, a hang (more than 120 s) or a runaway output.
//!
//! `HIGHNEEDS_HARNESS_CASES=N` sets the cases per property (default 150, about 15 s for both
//! on two cores); `HIGHNEEDS_HARNESS_SEED=N` the generator's seed (default fixed, so CI is
//! reproducible), or `random`; `HIGHNEEDS_HARNESS_LOG=FILE` appends every case's mutation, exit
//! code and message to FILE. Each property prints its tally of exit codes on stderr
//! (`cargo test --release harness -- --nocapture`).

use crate::util::{bin, copy_seeds, root, seeds_dir};
use highneeds::export::size::MAX_OUTPUT_BYTES;
use highneeds::summary::is_plausible;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Paths per case: enough to exercise every step, few enough to keep CI fast.
const PATHS: &str = "8";
/// A case that runs longer than this is a hang (a normal one takes about 0.3 s).
const TIME_BOX: Duration = Duration::from_secs(120);

fn config() -> Config {
    let env = |name| std::env::var(name).ok();
    let cases = env("HIGHNEEDS_HARNESS_CASES").map_or(150, |n| n.parse().expect("a number"));
    let rng_seed = match env("HIGHNEEDS_HARNESS_SEED").as_deref() {
        Some("random") => RngSeed::Random,
        Some(n) => RngSeed::Fixed(n.parse().expect("a number or `random`")),
        None => RngSeed::Fixed(20261123),
    };
    Config {
        cases,
        rng_seed,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One step into a TOML document: a table key or an array index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The baseline scenario as `highneeds check` resolves it, and the path of every value in it.
struct Resolved {
    table: toml::Table,
    leaves: Vec<Vec<Step>>,
    /// Every dotted key path in the scenario (sections and leaves), and `extends`.
    keys: Vec<String>,
}

fn resolved() -> &'static Resolved {
    static R: OnceLock<Resolved> = OnceLock::new();
    R.get_or_init(|| {
        let out = bin()
            .args(["check", "scenarios/baseline.toml"])
            .output()
            .expect("highneeds check runs");
        assert!(out.status.success(), "check of the baseline failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let mut table: toml::Table = text.parse().expect("check prints the resolved scenario");
        // The baseline's lists are empty: give them an entry to mutate.
        let extra: toml::Table = r#"
            placement.new_places = [{ fy = "2027-28", places = 5000.0 }]
            reserves.overrides = { "330" = 5.0e7 }
        "#
        .parse()
        .expect("TOML");
        for (section, values) in extra {
            let target = table[&section].as_table_mut().expect("a section");
            target.extend(values.as_table().expect("a table").clone());
        }
        let (mut leaves, mut keys) = (Vec::new(), Vec::new());
        walk(
            &toml::Value::Table(table.clone()),
            &mut Vec::new(),
            &mut leaves,
            &mut keys,
        );
        keys.push("extends".to_string());
        keys.sort();
        keys.dedup();
        Resolved {
            table,
            leaves,
            keys,
        }
    })
}

fn walk(v: &toml::Value, at: &mut Vec<Step>, leaves: &mut Vec<Vec<Step>>, keys: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, child) in t {
                at.push(Step::Key(k.clone()));
                keys.push(dotted(at));
                walk(child, at, leaves, keys);
                at.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(Step::Index(i));
                walk(child, at, leaves, keys);
                at.pop();
            }
        }
        _ => leaves.push(at.clone()),
    }
}

/// The dotted key of a path (array indices left out): `placement.new_places.fy`.
fn dotted(path: &[Step]) -> String {
    let names: Vec<&str> = path
        .iter()
        .filter_map(|step| match step {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect();
    names.join(".")
}

fn get_mut<'a>(root: &'a mut toml::Value, path: &[Step]) -> &'a mut toml::Value {
    path.iter().fold(root, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// What replaces a scenario value.
#[derive(Debug, Clone)]
enum Hostile {
    /// A TOML literal as written (some are not valid TOML, or not the key's type).
    Raw(&'static str),
    Float(f64),
    Int(i64),
    /// The original value times this.
    Scaled(f64),
    /// A string of this many characters.
    Long(usize),
    /// A financial year starting in this calendar year.
    Fy(i64),
    /// A value inside the key's allowed range (`ranges::KEYS`): its low end, its high end, or
    /// this share of the way between (the original value where the key has no range).
    InRange(u8, f64),
    /// The key is removed.
    Delete,
}

const RAW: &[&str] = &[
    "inf",
    "-inf",
    "nan",
    "+inf",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "0",
    "-0.0",
    "5e-324",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "4294967295",
    "-1",
    "1",
    "2",
    "0.5",
    "1.0000001",
    "\"abc\"",
    "\"\"",
    "true",
    "[]",
    "{}",
    "[1, 2]",
    "\"2027-28\"",
    "\"0000-01\"",
    "\"+999-00\"",
    "\"2028-03-31\"",
    "\"2028-02-30\"",
    "1979-05-27",
];

fn float_literal(f: f64) -> String {
    if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{f:e}")
    }
}

impl Hostile {
    /// The TOML literal that replaces `original` (`None`: remove the key).
    fn literal(&self, original: &toml::Value, key: &str) -> Option<String> {
        Some(match self {
            Hostile::InRange(end, share) => in_range(original, key, *end, *share),
            Hostile::Raw(s) => s.to_string(),
            Hostile::Float(f) => float_literal(*f),
            Hostile::Int(i) => i.to_string(),
            Hostile::Scaled(k) => match original {
                toml::Value::Float(f) => float_literal(f * k),
                toml::Value::Integer(i) => float_literal(*i as f64 * k),
                _ => "\"abc\"".to_string(),
            },
            Hostile::Long(n) => format!("\"{}\"", "x".repeat(*n)),
            Hostile::Fy(y) => format!("\"{y}-{:02}\"", (y + 1).rem_euclid(100)),
            Hostile::Delete => return None,
        })
    }
}

fn hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        4 => select(RAW).prop_map(Hostile::Raw),
        2 => any::<f64>().prop_map(Hostile::Float),
        2 => (-1e3..1e3f64).prop_map(Hostile::Float),
        1 => (-5..100i64).prop_map(Hostile::Int),
        3 => select(vec![-1.0, 0.0, 0.5, 2.0, 10.0, 1e6, 1e300]).prop_map(Hostile::Scaled),
        1 => select(vec![300usize, 5_000, 200_000]).prop_map(Hostile::Long),
        1 => select(vec![-5i64, 1900, 1999, 2000, 2020, 2024, 2030, 2100, 2101, 9999])
            .prop_map(Hostile::Fy),
        1 => Just(Hostile::Delete),
        6 => (0..3u8, 0.0..1.0f64).prop_map(|(end, share)| Hostile::InRange(end, share)),
    ]
}

/// A value of `key` inside its allowed range: the low end, the high end, or `share` of the way.
fn in_range(original: &toml::Value, key: &str, end: u8, share: f64) -> String {
    use highneeds::scenario::ranges::{rule, Rule};
    let (range, whole) = match rule(key) {
        Some(Rule::Number(range)) => (range, false),
        Some(Rule::Whole(range)) => (range, true),
        _ => return original.to_string(),
    };
    // An open end is approached, not reached.
    let (low, high) = (range.low, range.high);
    let nudge = (high - low) * 1e-9;
    let value = match end {
        0 => low + if range.low_open { nudge } else { 0.0 },
        1 => high - if range.high_open { nudge } else { 0.0 },
        _ => low + share * (high - low),
    };
    if whole {
        format!("{}", value.round() as i64)
    } else {
        float_literal(value)
    }
}

/// The resolved baseline with the values at `mutations` replaced, as TOML text, and the names
/// of the keys replaced.
fn hostile_scenario(mutations: &[(Index, Hostile)]) -> (String, Vec<String>) {
    let r = resolved();
    let mut doc = toml::Value::Table(r.table.clone());
    let mut literals = BTreeMap::new();
    let mut names = Vec::new();
    for (n, (index, h)) in mutations.iter().enumerate() {
        let path = index.get(&r.leaves);
        names.push(dotted(path));
        let (parent, last) = path.split_at(path.len() - 1);
        let parent = get_mut(&mut doc, parent);
        let original = match &last[0] {
            Step::Key(k) => parent.get(k.as_str()).cloned(),
            Step::Index(i) => parent.get(*i).cloned(),
        };
        let Some(original) = original else { continue }; // removed by an earlier mutation
        let literal = h.literal(&original, &dotted(path));
        match (&last[0], literal) {
            (Step::Key(k), None) => {
                parent.as_table_mut().map(|t| t.remove(k));
            }
            (Step::Index(i), None) => {
                parent.as_array_mut().map(|a| a.remove(*i));
            }
            (step, Some(lit)) => {
                let marker = format!("@@hostile{n}@@");
                let slot = match step {
                    Step::Key(k) => &mut parent[k.as_str()],
                    Step::Index(i) => &mut parent[*i],
                };
                *slot = toml::Value::String(marker.clone());
                literals.insert(format!("\"{marker}\""), lit);
            }
        }
    }
    let mut text = toml::to_string(&doc).expect("TOML");
    for (marker, lit) in literals {
        text = text.replace(&marker, &lit);
    }
    (text, names)
}

/// How cases ended, by property and exit code.
fn tally() -> &'static Mutex<BTreeMap<String, usize>> {
    static T: OnceLock<Mutex<BTreeMap<String, usize>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn count(property: &str, outcome: &str) {
    let mut t = tally().lock().unwrap_or_else(|e| e.into_inner());
    *t.entry(format!("{property}: {outcome}")).or_default() += 1;
}

fn print_tally(property: &str) {
    let t = tally().lock().unwrap_or_else(|e| e.into_inner());
    let lines: Vec<String> = t
        .iter()
        .filter(|(k, _)| k.starts_with(property))
        .map(|(k, n)| format!("  {k}: {n}"))
        .collect();
    eprintln!(
        "harness tally (cases, shrinking included)\n{}",
        lines.join("\n")
    );
}

/// With `HIGHNEEDS_HARNESS_LOG=FILE`, every case's exit code and message is appended to FILE.
fn log_case(property: &str, what: &str, code: Option<i32>, stderr: &str) {
    use std::io::Write;
    let Ok(log) = std::env::var("HIGHNEEDS_HARNESS_LOG") else {
        return;
    };
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    else {
        return;
    };
    let _ = writeln!(
        file,
        "{property}\t{code:?}\t{what}\t{}",
        stderr.trim().replace('\n', " | ")
    );
}

/// Runs the binary time-boxed and checks how it ended. `files` are names of which the message
/// of a rejection must contain one; `keys` are names of which it must contain one (or a line).
fn check_case(
    property: &str,
    what: &str,
    args: &[&str],
    out: &Path,
    files: &[String],
    keys: &[String],
    refusal_allowed: bool,
) -> Result<(), TestCaseError> {
    let output = bin()
        .args(args)
        .args(["--paths", PATHS, "--threads", "1", "--quiet", "--out"])
        .arg(out)
        .timeout(TIME_BOX)
        .output()
        .map_err(|e| TestCaseError::fail(format!("cannot run: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    log_case(property, what, output.status.code(), &stderr);
    match output.status.code() {
        Some(0) => {
            count(property, "exit 0");
            check_outputs(out, &stdout)
        }
        Some(2) => {
            count(property, "exit 2");
            let names_file = files.iter().any(|f| stderr.contains(f.as_str()));
            prop_assert!(names_file, "exit 2 without naming the file: {stderr}");
            if property == "scenario" {
                // The key, in full, and what it allows; its line unless it is missing.
                // Missing keys are listed a line each, as `highneeds check` prints them.
                let names_key = keys.iter().any(|k| {
                    stderr.contains(&format!("`{k}`")) || stderr.contains(&format!("\n  {k} = "))
                });
                let says_allowed = [
                    "allowed",
                    "must",
                    "at most",
                    "missing",
                    "write it like",
                    "use ",
                    "say where",
                ]
                .iter()
                .any(|word| stderr.contains(word));
                let names_line = stderr.contains(", line ")
                    || stderr.contains("is missing")
                    || stderr.contains("are missing");
                prop_assert!(names_key, "exit 2 without naming the key: {stderr}");
                prop_assert!(says_allowed, "exit 2 without what is allowed: {stderr}");
                prop_assert!(names_line, "exit 2 without the line: {stderr}");
            } else {
                // A seeds table can be wrong as a whole (no rows, a council missing): its
                // name is enough there; otherwise a line or a column.
                let whole_table = ["no ", "has no row", "missing", "empty", "needs"]
                    .iter()
                    .any(|word| stderr.contains(word));
                let names_place = stderr.contains("line ")
                    || whole_table
                    || keys.iter().any(|k| stderr.contains(k.as_str()));
                prop_assert!(names_place, "exit 2 without a line or column: {stderr}");
            }
            prop_assert!(
                !out.exists() || std::fs::read_dir(out).map_or(0, |d| d.count()) == 0,
                "exit 2 but files were written"
            );
            Ok(())
        }
        // The engine's refusal of an implausible result (README, "Errors and robustness"):
        // allowed only where values that are each within range combine (several keys changed,
        // or a longer horizon compounding them), and it must name what and where.
        Some(1) if refusal_allowed && stderr.contains("refusing to write the results") => {
            count(property, "exit 1 (implausible result refused)");
            let names_where = stderr.contains(" of `") && stderr.contains(" in 20");
            prop_assert!(names_where, "a refusal that does not say where: {stderr}");
            prop_assert!(!out.exists(), "refused but files were written");
            Ok(())
        }
        code => {
            count(property, &format!("FAILED {code:?}"));
            Err(TestCaseError::fail(format!(
                "exit {code:?} (a panic is 101, an abort 134, a hang or signal None): {stderr}"
            )))
        }
    }
}

/// Exit 0: every figure in every CSV is finite and plausible, plans are not negative, and the
/// output is within the documented bound.
fn check_outputs(out: &Path, stdout: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !stdout.contains("NaN") && !stdout.contains("inf"),
        "{stdout}"
    );
    let mut total = 0;
    for entry in std::fs::read_dir(out).expect("output folder").flatten() {
        let path = entry.path();
        total += entry.metadata().map_or(0, |m| m.len());
        if path.extension().is_some_and(|e| e == "csv") {
            check_csv(&path)?;
        }
    }
    prop_assert!(total <= MAX_OUTPUT_BYTES, "wrote {total} bytes");
    Ok(())
}

fn check_csv(path: &Path) -> Result<(), TestCaseError> {
    let mut rdr = csv::Reader::from_path(path).expect("a CSV");
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let metric = header.iter().position(|h| h == "metric");
    let text = |h: &str| matches!(h, "scenario" | "la_name" | "fy" | "metric" | "period");
    for (line, record) in rdr.records().enumerate() {
        let record = record.expect("a record");
        let plans = metric.is_some_and(|m| record[m].starts_with("ehcps"));
        for (h, cell) in header.iter().zip(record.iter()) {
            if text(h) {
                continue;
            }
            if let Ok(v) = cell.parse::<f64>() {
                let file = path.display();
                prop_assert!(is_plausible(v), "{file}, row {}: {h} = {cell}", line + 2);
                prop_assert!(
                    !(plans && v < 0.0),
                    "{file}, row {}: negative plans {h} = {cell}",
                    line + 2
                );
            }
        }
    }
    Ok(())
}

#[test]
fn hostile_scenario_values() {
    let case = (
        proptest::collection::vec((any::<Index>(), hostile()), 1..=3),
        proptest::bool::weighted(0.2),
    );
    let mut runner = TestRunner::new(config());
    let result = runner.run(&case, |(mutations, backtest)| {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("hostile.toml");
        let (text, mut keys) = hostile_scenario(&mutations);
        let names = keys.clone();
        std::fs::write(&file, text).expect("write scenario");
        keys.extend(resolved().keys.iter().cloned());
        let out = dir.path().join("out");
        let file_arg = file.to_str().expect("utf-8 path");
        let args: Vec<&str> = if backtest {
            vec!["backtest", file_arg, "--origin", "2021-22"]
        } else {
            vec!["run", file_arg]
        };
        let what = format!(
            "{:?} {:?}",
            names,
            mutations.iter().map(|m| &m.1).collect::<Vec<_>>()
        );
        let combined = mutations.len() > 1 || names.iter().any(|n| n.starts_with("horizon."));
        check_case(
            "scenario",
            &what,
            &args,
            &out,
            &["hostile.toml".to_string()],
            &keys,
            combined,
        )
    });
    print_tally("scenario");
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// What is done to one seeds table.
#[derive(Debug, Clone)]
enum SeedMutation {
    DuplicateRow(Index),
    DeleteRow(Index),
    /// Header only.
    NoRows,
    /// Zero bytes.
    Empty,
    Cell(Index, Index, &'static str),
    /// A byte-order mark and CRLF line ends (as Excel saves).
    BomCrlf,
    /// Cut at this share of its length.
    Truncate(Index),
    /// Two columns swapped (header and cells).
    SwapColumns(Index, Index),
}

const CELLS: &[&str] = &[
    "abc",
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "-1",
    "0",
    "99999999999999999999",
    "1e-320",
    " 12 ",
    "2025-03-31",
    "NA",
    "1,000",
];

fn seed_mutation() -> impl Strategy<Value = SeedMutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(SeedMutation::DuplicateRow),
        2 => any::<Index>().prop_map(SeedMutation::DeleteRow),
        1 => Just(SeedMutation::NoRows),
        1 => Just(SeedMutation::Empty),
        5 => (any::<Index>(), any::<Index>(), select(CELLS))
            .prop_map(|(r, c, v)| SeedMutation::Cell(r, c, v)),
        1 => Just(SeedMutation::BomCrlf),
        1 => any::<Index>().prop_map(SeedMutation::Truncate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| SeedMutation::SwapColumns(a, b)),
    ]
}

/// The seeds' CSV tables, by file name.
fn seed_tables() -> &'static Vec<String> {
    static T: OnceLock<Vec<String>> = OnceLock::new();
    T.get_or_init(|| {
        let mut names: Vec<String> = std::fs::read_dir(seeds_dir())
            .expect("seeds/")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".csv"))
            .collect();
        names.sort();
        names
    })
}

fn mutate_table(path: &Path, m: &SeedMutation) {
    let text = std::fs::read_to_string(path).expect("seeds table");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let rows = lines.len().saturating_sub(1).max(1);
    let new_text = match m {
        SeedMutation::DuplicateRow(i) => {
            let row = lines.get(1 + i.index(rows)).cloned().unwrap_or_default();
            lines.push(row);
            lines.join("\n") + "\n"
        }
        SeedMutation::DeleteRow(i) => {
            if lines.len() > 1 {
                lines.remove(1 + i.index(rows));
            }
            lines.join("\n") + "\n"
        }
        SeedMutation::NoRows => lines.first().cloned().unwrap_or_default() + "\n",
        SeedMutation::Empty => String::new(),
        SeedMutation::Cell(r, c, v) => {
            let mut records = read_records(&text);
            // A data row (records[0] is the header).
            let r = 1 + r.index(records.len().saturating_sub(1).max(1));
            if let Some(rec) = records.get_mut(r) {
                let c = c.index(rec.len().max(1));
                if let Some(cell) = rec.get_mut(c) {
                    *cell = v.to_string();
                }
            }
            write_records(&records)
        }
        SeedMutation::BomCrlf => format!("\u{feff}{}\r\n", lines.join("\r\n")),
        SeedMutation::Truncate(i) => {
            let mut cut = i.index(text.len().max(1));
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        SeedMutation::SwapColumns(a, b) => {
            let mut records = read_records(&text);
            let width = records.first().map_or(1, |r| r.len().max(1));
            let (a, b) = (a.index(width), b.index(width));
            for rec in &mut records {
                if a < rec.len() && b < rec.len() {
                    rec.swap(a, b);
                }
            }
            write_records(&records)
        }
    };
    std::fs::write(path, new_text).expect("write seeds table");
}

fn read_records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .flatten()
        .map(|r| r.iter().map(String::from).collect())
        .collect()
}

fn write_records(records: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in records {
        w.write_record(r).expect("record");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}

#[test]
fn hostile_seed_tables() {
    let case = (
        proptest::collection::vec((any::<Index>(), seed_mutation()), 1..=2),
        proptest::bool::weighted(0.2),
    );
    let mut runner = TestRunner::new(config());
    let tables = seed_tables();
    let result = runner.run(&case, |(mutations, backtest)| {
        let seeds = copy_seeds();
        for (table, m) in &mutations {
            mutate_table(&seeds.path().join(table.get(tables)), m);
        }
        let out = tempfile::tempdir().expect("temp dir");
        let out = out.path().join("out");
        let seeds_arg: PathBuf = seeds.path().to_owned();
        let seeds_arg = seeds_arg.to_str().expect("utf-8 path");
        let scenario = root().join("scenarios/baseline.toml");
        let scenario = scenario.to_str().expect("utf-8 path");
        let mut args = if backtest {
            vec!["backtest", scenario, "--origin", "2021-22"]
        } else {
            vec!["run", scenario]
        };
        args.extend(["--seeds", seeds_arg]);
        // A rejection names a seeds table (any: a council deleted from one is missed by
        // another) and a line, a column or a key of it.
        let columns: Vec<String> = tables
            .iter()
            .flat_map(|t| header(&seeds_dir().join(t)))
            .collect();
        let what = format!(
            "{:?}",
            mutations
                .iter()
                .map(|(t, m)| (t.get(tables), m))
                .collect::<Vec<_>>()
        );
        check_case("seeds", &what, &args, &out, tables, &columns, false)
    });
    print_tally("seeds");
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn header(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .next()
        .map(|h| h.split(',').map(String::from).collect())
        .unwrap_or_default()
}
