//! The command line: outputs, headers, determinism, and input errors (exit code 2).

use crate::util::{self, bin, child_scenario, col, read_csv};
use highneeds::metric::{Metric, NationalMetric};
use predicates::prelude::*;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const COUNCILS_HEADER: &str = "scenario,la_code,la_name,fy,metric,mean,p05,p25,p50,p75,p95";
const NATIONAL_HEADER: &str = "scenario,fy,metric,mean,p05,p25,p50,p75,p95";
const SUMMARY_PREFIX: &str =
    "scenario,la_code,la_name,fy,deficit_p50,deficit_p95,reserves,p_deficit_exceeds_reserves";

fn run_baseline(out: &Path, extra: &[&str]) {
    let mut c = bin();
    c.arg("run")
        .arg(util::baseline_toml())
        .args(["--paths", "30", "--quiet", "--out"])
        .arg(out)
        .args(extra);
    c.assert().success();
}

fn first_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|e| panic!("`{s}` is not a number: {e}"))
}

/// Checks p05 <= p25 <= p50 <= p75 <= p95 given the index of p05.
fn assert_ordered(row: &[String], p05: usize, what: &str) {
    let v: Vec<f64> = (p05..p05 + 5).map(|i| num(&row[i])).collect();
    assert!(
        v.windows(2).all(|w| w[0] <= w[1]),
        "{what}: percentiles out of order in {row:?}"
    );
    assert!(
        v.iter().all(|x| x.is_finite()),
        "{what}: non-finite in {row:?}"
    );
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn run_writes_every_output_with_expected_columns_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_baseline(&out, &[]);
    for f in [
        "councils.csv",
        "national.csv",
        "summary.csv",
        "manifest.json",
        "councils_over_reserves.csv",
        "national_deficit.svg",
        "national_ehcps.svg",
    ] {
        let p = out.join(f);
        assert!(p.is_file(), "{f} not written");
        assert!(std::fs::metadata(&p).unwrap().len() > 0, "{f} is empty");
    }
    for svg in ["national_deficit.svg", "national_ehcps.svg"] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        assert!(text.contains("<svg"), "{svg} is not SVG");
    }
    // No staging files are left behind.
    let stray: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");

    // Expected horizon and override end come from the scenario itself.
    let ls = util::scenario();
    let years: Vec<String> = (ls.scenario.horizon.first_fy.0..=ls.scenario.horizon.last_fy.0)
        .map(|y| highneeds::FinancialYear(y).to_string())
        .collect();
    assert_eq!(years.first().unwrap(), "2024-25");
    assert!(years.contains(&"2035-36".to_string()), "{years:?}");
    let override_fy = ls.scenario.override_end.to_string();
    assert_eq!(override_fy, "2027-28");

    // councils.csv
    assert_eq!(first_line(&out.join("councils.csv")), COUNCILS_HEADER);
    let (h, rows) = read_csv(&out.join("councils.csv"));
    let (c_code, c_fy, c_metric, c_p05) = (
        col(&h, "la_code"),
        col(&h, "fy"),
        col(&h, "metric"),
        col(&h, "p05"),
    );
    let mut councils = BTreeSet::new();
    let mut fys = BTreeSet::new();
    let mut metrics = BTreeSet::new();
    let mut per_council_year: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r[0], "baseline");
        assert_ordered(r, c_p05, "councils.csv");
        councils.insert(r[c_code].clone());
        fys.insert(r[c_fy].clone());
        metrics.insert(r[c_metric].clone());
        *per_council_year
            .entry((r[c_code].clone(), r[c_fy].clone()))
            .or_default() += 1;
    }
    assert_eq!(councils.len(), 153, "councils in councils.csv");
    assert_eq!(fys, years.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(per_council_year.len(), 153 * years.len());
    assert!(
        per_council_year.values().all(|n| *n == Metric::COUNT),
        "every council-year has every metric once"
    );
    let mut want: Vec<String> = [
        "ehcps",
        "spend",
        "funding",
        "in_year_balance",
        "cumulative_deficit",
        "special_places",
        "overflow",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in highneeds::caseload::SETTING_NAMES {
        want.push(format!("ehcps_{s}"));
    }
    for a in highneeds::caseload::AGE_BAND_NAMES {
        want.push(format!("ehcps_{a}"));
    }
    for w in &want {
        assert!(metrics.contains(w), "councils.csv lacks metric {w}");
    }

    // national.csv
    assert_eq!(first_line(&out.join("national.csv")), NATIONAL_HEADER);
    let (h, rows) = read_csv(&out.join("national.csv"));
    let (n_fy, n_metric, n_p05) = (col(&h, "fy"), col(&h, "metric"), col(&h, "p05"));
    let mut nmetrics = BTreeSet::new();
    let mut nfys = BTreeSet::new();
    for r in &rows {
        assert_ordered(r, n_p05, "national.csv");
        nmetrics.insert(r[n_metric].clone());
        nfys.insert(r[n_fy].clone());
    }
    assert_eq!(rows.len(), years.len() * NationalMetric::COUNT);
    assert_eq!(nfys.len(), years.len());
    for w in [
        "ehcps",
        "cumulative_deficit",
        "net_cumulative_deficit",
        "councils_over_reserves",
    ] {
        assert!(nmetrics.contains(w), "national.csv lacks {w}");
    }

    // summary.csv
    let sum_header = first_line(&out.join("summary.csv"));
    assert!(sum_header.starts_with(SUMMARY_PREFIX), "{sum_header}");
    let (h, rows) = read_csv(&out.join("summary.csv"));
    for c in [
        "p_deficit_exceeds_reserves_se",
        "expected_shortfall",
        "expected_shortfall_se",
        "p_sv_breach",
    ] {
        assert!(h.iter().any(|x| x == c), "summary.csv lacks {c}");
    }
    assert_eq!(rows.len(), 153);
    let (s_fy, s_p50, s_p95, s_p) = (
        col(&h, "fy"),
        col(&h, "deficit_p50"),
        col(&h, "deficit_p95"),
        col(&h, "p_deficit_exceeds_reserves"),
    );
    let codes: BTreeSet<_> = rows.iter().map(|r| r[col(&h, "la_code")].clone()).collect();
    assert_eq!(
        codes, councils,
        "summary and councils.csv list the same councils"
    );
    for r in &rows {
        assert_eq!(r[s_fy], override_fy);
        assert!(num(&r[s_p50]) <= num(&r[s_p95]), "{r:?}");
        let p = num(&r[s_p]);
        assert!((0.0..=1.0).contains(&p), "{r:?}");
        if let Ok(p05) = r[col(&h, "deficit_p05")].parse::<f64>() {
            assert!(p05 <= num(&r[s_p50]), "{r:?}");
        }
        let breach = &r[col(&h, "p_sv_breach")];
        if !breach.is_empty() {
            assert!((0.0..=1.0).contains(&num(breach)), "{r:?}");
        }
    }

    // councils_over_reserves.csv: path shares add to 1.
    let (h, rows) = read_csv(&out.join("councils_over_reserves.csv"));
    let paths: usize = rows
        .iter()
        .map(|r| r[col(&h, "paths")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(paths, 30);

    // manifest.json
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
            .expect("manifest is JSON");
    assert_eq!(m["version"].as_str(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(m["seed"].as_u64(), Some(ls.scenario.run.seed));
    assert_eq!(m["paths"].as_u64(), Some(30));
    assert!(m.get("origin").is_none(), "a run has no back-test origin");
    assert!(m["threads"].as_u64().unwrap_or(0) >= 1);
    assert!(m["wall_seconds"].as_f64().unwrap() >= 0.0);
    assert!(m["council_years_per_second"].as_f64().unwrap() > 0.0);
    let inputs = m["inputs"].as_array().expect("inputs array");
    let find = |suffix: &str| {
        inputs
            .iter()
            .find(|i| {
                Path::new(i["file"].as_str().unwrap_or(""))
                    .file_name()
                    .is_some_and(|f| f == suffix)
            })
            .unwrap_or_else(|| panic!("manifest inputs lack {suffix}"))
    };
    let check_hash = |name: &str, path: &Path| {
        let entry = find(name);
        let h = entry["sha256"].as_str().unwrap();
        assert!(is_sha256(h), "{name}: {h}");
        let actual = format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()));
        assert_eq!(h, actual, "sha256 of {name}");
    };
    check_hash("baseline.toml", &util::baseline_toml());
    for f in highneeds::seeds::SEED_FILES {
        check_hash(f, &util::seeds_dir().join(f));
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    run_baseline(&a, &["--threads", "1", "--seed", "7"]);
    run_baseline(&b, &["--threads", "2", "--seed", "7"]);
    for f in ["councils.csv", "national.csv", "summary.csv"] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(x == y, "{f} differs between --threads 1 and --threads 2");
    }
}

/// The engine's step runs in a copy compiled for AVX2 and FMA where the CPU has them
/// (`src/vectors.rs`); `HIGHNEEDS_PORTABLE=1` forces the portable copy, which must write the same
/// bytes. 203 paths: whole lane groups of 4 and lone paths (203 = 50 x 4 + 3), in 4 tiles. On a
/// CPU without AVX2 both runs take the portable copy and this checks only repeatability.
#[test]
fn the_portable_and_the_wide_copies_of_the_step_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, portable) = (dir.path().join("wide"), dir.path().join("portable"));
    for (out, flag) in [(&wide, "0"), (&portable, "1")] {
        bin()
            .env("HIGHNEEDS_PORTABLE", flag)
            .arg("run")
            .arg(util::baseline_toml())
            .args(["--paths", "203", "--threads", "2", "--seed", "5"])
            .args(["--quiet", "--out"])
            .arg(out)
            .assert()
            .success();
    }
    for f in [
        "councils.csv",
        "councils_wide.csv",
        "national.csv",
        "summary.csv",
        "councils_over_reserves.csv",
    ] {
        let x = std::fs::read(wide.join(f)).unwrap();
        let y = std::fs::read(portable.join(f)).unwrap();
        assert!(x == y, "{f} differs between the wide and portable copies");
    }
}

#[test]
fn a_different_seed_changes_national_results() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("s1"), dir.path().join("s2"));
    run_baseline(&a, &["--seed", "1"]);
    run_baseline(&b, &["--seed", "2"]);
    let x = std::fs::read(a.join("national.csv")).unwrap();
    let y = std::fs::read(b.join("national.csv")).unwrap();
    assert_ne!(x, y, "national.csv should change with the seed");
}

