//! Placement (README "The model", step 2): the January 2026 census as a known year, the state
//! special capacity trend, overflow, and placement uncertainty drawn once per path.

use crate::util::{self, t_of, SEED};
use highneeds::backtest::{backtest, Target};
use highneeds::caseload::{by_setting, SETTINGS, SPECIAL_INDEPENDENT, SPECIAL_STATE};
use highneeds::engine::RunConfig;
use highneeds::metric::Metric;
use highneeds::placement::TrendClock;
use highneeds::scenario::{NewPlaces, PerGroup};

const PATHS: usize = 12;
const POST16: usize = highneeds::caseload::Setting::Post16 as usize;
const AP_OTHER: usize = highneeds::caseload::Setting::ApOther as usize;

#[test]
fn the_january_2026_census_is_the_caseload_of_2025_26() {
    let model = util::model(&util::scenario());
    let t = t_of(&model, "2025-26");
    let (cs, _) = util::sim(&model, 4, SEED);
    for cp in &cs {
        let c = &model.councils[cp.council];
        assert_eq!(c.latest_census, t as i32, "{}", c.la_name);
        let census = by_setting(&util::baseline().councils[cp.council].caseload[&2026]);
        for p in 0..cp.paths {
            for s in 0..SETTINGS {
                let got = cp.get(p, t, Metric::BY_SETTING[s]);
                assert!(
                    util::close(got, census[s], 1e-12, 1e-9),
                    "{} setting {s}: {got} vs {}",
                    c.la_name,
                    census[s]
                );
            }
            // The census year's flows are those it implies: plans still add up.
            let change = cp.get(p, t, Metric::Ehcps) - cp.get(p, t - 1, Metric::Ehcps);
            let flows = cp.get(p, t, Metric::NewPlans)
                - cp.get(p, t, Metric::CeasedPlans)
                - cp.get(p, t, Metric::AgedOut);
            assert!(util::close(change, flows, 1e-9, 1e-6));
        }
    }
}

#[test]
fn capacity_trend_reproduces_a_councils_history() {
    // With no shrinkage toward England, each council's places run back over the history window
    // from its latest census land on its state special placements at the window's start.
    let mut ls = util::scenario();
    ls.scenario.placement.trend_shrinkage_plans = 0.0;
    let model = util::model(&ls);
    let b = util::baseline();
    let years = ls.scenario.placement.history_years as i32;
    let path = |c: &highneeds::calibration::CouncilModel| {
        c.placement.draw(
            &highneeds::placement::PlacementSpread {
                level_sd: [0.0; 3],
                slope_sd: [0.0; 3],
                capacity_level_sd: 0.0,
                capacity_growth_sd: 0.0,
            },
            &[0.0; highneeds::placement::NORMALS],
        )
    };
    let mut checked = 0;
    for (c, seed) in model.councils.iter().zip(&b.councils) {
        let (then, now) = (
            by_setting(&seed.caseload[&(2026 - years)])[SPECIAL_STATE],
            by_setting(&seed.caseload[&2026])[SPECIAL_STATE],
        );
        if then < 1.0 || now < 1.0 {
            continue;
        }
        let p = path(c);
        let back = c
            .placement
            .trend_capacity(&p, &TrendClock::linear(-f64::from(years)), 0.0);
        assert!(
            util::close(back, then, 1e-9, 1e-6),
            "{}: {back} vs {then}",
            c.la_name
        );
        assert!(util::close(
            c.placement
                .trend_capacity(&p, &TrendClock::linear(0.0), 0.0),
            now,
            1e-12,
            1e-9
        ));
        checked += 1;
    }
    assert!(checked > 140, "{checked}");
    // Shrunk (the baseline), Kent's growth lies between its own and England's.
    let model = util::model(&util::scenario());
    let kent = b.councils.iter().position(|c| c.la_code == 886).unwrap();
    let state = |jan: i32, cs: &[&highneeds::seeds::CouncilSeed]| -> f64 {
        cs.iter()
            .map(|c| by_setting(&c.caseload[&jan])[SPECIAL_STATE])
            .sum()
    };
    let all: Vec<_> = b.councils.iter().collect();
    let england = (state(2026, &all) / state(2022, &all)).ln() / 4.0;
    let own = (state(2026, &all[kent..=kent]) / state(2022, &all[kent..=kent])).ln() / 4.0;
    let g = model.councils[kent].placement.capacity_growth;
    assert!(g >= own.min(england) - 1e-12 && g <= own.max(england) + 1e-12);
}

