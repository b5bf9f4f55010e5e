//! The cohort model: ageing, phase transfer, state special capacity and overflow.

use crate::util::{self, t_of, SEED};
use highneeds::calibration::PhaseTransfer;
use highneeds::caseload::{
    total, AGE_BANDS, MAINSTREAM, SETTINGS, SPECIAL_INDEPENDENT, SPECIAL_STATE,
};
use highneeds::metric::Metric;
use highneeds::scenario::NewPlaces;

const PATHS: usize = 30;

fn with_places(places: f64, induced: f64) -> highneeds::scenario::LoadedScenario {
    let mut ls = util::scenario();
    ls.scenario.placement.induced_demand = induced;
    ls.scenario.placement.new_places = if places > 0.0 {
        vec![NewPlaces {
            fy: util::fy("2026-27"),
            places,
        }]
    } else {
        vec![]
    };
    ls
}

/// The baseline without its prevalence ceiling, so ageing alone moves plans (the ceiling would
/// end plans that ageing takes above a band's ceiling).
fn without_ceiling() -> highneeds::scenario::LoadedScenario {
    let mut ls = util::scenario();
    ls.scenario.ceiling.enabled = false;
    ls
}

#[test]
fn ageing_alone_conserves_plans() {
    let mut model = util::model(&without_ceiling());
    for c in &mut model.councils {
        c.new_rate = 0.0;
        c.cease_rate = [0.0; AGE_BANDS];
        // Step the caseload from the first year, with no census and no placement trend.
        util::without_census_or_trends(c);
    }
    let promote = model.structure.promote;
    assert!(
        promote.iter().all(|p| (0.0..=1.0).contains(p)),
        "{promote:?}"
    );
    let (cs, _) = util::sim(&model, 5, SEED);
    let n = model.schedule.years.len();
    let mut aged = 0.0;
    for cp in &cs {
        let c = &model.councils[cp.council];
        let start = highneeds::caseload::by_age(&c.caseload0);
        for p in 0..cp.paths {
            for t in 0..n {
                let g = |k: Metric| cp.get(p, t, k);
                assert_eq!(g(Metric::NewPlans), 0.0);
                assert_eq!(g(Metric::CeasedPlans), 0.0);
                let prev_age: Vec<f64> = if t == 0 {
                    start.to_vec()
                } else {
                    (0..AGE_BANDS)
                        .map(|a| cp.get(p, t - 1, Metric::BY_AGE[a]))
                        .collect()
                };
                let prev_total: f64 = prev_age.iter().sum();
                assert!(
                    util::close(
                        g(Metric::Ehcps),
                        prev_total - g(Metric::AgedOut),
                        1e-9,
                        1e-6
                    ),
                    "{} path {p} t {t}: {} vs {} - {}",
                    c.la_name,
                    g(Metric::Ehcps),
                    prev_total,
                    g(Metric::AgedOut)
                );
                // Each band keeps those who stay and gains those promoted from the band below.
                for a in 0..AGE_BANDS {
                    let from_below = if a == 0 {
                        0.0
                    } else {
                        prev_age[a - 1] * promote[a - 1]
                    };
                    let expect = prev_age[a] * (1.0 - promote[a]) + from_below;
                    assert!(
                        util::close(g(Metric::BY_AGE[a]), expect, 1e-9, 1e-6),
                        "{} band {a} t {t}",
                        c.la_name
                    );
                }
                assert!(util::close(
                    g(Metric::AgedOut),
                    prev_age[AGE_BANDS - 1] * promote[AGE_BANDS - 1],
                    1e-9,
                    1e-9
                ));
                aged += g(Metric::AgedOut);
            }
        }
        assert!(total(&c.caseload0) > 0.0);
    }
    assert!(aged > 0.0, "nobody aged out");
}

/// A phase transfer as a matrix, `m[from][to]` (the engine applies it in factored form).
fn transfer_matrix(transfer: &PhaseTransfer) -> [[f64; SETTINGS]; SETTINGS] {
    std::array::from_fn(|s| {
        std::array::from_fn(|t| {
            let own = if s == t { transfer.stay[s] } else { 0.0 };
            own + transfer.leave[s] * transfer.to_share[t]
        })
    })
}

