//! Turns the seeds and a scenario into the engine's starting state and parameters, using only
//! data known at the vintage's cutoff (so the back-test cannot see the future).

use crate::caseload::{by_setting, total, Cells, AGE_BANDS, SETTINGS, SPECIAL_STATE};
use crate::error::InputError;
use crate::scenario::{LoadedScenario, Regime};
use crate::seeds::{Baseline, CouncilSeed};
use crate::FinancialYear;
use std::collections::BTreeMap;

/// Which data the model may use. `cutoff = None` means everything in the seeds (a projection
/// made today); `Some(fy)` means only what was known at the end of that FY (a back-test).
#[derive(Debug, Clone, Copy)]
pub struct Vintage {
    pub cutoff: Option<FinancialYear>,
}

impl Vintage {
    pub fn latest() -> Self {
        Vintage { cutoff: None }
    }
    pub fn as_of(fy: FinancialYear) -> Self {
        Vintage { cutoff: Some(fy) }
    }
    /// A January census is known if it falls in the cutoff FY or before (it is published in
    /// the summer after; we treat the census inside the cutoff FY as known).
    fn january_known(&self, january: i32) -> bool {
        self.cutoff
            .is_none_or(|c| FinancialYear::of_january(january) <= c)
    }
    /// Calendar-year flows are known when the calendar year ended inside or before the cutoff FY.
    fn calendar_year_known(&self, year: i32) -> bool {
        self.cutoff.is_none_or(|c| year <= c.start_year())
    }
    fn balance_known(&self, fy: FinancialYear) -> bool {
        self.cutoff.is_none_or(|c| fy <= c)
    }
    /// Allocations for the next FY are announced in the December before it starts.
    fn allocation_known(&self, fy: FinancialYear) -> bool {
        self.cutoff.is_none_or(|c| fy <= c.next())
    }
}

/// Safety-valve terms for one council, per projected year.
#[derive(Debug, Clone)]
pub struct SafetyValveTerms {
    pub instalment: Vec<f64>,
    /// Agreed in-year deficit trajectory (pounds; positive = overspend allowed).
    pub trajectory: Vec<f64>,
    /// Years in which the agreement is live (breach can be tested).
    pub live: Vec<bool>,
    /// Instalments scheduled after the HNSG balance date that DfE would still pay.
    pub due_after_hnsg: f64,
}

/// A council's calibrated starting point.
#[derive(Debug, Clone)]
pub struct CouncilModel {
    pub la_code: u16,
    pub la_name: String,
    pub caseload0: Cells,
    /// The caseload in `caseload0` is the census of the first projected FY (no demand step then).
    pub caseload_is_first_year: bool,
    pub growth_prior: f64,
    pub new_rate: f64,
    pub cease_rate: [f64; AGE_BANDS],
    pub entry_mix: Cells,
    /// Unit cost per setting in origin-FY prices (pounds per plan per year).
    pub unit_cost0: [f64; SETTINGS],
    pub cost_scale: f64,
    pub cost_scale_clamped: bool,
    pub non_plan0: f64,
    pub capacity0: f64,
    pub places_added: Vec<f64>,
    pub hnb_origin: f64,
    pub hnb_known: Vec<Option<f64>>,
    pub deficit0: f64,
    pub reserves0: f64,
    pub in_year_deficit0: f64,
    pub safety_valve: Option<SafetyValveTerms>,
}

/// National structure shared by all councils: ageing and moves at phase transfer.
#[derive(Debug, Clone)]
pub struct Structure {
    /// Share of each band that moves up a band each year (from band 20-25: ages out).
    pub promote: [f64; AGE_BANDS],
    /// How plans leaving band `a` for band `a + 1` are re-placed (factored form; the engine's).
    pub phase: [PhaseTransfer; AGE_BANDS],
    /// `transfer[a]` maps settings of plans leaving band `a` into band `a + 1`; rows sum to 1.
    pub transfer: [[[f64; SETTINGS]; SETTINGS]; AGE_BANDS],
    /// The same as nalgebra matrices, transposed: `transition[a] * plans_by_setting` gives the
    /// settings the plans arrive in.
    pub transition: [nalgebra::Matrix5<f64>; AGE_BANDS],
}

