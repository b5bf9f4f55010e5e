//! The long run (issue 10 item 5): growth that decays toward a long-run rate with a half-life, a
//! ceiling on prevalence by age band that no path exceeds, population change, and the ranges of
//! their scenario keys.

use crate::util::{self, bin, child_scenario, close};
use highneeds::caseload::{AGE_BANDS, AGE_BAND_RANGES};
use highneeds::engine::{decayed_rate, saturation};
use highneeds::metric::Metric;
use highneeds::placement::DECAY_DELAY;

const PATHS: usize = 40;

#[test]
fn the_decay_halves_the_growth_part_every_half_life() {
    let (rate, exit, long_run, half_life) = (0.20, 0.08, 0.01, 8.0);
    let excess = rate - exit - long_run;
    // The census year and the first projected year keep the calibrated rate (DECAY_DELAY):
    // the rate is set so that expected first-year growth equals the growth prior.
    assert_eq!(DECAY_DELAY, 1.0);
    for years in [0.0, 0.5, 1.0] {
        assert_eq!(decayed_rate(rate, exit, long_run, half_life, years), rate);
    }
    assert!(decayed_rate(rate, exit, long_run, half_life, 1.5) < rate);
    for (after, kept) in [(8.0, 0.5), (16.0, 0.25), (4.0, 0.5_f64.sqrt())] {
        let years = DECAY_DELAY + after;
        let got = decayed_rate(rate, exit, long_run, half_life, years);
        assert!(
            close(got, exit + long_run + excess * kept, 1e-12, 0.0),
            "{years}: {got}"
        );
    }
    // Far out, plans grow at the long-run rate: new plans replace those leaving, plus g_LR.
    let far = decayed_rate(rate, exit, long_run, half_life, 400.0);
    assert!(close(far, exit + long_run, 1e-9, 1e-12), "{far}");
    // A rate below the long-run one rises toward it; the rate is never negative.
    assert!(decayed_rate(0.05, exit, long_run, half_life, 8.0) > 0.05);
    assert_eq!(decayed_rate(0.0, 0.0, -0.05, 1.0, 50.0), 0.0);
}

#[test]
fn saturation_leaves_the_census_rate_and_stops_at_the_ceiling() {
    let (cap, shape) = (1000.0, 4.0);
    let at_census: f64 = 400.0;
    let saturation0 = 1.0 - (at_census / cap).powf(shape);
    assert!(close(
        saturation(at_census, cap, saturation0, shape),
        1.0,
        1e-12,
        0.0
    ));
    assert_eq!(saturation(cap, cap, saturation0, shape), 0.0);
    assert_eq!(saturation(1.5 * cap, cap, saturation0, shape), 0.0);
    assert_eq!(saturation(100.0, cap, saturation0, shape), 1.0);
    let mut last = 1.0;
    for plans in [500.0, 700.0, 900.0, 990.0] {
        let s = saturation(plans, cap, saturation0, shape);
        assert!(s < last && s > 0.0, "{plans}: {s}");
        last = s;
    }
}

/// With no uncertainty in demand, each council's new plans over last year's plans follow the
/// stated decay exactly, year after year, starting after the first projected year (and, with the
/// decay switched off, they do not).
#[test]
fn growth_decays_as_stated_in_a_run() {
    let (checked, off) = decay_mismatches(true);
    assert!(checked > 100 && off == 0, "{off} of {checked} differ");
    let (checked, off) = decay_mismatches(false);
    assert!(
        off > checked / 2,
        "without the decay only {off} of {checked} differ"
    );
}

/// (rates checked, rates that differ from the stated decay), every 10th council, 3 paths.
fn decay_mismatches(enabled: bool) -> (usize, usize) {
    let mut ls = util::scenario();
    let s = &mut ls.scenario;
    (s.demand.trend_mean, s.demand.trend_sd, s.demand.level_sd) = (0.0, 0.0, 0.0);
    s.demand.council_level_sd = 0.0;
    (s.demand.national_shock_sd, s.demand.council_shock_sd) = (0.0, 0.0);
    (s.decay.half_life_low, s.decay.half_life_high) = (6.0, 6.0);
    (s.decay.long_run_growth_low, s.decay.long_run_growth_high) = (0.015, 0.015);
    s.decay.enabled = enabled;
    s.ceiling.enabled = false;
    let model = util::model(&ls);
    let (councils, _) = util::sim(&model, 3, util::SEED);
    let (mut checked, mut off) = (0, 0);
    for cp in councils.iter().step_by(10) {
        let c = &model.councils[cp.council];
        for t in (c.latest_census.max(0) as usize + 1)..model.schedule.years.len() {
            let years_on = f64::from(t as i32 - c.latest_census);
            let expect = c.exit_rate
                + 0.015
                + (c.new_rate - c.exit_rate - 0.015)
                    * 0.5_f64.powf((years_on - DECAY_DELAY).max(0.0) / 6.0);
            for p in 0..3 {
                let got = cp.get(p, t, Metric::NewPlans) / cp.get(p, t - 1, Metric::Ehcps);
                off += usize::from(!close(got, expect, 1e-9, 1e-12));
                checked += 1;
            }
        }
    }
    (checked, off)
}