#[test]
fn phase_transfer_rows_sum_to_one() {
    let model = util::model(&util::scenario());
    for (a, band) in model.structure.phase.iter().enumerate() {
        for (s, row) in transfer_matrix(band).iter().enumerate() {
            let sum: f64 = row.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-12,
                "transfer[{a}][{s}] sums to {sum}: {row:?}"
            );
            assert!(
                row.iter().all(|v| (0.0..=1.0 + 1e-12).contains(v)),
                "{row:?}"
            );
        }
    }
    assert_eq!(model.structure.phase.len(), AGE_BANDS);
}

#[test]
fn overflow_only_when_state_special_demand_exceeds_capacity() {
    let mut any_overflow = false;
    for ls in [util::scenario(), with_places(50_000.0, 0.3)] {
        let model = util::model(&ls);
        let (cs, _) = util::sim(&model, 20, SEED);
        for cp in &cs {
            let name = &model.councils[cp.council].la_name;
            for p in 0..cp.paths {
                for t in 0..cp.years {
                    let state = cp.get(p, t, Metric::BY_SETTING[SPECIAL_STATE]);
                    let places = cp.get(p, t, Metric::SpecialPlaces);
                    let overflow = cp.get(p, t, Metric::Overflow);
                    assert!(overflow >= 0.0);
                    assert!(
                        state <= places + 1e-6,
                        "{name} t {t}: {state} in {places} places"
                    );
                    if state < places - 1e-6 {
                        assert_eq!(overflow, 0.0, "{name} t {t}: overflow with spare places");
                    }
                    if overflow > 0.0 {
                        any_overflow = true;
                        assert!(
                            util::close(state, places, 1e-9, 1e-6),
                            "{name}: overflow but not full"
                        );
                    }
                    // Overflow moves specialist placements, never plans: after the latest
                    // census it is every independent placement.
                    if overflow > 0.0 {
                        let independent = cp.get(p, t, Metric::BY_SETTING[SPECIAL_INDEPENDENT]);
                        assert!(util::close(overflow, independent, 1e-9, 1e-6));
                    }
                }
            }
        }
    }
    assert!(any_overflow, "capacity never binds");
}

#[test]
fn new_special_places_lower_independent_placements() {
    let base = util::model(&with_places(0.0, 0.3));
    let more = util::model(&with_places(50_000.0, 0.3));
    let (a, _) = util::sim(&base, PATHS, SEED);
    let (b, _) = util::sim(&more, PATHS, SEED);
    let t = t_of(&base, "2030-31");
    let k = Metric::BY_SETTING[SPECIAL_INDEPENDENT];
    let mut checked = 0;
    for (x, y) in a.iter().zip(&b) {
        let c = &base.councils[x.council];
        // Places only change where plans are placed, never how many there are.
        for p in 0..PATHS {
            for tt in 0..x.years {
                assert!(util::close(
                    x.get(p, tt, Metric::Ehcps),
                    y.get(p, tt, Metric::Ehcps),
                    1e-9,
                    1e-6
                ));
            }
        }
        if highneeds::caseload::by_setting(&c.caseload0)[SPECIAL_STATE] < 1.0 {
            continue;
        }
        let va: Vec<f64> = (0..PATHS).map(|p| x.get(p, t, k)).collect();
        let vb: Vec<f64> = (0..PATHS).map(|p| y.get(p, t, k)).collect();
        let (ma, mb) = (
            highneeds::summary::stats(&mut va.clone()).p50,
            highneeds::summary::stats(&mut vb.clone()).p50,
        );
        assert!(
            mb <= ma + 1e-9,
            "{}: independent median {mb} above {ma}",
            c.la_name
        );
        if mb < ma {
            checked += 1;
        }
    }
    // Most councils buy independent places in 2030-31 and place fewer there with more places.
    assert!(checked > 100, "{checked}");
}

