//! `highneeds sensitivity`: one input at a time on common random numbers, the global rank
//! measure, thread-count independence, and bad `[[sensitivity]]` tables (exit code 2).

use crate::util::{self, bin, child_scenario, col, read_csv};
use highneeds::engine::{PathParameter, RunConfig};
use highneeds::scenario::LoadedScenario;
use highneeds::sensitivity::{sensitivity, InputEffect, Sensitivity};
use predicates::prelude::*;
use std::path::Path;

const PATHS: usize = 120;

fn config() -> RunConfig {
    RunConfig {
        paths: PATHS,
        seed: util::SEED,
    }
}

/// A scenario extending the baseline whose `[[sensitivity]]` table is `table`, and `extra` keys.
fn with_table(dir: &Path, table: &str, extra: &str) -> LoadedScenario {
    let path = child_scenario(dir, "sens.toml", &format!("{extra}\n{table}"));
    highneeds::scenario::load(&path).expect("the scenario loads")
}

fn analyse(s: &LoadedScenario) -> Sensitivity {
    sensitivity(util::baseline(), s, config(), &|| {}).expect("the sensitivity runs")
}

fn input<'a>(s: &'a Sensitivity, key: &str) -> &'a InputEffect {
    s.inputs
        .iter()
        .find(|e| e.input.key == key)
        .unwrap_or_else(|| panic!("no input {key}"))
}

const AT_BASE: &str = r#"
[[sensitivity]]
key = "demand.trend_mean"
low = 0.0
high = 0.0
source = "the baseline's own value on both sides"

[[sensitivity]]
key = "costs.non_plan_driver"
low = "plans"
high = "plans"
source = "the baseline's own rule on both sides"

[[sensitivity]]
key = "funding.growth_mean"
low = 0.0
high = 0.06
source = "a test"
"#;

#[test]
fn an_input_at_its_base_value_moves_nothing_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let s = analyse(&with_table(dir.path(), AT_BASE, ""));
    assert_eq!(s.measures.len(), 3);
    for key in ["demand.trend_mean", "costs.non_plan_driver"] {
        let e = input(&s, key);
        for effect in e.low.iter().chain(&e.high) {
            let d = effect.difference;
            assert_eq!(
                [d.mean, d.p05, d.p25, d.p50, d.p75, d.p95],
                [0.0; 6],
                "{key}"
            );
            assert_eq!(effect.value, effect.base, "{key}");
        }
        assert_eq!(e.swing(0), 0.0);
    }
    // The same machinery moves a real change: HNB growth from 2027-28 changes the deficit.
    let hnb = input(&s, "funding.growth_mean");
    assert!(hnb.swing(0) > 0.0, "{:?}", hnb.low[0]);
}

const SIGNS: &str = r#"
[[sensitivity]]
key = "costs.inflation.special_independent"
low = 0.02
high = 0.07
source = "a test"

[[sensitivity]]
key = "interim_support.share_high"
low = 0.0
high = 1.0
source = "a test"

[[sensitivity]]
key = "placement.new_places"
low = []
high = [{ fy = "2026-27", places = 20000 }]
source = "a test"
"#;

#[test]
fn higher_fee_inflation_raises_the_deficit_and_more_interim_support_lowers_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = analyse(&with_table(dir.path(), SIGNS, ""));
    // England's deficit at the override end, path by path on the same random numbers.
    let fees = input(&s, "costs.inflation.special_independent");
    assert!(fees.low[0].difference.p95 < 0.0, "{:?}", fees.low[0]);
    assert!(fees.high[0].difference.p05 > 0.0, "{:?}", fees.high[0]);
    assert!(fees.high[0].value > fees.high[0].base);
    let interim = input(&s, "interim_support.share_high");
    assert!(interim.low[0].difference.p05 > 0.0, "{:?}", interim.low[0]);
    assert!(
        interim.high[0].difference.p95 < 0.0,
        "{:?}",
        interim.high[0]
    );
    // Central pressure in 2028-29 is after interim support ends: untouched by it.
    assert_eq!(s.measures[2].1.to_string(), "2028-29");
    assert_eq!(interim.high[2].difference.p50, 0.0);
    // New places replace independent placements: they lower central pressure in 2028-29.
    let places = input(&s, "placement.new_places");
    assert_eq!(places.low[2].difference.p50, 0.0);
    assert!(places.high[2].difference.p50 < 0.0, "{:?}", places.high[2]);
}

#[test]
fn the_global_measure_finds_the_draw_that_drives_the_deficit() {
    let dir = tempfile::tempdir().unwrap();
    let rank = |s: &Sensitivity| {
        let mut g = s.global.clone();
        g.sort_by(|a, b| {
            let size = |x: &highneeds::sensitivity::GlobalEffect| x.spearman.map_or(-1.0, f64::abs);
            size(b).total_cmp(&size(a))
        });
        g
    };
    // In the baseline the interim support share (uniform on 0 to 0.5) dominates: it pays up to
    // half of two years' overspend.
    let base = analyse(&with_table(dir.path(), AT_BASE, ""));
    let top = rank(&base)[0];
    assert_eq!(top.parameter, PathParameter::InterimShare);
    assert!(top.spearman.unwrap() < -0.6, "{top:?}");
    // With interim support fixed and a wide national demand level, the level leads; the fixed
    // share is the same on every path and has no correlation.
    let extra =
        "[interim_support]\nshare_low = 0.25\nshare_high = 0.25\n[demand]\nlevel_sd = 0.4\n";
    let table = AT_BASE.replace("interim", "");
    let demand = analyse(&with_table(dir.path(), &table, extra));
    let ranked = rank(&demand);
    assert_eq!(
        ranked[0].parameter,
        PathParameter::DemandLevel,
        "{ranked:?}"
    );
    assert!(ranked[0].spearman.unwrap() > 0.5, "{:?}", ranked[0]);
    let interim = demand
        .global
        .iter()
        .find(|g| g.parameter == PathParameter::InterimShare)
        .unwrap();
    assert_eq!(interim.spearman, None);
}