/// Every council's plans by age band against its ceiling x population, computed here from the
/// seeds and the scenario (population change drawn without spread, so it is known): the number
/// of (council, path, projected year, band) cells above it, and the largest ratio.
fn over_ceiling(enabled: bool) -> (usize, f64) {
    let mut ls = util::scenario();
    ls.scenario.population.change_sd = 0.0;
    ls.scenario.ceiling.enabled = enabled;
    let model = util::model(&ls);
    let (councils, _) = util::sim(&model, PATHS, util::SEED);
    let ceiling = ls.scenario.ceiling.prevalence.to_array();
    let change = ls.scenario.population.change.to_array();
    let seeds = util::baseline();
    let (mut over, mut worst) = (0, 0.0_f64);
    for cp in &councils {
        let c = &model.councils[cp.council];
        let seed = seeds
            .councils
            .iter()
            .find(|s| s.la_code == c.la_code)
            .unwrap();
        let census = seed.caseload.keys().max().unwrap();
        let plans0 = highneeds::caseload::by_age(&seed.caseload[census]);
        for a in 0..AGE_BANDS {
            let (low, high) = AGE_BAND_RANGES[a];
            let population = f64::from(high - low + 1) * seed.pop_2_18 / 17.0;
            let per_head = ceiling[a].max(plans0[a] / population);
            for t in (c.latest_census.max(0) as usize + 1)..model.schedule.years.len() {
                let years_on = f64::from(t as i32 - c.latest_census);
                let cap = per_head * population * (change[a] * years_on).exp();
                for p in 0..PATHS {
                    let ratio = cp.get(p, t, Metric::BY_AGE[a]) / cap;
                    worst = worst.max(ratio);
                    over += usize::from(ratio > 1.0 + 1e-9);
                }
            }
        }
    }
    (over, worst)
}

#[test]
fn no_path_exceeds_the_prevalence_ceiling_and_without_it_some_would() {
    let (over, worst) = over_ceiling(true);
    assert_eq!(over, 0, "largest plans / ceiling {worst}");
    assert!(worst > 0.5, "the ceiling should be approached: {worst}");
    // The same check fails without the ceiling: it can see a breach.
    let (over, worst) = over_ceiling(false);
    assert!(over > 0 && worst > 1.05, "{over} cells, largest {worst}");
}

/// The baseline as shipped (population change drawn per path): the engine's own measure of the
/// largest band's share of its ceiling never passes 1 in any year (the census years included,
/// where the data are below it), for any council and path, and England's plans stay below the
/// summed ceilings.
#[test]
fn the_baseline_reports_its_ceiling_use() {
    let ls = util::scenario();
    let model = util::model(&ls);
    let (councils, england) = util::sim(&model, PATHS, util::SEED);
    for cp in &councils {
        let c = &model.councils[cp.council];
        for t in 0..model.schedule.years.len() {
            for p in 0..PATHS {
                let used = cp.get(p, t, Metric::CeilingUse);
                assert!(used <= 1.0 + 1e-9, "{} t {t} path {p}: {used}", c.la_name);
            }
        }
    }
    let last = model.schedule.years.len() - 1;
    for p in 0..PATHS {
        let plans = england.get(p, last, util::nat("ehcps"));
        let ceiling = england.get(p, last, util::nat("ehcp_ceiling"));
        let used = england.get(p, last, util::nat("ceiling_use"));
        assert!(plans < ceiling && close(used, plans / ceiling, 1e-12, 0.0));
    }
}

#[test]
fn out_of_range_long_run_terms_exit_2_naming_the_key_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[ceiling.prevalence]\nage_5_10 = 1.5",
            "ceiling.prevalence.age_5_10",
            "plans per head of the age band's population, above 0 to 1",
        ),
        (
            "[ceiling]\nshape = 0",
            "ceiling.shape",
            "a saturation exponent, 0.5 to 20",
        ),
        (
            "[decay]\nhalf_life_low = 0.5",
            "decay.half_life_low",
            "years, 1 to 100",
        ),
        (
            "[decay]\nlong_run_growth_high = 0.5",
            "decay.long_run_growth_high",
            "a yearly growth rate of plans, -0.1 to 0.2",
        ),
        (
            "[decay]\nhalf_life_low = 30.0",
            "decay.half_life_high",
            "must be at least decay.half_life_low (30)",
        ),
        (
            "[population.change]\nunder_5 = -0.3",
            "population.change.under_5",
            "a yearly change in log population, -0.1 to 0.1",
        ),
        (
            "[population]\nchange_sd = 0.2",
            "population.change_sd",
            "0 to 0.05",
        ),
    ];
    for (k, (toml, key, range)) in cases.iter().enumerate() {
        let s = child_scenario(dir.path(), &format!("bad{k}.toml"), toml);
        let out = bin().arg("check").arg(&s).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        for part in [*key, *range] {
            assert!(stderr.contains(part), "should name `{part}`: {stderr}");
        }
    }
}