/// Year-by-year policy switches resolved from the scenario.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub years: Vec<FinancialYear>,
    pub origin: FinancialYear,
    pub override_end: usize,
    pub hnsg_measure: Option<usize>,
    pub hnsg_payment: Option<usize>,
    pub interim: Vec<bool>,
    pub regime: Vec<Regime>,
    pub write_off_at: Option<usize>,
    pub sv_payments_allowed: Vec<bool>,
    pub new_plan_factor: Vec<f64>,
    pub reassessment: Vec<f64>,
    pub fee_cap: Vec<Option<f64>>,
    pub savings_ramp: Vec<f64>,
    pub cholesky: [[f64; 3]; 3],
}

#[derive(Debug, Clone)]
pub struct Model {
    pub councils: Vec<CouncilModel>,
    pub structure: Structure,
    pub timeline: Timeline,
    pub scenario: crate::scenario::Scenario,
}

fn latest_before<V: Copy>(m: &BTreeMap<i32, V>, ok: impl Fn(i32) -> bool) -> Option<(i32, V)> {
    m.iter().rev().find(|(k, _)| ok(**k)).map(|(k, v)| (*k, *v))
}

fn normalise(c: &Cells) -> Cells {
    let t = total(c);
    let mut out = [[0.0; SETTINGS]; AGE_BANDS];
    if t > 0.0 {
        for a in 0..AGE_BANDS {
            for s in 0..SETTINGS {
                out[a][s] = c[a][s] / t;
            }
        }
    }
    out
}

/// A phase transfer in factored form. A plan in setting `s` keeps its setting with probability
/// `stay[s]`; the rest, `leave[s] = 1 - stay[s]`, is spread over the settings in proportion
/// `to_share`. As a matrix (rows: from, columns: to):
/// `m[s][t] = stay[s] * (s == t) + leave[s] * to_share[t]`, a diagonal plus a rank-one part,
/// which the engine applies with 25 operations per band and path instead of a 5x5 product's 45.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseTransfer {
    pub stay: [f64; SETTINGS],
    pub leave: [f64; SETTINGS],
    pub to_share: [f64; SETTINGS],
}

impl PhaseTransfer {
    /// Everyone keeps their setting.
    pub const IDENTITY: PhaseTransfer = PhaseTransfer {
        stay: [1.0; SETTINGS],
        leave: [0.0; SETTINGS],
        to_share: [0.0; SETTINGS],
    };

    /// Minimal-move transfer between two setting mixes: plans stay in their setting where the
    /// setting does not shrink; the surplus of shrinking settings is spread over growing ones
    /// in proportion to their growth.
    pub fn minimal_move(from: &[f64; SETTINGS], to: &[f64; SETTINGS]) -> PhaseTransfer {
        let tf: f64 = from.iter().sum();
        let tt: f64 = to.iter().sum();
        if tf <= 0.0 || tt <= 0.0 {
            return PhaseTransfer::IDENTITY;
        }
        let p: [f64; SETTINGS] = std::array::from_fn(|s| from[s] / tf);
        let q: [f64; SETTINGS] = std::array::from_fn(|s| to[s] / tt);
        let gain: [f64; SETTINGS] = std::array::from_fn(|s| (q[s] - p[s]).max(0.0));
        let total_gain: f64 = gain.iter().sum();
        if total_gain <= 0.0 {
            return PhaseTransfer::IDENTITY;
        }
        let mut out = PhaseTransfer {
            to_share: std::array::from_fn(|s| gain[s] / total_gain),
            ..PhaseTransfer::IDENTITY
        };
        for s in 0..SETTINGS {
            if p[s] > 0.0 {
                let stay = p[s].min(q[s]) / p[s];
                out.stay[s] = stay;
                out.leave[s] = 1.0 - stay;
            }
        }
        out
    }

    /// The transfer as a matrix: `m[from][to]`; rows sum to 1.
    pub fn matrix(&self) -> [[f64; SETTINGS]; SETTINGS] {
        std::array::from_fn(|s| {
            std::array::from_fn(|t| {
                let own = if s == t { self.stay[s] } else { 0.0 };
                own + self.leave[s] * self.to_share[t]
            })
        })
    }
}