fn with(places: f64, induced: f64) -> highneeds::scenario::LoadedScenario {
    let mut ls = util::scenario();
    ls.scenario.placement.induced_demand = induced;
    ls.scenario.placement.new_places = vec![NewPlaces {
        fy: util::fy("2027-28"),
        places,
    }];
    ls
}

#[test]
fn overflow_conserves_plans_and_new_places_replace_independent_placements_one_for_one() {
    let base = util::model(&with(0.0, 0.0));
    let more = util::model(&with(40_000.0, 0.0));
    let (a, _) = util::sim(&base, PATHS, SEED);
    let (b, _) = util::sim(&more, PATHS, SEED);
    let t = t_of(&base, "2029-30");
    let (ks, ki) = (
        Metric::BY_SETTING[SPECIAL_STATE],
        Metric::BY_SETTING[SPECIAL_INDEPENDENT],
    );
    let mut moved = 0.0;
    for (x, y) in a.iter().zip(&b) {
        for p in 0..PATHS {
            let specialist =
                |z: &highneeds::engine::CouncilPaths| z.get(p, t, ks) + z.get(p, t, ki);
            // Places move specialist placements between schools; they add none and lose none.
            assert!(util::close(specialist(x), specialist(y), 1e-9, 1e-6));
            assert!(util::close(
                x.get(p, t, Metric::Ehcps),
                y.get(p, t, Metric::Ehcps),
                1e-12,
                1e-9
            ));
            let gained = y.get(p, t, ks) - x.get(p, t, ks);
            assert!(gained >= -1e-6);
            assert!(util::close(
                gained,
                x.get(p, t, ki) - y.get(p, t, ki),
                1e-9,
                1e-6
            ));
            moved += gained;
        }
    }
    assert!(moved > 0.0, "the places were never used");
}

#[test]
fn placement_shares_and_places_are_drawn_once_per_path() {
    // Linear trends (no decay): see the next test for the decayed ones.
    let mut ls = util::scenario();
    ls.scenario.decay.enabled = false;
    offsets_from_the_trend_are_constant(ls, TrendClock::linear);
}

#[test]
fn placement_trends_decay_with_the_demand_growth_in_a_run() {
    // One half-life and long-run growth for every path (12 years, 1% a year): the post-16 log
    // share moves by slope x tau(k), tau(k) = 1 + h/ln2 x (1 - 0.5^((k-1)/h)) after the first
    // projected year (placement::DECAY_DELAY), and the places' log by g_LR x k + (g - g_LR) x
    // tau(k), not by slope x k (main before the decay fails here).
    let mut ls = util::scenario();
    let d = &mut ls.scenario.decay;
    (d.half_life_low, d.half_life_high) = (12.0, 12.0);
    (d.long_run_growth_low, d.long_run_growth_high) = (0.01, 0.01);
    offsets_from_the_trend_are_constant(ls, |k| TrendClock::decayed(k, 12.0, 0.01));
}

/// Only the post-16 share's level and the places' level are uncertain: in every projected year
/// of a path, post-16's log share sits the same distance from its trend (run to `clock(k)`), and
/// the places the same log distance from theirs.
fn offsets_from_the_trend_are_constant(
    mut ls: highneeds::scenario::LoadedScenario,
    clock: impl Fn(f64) -> TrendClock,
) {
    let p = &mut ls.scenario.placement;
    p.share_level_sd = util::per_group(0.0, 0.2, 0.0);
    p.share_slope_sd = util::per_group(0.0, 0.0, 0.0);
    p.capacity_level_sd = 0.1;
    p.capacity_growth_sd = 0.0;
    p.capacity_specialist_correlation = 0.0;
    no_national_part(p);
    // One spread for every council-path (the wide draws are tested on their own below), so
    // no path's post-16 share is pushed against the groups' cap.
    p.wide_share = 0.0;
    // The places and shares do not follow the plans here (tested on its own below).
    p.plans_elasticity = util::per_group(0.0, 0.0, 0.0);
    p.capacity_plans_elasticity = 0.0;
    let model = util::model(&ls);
    let (cs, _) = util::sim(&model, PATHS, SEED);
    let first = t_of(&model, "2026-27");
    let mut checked = 0;
    for cp in &cs {
        let c = &model.councils[cp.council];
        if by_setting(&c.caseload0)[POST16] < 100.0 || c.placement.capacity0 < 100.0 {
            continue;
        }
        let mut offsets = Vec::new();
        for p in 0..cp.paths {
            let offset = |t: usize| {
                let k = clock(f64::from(t as i32 - c.latest_census));
                let share = cp.get(p, t, Metric::BY_SETTING[POST16]) / cp.get(p, t, Metric::Ehcps);
                let places = cp.get(p, t, Metric::SpecialPlaces);
                (
                    share.ln() - c.placement.log_level0[1] - k.share_change(c.placement.slope[1]),
                    (places / c.placement.capacity0).ln()
                        - k.growth_change(c.placement.capacity_growth),
                )
            };
            let o = offset(first);
            for t in first + 1..cp.years {
                // Skip years where the groups' cap (MAX_GROUP_SHARE) rescales the shares.
                let groups: f64 = [SPECIAL_STATE, SPECIAL_INDEPENDENT, POST16, AP_OTHER]
                    .iter()
                    .map(|s| cp.get(p, t, Metric::BY_SETTING[*s]))
                    .sum();
                if groups / cp.get(p, t, Metric::Ehcps)
                    > highneeds::placement::MAX_GROUP_SHARE - 1e-6
                {
                    continue;
                }
                let ot = offset(t);
                assert!((ot.0 - o.0).abs() < 1e-9, "{} path {p} t {t}", c.la_name);
                assert!((ot.1 - o.1).abs() < 1e-9, "{} path {p} t {t}", c.la_name);
            }
            offsets.push(o);
        }
        // ...and different paths draw differently.
        assert!(offsets.windows(2).any(|w| (w[0].0 - w[1].0).abs() > 1e-3));
        assert!(offsets.windows(2).any(|w| (w[0].1 - w[1].1).abs() > 1e-3));
        checked += 1;
    }
    assert!(checked > 140, "{checked}");
}

