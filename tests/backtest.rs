//! Back-test: rows and scores, no look-ahead (leak test), and the CLI.

use crate::util::{self, bin, col, read_csv, write_csv, SEED};
use highneeds::backtest::{backtest_with, scores, Backtest, Policy, Target};
use highneeds::engine::RunConfig;
use highneeds::run::Inputs;
use highneeds::seeds::Baseline;
use predicates::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const PATHS: usize = 30;

fn run_bt(baseline: &Baseline) -> Backtest {
    run_bt_with(baseline, "2021-22", Policy::AsOf)
}

fn run_bt_with(baseline: &Baseline, origin: &str, policy: Policy) -> Backtest {
    let ls = util::scenario();
    let inputs = Inputs {
        baseline,
        scenario: &ls,
        config: RunConfig {
            paths: PATHS,
            seed: SEED,
        },
    };
    backtest_with(inputs, util::fy(origin), policy, &|| {}).expect("back-test runs")
}

#[test]
fn backtest_from_2021_22_scores_deficits_and_ehcps() {
    let bt = run_bt(util::baseline());
    assert_eq!(bt.origin, util::fy("2021-22"));
    let has = |tg: Target, fy: &str| {
        bt.rows
            .iter()
            .any(|r| r.target == tg && r.fy == util::fy(fy))
    };
    assert!(
        has(Target::Deficit, "2023-24"),
        "no 31 March 2024 deficit rows"
    );
    for fy in ["2022-23", "2023-24", "2024-25"] {
        assert!(has(Target::Ehcps, fy), "no EHCP rows for {fy}");
        // England is scored too.
        assert!(bt
            .rows
            .iter()
            .any(|r| r.target == Target::Ehcps && r.fy == util::fy(fy) && r.la_code.is_none()));
    }
    assert!(bt.rows.iter().all(|r| r.fy > bt.origin));
    for r in &bt.rows {
        assert_eq!(r.horizon, r.fy.0 - bt.origin.0);
        assert!((0.0..=1.0).contains(&r.pit), "{r:?}");
        let percentiles = r.forecast.percentiles();
        assert!(r.forecast.mean.is_finite());
        assert!(percentiles.iter().all(|v| v.is_finite()));
        assert!(percentiles.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
        assert!(r.actual.is_finite());
    }
    // Estimated actuals are not scored.
    let b = util::baseline();
    for r in bt.rows.iter().filter(|r| r.la_code.is_some()) {
        let c = b.council(r.la_code.unwrap()).unwrap();
        match r.target {
            Target::Deficit => assert!(!c.deficits_estimated.contains(&r.fy)),
            Target::Ehcps => assert!(!c.ehcps_estimated.contains(&r.fy.end_year())),
            Target::Spend => {
                assert!(!c.deficits_estimated.contains(&r.fy));
                assert!(!c
                    .deficits_estimated
                    .contains(&highneeds::FinancialYear(r.fy.0 - r.span)));
            }
            Target::EhcpsIn(_) => assert!(!c.placements_estimated.contains(&r.fy.end_year())),
        }
    }
    let sc = scores(&bt);
    assert!(!sc.is_empty());
    for s in &sc {
        assert!((0.0..=1.0).contains(&s.coverage_50), "{s:?}");
        assert!((0.0..=1.0).contains(&s.coverage_90), "{s:?}");
        assert!(s.coverage_50 <= s.coverage_90 + 1e-12, "{s:?}");
        let least = match s.group {
            highneeds::backtest::Group::SafetyValve => 30,
            _ => 100,
        };
        assert!(s.councils > least, "{s:?}");
        let f: f64 = s.pit_fifths.iter().sum();
        assert!((f - 1.0).abs() < 1e-9, "{s:?}");
    }
}

/// Rewrites a seeds CSV, changing rows selected by `pick` with `edit`.
fn edit_csv(
    dir: &Path,
    file: &str,
    mut edit: impl FnMut(&[String], &mut Vec<String>) -> bool,
) -> usize {
    let path = dir.join(file);
    let (h, mut rows) = read_csv(&path);
    let mut changed = 0;
    for r in &mut rows {
        if edit(&h, r) {
            changed += 1;
        }
    }
    write_csv(&path, &h, &rows);
    changed
}

fn scale(r: &mut [String], i: usize, f: f64) {
    let v: f64 = r[i].parse().unwrap();
    r[i] = format!("{:.3}", v * f);
}

#[test]
fn backtest_forecasts_do_not_see_data_after_the_origin() {
    let dir = util::copy_seeds();
    let d = dir.path();
    // Caseload from January 2023 on: a different setting mix and level; ehcps follow the cells.
    let factor = |setting: &str| match setting {
        "mainstream" => 1.5,
        "special_state" => 0.7,
        "special_independent" => 2.0,
        _ => 1.2,
    };
    let mut new_totals: BTreeMap<(String, String), f64> = BTreeMap::new();
    let n = edit_csv(d, "caseload.csv", |h, r| {
        if r[col(h, "january")].parse::<i32>().unwrap() < 2023 {
            return false;
        }
        let f = factor(&r[col(h, "setting")]);
        scale(r, col(h, "plans"), f);
        *new_totals
            .entry((r[col(h, "la_code")].clone(), r[col(h, "january")].clone()))
            .or_default() += r[col(h, "plans")].parse::<f64>().unwrap();
        true
    });
    assert!(n > 0);
    let n = edit_csv(d, "ehcps.csv", |h, r| {
        let key = (r[col(h, "la_code")].clone(), r[col(h, "january")].clone());
        match new_totals.get(&key) {
            Some(v) => {
                r[col(h, "ehcps")] = format!("{v:.3}");
                true
            }
            None => false,
        }
    });
    assert_eq!(n, 153 * 4, "January 2023 to 2026");
    let n = edit_csv(d, "flows.csv", |h, r| {
        if r[col(h, "calendar_year")].parse::<i32>().unwrap() < 2022 {
            return false;
        }
        for c in ["new_plans", "ceased_plans", "ceased_max_age"] {
            scale(r, col(h, c), 1.5);
        }
        true
    });
    assert!(n > 0);
    let n = edit_csv(d, "new_plans_mix.csv", |h, r| {
        if r[col(h, "calendar_year")].parse::<i32>().unwrap() < 2022 {
            return false;
        }
        let f = factor(&r[col(h, "setting")]);
        scale(r, col(h, "new_plans"), f);
        true
    });
    assert!(n > 0);
    let n = edit_csv(d, "deficits.csv", |h, r| {
        if r[col(h, "balance_date")] != "2024-03-31" {
            return false;
        }
        let v: f64 = r[col(h, "cumulative_deficit")].parse().unwrap();
        r[col(h, "cumulative_deficit")] = format!("{}", (v * 1.5 + 1e6).round());
        true
    });
    assert_eq!(n, 153);
    let n = edit_csv(d, "hnb.csv", |h, r| {
        if r[col(h, "fy")].as_str() < "2023-24" {
            return false;
        }
        for c in ["hnb_before_deductions", "hnb_after_deductions"] {
            let v: f64 = r[col(h, c)].parse().unwrap();
            r[col(h, c)] = format!("{}", (v * 1.5).round());
        }
        true
    });
    assert!(n >= 153);
    let n = edit_csv(d, "reserves.csv", |h, r| {
        if r[col(h, "balance_date")] != "2025-03-31" {
            return false;
        }
        let v: f64 = r[col(h, "usable_reserves")].parse().unwrap();
        r[col(h, "usable_reserves")] = format!("{}", (v * 1.5).round());
        true
    });
    assert_eq!(n, 153);

    let changed = Baseline::load(d).expect("edited seeds still load");
    let orig = run_bt(util::baseline());
    let edit = run_bt(&changed);
    assert_eq!(orig.rows.len(), edit.rows.len());
    let mut actual_differs = 0;
    for (a, b) in orig.rows.iter().zip(&edit.rows) {
        assert_eq!((a.target, a.fy, a.la_code), (b.target, b.fy, b.la_code));
        assert_eq!(
            a.forecast,
            b.forecast,
            "{} {} {}: the forecast changed when only later data changed",
            a.target.name(),
            a.fy,
            a.la_name
        );
        if a.actual != b.actual {
            actual_differs += 1;
        }
    }
    assert!(
        actual_differs as f64 > 0.9 * orig.rows.len() as f64,
        "only {actual_differs} of {} actuals changed",
        orig.rows.len()
    );
}

#[test]
fn backtest_cli_writes_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bt");
    bin()
        .arg("backtest")
        .arg(util::baseline_toml())
        .args(["--origin", "2021-22", "--paths", "20", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("cov90"));
    let (h, rows) = read_csv(&out.join("backtest.csv"));
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r[col(&h, "origin")], "2021-22");
        let pit: f64 = r[col(&h, "pit")].parse().unwrap();
        assert!((0.0..=1.0).contains(&pit));
    }
    assert!(rows
        .iter()
        .any(|r| r[col(&h, "period")] == "balance 31 Mar 2024"));
    assert!(rows
        .iter()
        .any(|r| r[col(&h, "period")] == "census Jan 2025"));
    let (hc, councils) = (h, rows);
    let (h, rows) = read_csv(&out.join("backtest_summary.csv"));
    assert!(!rows.is_empty());
    let mut intervals = 0;
    for r in &rows {
        for c in ["coverage_50", "coverage_90"] {
            let v: f64 = r[col(&h, c)].parse().unwrap();
            assert!((0.0..=1.0).contains(&v), "{c} = {v}");
        }
        // What the model expects of each coverage if it is right: a range of shares.
        for c in ["coverage_50", "coverage_90"] {
            let lo: f64 = r[col(&h, &format!("{c}_model_p05"))].parse().unwrap();
            let hi: f64 = r[col(&h, &format!("{c}_model_p95"))].parse().unwrap();
            assert!(
                (0.0..=1.0).contains(&lo) && lo <= hi && hi <= 1.0,
                "{c} {r:?}"
            );
        }
        // The median's 90% interval: two of the group's councils' own errors (the order
        // statistics a binomial(n, 1/2) gives), around the median; none for EHCPs.
        let (lo, hi) = (
            &r[col(&h, "bias_p50_pct_hnb_ci90_low")],
            &r[col(&h, "bias_p50_pct_hnb_ci90_high")],
        );
        if r[col(&h, "target")].starts_with("ehcps") {
            assert!(lo.is_empty() && hi.is_empty());
            assert!(r[col(&h, "bias_p50_pct_hnb_model_p05")].is_empty());
            continue;
        }
        let group = &r[col(&h, "group")];
        let mut errors: Vec<f64> = councils
            .iter()
            .filter(|c| {
                c[col(&hc, "target")] == r[col(&h, "target")]
                    && c[col(&hc, "period")] == r[col(&h, "period")]
                    && !c[col(&hc, "pct_hnb_error_p50")].is_empty()
                    && match group.as_str() {
                        "safety_valve" => c[col(&hc, "safety_valve")] == "1",
                        "other" => c[col(&hc, "safety_valve")] == "0",
                        _ => true,
                    }
            })
            .map(|c| c[col(&hc, "pct_hnb_error_p50")].parse().unwrap())
            .collect();
        errors.sort_by(f64::total_cmp);
        let n = errors.len();
        // k: the most order statistics left out at each end with P(Binomial(n, 1/2) < k) <= 5%.
        let pmf = |i: usize| {
            (0..i).fold(0.5f64.powi(n as i32), |p, j| {
                p * (n - j) as f64 / (j + 1) as f64
            })
        };
        let mut k = 0;
        while (0..=k).map(pmf).sum::<f64>() <= 0.05 {
            k += 1;
        }
        assert!(k >= 1 && n > 2 * k, "{group}: n = {n}, k = {k}");
        let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
        assert_eq!((lo, hi), (errors[k - 1], errors[n - k]), "{group} {r:?}");
        let median: f64 = r[col(&h, "bias_p50_pct_hnb")].parse().unwrap();
        assert!(lo <= median && median <= hi && lo < hi, "{r:?}");
        // And of the median's error: a range around no error.
        let lo: f64 = r[col(&h, "bias_p50_pct_hnb_model_p05")].parse().unwrap();
        let hi: f64 = r[col(&h, "bias_p50_pct_hnb_model_p95")].parse().unwrap();
        assert!(lo < hi, "{r:?}");
        intervals += 1;
    }
    assert!(intervals >= 6, "{intervals}");
    // The same manifest as `run`, with the origin and the back-test's own horizon.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
            .expect("manifest is JSON");
    assert_eq!(m["origin"].as_str(), Some("2021-22"));
    assert_eq!(m["first_fy"].as_str(), Some("2022-23"));
    assert_eq!(m["paths"].as_u64(), Some(20));
    let outputs: Vec<&str> = m["outputs"]
        .as_array()
        .expect("outputs array")
        .iter()
        .filter_map(|o| o.as_str())
        .collect();
    assert_eq!(
        outputs,
        [
            "backtest.csv",
            "backtest_summary.csv",
            "backtest_sv_track.csv"
        ]
    );
    assert!(m["inputs"].as_array().is_some_and(|i| !i.is_empty()));
}