#[test]
fn new_places_with_induced_demand_raise_state_special_placements() {
    let none = util::model(&with_places(0.0, 0.3));
    let more = util::model(&with_places(50_000.0, 0.3));
    let more_no_induced = util::model(&with_places(50_000.0, 0.0));
    let (a, _) = util::sim(&none, PATHS, SEED);
    let (b, _) = util::sim(&more, PATHS, SEED);
    let (c0, _) = util::sim(&more_no_induced, PATHS, SEED);
    let t = t_of(&none, "2026-27");
    let ks = Metric::BY_SETTING[SPECIAL_STATE];
    let km = Metric::BY_SETTING[MAINSTREAM];
    let (mut induced_total, mut raised) = (0.0, 0);
    for ((x, y), z) in a.iter().zip(&b).zip(&c0) {
        let c = &none.councils[x.council];
        if highneeds::caseload::by_setting(&c.caseload0)[SPECIAL_STATE] < 1.0 {
            continue;
        }
        for p in 0..PATHS {
            assert!(
                y.get(p, t, ks) > x.get(p, t, ks),
                "{} path {p}: places did not raise state special",
                c.la_name
            );
            assert_eq!(x.get(p, t, Metric::InducedPlacements), 0.0);
            assert_eq!(z.get(p, t, Metric::InducedPlacements), 0.0);
            let induced = y.get(p, t, Metric::InducedPlacements);
            induced_total += induced;
            // Induced placements come out of mainstream.
            assert!(y.get(p, t, km) <= z.get(p, t, km) + 1e-6);
            assert!(
                y.get(p, t, ks) >= z.get(p, t, ks) - 1e-6,
                "{}: induced demand lowered state special",
                c.la_name
            );
            if y.get(p, t, ks) > z.get(p, t, ks) + 1e-9 {
                raised += 1;
            }
        }
    }
    assert!(induced_total > 0.0, "no induced placements");
    assert!(
        raised > 0,
        "induced demand never raised state special placements"
    );
}

#[test]
fn phase_transfer_re_places_plans_as_the_transition_matrix_does() {
    // One year of ageing alone, with room for everyone in state special schools: plans by
    // setting must equal those staying in their band plus, for each band, the nalgebra product
    // of its transition matrix with the plans moving up (the engine uses the factored form).
    let mut model = util::model(&without_ceiling());
    for c in &mut model.councils {
        c.new_rate = 0.0;
        c.cease_rate = [0.0; AGE_BANDS];
        util::without_census_or_trends(c);
    }
    let structure = model.structure.clone();
    // Transposed, so that `transition[a] * plans_by_setting` gives the settings plans arrive in.
    let transition: Vec<nalgebra::Matrix5<f64>> = structure
        .phase
        .iter()
        .map(|p| {
            let m = transfer_matrix(p);
            nalgebra::Matrix5::from_fn(|to, from| m[from][to])
        })
        .collect();
    let (cs, _) = util::sim(&model, 2, SEED);
    let mut moved_setting = 0.0;
    for cp in &cs {
        let c0 = model.councils[cp.council].caseload0;
        let mut expect = nalgebra::Vector5::<f64>::zeros();
        for a in 0..AGE_BANDS {
            let band = nalgebra::Vector5::from_fn(|s, _| c0[a][s]);
            expect += band * (1.0 - structure.promote[a]);
            if a + 1 < AGE_BANDS {
                let arriving = transition[a] * (band * structure.promote[a]);
                moved_setting += (arriving - band * structure.promote[a]).abs().sum();
                expect += arriving;
            }
        }
        for s in 0..SETTINGS {
            let got = cp.get(0, 0, Metric::BY_SETTING[s]);
            assert!(
                util::close(got, expect[s], 1e-12, 1e-9),
                "{} setting {s}: {got} vs {}",
                model.councils[cp.council].la_name,
                expect[s]
            );
        }
    }
    assert!(
        moved_setting > 100.0,
        "no plan changed setting: {moved_setting}"
    );
}