/// Minimal-move transition between two setting mixes as a matrix (see
/// [`PhaseTransfer::minimal_move`]).
pub fn minimal_move_matrix(
    from: &[f64; SETTINGS],
    to: &[f64; SETTINGS],
) -> [[f64; SETTINGS]; SETTINGS] {
    PhaseTransfer::minimal_move(from, to).matrix()
}

fn structure(baseline: &Baseline, vintage: Vintage) -> Structure {
    // Single-year-of-age data exist only for recent Januaries: they are structural shares (not
    // levels), used at every vintage (documented in the README as a back-test limitation).
    let by_age = baseline
        .national_caseload_by_age
        .iter()
        .rev()
        .find(|(j, _)| vintage.january_known(**j))
        .or_else(|| baseline.national_caseload_by_age.iter().next())
        .map(|(_, v)| *v);
    let mut promote = [0.0; AGE_BANDS];
    let mut phase = [PhaseTransfer::IDENTITY; AGE_BANDS];
    let ranges = crate::caseload::AGE_BAND_RANGES;
    match by_age {
        Some(ages) => {
            for a in 0..AGE_BANDS {
                let (lo, hi) = ranges[a];
                let band: f64 = (lo.max(2)..=hi)
                    .map(|x| ages[x as usize].iter().sum::<f64>())
                    .sum();
                let top: f64 = ages[hi as usize].iter().sum();
                promote[a] = if band > 0.0 {
                    top / band
                } else {
                    1.0 / f64::from(hi - lo + 1)
                };
                if a + 1 < AGE_BANDS {
                    let next_lo = ranges[a + 1].0 as usize;
                    phase[a] = PhaseTransfer::minimal_move(&ages[hi as usize], &ages[next_lo]);
                }
            }
        }
        None => {
            for a in 0..AGE_BANDS {
                let (lo, hi) = ranges[a];
                promote[a] = 1.0 / f64::from(hi - lo + 1);
            }
        }
    }
    let transfer = phase.map(|p| p.matrix());
    let transition =
        std::array::from_fn(|a| nalgebra::Matrix5::from_fn(|to, from| transfer[a][from][to]));
    Structure {
        promote,
        phase,
        transfer,
        transition,
    }
}

fn err(ls: &LoadedScenario, key: &str, msg: String) -> InputError {
    InputError::invalid(&ls.files[0], format!("key `{key}`: {msg}"))
}