#[test]
fn the_back_test_scores_january_2026_by_setting() {
    let scenario = util::scenario();
    let inputs = highneeds::run::Inputs {
        baseline: util::baseline(),
        scenario: &scenario,
        config: RunConfig {
            paths: 20,
            seed: SEED,
        },
    };
    let bt = backtest(inputs, util::fy("2024-25"), &|| {})
        .expect("a back-test from 2024-25 (no published balance at 31 March 2025)");
    let jan26 = util::fy("2025-26");
    for s in 0..SETTINGS {
        let rows: Vec<_> = bt
            .rows
            .iter()
            .filter(|r| r.target == Target::EhcpsIn(s) && r.fy == jan26)
            .collect();
        // 152 councils (the Isle of Wight's January 2026 figures are estimated) and England.
        assert_eq!(rows.len(), 153, "setting {s}");
        let england = rows.iter().find(|r| r.la_code.is_none()).unwrap();
        let sum: f64 = util::baseline()
            .councils
            .iter()
            .map(|c| by_setting(&c.caseload[&2026])[s])
            .sum();
        assert!(util::close(england.actual, sum, 1e-12, 1e-6));
    }
    assert!(bt
        .rows
        .iter()
        .all(|r| r.target != Target::Deficit && r.fy == jan26));
}

#[test]
fn share_slopes_are_fitted_after_the_2023_recording_break() {
    // With no shrinkage toward a council's own history weight (huge `trend_shrinkage_plans`),
    // every council's post-16 and AP/other slopes are England's: the change in its log share
    // from January 2023 (the break) to January 2026, not from January 2022 across the break
    // (main before this change). With the break set at the first census (2019: no break), the
    // window is the usual four years back.
    let england = |jan: i32| {
        let mut out = [0.0; SETTINGS];
        for c in &util::baseline().councils {
            for (s, v) in by_setting(&c.caseload[&jan]).iter().enumerate() {
                out[s] += v;
            }
        }
        out
    };
    let log_share = |jan: i32, s: usize| {
        let e = england(jan);
        (e[s] / e.iter().sum::<f64>()).ln()
    };
    for (break_january, from) in [(2023, 2023), (2019, 2022)] {
        let mut ls = util::scenario();
        ls.scenario.placement.trend_shrinkage_plans = 1e7;
        ls.scenario.placement.share_break_january = break_january;
        let model = util::model(&ls);
        let span = f64::from(2026 - from);
        for (g, s) in [(1, POST16), (2, AP_OTHER)] {
            let want = (log_share(2026, s) - log_share(from, s)) / span;
            for c in &model.councils {
                let got = c.placement.slope[g];
                assert!(
                    (got - want).abs() < 2e-3,
                    "{} group {g}: {got} vs {want}",
                    c.la_name
                );
            }
        }
    }
    // The break matters: AP/other's England slope is about 0.012 a year from 2023, 0.076 across it.
    let from_2023 = (log_share(2026, AP_OTHER) - log_share(2023, AP_OTHER)) / 3.0;
    let from_2022 = (log_share(2026, AP_OTHER) - log_share(2022, AP_OTHER)) / 4.0;
    assert!(
        from_2023 < 0.02 && from_2022 > 0.06,
        "{from_2023} {from_2022}"
    );
}