fn check_fails(scenario: &Path, must_name: &[&str]) {
    let out = bin().arg("check").arg(scenario).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for s in must_name {
        assert!(stderr.contains(s), "stderr should name `{s}`: {stderr}");
    }
}

#[test]
fn misspelt_scenario_keys_exit_2_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = child_scenario(dir.path(), "typo.toml", "[demand]\ngrowth_trnd = 0.1");
    let file = nested.display().to_string();
    check_fails(&nested, &["growth_trnd", &file]);
    // `run` fails the same way and writes nothing.
    let out = dir.path().join("out");
    bin()
        .arg("run")
        .arg(&nested)
        .args(["--paths", "2", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("growth_trnd"));
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());

    let top = child_scenario(dir.path(), "top.toml", "descripton = \"typo\"");
    check_fails(&top, &["descripton", &top.display().to_string()]);
}

#[test]
fn out_of_range_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = child_scenario(dir.path(), "range.toml", "[hnsg]\nshare = 1.5");
    check_fails(&s, &["hnsg.share", &s.display().to_string()]);
}

fn run_with_seeds(seeds: &Path, out: &Path) -> String {
    let a = bin()
        .arg("run")
        .arg(util::baseline_toml())
        .args(["--paths", "2", "--quiet", "--seeds"])
        .arg(seeds)
        .arg("--out")
        .arg(out)
        .assert()
        .code(2);
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

fn assert_no_outputs(out: &Path) {
    if out.exists() {
        let left: Vec<_> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "files left after an error: {left:?}");
    }
}