/// Builds the model for a scenario at a vintage.
pub fn calibrate(
    baseline: &Baseline,
    ls: &LoadedScenario,
    vintage: Vintage,
) -> Result<Model, InputError> {
    let sc = &ls.scenario;
    let first = sc.horizon.first_fy;
    let origin = first.prev();
    if let Some(c) = vintage.cutoff {
        if origin > c {
            return Err(err(
                ls,
                "horizon.first_fy",
                format!("starts after the data cutoff {c}"),
            ));
        }
    }
    let years: Vec<FinancialYear> = (first.0..=sc.horizon.last_fy.0)
        .map(FinancialYear)
        .collect();
    let n = years.len();
    let idx = |fy: FinancialYear| -> Option<usize> { years.iter().position(|y| *y == fy) };
    let structure = structure(baseline, vintage);

    // National aggregates for shrinkage, from councils' data at this vintage.
    let national_ehcps = |jan: i32| -> f64 {
        baseline
            .councils
            .iter()
            .filter_map(|c| c.ehcps.get(&jan))
            .sum()
    };
    let latest_jan = baseline.councils[0]
        .ehcps
        .keys()
        .rev()
        .copied()
        .find(|j| vintage.january_known(*j) && FinancialYear::of_january(*j) <= first)
        .ok_or_else(|| {
            err(
                ls,
                "horizon.first_fy",
                "no EHCP census at or before it".into(),
            )
        })?;
    if FinancialYear::of_january(latest_jan) < origin {
        return Err(err(
            ls,
            "horizon.first_fy",
            format!(
                "the latest census known is January {latest_jan}, more than a year before {first}"
            ),
        ));
    }
    let h = sc.demand.history_years as i32;
    // History window: up to `history_years` back, as far as the seeds go.
    let first_jan = *baseline.councils[0]
        .ehcps
        .keys()
        .next()
        .unwrap_or(&latest_jan);
    let from_jan = (latest_jan - h).max(first_jan);
    let span = f64::from((latest_jan - from_jan).max(1));
    let nat_growth = {
        let (a, b) = (national_ehcps(from_jan), national_ehcps(latest_jan));
        if a > 0.0 && latest_jan > from_jan {
            (b / a).ln() / span
        } else {
            0.0
        }
    };
    // National cease rate (excluding age-outs) and national new-plan entry mix.
    let flow_year = (latest_jan - 1).min(vintage.cutoff.map_or(i32::MAX, |c| c.start_year()));
    let (nat_ceased, nat_stock) = baseline.councils.iter().fold((0.0, 0.0), |(c0, s0), c| {
        match (c.flows.get(&flow_year), c.ehcps.get(&flow_year)) {
            (Some(f), Some(st)) => (c0 + (f.ceased_plans - f.ceased_max_age).max(0.0), s0 + st),
            _ => (c0, s0),
        }
    });
    let nat_cease = if nat_stock > 0.0 {
        nat_ceased / nat_stock
    } else {
        0.05
    };
    let nat_mix = latest_before(&baseline.national_new_plans_mix, |y| {
        vintage.calendar_year_known(y)
    })
    .or_else(|| {
        baseline
            .national_new_plans_mix
            .iter()
            .next()
            .map(|(k, v)| (*k, *v))
    })
    .map(|(_, m)| normalise(&m))
    .unwrap_or_else(|| {
        let mut m = [[0.0; SETTINGS]; AGE_BANDS];
        m[1][0] = 1.0;
        m
    });
    // Relative cease hazard by age band (structural shares; see README).
    let mut cease_pattern = [1.0; AGE_BANDS];
    if let (Some((_, ceased)), Some(ages)) = (
        latest_before(&baseline.national_ceased_by_age, |y| {
            vintage.calendar_year_known(y)
        })
        .or_else(|| {
            baseline
                .national_ceased_by_age
                .iter()
                .next()
                .map(|(k, v)| (*k, *v))
        }),
        baseline.national_caseload_by_age.values().next(),
    ) {
        let mut stock = [0.0; AGE_BANDS];
        for (age, row) in ages.iter().enumerate() {
            stock[crate::caseload::age_band_of(age as u8)] += row.iter().sum::<f64>();
        }
        let rates: Vec<f64> = (0..AGE_BANDS)
            .map(|a| {
                if stock[a] > 0.0 {
                    (ceased[a].0 - ceased[a].1).max(0.0) / stock[a]
                } else {
                    0.0
                }
            })
            .collect();
        let tot_c: f64 = (0..AGE_BANDS)
            .map(|a| (ceased[a].0 - ceased[a].1).max(0.0))
            .sum();
        let tot_s: f64 = stock.iter().sum();
        if tot_c > 0.0 {
            let mean = tot_c / tot_s;
            for a in 0..AGE_BANDS {
                cease_pattern[a] = rates[a] / mean;
            }
        }
    }

    // Timeline.
    let ov = ls.override_end_fy;
    let override_end =
        idx(ov).ok_or_else(|| err(ls, "override.end", "outside the horizon".into()))?;
    let hn = &sc.hnsg;
    let hnsg_measure = if hn.enabled { idx(ls.hnsg_fy) } else { None };
    let hnsg_payment = if hn.enabled { idx(hn.payment_fy) } else { None };
    let interim = years
        .iter()
        .map(|fy| *fy > ls.hnsg_fy && *fy <= ov)
        .collect();
    let ao = &sc.after_override;
    let regime = years
        .iter()
        .map(|fy| {
            if *fy >= ao.from_fy {
                ao.regime
            } else {
                Regime::Council
            }
        })
        .collect();
    let write_off_at = if ao.regime == Regime::WriteOff {
        idx(ao.from_fy)
    } else {
        None
    };
    let sv_payments_allowed = years
        .iter()
        .map(|fy| *fy <= sc.safety_valve.last_payment_fy)
        .collect();
    let rf = &sc.reform;
    let new_plan_factor = years
        .iter()
        .map(|fy| {
            if !rf.enabled {
                1.0
            } else if *fy >= rf.start_fy {
                1.0 + rf.new_plan_rate_change
            } else if fy.0 >= rf.start_fy.0 - rf.surge_years as i32 {
                1.0 + rf.surge
            } else {
                1.0
            }
        })
        .collect();
    let reassessment = years
        .iter()
        .map(|fy| {
            if rf.enabled && *fy >= rf.start_fy {
                rf.reassessment_cease_share
            } else {
                0.0
            }
        })
        .collect();
    let fee_cap = years
        .iter()
        .map(|fy| {
            if rf.enabled && *fy >= rf.start_fy {
                Some(rf.independent_fee_cap)
            } else {
                None
            }
        })
        .collect();
    let m = &sc.mitigation;
    let savings_ramp = years
        .iter()
        .map(|fy| {
            if *fy < m.start_fy {
                0.0
            } else {
                (f64::from((fy.0 - m.start_fy.0 + 1) as u32) / f64::from(m.ramp_years.max(1)))
                    .min(1.0)
            }
        })
        .collect();
    let cholesky = crate::scenario::cholesky(&sc.shocks.correlation)
        .ok_or_else(|| err(ls, "shocks.correlation", "must be positive definite".into()))?;
    let timeline = Timeline {
        years: years.clone(),
        origin,
        override_end,
        hnsg_measure,
        hnsg_payment,
        interim,
        regime,
        write_off_at,
        sv_payments_allowed,
        new_plan_factor,
        reassessment,
        fee_cap,
        savings_ramp,
        cholesky,
    };

    // National new places, shared between councils by the scenario's rule.
    let place_key = match sc.placement.new_places_rule {
        crate::scenario::PlacesRule::SpecialState => SPECIAL_STATE,
        crate::scenario::PlacesRule::SpecialIndependent => crate::caseload::SPECIAL_INDEPENDENT,
    };
    let state_special = |c: &CouncilSeed| by_setting(&c.caseload[&latest_jan])[place_key];
    let national_state: f64 = baseline.councils.iter().map(state_special).sum();
    let mut national_places = vec![0.0; n];
    for np in &sc.placement.new_places {
        if let Some(t) = idx(np.fy) {
            national_places[t] += np.places;
        }
    }

    let unit_anchor = sc.costs.unit_cost.to_array();
    let infl = sc.costs.inflation.to_array();
    let price = |s: usize, fy: FinancialYear| (1.0 + infl[s]).powi(fy.0 - sc.costs.price_fy.0);

    for code in sc.reserves.overrides.keys() {
        if !baseline
            .councils
            .iter()
            .any(|c| c.la_code.to_string() == *code)
        {
            return Err(err(ls, "reserves.overrides", format!("`{code}` is not a council in the seeds (use a DfE 3-digit code from seeds/councils.csv)")));
        }
    }
    let mut councils = Vec::with_capacity(baseline.councils.len());
    for c in &baseline.councils {
        let name = format!("{} ({})", c.la_name, c.la_code);
        let cells = c.caseload[&latest_jan];
        let stock = total(&cells);
        // Growth prior: own log growth over the history window, shrunk toward England.
        let own = match (c.ehcps.get(&from_jan), c.ehcps.get(&latest_jan)) {
            (Some(a), Some(b)) if *a > 0.0 && *b > 0.0 && latest_jan > from_jan => {
                (b / a).ln() / span
            }
            _ => nat_growth,
        };
        let k = sc.demand.shrinkage_plans;
        let w = if stock + k > 0.0 {
            stock / (stock + k)
        } else {
            0.0
        };
        let growth_prior =
            (w * own + (1.0 - w) * nat_growth).clamp(sc.demand.min_growth, sc.demand.max_growth);
        // Cease rate (excluding age-outs).
        let own_cease = match (c.flows.get(&flow_year), c.ehcps.get(&flow_year)) {
            (Some(f), Some(st)) if *st > 0.0 => (f.ceased_plans - f.ceased_max_age).max(0.0) / st,
            _ => nat_cease,
        };
        let cease_total = w * own_cease + (1.0 - w) * nat_cease;
        let age_stock = crate::caseload::by_age(&cells);
        let pattern_mean: f64 = if stock > 0.0 {
            (0..AGE_BANDS)
                .map(|a| cease_pattern[a] * age_stock[a])
                .sum::<f64>()
                / stock
        } else {
            1.0
        };
        let mut cease_rate = [0.0; AGE_BANDS];
        for a in 0..AGE_BANDS {
            cease_rate[a] =
                (cease_total * cease_pattern[a] / pattern_mean.max(1e-9)).clamp(0.0, 0.9);
        }
        // New-plan rate that gives the prior growth in expectation at the start.
        let age_out = if stock > 0.0 {
            structure.promote[AGE_BANDS - 1] * age_stock[AGE_BANDS - 1] / stock
        } else {
            0.0
        };
        let cease_mean = if stock > 0.0 {
            (0..AGE_BANDS)
                .map(|a| cease_rate[a] * age_stock[a])
                .sum::<f64>()
                / stock
        } else {
            cease_total
        };
        let new_rate = (growth_prior.exp() - 1.0 + cease_mean + age_out).max(0.0);
        // Entry mix: own new plans by age and setting, shrunk toward England.
        let entry_mix = match latest_before(&c.new_plans_mix, |y| vintage.calendar_year_known(y)) {
            Some((_, own_mix)) => {
                let nn = total(&own_mix);
                let ke = sc.placement.entry_mix_shrinkage_plans;
                let own_n = normalise(&own_mix);
                let mut mix = [[0.0; SETTINGS]; AGE_BANDS];
                for a in 0..AGE_BANDS {
                    for s in 0..SETTINGS {
                        mix[a][s] = (nn * own_n[a][s] + ke * nat_mix[a][s]) / (nn + ke).max(1e-9);
                    }
                }
                normalise(&mix)
            }
            None => nat_mix,
        };
        // Money at origin.
        let deficit0 = *c.deficits.get(&origin).ok_or_else(|| {
            InputError::invalid(baseline.dir.join("deficits.csv"), format!("scenario key horizon.first_fy = {first} needs a DSG balance for {name} at 31 March {}; balances exist at the end of {:?}", origin.end_year(), c.deficits.keys().map(|k| k.to_string()).collect::<Vec<_>>()))
        })?;
        let hnb_after = |fy: FinancialYear| c.hnb.get(&fy).map(|v| v.1);
        let hnb_origin = hnb_after(origin).ok_or_else(|| {
            err(
                ls,
                "horizon.first_fy",
                format!("no HNB allocation for {name} in {origin}"),
            )
        })?;
        // Calibration window: from the latest known balance 2 to 4 years before the origin.
        let start_fy = (2..=4)
            .map(|k| FinancialYear(origin.0 - k))
            .find(|fy| c.deficits.contains_key(fy) && vintage.balance_known(*fy));
        let mut cost_scale = 1.0;
        let mut clamped = false;
        let non_plan_share = sc.costs.non_plan_share;
        let mut non_plan0 = non_plan_share * hnb_origin;
        let mut in_year_deficit0 = 0.0;
        if let Some(sfy) = start_fy {
            let window: Vec<FinancialYear> = (sfy.0 + 1..=origin.0).map(FinancialYear).collect();
            let funding: Option<f64> = window.iter().map(|fy| hnb_after(*fy)).sum();
            let plan: Option<f64> = window
                .iter()
                .map(|fy| {
                    c.caseload.get(&fy.end_year()).map(|cl| {
                        let st = by_setting(cl);
                        (0..SETTINGS)
                            .map(|s| st[s] * unit_anchor[s] * price(s, *fy))
                            .sum::<f64>()
                    })
                })
                .sum();
            if let (Some(funding), Some(plan)) = (funding, plan) {
                let change = deficit0 - c.deficits[&sfy];
                let implied = funding + change;
                in_year_deficit0 = change / window.len() as f64;
                let non_plan_window = non_plan_share * funding;
                if plan > 0.0 {
                    let raw = (implied - non_plan_window) / plan;
                    cost_scale = raw.clamp(sc.costs.scale_min, sc.costs.scale_max);
                    clamped = cost_scale != raw;
                    // Non-plan spend takes any residual so the window's spend matches the data.
                    let residual = (implied - cost_scale * plan).max(0.0);
                    non_plan0 = residual / funding * hnb_origin;
                }
            }
        }
        let unit_cost0: [f64; SETTINGS] =
            std::array::from_fn(|s| unit_anchor[s] * price(s, origin) * cost_scale);
        let hnb_known = years
            .iter()
            .map(|fy| {
                if vintage.allocation_known(*fy) {
                    hnb_after(*fy)
                } else {
                    None
                }
            })
            .collect();
        let reserves0 = match sc.reserves.overrides.get(&c.la_code.to_string()) {
            Some(v) => *v,
            None => c
                .reserves
                .iter()
                .rev()
                .find(|(fy, _)| vintage.balance_known(**fy))
                .or_else(|| c.reserves.iter().next())
                .map(|(_, v)| *v)
                .unwrap_or(0.0),
        };
        let special0 = by_setting(&cells)[SPECIAL_STATE];
        let capacity0 = special0 * (1.0 + sc.placement.capacity_headroom);
        let share = if national_state > 0.0 {
            state_special(c) / national_state
        } else {
            0.0
        };
        let places_added = national_places.iter().map(|p| p * share).collect();
        let safety_valve = c
            .safety_valve
            .as_ref()
            .filter(|sv| vintage.balance_known(sv.cohort))
            .map(|sv| {
                let instalment: Vec<f64> = years
                    .iter()
                    .map(|fy| sv.instalments.get(fy).copied().unwrap_or(0.0))
                    .collect();
                let span = (sv.target_fy.0 - origin.0).max(1) as f64;
                let trajectory = years
                    .iter()
                    .map(|fy| {
                        (in_year_deficit0.max(0.0) * ((sv.target_fy.0 - fy.0) as f64 / span))
                            .max(0.0)
                    })
                    .collect();
                let live = years
                    .iter()
                    .map(|fy| *fy <= sv.final_fy.max(sv.target_fy))
                    .collect();
                let due_after_hnsg = sv
                    .instalments
                    .iter()
                    .filter(|(fy, _)| **fy > ls.hnsg_fy && **fy <= sc.safety_valve.last_payment_fy)
                    .map(|(_, v)| v)
                    .sum();
                SafetyValveTerms {
                    instalment,
                    trajectory,
                    live,
                    due_after_hnsg,
                }
            });
        councils.push(CouncilModel {
            la_code: c.la_code,
            la_name: c.la_name.clone(),
            caseload0: cells,
            caseload_is_first_year: FinancialYear::of_january(latest_jan) == first,
            growth_prior,
            new_rate,
            cease_rate,
            entry_mix,
            unit_cost0,
            cost_scale,
            cost_scale_clamped: clamped,
            non_plan0,
            capacity0,
            places_added,
            hnb_origin,
            hnb_known,
            deficit0,
            reserves0,
            in_year_deficit0,
            safety_valve,
        });
    }
    Ok(Model {
        councils,
        structure,
        timeline,
        scenario: sc.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_rows_sum_to_one() {
        let m = minimal_move_matrix(&[50.0, 20.0, 5.0, 0.0, 25.0], &[30.0, 25.0, 8.0, 30.0, 7.0]);
        for row in m {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
            assert!(row.iter().all(|v| *v >= 0.0));
        }
        // Mapping the first mix through the matrix gives the second mix.
        let from = [0.5, 0.2, 0.05, 0.0, 0.25];
        let to: Vec<f64> = (0..5)
            .map(|t| (0..5).map(|s| from[s] * m[s][t]).sum())
            .collect();
        let expect = [0.3, 0.25, 0.08, 0.3, 0.07];
        for t in 0..5 {
            assert!((to[t] - expect[t]).abs() < 1e-12, "{to:?}");
        }
    }
}