fn run_cli(out: &Path, scenario: &Path, threads: &str) {
    bin()
        .arg("sensitivity")
        .arg(scenario)
        .args(["--paths", "40", "--quiet", "--threads", threads, "--out"])
        .arg(out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Independent special fee inflation",
        ));
}

#[test]
fn the_files_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = child_scenario(dir.path(), "sens.toml", SIGNS);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run_cli(&one, &scenario, "1");
    run_cli(&two, &scenario, "2");
    for file in ["sensitivity.csv", "sensitivity_global.csv", "tornado.svg"] {
        let a = std::fs::read(one.join(file)).expect("written");
        assert!(!a.is_empty(), "{file} is empty");
        assert_eq!(a, std::fs::read(two.join(file)).expect("written"), "{file}");
    }
    let (header, rows) = read_csv(&one.join("sensitivity.csv"));
    assert_eq!(
        header.join(","),
        "scenario,input,label,side,input_value,base_input_value,metric,fy,base,value,difference,difference_p05,difference_p95,source"
    );
    // 3 inputs x 2 sides x 3 measures.
    assert_eq!(rows.len(), 18);
    let (input, side, value) = (
        col(&header, "input"),
        col(&header, "side"),
        col(&header, "input_value"),
    );
    let places_high = rows
        .iter()
        .find(|r| r[input] == "placement.new_places" && r[side] == "high")
        .unwrap();
    assert!(places_high[value].contains("20000"), "{places_high:?}");
    let (header, rows) = read_csv(&one.join("sensitivity_global.csv"));
    assert_eq!(rows.len(), PathParameter::COUNT);
    let rho = col(&header, "spearman");
    assert!(rows
        .iter()
        .all(|r| r[rho].is_empty() || r[rho].parse::<f64>().is_ok_and(|v| v.abs() <= 1.0)));
}

/// `check` (which validates the scenario whole) refuses `table`, naming the file, the entry's
/// line and key, and `expected`.
fn refused(table: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = child_scenario(dir.path(), "bad.toml", table);
    let assert = bin().arg("check").arg(&path).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("bad.toml, line "), "{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "`{e}` not in: {stderr}");
    }
}

#[test]
fn bad_sensitivity_tables_are_refused_with_exit_code_2() {
    let entry = |key: &str, low: &str, high: &str| {
        format!(
            "[[sensitivity]]\nkey = \"{key}\"\nlow = {low}\nhigh = {high}\nsource = \"a test\"\n"
        )
    };
    refused(
        &entry("demand.trend_mean", "0.01", "-0.01"),
        &[
            "line 3",
            "entry `demand.trend_mean`",
            "low must not exceed high",
        ],
    );
    refused(
        &entry("demand.trend_meen", "0.0", "0.01"),
        &[
            "entry `demand.trend_meen`",
            "not an input a sensitivity can move",
        ],
    );
    refused(
        &entry("run.paths", "10", "20"),
        &["entry `run.paths`", "not an input a sensitivity can move"],
    );
    refused(
        &entry("hnsg.approval_probability", "0.5", "1.5"),
        &["high = 1.5 is not allowed: a probability, 0 to 1"],
    );
    refused(
        &entry("costs.non_plan_driver", "\"prices\"", "3"),
        &["high = 3 is not allowed: a string"],
    );
    refused(
        "[[sensitivity]]\nkey = \"demand.trend_mean\"\nlow = 0.0\nhigh = 0.1\n",
        &["`source` is missing"],
    );
    refused(
        &format!(
            "{}{}",
            entry("demand.trend_mean", "0.0", "0.1"),
            entry("demand.trend_mean", "0.0", "0.1")
        ),
        &["line 8", "is listed twice"],
    );
}

/// `sensitivity` refuses `table` before running anything, naming the entry and `expected`; `check`
/// accepts it (the rule is between keys, so a sweep that moves the other key is not refused).
fn refused_when_run(table: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = child_scenario(dir.path(), "bad.toml", table);
    bin().arg("check").arg(&path).assert().success();
    let assert = bin()
        .arg("sensitivity")
        .arg(&path)
        .args(["--paths", "4", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("bad.toml, line "), "{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "`{e}` not in: {stderr}");
    }
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn a_side_that_breaks_a_rule_between_keys_is_refused_when_run() {
    let entry = |key: &str, low: &str, high: &str| {
        format!(
            "[[sensitivity]]\nkey = \"{key}\"\nlow = {low}\nhigh = {high}\nsource = \"a test\"\n"
        )
    };
    refused_when_run(
        &entry("costs.non_plan_driver", "\"prices\"", "\"caseload\""),
        &["high = \"caseload\" gives a scenario that does not validate"],
    );
    // The interim share's top may not fall below its bottom (0.1 here).
    refused_when_run(
        &format!(
            "[interim_support]\nshare_low = 0.1\n{}",
            entry("interim_support.share_high", "0.0", "0.5")
        ),
        &[
            "low = 0.0 gives a scenario that does not validate",
            "interim_support.share_low",
        ],
    );
}

#[test]
fn a_scenario_without_inputs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // An `extends` child replaces the whole list: an empty one leaves nothing to move.
    let path = child_scenario(dir.path(), "none.toml", "sensitivity = []");
    bin()
        .arg("sensitivity")
        .arg(&path)
        .args(["--paths", "4", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("none.toml")
                .and(predicate::str::contains("no `[[sensitivity]]` inputs")),
        );
}
