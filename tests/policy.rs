//! Policy switches, each compared with a variant on the same seed (scenarios that differ only in
//! policy share their random numbers, so comparisons can be made path by path).

use crate::util::{self, bin, child_scenario, col, read_csv, t_of, SEED};
use highneeds::engine::CouncilPaths;
use highneeds::metric::Metric;
use highneeds::scenario::{LoadedScenario, Regime};

const PATHS: usize = 40;

fn run(
    ls: &LoadedScenario,
) -> (
    highneeds::calibration::Model,
    Vec<CouncilPaths>,
    highneeds::engine::EnglandPaths,
) {
    let model = util::model(ls);
    let (c, n) = util::sim(&model, PATHS, SEED);
    (model, c, n)
}

fn median(mut v: Vec<f64>) -> f64 {
    highneeds::summary::stats(&mut v).p50
}

fn per_path(cp: &CouncilPaths, t: usize, k: Metric) -> Vec<f64> {
    (0..cp.paths).map(|p| cp.get(p, t, k)).collect()
}

#[test]
fn hnsg_share_lowers_deficits_at_override_end() {
    let mut ls0 = util::scenario();
    // Eligible = deficit less the haircut (no safety-valve netting), so every council-path in
    // deficit at 31 March 2026 is paid when approved.
    ls0.scenario.hnsg.as_mut().unwrap().net_safety_valve_due = false;
    ls0.scenario.hnsg.as_mut().unwrap().share = 0.0;
    let mut ls9 = ls0.clone();
    ls9.scenario.hnsg.as_mut().unwrap().share = 0.9;
    let (model, c0, _) = run(&ls0);
    let (_, c9, _) = run(&ls9);
    let te = model.schedule.override_end;
    let t26 = t_of(&model, "2025-26");
    assert!(te > t26);
    let (mut in_deficit, mut paid, mut councils_checked) = (0, 0, 0);
    for (a, b) in c0.iter().zip(&c9) {
        let name = &model.councils[a.council].la_name;
        for p in 0..PATHS {
            let (d0, d9) = (
                a.get(p, te, Metric::CumulativeDeficit),
                b.get(p, te, Metric::CumulativeDeficit),
            );
            assert!(d0 >= d9 - 1e-6, "{name} path {p}: {d0} < {d9}");
            // Up to 31 March 2026 the runs are identical.
            for t in 0..=t26 {
                assert_eq!(
                    a.get(p, t, Metric::CumulativeDeficit),
                    b.get(p, t, Metric::CumulativeDeficit)
                );
            }
            // The gap is exactly the grant paid by the override end.
            let grant: f64 = (0..=te).map(|t| b.get(p, t, Metric::HnsgPayment)).sum();
            assert!(
                util::close(d0 - d9, grant, 1e-9, 1.0),
                "{name} path {p}: gap {} vs grant {grant}",
                d0 - d9
            );
            assert!((0..=te).all(|t| a.get(p, t, Metric::HnsgPayment) == 0.0));
            if b.get(p, t26, Metric::CumulativeDeficit) > 0.0 {
                in_deficit += 1;
                if grant > 0.0 {
                    paid += 1;
                    assert!(d0 > d9, "{name} path {p}: grant paid but deficit not lower");
                }
            } else {
                assert_eq!(grant, 0.0, "{name} path {p}: grant without a deficit");
            }
        }
        // Median: strictly higher without the grant wherever most paths are in deficit.
        let d26 = per_path(b, t26, Metric::CumulativeDeficit);
        if d26.iter().filter(|v| **v > 0.0).count() == PATHS {
            councils_checked += 1;
            let (m0, m9) = (
                median(per_path(a, te, Metric::CumulativeDeficit)),
                median(per_path(b, te, Metric::CumulativeDeficit)),
            );
            assert!(m0 > m9, "{name}: median with share 0 {m0} <= with 0.9 {m9}");
        }
    }
    assert!(
        councils_checked > 50,
        "only {councils_checked} councils always in deficit"
    );
    // Approval probability 0.9: most council-paths in deficit get the grant.
    let approval = ls9.scenario.hnsg.as_ref().unwrap().approval_probability;
    let rate = paid as f64 / in_deficit as f64;
    assert!(
        (rate - approval).abs() < 0.05,
        "{paid} of {in_deficit} paid; approval {approval}"
    );
}

