//! `highneeds compare`: the paired difference on common random numbers.

use crate::util::{self, bin, col, read_csv};
use highneeds::compare::{compare, Comparison, ENGLAND_METRICS};
use highneeds::engine::RunConfig;
use highneeds::metric::{Metric, NationalMetric};
use std::path::Path;

const PATHS: usize = 12;

fn config() -> RunConfig {
    RunConfig {
        paths: PATHS,
        seed: util::SEED,
    }
}

fn england(c: &Comparison, t: usize, metric: NationalMetric) -> &highneeds::compare::Difference {
    let k = ENGLAND_METRICS
        .iter()
        .position(|m| *m == metric)
        .expect("an England metric of the comparison");
    &c.england[t][k]
}

#[test]
fn a_scenario_compared_with_itself_differs_by_exactly_zero() {
    let s = util::scenario();
    let c = compare(util::baseline(), &s, &s, config(), util::SEED, &|| {}).expect("compares");
    assert!(!c.councils.is_empty());
    let all = c
        .councils
        .iter()
        .flat_map(|council| council.by_year.iter().flatten())
        .chain(c.england.iter().flatten());
    let mut n = 0;
    for d in all {
        let s = d.difference;
        assert_eq!([s.mean, s.p05, s.p25, s.p50, s.p75, s.p95], [0.0; 6]);
        assert_eq!(d.p_b_lower, (0.0, 0.0));
        assert_eq!(d.mean_a, d.mean_b);
        n += 1;
    }
    assert_eq!(n, (c.councils.len() * 2 + 3) * c.horizon.years.len());
}

#[test]
fn more_hnb_growth_lowers_englands_deficit_on_every_path() {
    let a = util::scenario();
    let mut b = util::scenario();
    b.scenario.funding.growth_mean += 0.02;
    let c = compare(util::baseline(), &a, &b, config(), util::SEED, &|| {}).expect("compares");
    let t = c.horizon.years.len() - 1;
    let d = england(&c, t, NationalMetric::Council(Metric::CumulativeDeficit));
    assert!(d.difference.p95 < 0.0, "{d:?}");
    assert_eq!(d.p_b_lower, (1.0, 0.0));
    assert!(d.mean_b < d.mean_a);
}

fn run_compare(out: &Path, a: &Path, b: &Path, threads: &str) {
    bin()
        .arg("compare")
        .arg(a)
        .arg(b)
        .args(["--paths", "8", "--quiet", "--threads", threads, "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn savings_plan_lowers_the_deficit_and_output_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = util::baseline_toml();
    let b = util::root().join("scenarios").join("savings-plan.toml");
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run_compare(&one, &a, &b, "1");
    run_compare(&two, &a, &b, "2");
    for file in ["compare.csv", "compare_summary.csv"] {
        let x = std::fs::read(one.join(file)).expect("written");
        let y = std::fs::read(two.join(file)).expect("written");
        assert!(x == y, "{file} differs between --threads 1 and 2");
    }
    let (header, rows) = read_csv(&one.join("compare_summary.csv"));
    let (end, metric) = (col(&header, "override_end"), col(&header, "metric"));
    let (mean, p) = (col(&header, "difference_mean"), col(&header, "p_b_lower"));
    let row = rows
        .iter()
        .find(|r| r[end] == "true" && r[metric] == "cumulative_deficit")
        .expect("England's deficit at the override end");
    let num = |s: &str| s.parse::<f64>().expect("a number");
    assert!(num(&row[mean]) < 0.0, "{row:?}");
    assert!(num(&row[p]) > 0.5, "{row:?}");
    let (header, rows) = read_csv(&one.join("compare.csv"));
    assert_eq!(
        header[..6],
        ["a", "b", "la_code", "la_name", "fy", "metric"]
    );
    assert!(rows
        .iter()
        .all(|r| r[0] == "baseline" && r[1] == "savings-plan"));
}

#[test]
fn a_scenario_compared_with_itself_writes_zero_differences() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = util::baseline_toml();
    run_compare(dir.path(), &a, &a, "2");
    for file in ["compare.csv", "compare_summary.csv"] {
        let (header, rows) = read_csv(&dir.path().join(file));
        assert!(!rows.is_empty());
        for name in [
            "difference_mean",
            "difference_p05",
            "difference_p50",
            "difference_p95",
            "p_b_lower",
        ] {
            let i = col(&header, name);
            assert!(
                rows.iter().all(|r| r[i].parse::<f64>() == Ok(0.0)),
                "{file} {name}"
            );
        }
    }
}