#[test]
fn wide_council_paths_draw_with_every_spread_scaled() {
    // Every council-path wide (share 1) at factor 2 is the same run as none wide with every
    // placement sd doubled: the mixture scales the spreads, not the normals. With share 0 the
    // factor does nothing.
    let with = |share: f64, factor: f64, sd_scale: f64| {
        let mut ls = util::scenario();
        let p = &mut ls.scenario.placement;
        (p.wide_share, p.wide_factor) = (share, factor);
        let scale = |g: &mut PerGroup| {
            g.specialist *= sd_scale;
            g.post16 *= sd_scale;
            g.ap_other *= sd_scale;
        };
        no_national_part(p);
        scale(&mut p.share_level_sd);
        scale(&mut p.share_slope_sd);
        p.capacity_level_sd *= sd_scale;
        p.capacity_growth_sd *= sd_scale;
        let model = util::model(&ls);
        let (cs, _) = util::sim(&model, 6, SEED);
        let t = t_of(&model, "2029-30");
        cs.iter()
            .flat_map(|cp| (0..cp.paths).map(move |p| cp.get(p, t, Metric::BY_SETTING[AP_OTHER])))
            .collect::<Vec<f64>>()
    };
    assert_eq!(with(1.0, 2.0, 1.0), with(0.0, 1.0, 2.0));
    assert_eq!(with(0.0, 3.0, 1.0), with(0.0, 1.0, 1.0));
    assert_ne!(with(0.0, 1.0, 1.0), with(0.0, 1.0, 2.0));
}

/// The placement draws without their national part (each council's own draws only).
fn no_national_part(p: &mut highneeds::scenario::Placement) {
    p.national_level_sd = util::per_group(0.0, 0.0, 0.0);
    p.national_slope_sd = util::per_group(0.0, 0.0, 0.0);
    p.capacity_national_level_sd = 0.0;
    p.capacity_national_growth_sd = 0.0;
}

#[test]
fn every_council_of_a_path_shares_the_national_placement_draw() {
    // Only the national part of the post-16 share's level is uncertain: in a path, every
    // council's post-16 log share sits the same distance from its trend, and paths differ.
    let mut ls = util::scenario();
    let p = &mut ls.scenario.placement;
    no_national_part(p);
    p.share_level_sd = util::per_group(0.0, 0.0, 0.0);
    p.share_slope_sd = util::per_group(0.0, 0.0, 0.0);
    p.capacity_level_sd = 0.0;
    p.capacity_growth_sd = 0.0;
    p.national_level_sd = util::per_group(0.0, 0.2, 0.0);
    let d = &mut ls.scenario.decay;
    (d.half_life_low, d.half_life_high) = (12.0, 12.0);
    (d.long_run_growth_low, d.long_run_growth_high) = (0.01, 0.01);
    let model = util::model(&ls);
    let (cs, _) = util::sim(&model, PATHS, SEED);
    let t = t_of(&model, "2026-27");
    let mut by_path: Vec<Vec<f64>> = vec![Vec::new(); PATHS];
    for cp in &cs {
        let c = &model.councils[cp.council];
        if by_setting(&c.caseload0)[POST16] < 100.0 {
            continue;
        }
        let k = TrendClock::decayed(f64::from(t as i32 - c.latest_census), 12.0, 0.01);
        for (p, offsets) in by_path.iter_mut().enumerate() {
            let groups: f64 = [SPECIAL_STATE, SPECIAL_INDEPENDENT, POST16, AP_OTHER]
                .iter()
                .map(|s| cp.get(p, t, Metric::BY_SETTING[*s]))
                .sum();
            if groups / cp.get(p, t, Metric::Ehcps) > highneeds::placement::MAX_GROUP_SHARE - 1e-6 {
                continue;
            }
            let share = cp.get(p, t, Metric::BY_SETTING[POST16]) / cp.get(p, t, Metric::Ehcps);
            offsets.push(
                share.ln() - c.placement.log_level0[1] - k.share_change(c.placement.slope[1]),
            );
        }
    }
    let firsts: Vec<f64> = by_path
        .iter()
        .map(|offsets| {
            assert!(offsets.len() > 140, "{}", offsets.len());
            let first = offsets[0];
            for o in offsets {
                assert!((o - first).abs() < 1e-9, "{o} {first}");
            }
            first
        })
        .collect();
    assert!(
        firsts.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-3),
        "{firsts:?}"
    );
}