#[test]
fn safety_valve_councils_are_scored_against_their_trajectory() {
    // From 2020-21 with policy as it happened: every agreement is known, and two spend windows
    // are scored (2021-22, and 2022-23 to 2023-24).
    let ls = util::scenario();
    let baseline = util::baseline();
    let bt = run_bt_with(baseline, "2020-21", Policy::AsHappened);
    let tolerance = ls.scenario.safety_valve.tolerance;
    let by_code: BTreeMap<u16, &highneeds::seeds::CouncilSeed> =
        baseline.councils.iter().map(|c| (c.la_code, c)).collect();
    let window = |fy: &str| -> Vec<&highneeds::backtest::OffTrack> {
        bt.off_track
            .iter()
            .filter(|o| o.fy == util::fy(fy))
            .collect()
    };
    let (early, late) = (window("2021-22"), window("2023-24"));
    assert!(late.len() > 25, "{}", late.len());
    for o in early.iter().chain(&late) {
        let seed = by_code[&o.la_code];
        let sv = seed
            .safety_valve
            .as_ref()
            .expect("only safety-valve councils");
        // Live in every FY of the window: an agreement signed later is not scored (a council
        // cannot be off a trajectory it has not agreed; main before this change scored 35
        // councils in 2021-22, 2022-23 agreements included).
        assert!(sv.cohort.0 <= o.fy.0 - o.span + 1, "{}", o.la_name);
        // The record: the spend the data imply, less (1 + tolerance) x HNB.
        let spend = highneeds::backtest::implied_spend(seed, o.fy, o.span).unwrap();
        let hnb: f64 = (o.fy.0 - o.span + 1..=o.fy.0)
            .map(|y| seed.hnb[&highneeds::FinancialYear(y)].1)
            .sum();
        assert!(
            (o.excess - (spend - (1.0 + tolerance) * hnb)).abs() < 1.0,
            "{}",
            o.la_name
        );
        assert!((0.0..=1.0).contains(&o.p_off_track));
    }
    assert!(!early.is_empty() && early.len() < late.len());
    // Scores: the record's count, and the Brier score from the rows.
    for s in highneeds::backtest::off_track_scores(&bt) {
        let rows: Vec<_> = bt.off_track.iter().filter(|o| o.fy == s.fy).collect();
        assert_eq!(s.councils, rows.len());
        assert_eq!(s.off_track, rows.iter().filter(|o| o.actual()).count());
        let brier = rows
            .iter()
            .map(|o| (o.p_off_track - f64::from(u8::from(o.actual()))).powi(2))
            .sum::<f64>()
            / rows.len() as f64;
        assert!((s.brier - brier).abs() < 1e-12);
        assert!(s.off_track > 0 && s.off_track < s.councils, "{s:?}");
    }
}