#[test]
fn override_end_2026_moves_the_summary_year() {
    let dir = tempfile::tempdir().unwrap();
    let s = child_scenario(
        dir.path(),
        "early.toml",
        "[override]\nend = \"2026-03-31\"\n[after_override]\nfrom_fy = \"2026-27\"\n[hnsg]\nenabled = false",
    );
    let out = dir.path().join("out");
    bin()
        .arg("run")
        .arg(&s)
        .args(["--paths", "20", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (h, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(rows.len(), 153);
    assert!(rows.iter().all(|r| r[col(&h, "fy")] == "2025-26"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["override_end_fy"].as_str(), Some("2025-26"));
    // With the HNSG disabled no grant is paid anywhere.
    let (h, rows) = read_csv(&out.join("national.csv"));
    for r in rows
        .iter()
        .filter(|r| r[col(&h, "metric")] == "hnsg_payment")
    {
        assert_eq!(r[col(&h, "p95")].parse::<f64>().unwrap(), 0.0, "{r:?}");
    }
}

#[test]
fn central_regime_takes_new_overspend_off_council_books() {
    let mut council = util::scenario();
    council.scenario.after_override.regime = Regime::Council;
    let mut central = util::scenario();
    central.scenario.after_override.regime = Regime::Central;
    let (model, cc, _) = run(&council);
    let (_, cz, nz) = run(&central);
    let from = t_of(&model, &central.scenario.after_override.from_fy.to_string());
    let n = model.schedule.years.len();
    let k = util::nat("central_pressure");
    for p in 0..PATHS {
        for t in 0..n {
            let v = nz.get(p, t, k);
            if t < from {
                assert_eq!(v, 0.0, "central pressure before from_fy (t {t})");
            } else {
                assert!(v > 0.0, "no national central pressure at t {t} path {p}");
            }
        }
    }
    for (a, b) in cc.iter().zip(&cz) {
        let name = &model.councils[a.council].la_name;
        for p in 0..PATHS {
            for t in 0..n {
                let (dc, dz) = (
                    a.get(p, t, Metric::CumulativeDeficit),
                    b.get(p, t, Metric::CumulativeDeficit),
                );
                if t < from {
                    assert_eq!(dc, dz, "{name}: regimes differ before from_fy");
                } else {
                    assert!(
                        dz <= dc + 1e-6,
                        "{name} path {p} t {t}: central {dz} > council {dc}"
                    );
                    // No deficit growth from overspend once the centre pays.
                    let prev = b.get(p, t - 1, Metric::CumulativeDeficit);
                    assert!(
                        dz <= prev + 1e-6,
                        "{name} path {p} t {t}: deficit grew {prev} -> {dz}"
                    );
                    assert_eq!(a.get(p, t, Metric::CentralPressure), 0.0);
                }
            }
        }
    }
}

#[test]
fn write_off_clears_the_deficit_at_from_fy() {
    let mut ls = util::scenario();
    ls.scenario.after_override.regime = Regime::WriteOff;
    let (model, cs, nat) = run(&ls);
    let mut council = util::scenario();
    council.scenario.after_override.regime = Regime::Council;
    let (_, cc, _) = run(&council);
    let from = t_of(&model, &ls.scenario.after_override.from_fy.to_string());
    let n = model.schedule.years.len();
    for cp in &cs {
        for p in 0..PATHS {
            for t in 0..n {
                let w = cp.get(p, t, Metric::WrittenOff);
                if t == from {
                    let before = cp.get(p, t - 1, Metric::CumulativeDeficit).max(0.0);
                    assert!(
                        util::close(w, before, 1e-12, 1e-6),
                        "written off {w} vs {before}"
                    );
                } else {
                    assert_eq!(w, 0.0, "write-off outside from_fy");
                }
                assert_eq!(cp.get(p, t, Metric::CentralPressure), 0.0);
            }
        }
    }
    // The written-off amount leaves the council's books for good: from from_fy the deficit is
    // the council regime's deficit less what was written off.
    for (w, c) in cs.iter().zip(&cc) {
        for p in 0..PATHS {
            let off = w.get(p, from, Metric::WrittenOff);
            for t in 0..n {
                let (dw, dc) = (
                    w.get(p, t, Metric::CumulativeDeficit),
                    c.get(p, t, Metric::CumulativeDeficit),
                );
                let expect = if t < from { dc } else { dc - off };
                assert!(
                    util::close(dw, expect, 1e-9, 1e-3),
                    "path {p} t {t}: {dw} vs {expect}"
                );
            }
        }
    }
    let k = util::nat("written_off");
    for p in 0..PATHS {
        assert!(nat.get(p, from, k) > 0.0, "nothing written off on path {p}");
    }
}

#[test]
fn withholding_safety_valve_instalments_never_pays_more() {
    let mut paid = util::scenario();
    paid.scenario.safety_valve.last_payment_fy = util::fy("2030-31");
    paid.scenario.safety_valve.withhold = false;
    let mut held = paid.clone();
    held.scenario.safety_valve.withhold = true;
    let (model, cp_paid, _) = run(&paid);
    let (_, cp_held, _) = run(&held);
    let n = model.schedule.years.len();
    let share = held.scenario.safety_valve.withhold_share;
    let (mut withheld, mut total_paid, mut total_held) = (0.0, 0.0, 0.0);
    for (a, b) in cp_paid.iter().zip(&cp_held) {
        let name = &model.councils[a.council].la_name;
        for p in 0..PATHS {
            let (mut sa, mut sb) = (0.0, 0.0);
            for t in 0..n {
                assert_eq!(
                    a.get(p, t, Metric::SvWithheld),
                    0.0,
                    "{name}: withheld with withhold=false"
                );
                sa += a.get(p, t, Metric::SvPayment);
                sb += b.get(p, t, Metric::SvPayment);
                let w = b.get(p, t, Metric::SvWithheld);
                withheld += w;
                if w > 0.0 {
                    // Withheld: the scheduled instalment less the withheld share of it.
                    let scheduled = a.get(p, t, Metric::SvPayment);
                    assert!(
                        util::close(w, share * scheduled, 1e-9, 1e-3),
                        "{name}: withheld {w} of {scheduled}"
                    );
                    assert!(
                        util::close(b.get(p, t, Metric::SvPayment), scheduled - w, 1e-9, 1e-3),
                        "{name}: paid while withheld"
                    );
                }
                assert!(
                    sb <= sa + 1e-6,
                    "{name} path {p} t {t}: paid {sb} > {sa} to date"
                );
            }
            total_paid += sa;
            total_held += sb;
            if model.councils[a.council].safety_valve.is_none() {
                assert_eq!(sa, 0.0, "{name}: payments without an agreement");
            }
        }
    }
    assert!(withheld > 0.0, "no instalment withheld");
    assert!(total_paid > 0.0, "no instalments in the horizon");
    assert!(total_held <= total_paid);
}

#[test]
fn mitigation_savings_lower_spend_on_the_same_random_numbers() {
    let mut none = util::scenario();
    none.scenario.mitigation.savings_share = 0.0;
    let mut some = util::scenario();
    some.scenario.mitigation.savings_share = 0.05;
    let (model, a, _) = run(&none);
    let (_, b, _) = run(&some);
    let start = some.scenario.mitigation.start_fy;
    for (x, y) in a.iter().zip(&b) {
        let name = &model.councils[x.council].la_name;
        for p in 0..PATHS {
            for (t, fy) in model.schedule.years.iter().enumerate() {
                let (s0, s5) = (x.get(p, t, Metric::Spend), y.get(p, t, Metric::Spend));
                // Demand is untouched by savings.
                assert_eq!(x.get(p, t, Metric::Ehcps), y.get(p, t, Metric::Ehcps));
                if *fy < start {
                    assert_eq!(s0, s5, "{name} {fy}: savings before start_fy");
                } else {
                    assert!(s5 < s0, "{name} path {p} {fy}: spend {s5} not below {s0}");
                    assert!(util::close(
                        s0 - s5,
                        y.get(p, t, Metric::Savings),
                        1e-9,
                        1e-3
                    ));
                    assert!(s0 - s5 <= 0.05 * s0 + 1e-6, "{name}: saved more than 5%");
                }
            }
        }
    }
}

#[test]
fn schools_block_transfer_raises_funding() {
    let base = util::scenario();
    let mut tr = util::scenario();
    tr.scenario.funding.schools_block_transfer = 0.005;
    let (model, a, _) = run(&base);
    let (_, b, _) = run(&tr);
    let factor = 1.0 + 0.005 * tr.scenario.funding.schools_block_ratio;
    for (x, y) in a.iter().zip(&b) {
        for p in 0..PATHS {
            for t in 0..model.schedule.years.len() {
                let (f0, f1) = (x.get(p, t, Metric::Funding), y.get(p, t, Metric::Funding));
                assert!(f1 > f0, "funding not raised: {f1} vs {f0}");
                assert!(util::close(f1, f0 * factor, 1e-9, 1e-6));
                assert_eq!(x.get(p, t, Metric::Spend), y.get(p, t, Metric::Spend));
            }
        }
    }
}

#[test]
fn reform_lowers_plans_and_the_fee_cap_lowers_independent_costs() {
    let off = util::scenario();
    let mut on = util::scenario();
    on.scenario.reform.enabled = true;
    let (model, _, n_off) = run(&off);
    let (_, c_on, n_on) = run(&on);
    let t = t_of(&model, "2032-33");
    let k = util::nat("ehcps");
    for p in 0..PATHS {
        assert!(
            n_on.get(p, t, k) < n_off.get(p, t, k),
            "path {p}: reform did not lower EHCPs"
        );
    }
    // Before the surge years the runs agree.
    let surge_from = on.scenario.reform.start_fy.0 - on.scenario.reform.surge_years as i32;
    for (i, fy) in model.schedule.years.iter().enumerate() {
        if fy.0 < surge_from {
            for p in 0..PATHS {
                assert_eq!(n_on.get(p, i, k), n_off.get(p, i, k));
            }
        }
    }

    // Fee cap: same reform, a cap that binds (2%) versus one that never does (50%).
    let mut loose = on.clone();
    loose.scenario.reform.independent_fee_cap = 0.5;
    let (_, c_loose, n_loose) = run(&loose);
    let start = t_of(&model, &on.scenario.reform.start_fy.to_string());
    let last = model.schedule.years.len() - 1;
    for (x, y) in c_on.iter().zip(&c_loose) {
        for p in 0..PATHS {
            for t in 0..=last {
                assert_eq!(
                    x.get(
                        p,
                        t,
                        Metric::BY_SETTING[highneeds::caseload::SPECIAL_INDEPENDENT]
                    ),
                    y.get(
                        p,
                        t,
                        Metric::BY_SETTING[highneeds::caseload::SPECIAL_INDEPENDENT]
                    )
                );
                let (capped, free) = (x.get(p, t, Metric::Spend), y.get(p, t, Metric::Spend));
                if t < start {
                    assert_eq!(capped, free);
                } else {
                    assert!(capped <= free + 1e-6, "cap raised spend: {capped} > {free}");
                }
            }
        }
    }
    let ks = util::nat("spend");
    let lower = (0..PATHS)
        .filter(|p| n_on.get(*p, last, ks) < n_loose.get(*p, last, ks))
        .count();
    assert!(
        lower as f64 >= 0.9 * PATHS as f64,
        "cap lowered spend on only {lower} paths"
    );
}

#[test]
fn interest_on_deficits_lowers_reserves() {
    let base = util::scenario();
    let mut int = util::scenario();
    int.scenario.reserves.interest_rate = 0.05;
    let (model, a, _) = run(&base);
    let (_, b, _) = run(&int);
    let last = model.schedule.years.len() - 1;
    let mut lowered = 0;
    for (x, y) in a.iter().zip(&b) {
        let c = &model.councils[x.council];
        for p in 0..PATHS {
            for t in 0..=last {
                let (r0, r1) = (x.get(p, t, Metric::Reserves), y.get(p, t, Metric::Reserves));
                assert!(r1 <= r0 + 1e-6, "{}: interest raised reserves", c.la_name);
                let prev = if t == 0 {
                    c.deficit0
                } else {
                    y.get(p, t - 1, Metric::CumulativeDeficit)
                };
                assert!(util::close(
                    y.get(p, t, Metric::InterestCost),
                    0.05 * prev.max(0.0),
                    1e-9,
                    1e-6
                ));
                assert_eq!(x.get(p, t, Metric::InterestCost), 0.0);
            }
            if c.deficit0 > 0.0 {
                assert!(y.get(p, last, Metric::Reserves) < x.get(p, last, Metric::Reserves));
                lowered += 1;
            }
        }
    }
    assert!(lowered > 0);
}
