//! The money side: spend implied by the data (safety-valve add-back), the HNB formula uplift,
//! non-plan spend per plan, safety-valve savings, and the back-test's money scores.

use crate::util::{self, fy, sim, t_of, SEED};
use highneeds::backtest::{backtest_with, scores, Group, Policy, Target};
use highneeds::calibration::{calibrate, Vintage};
use highneeds::engine::{CouncilPaths, RunConfig};
use highneeds::metric::Metric;
use highneeds::run::Inputs;
use highneeds::scenario::NonPlanDriver;

const KENT: u16 = 886;

fn council_index(model: &highneeds::calibration::Model, code: u16) -> usize {
    model
        .councils
        .iter()
        .position(|c| c.la_code == code)
        .expect("council in the model")
}

/// Kent's deficit fell from 31 March 2022 to 2024 only because DfE paid it £73.8m of
/// safety-valve instalments: its spend is HNB + instalments + change, an overspend, not a surplus.
#[test]
fn safety_valve_instalments_are_added_back_to_implied_spend() {
    let b = util::baseline();
    let kent = b.council(KENT).unwrap();
    let (d22, d24) = (kent.deficits[&fy("2021-22")], kent.deficits[&fy("2023-24")]);
    let sv = kent.safety_valve.as_ref().expect("Kent has an agreement");
    let received: f64 = ["2022-23", "2023-24"]
        .iter()
        .map(|f| sv.instalments[&fy(f)])
        .sum();
    assert!(received > 7e7, "Kent received {received}");
    assert!(d24 < d22, "Kent's balance fell: {d22} -> {d24}");
    let model = util::model(&util::scenario());
    let k = &model.councils[council_index(&model, KENT)];
    let expect = (d24 - d22 + received) / 2.0;
    assert!(
        (k.in_year_deficit0 - expect).abs() < 1.0,
        "{} vs {expect}",
        k.in_year_deficit0
    );
    assert!(
        k.in_year_deficit0 > 1e7,
        "Kent overspent: {}",
        k.in_year_deficit0
    );
    // Projected: Kent overspends in 2024-25 and 2025-26 in most paths.
    let (cps, _) = sim(&model, 400, SEED);
    let ci = council_index(&model, KENT);
    for year in ["2024-25", "2025-26"] {
        let t = t_of(&model, year);
        let over = (0..400)
            .filter(|p| cps[ci].get(*p, t, Metric::InYearBalance) < 0.0)
            .count();
        assert!(
            over >= 240,
            "{year}: Kent overspends in only {over} of 400 paths"
        );
    }
}

/// HNB 2025-26 lies between the published floor (+7%, the seeds) and cap (+10%) in every path,
/// the uplift is drawn once per path (the same for every council and for 2026-27, flat cash), and
/// it differs between paths.
#[test]
fn hnb_formula_uplift_respects_floor_and_cap_once_per_path() {
    let b = util::baseline();
    let model = util::model(&util::scenario());
    let (cps, _) = sim(&model, 24, SEED);
    let (t25, t26) = (t_of(&model, "2025-26"), t_of(&model, "2026-27"));
    let t24 = t_of(&model, "2024-25");
    let mut uplifts = Vec::new();
    for p in 0..24 {
        let mut ratio = None;
        for (ci, c) in model.councils.iter().enumerate() {
            let seed = b.council(c.la_code).unwrap();
            let floor = seed.hnb[&fy("2025-26")].1;
            let r25 = cps[ci].get(p, t25, Metric::Funding) / floor;
            let r26 = cps[ci].get(p, t26, Metric::Funding) / seed.hnb[&fy("2026-27")].1;
            // 2024-25 is untouched.
            let r24 = cps[ci].get(p, t24, Metric::Funding) / seed.hnb[&fy("2024-25")].1;
            assert!((r24 - 1.0).abs() < 1e-12);
            assert!((1.0..=1.10 / 1.07 + 1e-9).contains(&r25), "path {p}: {r25}");
            assert!((r25 - r26).abs() < 1e-12, "2026-27 is flat cash on 2025-26");
            let first = *ratio.get_or_insert(r25);
            assert!(
                (first - r25).abs() < 1e-12,
                "one uplift for every council of a path"
            );
        }
        uplifts.push(ratio.unwrap());
    }
    let (lo, hi) = uplifts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    assert!(
        hi - lo > 0.01,
        "uplifts barely vary between paths: {lo}..{hi}"
    );
}

