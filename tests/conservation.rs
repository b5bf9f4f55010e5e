//! Accounting identities of the engine, for random seeds and random policy switches:
//! plans and money add up for every council, path and year, and England is the sum of councils.

use crate::util::{self, close};
use highneeds::caseload::{total, AGE_BANDS, SETTINGS};
use highneeds::metric::Metric;
use highneeds::scenario::Regime;
use proptest::prelude::*;

const PATHS: usize = 6;

fn check_identities(
    seed: u64,
    ls: highneeds::scenario::LoadedScenario,
) -> Result<(), TestCaseError> {
    let model = util::model(&ls);
    let (councils, national) = util::sim(&model, PATHS, seed);
    let n = model.schedule.years.len();
    prop_assert_eq!(councils.len(), model.councils.len());
    for cp in &councils {
        let c = &model.councils[cp.council];
        prop_assert_eq!(cp.paths, PATHS);
        prop_assert_eq!(cp.years, n);
        prop_assert!(
            cp.values.iter().all(|v| v.is_finite()),
            "NaN/inf for {}",
            c.la_name
        );
        for p in 0..PATHS {
            let g = |t: usize, k: Metric| cp.get(p, t, k);
            for t in 0..n {
                let ehcps = g(t, Metric::Ehcps);
                // Plans add up.
                let prev = if t == 0 {
                    total(&c.caseload0)
                } else {
                    g(t - 1, Metric::Ehcps)
                };
                let expect = prev + g(t, Metric::NewPlans)
                    - g(t, Metric::CeasedPlans)
                    - g(t, Metric::AgedOut);
                prop_assert!(
                    close(ehcps, expect, 1e-6, 1e-6),
                    "{} path {p} t {t}: ehcps {ehcps} vs {expect}",
                    c.la_name
                );
                let by_setting: f64 = (0..SETTINGS).map(|s| g(t, Metric::BY_SETTING[s])).sum();
                let by_age: f64 = (0..AGE_BANDS).map(|a| g(t, Metric::BY_AGE[a])).sum();
                prop_assert!(
                    close(ehcps, by_setting, 1e-9, 1e-6),
                    "{} settings",
                    c.la_name
                );
                prop_assert!(close(ehcps, by_age, 1e-9, 1e-6), "{} ages", c.la_name);
                for k in [
                    Metric::NewPlans,
                    Metric::CeasedPlans,
                    Metric::AgedOut,
                    Metric::Overflow,
                    Metric::Spend,
                    Metric::Funding,
                ] {
                    prop_assert!(g(t, k) >= 0.0, "{} metric {k} negative", c.la_name);
                }
                for s in 0..SETTINGS {
                    prop_assert!(g(t, Metric::BY_SETTING[s]) >= -1e-9);
                }
                // Money adds up.
                let (spend, funding) = (g(t, Metric::Spend), g(t, Metric::Funding));
                prop_assert!(close(
                    g(t, Metric::InYearBalance),
                    funding - spend,
                    1e-12,
                    1e-6
                ));
                let d_prev = if t == 0 {
                    c.deficit0
                } else {
                    g(t - 1, Metric::CumulativeDeficit)
                };
                let change = spend
                    - funding
                    - g(t, Metric::SvPayment)
                    - g(t, Metric::HnsgPayment)
                    - g(t, Metric::InterimSupport)
                    - g(t, Metric::CouncilContribution)
                    - g(t, Metric::CentralPressure)
                    - g(t, Metric::WrittenOff);
                let d = g(t, Metric::CumulativeDeficit);
                let scale = spend.abs() + funding.abs() + d_prev.abs() + 1.0;
                prop_assert!(
                    (d - d_prev - change).abs() <= 1e-9 * scale,
                    "{} path {p} t {t}: deficit moved by {} but flows say {change}",
                    c.la_name,
                    d - d_prev
                );
                prop_assert!(close(
                    g(t, Metric::Shortfall),
                    (d - g(t, Metric::Reserves)).max(0.0),
                    1e-12,
                    1e-6
                ));
            }
        }
    }
    // England = sum of councils, per path and year.
    let tol = 1e-3 * councils.len() as f64;
    for p in 0..PATHS {
        for t in 0..n {
            let ehcps: f64 = councils.iter().map(|cp| cp.get(p, t, Metric::Ehcps)).sum();
            let def: f64 = councils
                .iter()
                .map(|cp| cp.get(p, t, Metric::CumulativeDeficit).max(0.0))
                .sum();
            let net: f64 = councils
                .iter()
                .map(|cp| cp.get(p, t, Metric::CumulativeDeficit))
                .sum();
            let spend: f64 = councils.iter().map(|cp| cp.get(p, t, Metric::Spend)).sum();
            let in_deficit = councils
                .iter()
                .filter(|cp| cp.get(p, t, Metric::CumulativeDeficit) > 0.0)
                .count() as f64;
            let over = councils
                .iter()
                .filter(|cp| cp.get(p, t, Metric::DeficitExceedsReserves) > 0.5)
                .count() as f64;
            let ng = |name: &str| national.get(p, t, util::nat(name));
            prop_assert!(
                (ng("ehcps") - ehcps).abs() <= tol,
                "ehcps p{p} t{t}: {} vs {ehcps}",
                ng("ehcps")
            );
            prop_assert!(
                (ng("cumulative_deficit") - def).abs() <= tol,
                "deficit p{p} t{t}"
            );
            prop_assert!(
                (ng("net_cumulative_deficit") - net).abs() <= tol,
                "net p{p} t{t}"
            );
            prop_assert!((ng("spend") - spend).abs() <= tol, "spend p{p} t{t}");
            prop_assert!((ng("councils_in_deficit") - in_deficit).abs() < 1e-6);
            prop_assert!((ng("councils_over_reserves") - over).abs() < 1e-6);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn plans_and_money_add_up_for_every_council_path_and_year(
        seed in any::<u64>(),
        regime in 0u8..3,
        withhold in any::<bool>(),
        savings in 0.0f64..0.1,
        contribution in 0.0f64..0.5,
        reform in any::<bool>(),
        places in 0.0f64..20_000.0,
    ) {
        let mut ls = util::scenario();
        let s = &mut ls.scenario;
        s.after_override.regime = [Regime::Council, Regime::Central, Regime::WriteOff][regime as usize];
        s.safety_valve.withhold = withhold;
        s.safety_valve.last_payment_fy = util::fy("2030-31");
        s.safety_valve.council_contribution_share = contribution;
        s.mitigation.savings_share = savings;
        s.reform.enabled = reform;
        s.reserves.interest_rate = 0.03;
        s.placement.new_places = vec![highneeds::scenario::NewPlaces {
            fy: util::fy("2026-27"),
            places,
        }];
        check_identities(seed, ls)?;
    }
}

#[test]
fn a_path_does_not_depend_on_how_many_paths_run_with_it() {
    // Paths are simulated several at a time (engine::LANES) with a lone-path tail; each lane does
    // the same arithmetic as a lone path, so path p is the same bits in a run of any size.
    let model = util::model(&util::scenario());
    let lanes = highneeds::engine::LANES;
    let (small, small_nat) = util::sim(&model, lanes - 1, util::SEED);
    let (big, big_nat) = util::sim(&model, 2 * lanes + 1, util::SEED);
    let years = small[0].years;
    for (a, b) in small.iter().zip(&big) {
        assert_eq!(a.council, b.council);
        for p in 0..lanes - 1 {
            for t in 0..years {
                for m in Metric::ALL {
                    assert_eq!(a.get(p, t, m).to_bits(), b.get(p, t, m).to_bits());
                }
            }
        }
    }
    for p in 0..lanes - 1 {
        for t in 0..years {
            for m in highneeds::metric::NationalMetric::ALL {
                assert_eq!(
                    small_nat.get(p, t, m).to_bits(),
                    big_nat.get(p, t, m).to_bits()
                );
            }
        }
    }
}

/// England's per-path sums are added in one fixed order, bit for bit: the councils in council
/// order from zero (so they do not depend on how the engine schedules councils or blocks of
/// paths, nor on the thread count). 70 paths cross a block of 64.
#[test]
fn england_adds_councils_in_council_order_bit_for_bit() {
    let model = util::model(&util::scenario());
    let paths = 70;
    let (councils, national) = util::sim(&model, paths, 7);
    let years = model.schedule.years.len();
    let in_order = |term: &dyn Fn(&highneeds::engine::CouncilPaths) -> f64| -> f64 {
        councils.iter().fold(0.0, |england, cp| england + term(cp))
    };
    for p in [0, 63, 64, 69] {
        for t in 0..years {
            for metric in [Metric::Ehcps, Metric::Spend, Metric::Funding] {
                let want = in_order(&|cp| cp.get(p, t, metric));
                let got = national.get(p, t, util::nat(metric.name()));
                assert_eq!(got.to_bits(), want.to_bits(), "{metric} p{p} t{t}");
            }
            let deficit =
                |cp: &highneeds::engine::CouncilPaths| cp.get(p, t, Metric::CumulativeDeficit);
            let checks = [
                ("cumulative_deficit", in_order(&|cp| deficit(cp).max(0.0))),
                ("net_cumulative_deficit", in_order(&deficit)),
                (
                    "councils_in_deficit",
                    in_order(&|cp| f64::from(u8::from(deficit(cp) > 0.0))),
                ),
            ];
            for (name, want) in checks {
                let got = national.get(p, t, util::nat(name));
                assert_eq!(got.to_bits(), want.to_bits(), "{name} p{p} t{t}");
            }
        }
    }
}