#[test]
fn missing_seeds_file_exits_2_naming_it() {
    let seeds = util::copy_seeds();
    std::fs::remove_file(seeds.path().join("hnb.csv")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("out");
    let stderr = run_with_seeds(seeds.path(), &out);
    assert!(stderr.contains("hnb.csv"), "{stderr}");
    assert_no_outputs(&out);
    // `check` too.
    bin()
        .arg("check")
        .arg(util::baseline_toml())
        .arg("--seeds")
        .arg(seeds.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hnb.csv"));
}

#[test]
fn bad_seeds_value_exits_2_naming_file_and_line_and_writes_nothing() {
    let seeds = util::copy_seeds();
    let path = seeds.path().join("ehcps.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 5 of the file (the 4th data row): replace the ehcps cell with text.
    let mut cells: Vec<String> = lines[4].split(',').map(str::to_string).collect();
    cells[2] = "lots".into();
    lines[4] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out");
    let stderr = run_with_seeds(seeds.path(), &out);
    assert!(stderr.contains("ehcps.csv"), "{stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");
    assert_no_outputs(&out);

    // An existing, empty output folder stays empty.
    let existing = out_dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    run_with_seeds(seeds.path(), &existing);
    assert_no_outputs(&existing);
}

#[test]
fn negative_seeds_value_exits_2_naming_file_and_line() {
    let seeds = util::copy_seeds();
    let path = seeds.path().join("hnb.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[9].split(',').map(str::to_string).collect();
    cells[2] = "-5".into();
    lines[9] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let stderr = run_with_seeds(seeds.path(), &out.path().join("out"));
    assert!(stderr.contains("hnb.csv"), "{stderr}");
    assert!(stderr.contains("line 10"), "{stderr}");
}

#[test]
fn check_prints_the_resolved_scenario_and_help_works() {
    let a = bin()
        .arg("check")
        .arg(util::baseline_toml())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(stdout.contains("first_fy"), "{stdout}");
    assert!(stdout.contains("name = \"baseline\""), "{stdout}");
    // The printed scenario is itself valid TOML.
    let body: String = stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    body.parse::<toml::Table>().expect("check prints TOML");
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("run"));
    bin().args(["run", "--help"]).assert().success();
}

#[test]
fn every_shipped_scenario_passes_check() {
    let mut n = 0;
    for entry in std::fs::read_dir(util::root().join("scenarios")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            n += 1;
            let a = bin().arg("check").arg(&p).assert();
            let o = a.get_output();
            assert!(
                o.status.success(),
                "{} fails check: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    assert!(n >= 1, "no scenarios found");
}

#[test]
fn bad_run_options_and_missing_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for opt in [["--paths", "0"], ["--threads", "0"]] {
        bin()
            .arg("run")
            .arg(util::baseline_toml())
            .args(["--quiet", "--paths", "2"])
            .args(opt)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(opt[0]));
        assert_no_outputs(&out);
    }
    let missing = dir.path().join("nope.toml");
    bin()
        .arg("check")
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.toml"));
    let looping = dir.path().join("loop.toml");
    std::fs::write(&looping, "extends = \"loop.toml\"\n").unwrap();
    bin()
        .arg("check")
        .arg(&looping)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("loop"));
    // A back-test origin with nothing after it to score.
    bin()
        .arg("backtest")
        .arg(util::baseline_toml())
        .args(["--origin", "2030-31", "--paths", "2", "--quiet", "--out"])
        .arg(dir.path().join("bt"))
        .assert()
        .code(2);
}

#[test]
fn misplaced_key_is_reported_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    // `persistence` is valid in [demand] (line 3) but not in [costs] (line 5).
    let s = child_scenario(
        dir.path(),
        "misplaced.toml",
        "[demand]\npersistence = 0.5\n[costs]\npersistence = 0.5",
    );
    let a = bin().arg("check").arg(&s).assert().code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(stderr.contains("persistence"), "{stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");
}

#[test]
fn unreadable_file_message_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let a = bin()
        .arg("check")
        .arg(dir.path().join("nope.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    let os = std::fs::read(dir.path().join("nope.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(stderr.matches(&os).count(), 1, "{stderr}");
}

#[test]
fn council_missing_a_census_year_exits_2() {
    let seeds = util::copy_seeds();
    for f in ["ehcps.csv", "caseload.csv"] {
        let p = seeds.path().join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("202,2025,"))
            .collect();
        assert!(kept.len() < text.lines().count());
        std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let stderr = run_with_seeds(seeds.path(), &out.path().join("out"));
    assert!(
        stderr.contains("ehcps.csv") || stderr.contains("caseload.csv"),
        "{stderr}"
    );
}

#[test]
fn council_missing_an_allocation_year_exits_2() {
    let seeds = util::copy_seeds();
    let p = seeds.path().join("hnb.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("202,2024-25,"))
        .collect();
    assert!(kept.len() < text.lines().count());
    std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let stderr = run_with_seeds(seeds.path(), &out.path().join("out"));
    assert!(stderr.contains("hnb.csv"), "{stderr}");
}

#[test]
fn a_reader_that_closes_early_is_not_an_error() {
    // `highneeds check scenarios/baseline.toml | head`: the pipe is closed before the first line
    // is written (calibration comes first), so the writes meet a broken pipe.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_highneeds"))
        .arg("check")
        .arg(util::baseline_toml())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start highneeds");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for highneeds");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