/// With the `plans` driver, non-plan spend moves with plans in force; with `prices` it does not.
#[test]
fn non_plan_spend_follows_plans_in_force() {
    let mut ls = util::scenario();
    let c = &mut ls.scenario.costs;
    c.inflation = util::per_setting(0.0);
    c.inflation_sd = 0.0;
    c.inflation_noise_sd = 0.0;
    c.council_level_sd = 0.0;
    c.council_noise_sd = 0.0;
    c.plans_response = 1.0;
    let spend_of = |driver: NonPlanDriver| {
        let mut ls = ls.clone();
        ls.scenario.costs.non_plan_driver = driver;
        let mut model = util::model(&ls);
        let ci = council_index(&model, KENT);
        // Only non-plan spend: no unit costs, and no agreement cut.
        model.councils[ci].unit_cost0 = [0.0; 5];
        model.councils[ci].safety_valve = None;
        let (cps, _) = sim(&model, 4, SEED);
        let k = &model.councils[ci];
        (0..model.schedule.years.len())
            .map(|t| {
                (
                    cps[ci].get(0, t, Metric::Spend),
                    cps[ci].get(0, t, Metric::Ehcps),
                    k.non_plan0,
                    k.stock_origin,
                )
            })
            .collect::<Vec<_>>()
    };
    for (spend, plans, np0, stock0) in spend_of(NonPlanDriver::Plans) {
        assert!(
            util::close(spend, np0 * plans / stock0, 1e-9, 1.0),
            "{spend} vs {}",
            np0 * plans / stock0
        );
    }
    for (spend, _, np0, _) in spend_of(NonPlanDriver::Prices) {
        assert!(util::close(spend, np0, 1e-9, 1.0), "{spend} vs {np0}");
    }
}