/// Placements that follow the plans (README "Placements that follow the plans"): a council-path's
/// specialist placements, AP/other share and places move with the log excess of its plans over
/// the plans it would have without its own demand draws, by `placement.plans_elasticity` and
/// `capacity_plans_elasticity`; without own draws (or with the elasticities at 0) nothing moves.
#[test]
fn placements_follow_the_councils_own_plans() {
    let run = |elastic: bool, own_draws: bool| {
        let mut ls = util::scenario();
        let p = &mut ls.scenario.placement;
        if !elastic {
            p.plans_elasticity = util::per_group(0.0, 0.0, 0.0);
            p.capacity_plans_elasticity = 0.0;
        }
        if !own_draws {
            ls.scenario.demand.council_level_sd = 0.0;
            ls.scenario.demand.council_shock_sd = 0.0;
        }
        let model = util::model(&ls);
        let (cs, _) = util::sim(&model, PATHS, SEED);
        (model, cs)
    };
    let (model, with) = run(true, true);
    let (_, fixed) = run(false, true);
    let (_, median) = run(true, false);
    let (_, median_fixed) = run(false, false);
    let (elasticity, capacity_elasticity) = {
        let p = &util::scenario().scenario.placement;
        (p.plans_elasticity, p.capacity_plans_elasticity)
    };
    assert!(elasticity.specialist > 0.0 && elasticity.ap_other > 0.0 && capacity_elasticity > 0.0);
    let first = t_of(&model, "2026-27");
    let last = t_of(&model, "2028-29");
    let specialist = |cp: &highneeds::engine::CouncilPaths, p: usize, t: usize| {
        cp.get(p, t, Metric::BY_SETTING[SPECIAL_STATE])
            + cp.get(p, t, Metric::BY_SETTING[SPECIAL_INDEPENDENT])
    };
    let (mut points, mut fits) = (0, [Vec::new(), Vec::new(), Vec::new()]);
    for (((a, b), c), d) in with.iter().zip(&fixed).zip(&median).zip(&median_fixed) {
        let council = &model.councils[a.council];
        for p in 0..a.paths {
            for t in 0..a.years {
                // Without own draws the elasticities change nothing, bit for bit.
                for metric in Metric::BY_SETTING.iter().chain([&Metric::SpecialPlaces]) {
                    assert_eq!(
                        c.get(p, t, *metric).to_bits(),
                        d.get(p, t, *metric).to_bits(),
                        "{} path {p} t {t}",
                        council.la_name
                    );
                }
            }
            if specialist(a, p, first) < 100.0 || a.get(p, first, Metric::SpecialPlaces) < 100.0 {
                continue;
            }
            for t in first..=last {
                // The groups' cap rescales the shares: skip those years.
                let groups: f64 = [SPECIAL_STATE, SPECIAL_INDEPENDENT, POST16, AP_OTHER]
                    .iter()
                    .map(|s| a.get(p, t, Metric::BY_SETTING[*s]))
                    .sum();
                if groups / a.get(p, t, Metric::Ehcps)
                    > highneeds::placement::MAX_GROUP_SHARE - 0.05
                {
                    continue;
                }
                // The plans' log excess over the plans without own draws (same national draws).
                let excess = (a.get(p, t, Metric::Ehcps) / c.get(p, t, Metric::Ehcps)).ln();
                let share = |cp: &highneeds::engine::CouncilPaths| {
                    cp.get(p, t, Metric::BY_SETTING[AP_OTHER]) / cp.get(p, t, Metric::Ehcps)
                };
                fits[0].push((excess, (specialist(a, p, t) / specialist(b, p, t)).ln()));
                fits[1].push((excess, (share(a) / share(b)).ln()));
                fits[2].push((
                    excess,
                    (a.get(p, t, Metric::SpecialPlaces) / b.get(p, t, Metric::SpecialPlaces)).ln(),
                ));
                points += 1;
            }
        }
    }
    assert!(points > 1000, "{points}");
    for (fit, want) in fits.iter().zip([
        elasticity.specialist,
        elasticity.ap_other,
        capacity_elasticity,
    ]) {
        // Least-squares slope through 0 of the group's log change on the plans' log excess.
        let slope = fit.iter().map(|(x, y)| x * y).sum::<f64>()
            / fit.iter().map(|(x, _)| x * x).sum::<f64>();
        assert!(
            (slope / want - 1.0).abs() < 0.05,
            "slope {slope} against {want}"
        );
    }
}