/// The council's spend shock: with `costs.noise_persistence` 1 (the baseline, fitted by
/// `scripts/spend_noise/fit.py`) a random walk whose spread grows as the square root of the years
/// ahead, as the councils' record of spend beyond their caseload's cost does; with 0.5 it levels
/// off. The shock multiplies spend, and its draws are made whatever its sd, so spend with the
/// shock over spend without it, path by path, is `exp(shock)` on the same caseload.
#[test]
fn council_spend_shock_is_a_random_walk_at_persistence_one() {
    let paths = 400;
    let log_ratios = |persistence: f64| {
        let mut ls = util::scenario();
        let c = &mut ls.scenario.costs;
        c.council_level_sd = 0.0;
        c.noise_persistence = persistence;
        let spend = |sd: f64| {
            let mut ls = ls.clone();
            ls.scenario.costs.council_noise_sd = sd;
            let mut model = util::model(&ls);
            for council in &mut model.councils {
                council.safety_valve = None;
            }
            let ci = model
                .councils
                .iter()
                .position(|c| c.la_code == 850)
                .expect("Hampshire");
            let (cps, _) = sim(&model, paths, SEED);
            let years = model.schedule.years.len();
            (0..years)
                .map(|t| {
                    (0..paths)
                        .map(|p| cps[ci].get(p, t, Metric::Spend))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        let (with, without) = (spend(0.066), spend(0.0));
        with.iter()
            .zip(&without)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect())
            .collect::<Vec<Vec<f64>>>()
    };
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let walk = log_ratios(1.0);
    let years = walk.len();
    for (t, year) in walk.iter().enumerate() {
        let expect = 0.066 * ((t + 1) as f64).sqrt();
        assert!(
            (sd(year) / expect - 1.0).abs() < 0.15,
            "year {t}: sd {} against {expect}",
            sd(year)
        );
    }
    let ar = log_ratios(0.5);
    let stationary = 0.066 / (1.0f64 - 0.25).sqrt();
    let last = sd(&ar[years - 1]);
    assert!(
        (last / stationary - 1.0).abs() < 0.15,
        "AR(0.5) sd {last} against {stationary}"
    );
    assert!(sd(&walk[years - 1]) > 2.5 * last);
}

/// `costs.plans_response`: a council's spend follows the plans its own demand draws add at
/// less than one for one (0.3 in the baseline, the record's slope of spend on plans across
/// councils; README "Calibration", Spend), so across paths the log spend of a council moves
/// with its log plans at about 0.3 where it moved at about 1, while its expected spend and
/// England's stay those of one for one (the factor is normalised by the variance of the own
/// excess) in the years before the prevalence ceiling binds.
#[test]
fn spend_follows_own_plans_at_the_plans_response_keeping_expected_spend() {
    let paths = 1000;
    let run = |response: f64| {
        let mut ls = util::scenario();
        ls.scenario.costs.council_noise_sd = 0.0;
        ls.scenario.costs.plans_response = response;
        let mut model = util::model(&ls);
        for council in &mut model.councils {
            council.safety_valve = None;
        }
        let (cps, _) = sim(&model, paths, SEED);
        (model, cps)
    };
    let (model, one) = run(1.0);
    let (_, low) = run(0.3);
    let years = model.schedule.years.len();
    let ci = model
        .councils
        .iter()
        .position(|c| c.la_code == 850)
        .expect("Hampshire");
    // The slope of log spend on log plans across paths, three years after the census.
    let t = (model.councils[ci].latest_census + 3) as usize;
    let slope = |cps: &[CouncilPaths]| {
        let x: Vec<f64> = (0..paths)
            .map(|p| cps[ci].get(p, t, Metric::Ehcps).ln())
            .collect();
        let y: Vec<f64> = (0..paths)
            .map(|p| cps[ci].get(p, t, Metric::Spend).ln())
            .collect();
        let (mx, my) = (
            x.iter().sum::<f64>() / paths as f64,
            y.iter().sum::<f64>() / paths as f64,
        );
        let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
        sxy / sxx
    };
    let (s1, s3) = (slope(&one), slope(&low));
    assert!(s1 > 0.8, "one for one: slope {s1}");
    assert!(
        (s3 - 0.3).abs() < 0.15 && s3 < s1 - 0.4,
        "0.3: slope {s3} (one for one {s1})"
    );
    // Expected spend kept: the council's mean and England's, every year to three years after
    // the census.
    let mean = |cps: &[CouncilPaths], c: Option<usize>, t: usize| {
        let councils: Vec<usize> = c.map_or((0..cps.len()).collect(), |c| vec![c]);
        councils
            .iter()
            .map(|&c| {
                (0..paths)
                    .map(|p| cps[c].get(p, t, Metric::Spend))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / paths as f64
    };
    for t in 0..=t.min(years - 1) {
        let england = mean(&low, None, t) / mean(&one, None, t);
        assert!(
            (england - 1.0).abs() < 0.003,
            "year {t}: England's mean spend x{england}"
        );
        let council = mean(&low, Some(ci), t) / mean(&one, Some(ci), t);
        assert!(
            (council - 1.0).abs() < 0.02,
            "year {t}: Hampshire's mean spend x{council}"
        );
    }
}

/// An agreement signed after the calibration window cuts spend by the drawn share of the
/// pre-agreement overspend, from the signing FY; at the latest vintage the window already holds
/// every agreement's effect.
#[test]
fn safety_valve_savings_apply_only_after_the_window() {
    let b = util::baseline();
    let mut ls = util::scenario();
    ls.scenario.horizon.first_fy = fy("2022-23");
    ls.scenario.horizon.last_fy = fy("2034-35");
    let model = calibrate(b, &ls, Vintage::as_of_with_policy(fy("2021-22"))).unwrap();
    let ci = council_index(&model, KENT);
    let sv = model.councils[ci]
        .safety_valve
        .as_ref()
        .expect("policy as happened: Kent known");
    let t22 = t_of(&model, "2022-23");
    assert!(sv.savings_live[t22] && sv.pre_overspend_share > 0.05);
    // The pre-agreement overspend is measured over the two FYs before the anchor (2020-22), the
    // basis savings_mean was measured on, though the cost scale is fitted on 2021-22 alone.
    let kent = b.council(KENT).unwrap();
    let two_years = ["2020-21", "2021-22"];
    let hnb: f64 = two_years.iter().map(|f| kent.hnb[&fy(f)].1).sum();
    let received: f64 = two_years
        .iter()
        .filter_map(|f| kent.safety_valve.as_ref()?.instalments.get(&fy(f)))
        .sum();
    let overspend = kent.deficits[&fy("2021-22")] - kent.deficits[&fy("2019-20")] + received;
    assert!(
        util::close(sv.pre_overspend_share, overspend / hnb, 1e-9, 0.0),
        "{} vs {}",
        sv.pre_overspend_share,
        overspend / hnb
    );
    assert!(calibrate(b, &ls, Vintage::as_of(fy("2021-22")))
        .unwrap()
        .councils[ci]
        .safety_valve
        .is_none());
    let latest = util::model(&util::scenario());
    let k = latest.councils[council_index(&latest, KENT)]
        .safety_valve
        .as_ref()
        .unwrap();
    assert!(k.savings_live.iter().all(|v| !v));
    // The cut: spend with savings_mean 0.5 (sd 0) is lower by 0.5 x share x HNB.
    let spend = |mean: f64| {
        let mut ls = ls.clone();
        ls.scenario.safety_valve.savings_mean = mean;
        ls.scenario.safety_valve.savings_sd = 0.0;
        let model = calibrate(b, &ls, Vintage::as_of_with_policy(fy("2021-22"))).unwrap();
        let (cps, _) = sim(&model, 4, SEED);
        (
            cps[ci].get(1, t22, Metric::Spend),
            cps[ci].get(1, t22, Metric::Funding),
        )
    };
    let ((with, hnb), (without, _)) = (spend(0.5), spend(0.0));
    assert!(util::close(
        without - with,
        0.5 * sv.pre_overspend_share * hnb,
        1e-9,
        1.0
    ));
}

/// Where the latest census is at or after the agreement's first January, the cut leaves out
/// `safety_valve.caseload_share` of it (the census already shows the slower caseload): origin
/// 2022-23 knows January 2023, inside Kent's signing FY (2022-23); origin 2021-22 (January 2022)
/// does not, nor does 2022-23 know Bristol's (signed 2023-24). At 0 the cut is whole everywhere,
/// bit for bit, and at the latest vintage (no cut) the output is the same whatever the share.
#[test]
fn safety_valve_cut_leaves_out_the_caseload_a_known_census_shows() {
    const BRISTOL: u16 = 801;
    let b = util::baseline();
    let ls = util::scenario();
    let share = ls.scenario.safety_valve.caseload_share;
    assert!(
        share > 0.0 && share < 1.0,
        "baseline caseload_share {share}"
    );
    // As the back-test does: money starts at the last balance published by the origin's end.
    let at = |ls: &highneeds::scenario::LoadedScenario, origin: &str| {
        let money = b.councils[0]
            .deficits
            .keys()
            .rev()
            .copied()
            .find(|f| *f <= fy(origin))
            .unwrap();
        let moved = ls.moved_to_window(money.next(), fy("2034-35")).unwrap();
        calibrate(b, &moved, Vintage::as_of_with_policy(fy(origin))).unwrap()
    };
    let terms = |model: &highneeds::calibration::Model, code: u16| {
        model.councils[council_index(model, code)]
            .safety_valve
            .clone()
            .expect("policy as happened: agreement known")
    };
    // Every council with an agreement, every origin: the base is cut only where the census
    // reaches the signing FY, and whole (bit for bit) at caseload_share 0.
    let mut neutral = ls.clone();
    neutral.scenario.safety_valve.caseload_share = 0.0;
    let (mut known, mut unknown) = (0, 0);
    for origin in ["2020-21", "2021-22", "2022-23", "2023-24", "2024-25"] {
        let (model, whole) = (at(&ls, origin), at(&neutral, origin));
        for (c, w) in model.councils.iter().zip(&whole.councils) {
            let (Some(sv), Some(svw)) = (&c.safety_valve, &w.safety_valve) else {
                continue;
            };
            assert_eq!(svw.cut_base.to_bits(), svw.pre_overspend_share.to_bits());
            assert_eq!(
                sv.pre_overspend_share.to_bits(),
                svw.pre_overspend_share.to_bits()
            );
            let cohort = b
                .council(c.la_code)
                .unwrap()
                .safety_valve
                .as_ref()
                .unwrap()
                .cohort;
            // `latest_census` counts from the first projected FY.
            if model.schedule.years[0].0 + c.latest_census >= cohort.0 {
                known += 1;
                let cut = sv.pre_overspend_share * (1.0 - share);
                assert_eq!(sv.cut_base.to_bits(), cut.to_bits(), "{}", c.la_name);
            } else {
                unknown += 1;
                assert_eq!(sv.cut_base.to_bits(), sv.pre_overspend_share.to_bits());
            }
        }
    }
    assert!(known > 0 && unknown > 0, "{known} known, {unknown} not");
    let kent = terms(&at(&ls, "2022-23"), KENT);
    let t22 = t_of(&at(&ls, "2022-23"), "2022-23");
    assert!(kent.savings_live[t22] && kent.pre_overspend_share > 0.05);
    assert!(kent.cut_base < kent.pre_overspend_share);
    let before = terms(&at(&ls, "2021-22"), KENT);
    assert_eq!(
        before.cut_base.to_bits(),
        before.pre_overspend_share.to_bits()
    );
    let bristol = terms(&at(&ls, "2022-23"), BRISTOL);
    assert_eq!(
        bristol.cut_base.to_bits(),
        bristol.pre_overspend_share.to_bits()
    );
    // Kent's spend from 2022-23 (savings_mean 0.5, sd 0): the share leaves 0.5 x share x the
    // pre-agreement overspend share x HNB in.
    let spend = |caseload_share: f64| {
        let mut ls = ls.clone();
        ls.scenario.safety_valve.savings_mean = 0.5;
        ls.scenario.safety_valve.savings_sd = 0.0;
        ls.scenario.safety_valve.caseload_share = caseload_share;
        let model = at(&ls, "2022-23");
        let ci = council_index(&model, KENT);
        let (cps, _) = sim(&model, 4, SEED);
        (
            cps[ci].get(1, t22, Metric::Spend),
            cps[ci].get(1, t22, Metric::Funding),
        )
    };
    let ((cut, hnb), (whole, _)) = (spend(share), spend(0.0));
    assert!(util::close(
        cut - whole,
        0.5 * share * kent.pre_overspend_share * hnb,
        1e-9,
        1.0
    ));
    // The latest vintage applies no cut: every council's money is the same whatever the share.
    let run = |caseload_share: f64| {
        let mut ls = util::scenario();
        ls.scenario.safety_valve.caseload_share = caseload_share;
        let model = util::model(&ls);
        let years = model.schedule.years.len();
        let (cps, _) = sim(&model, 3, SEED);
        let mut bits = Vec::new();
        for cp in &cps {
            for path in 0..3 {
                for t in 0..years {
                    for m in [Metric::Spend, Metric::CumulativeDeficit] {
                        bits.push(cp.get(path, t, m).to_bits());
                    }
                }
            }
        }
        bits
    };
    assert_eq!(run(0.0), run(1.0));
}

/// The back-test scores spend and deficits for safety-valve and other councils, in % of HNB;
/// it runs from 2022-23, whose closing balance was not published.
#[test]
fn backtest_scores_money_by_group_and_runs_without_the_origin_balance() {
    let b = util::baseline();
    let cfg = RunConfig {
        paths: 20,
        seed: SEED,
    };
    let ls = util::scenario();
    let inputs = || Inputs {
        baseline: b,
        scenario: &ls,
        config: cfg,
    };
    let bt = backtest_with(inputs(), fy("2020-21"), Policy::AsHappened, &|| {}).unwrap();
    let kent = bt
        .rows
        .iter()
        .find(|r| r.target == Target::Spend && r.la_code == Some(KENT) && r.span == 2)
        .expect("Kent's 2022-24 spend is scored");
    let seed = b.council(KENT).unwrap();
    let sv = seed.safety_valve.as_ref().unwrap();
    let fys = [fy("2022-23"), fy("2023-24")];
    let implied: f64 = fys
        .iter()
        .map(|f| seed.hnb[f].1 + sv.instalments[f])
        .sum::<f64>()
        + seed.deficits[&fy("2023-24")]
        - seed.deficits[&fy("2021-22")];
    assert!(util::close(kent.actual, implied, 1e-12, 1.0));
    assert!(kent.safety_valve);
    assert!(util::close(
        kent.hnb_error().unwrap(),
        100.0 * kent.error() / kent.hnb,
        1e-12,
        0.0
    ));
    let sc = scores(&bt);
    for tg in [Target::Deficit, Target::Spend] {
        for g in [Group::All, Group::SafetyValve, Group::Other] {
            let s = sc
                .iter()
                .find(|s| s.target == tg && s.group == g)
                .expect("group scored");
            assert!(s.bias_hnb_pct.is_finite() && s.councils > 10, "{s:?}");
        }
        let n = |g: Group| {
            sc.iter()
                .find(|s| s.target == tg && s.group == g)
                .unwrap()
                .councils
        };
        assert_eq!(n(Group::All), n(Group::SafetyValve) + n(Group::Other));
    }
    assert!(!bt.per_plan.is_empty() && bt.per_plan.iter().all(|p| p.actual > 1e4));
    let bt23 =
        backtest_with(inputs(), fy("2022-23"), Policy::AsOf, &|| {}).expect("origin 2022-23 runs");
    assert!(bt23
        .rows
        .iter()
        .any(|r| r.target == Target::Deficit && r.fy == fy("2023-24")));
    assert!(bt23.rows.iter().all(|r| r.fy > fy("2022-23")));
}

/// The cost scale is fitted on the latest FY whose opening and closing balances are both known
/// (from 2021-22: 2021-22 alone), so an earlier balance does not move it; without the 31 March
/// 2021 balance the window falls back to two years, and the earlier balance counts. The
/// pre-agreement overspend (`in_year_deficit0`) stays on the two-year window either way.
#[test]
fn cost_window_is_the_latest_year_with_both_balances() {
    let b = util::baseline();
    let mut ls = util::scenario();
    ls.scenario.horizon.first_fy = fy("2022-23");
    ls.scenario.horizon.last_fy = fy("2034-35");
    let vintage = Vintage::as_of_with_policy(fy("2021-22"));
    let code = 330; // Birmingham: no safety-valve agreement
    let fitted = |b: &highneeds::seeds::Baseline| {
        let model = calibrate(b, &ls, vintage).unwrap();
        let c = &model.councils[council_index(&model, code)];
        (c.cost_scale, c.in_year_deficit0)
    };
    let seed = b.council(code).unwrap();
    assert!(seed.safety_valve.is_none());
    let (d20, d22) = (seed.deficits[&fy("2019-20")], seed.deficits[&fy("2021-22")]);
    let (scale, deficit0) = fitted(b);
    assert!(
        util::close(deficit0, (d22 - d20) / 2.0, 1e-9, 1.0),
        "{deficit0}"
    );
    // Move the 31 March 2020 balance by 50m: the one-year cost window does not see it, the
    // two-year overspend does.
    let mut moved = b.clone();
    let i = moved
        .councils
        .iter()
        .position(|c| c.la_code == code)
        .unwrap();
    *moved.councils[i].deficits.get_mut(&fy("2019-20")).unwrap() -= 5e7;
    let (scale1, deficit1) = fitted(&moved);
    assert_eq!(scale1, scale);
    assert!(
        util::close(deficit1, deficit0 + 2.5e7, 1e-9, 1.0),
        "{deficit1}"
    );
    // Without the 31 March 2021 balance the cost window is 2020-21 and 2021-22, and it does.
    moved.councils[i].deficits.remove(&fy("2020-21"));
    let (scale2, deficit2) = fitted(&moved);
    assert!(scale2 > scale, "{scale2} vs {scale}");
    assert_eq!(deficit2, deficit1);
}
