//! Turns the seeds and a scenario into the engine's starting state and parameters, using only
//! data known at the vintage's cutoff (so the back-test cannot see the future).

use crate::caseload::{
    by_setting, total, Cells, AGE_5_10, AGE_BANDS, MAINSTREAM, SETTINGS, SPECIAL_INDEPENDENT,
    SPECIAL_STATE,
};
use crate::error::InputError;
use crate::placement::{PlacementTrend, GROUPS};
use crate::scenario::{LoadedScenario, PlacesRule, Regime, Scenario};
use crate::seeds::{Baseline, CouncilSeed};
use crate::FinancialYear;
use std::collections::BTreeMap;

/// Which data the model may use. `cutoff = None` means everything in the seeds (a projection
/// made today); `Some(fy)` means only what was known at the end of that FY (a back-test).
#[derive(Debug, Clone, Copy)]
pub struct Vintage {
    pub cutoff: Option<FinancialYear>,
    /// Policy as it happened: HNB allocations and safety-valve agreements made after the cutoff
    /// are known (a back-test conditional on government decisions; data stay at the cutoff).
    pub policy_as_happened: bool,
}

impl Vintage {
    pub fn latest() -> Self {
        Vintage {
            cutoff: None,
            policy_as_happened: false,
        }
    }
    pub fn as_of(fy: FinancialYear) -> Self {
        Vintage {
            cutoff: Some(fy),
            policy_as_happened: false,
        }
    }
    /// Data known at the end of `fy`; policy (allocations, agreements) as it happened.
    pub fn as_of_with_policy(fy: FinancialYear) -> Self {
        Vintage {
            cutoff: Some(fy),
            policy_as_happened: true,
        }
    }
    /// A safety-valve agreement signed in `cohort` is known.
    fn agreement_known(&self, cohort: FinancialYear) -> bool {
        self.policy_as_happened || self.balance_known(cohort)
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
        self.policy_as_happened || self.cutoff.is_none_or(|c| fy <= c.next())
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
    /// Years in which the agreement cuts spend: from the signing FY, when it was signed after
    /// the calibration window (otherwise the fitted costs already hold its effect).
    pub savings_live: Vec<bool>,
    /// The council's overspend over the calibration window as a share of its HNB (at least 0).
    pub pre_overspend_share: f64,
    /// The base of the cut: `pre_overspend_share`, times `1 - safety_valve.caseload_share` where
    /// the latest census is at or after the agreement's first January (it already shows the
    /// slower caseload that part of the measured cut is).
    pub cut_base: f64,
}

/// A council's calibrated starting point.
#[derive(Debug, Clone)]
pub struct CouncilModel {
    pub la_code: u16,
    pub la_name: String,
    /// The caseload the projection starts from: the latest census at or before the first
    /// projected FY.
    pub caseload0: Cells,
    /// Each projected FY's January census where it is known at the vintage (the caseload of
    /// that year is then the census, not a projection).
    pub census: Vec<Option<Cells>>,
    /// Index of the FY of the latest census known (-1: the origin FY). The new-plan rate and
    /// the placement trends are set at that census and count years from it.
    pub latest_census: i32,
    pub growth_prior: f64,
    pub new_rate: f64,
    /// Plans ending and ageing out per plan in the first projected year (the part of
    /// `new_rate` that only replaces them; the rest is growth, which decays).
    pub exit_rate: f64,
    pub cease_rate: [f64; AGE_BANDS],
    /// Each age band's population at the latest census (estimated from the 2-18 population).
    pub population: [f64; AGE_BANDS],
    /// Each age band's prevalence ceiling, plans per head: the scenario's, or the council's
    /// census prevalence where that is already higher.
    pub ceiling: [f64; AGE_BANDS],
    /// `1 - (census prevalence / ceiling)^shape` (at least [`MIN_SATURATION0`]): the saturation
    /// that leaves new plans as fitted at the census.
    pub saturation0: [f64; AGE_BANDS],
    pub entry_mix: Cells,
    /// The calendar year of the council's own new-plan mix in `entry_mix` (`None`: England's).
    pub entry_mix_year: Option<i32>,
    /// Unit cost per setting in origin-FY prices (pounds per plan per year).
    pub unit_cost0: [f64; SETTINGS],
    pub cost_scale: f64,
    pub cost_scale_clamped: bool,
    pub non_plan0: f64,
    /// Plans in force in the origin FY's census: the base of non-plan spend per plan.
    pub stock_origin: f64,
    /// Placement-share and state special capacity trends fitted at the latest census.
    pub placement: PlacementTrend,
    pub places_added: Vec<f64>,
    pub hnb_origin: f64,
    pub hnb_known: Vec<Option<f64>>,
    pub deficit0: f64,
    /// The balance at the origin was not published: `deficit0` is a nowcast from the latest
    /// known balance (see README, "Calibration").
    pub deficit0_nowcast: bool,
    pub reserves0: f64,
    pub in_year_deficit0: f64,
    pub safety_valve: Option<SafetyValveTerms>,
    /// Local figures pinned in projected years (`run --local`).
    pub pins: LocalPins,
}

/// Local figures (`run --local`) pinned in the projected years they belong to (index `t`):
/// the engine sets these values in every path (see README, "Local figures").
#[derive(Debug, Clone, Default)]
pub struct LocalPins {
    /// DSG balance at the end of the year.
    pub balance: Vec<Option<f64>>,
    /// In-year overspend of the year (spend - funding).
    pub overspend: Vec<Option<f64>>,
    /// EHCPs in the year's January census.
    pub ehcps: Vec<Option<f64>>,
    /// Usable reserves at the end of the year.
    pub reserves: Vec<Option<f64>>,
    /// The year's HNB is a local figure (no formula uplift on it).
    pub hnb: Vec<bool>,
}

impl LocalPins {
    fn none(years: usize) -> Self {
        LocalPins {
            balance: vec![None; years],
            overspend: vec![None; years],
            ehcps: vec![None; years],
            reserves: vec![None; years],
            hnb: vec![false; years],
        }
    }
}

/// National structure shared by all councils: ageing and moves at phase transfer.
#[derive(Debug, Clone)]
pub struct Structure {
    /// Share of each band that moves up a band each year (from band 20-25: ages out).
    pub promote: [f64; AGE_BANDS],
    /// How plans leaving band `a` for band `a + 1` are re-placed (factored form; the engine's).
    pub phase: [PhaseTransfer; AGE_BANDS],
}

/// The scenario's policy rules resolved year by year over the horizon: what applies in each
/// projected FY (index `t` of `years`).
#[derive(Debug, Clone)]
pub struct PolicySchedule {
    pub years: Vec<FinancialYear>,
    pub override_end: usize,
    pub hnsg_measure: Option<usize>,
    pub hnsg_payment: Option<usize>,
    pub interim: Vec<bool>,
    pub regime: Vec<Regime>,
    pub write_off_at: Option<usize>,
    pub sv_payments_allowed: Vec<bool>,
    /// The first year whose known allocation carries the formula uplift (drawn once per path).
    pub uplift_from: Option<usize>,
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
    pub schedule: PolicySchedule,
    pub scenario: crate::scenario::Scenario,
}

/// England's cease rate (excluding age-outs) when no council has both flows and a census for
/// the flow year.
pub const FALLBACK_CEASE_RATE: f64 = 0.05;

/// No age band loses more than this share of its plans in a year (besides ageing out).
pub const MAX_CEASE_RATE: f64 = 0.9;

/// The cost calibration window starts at a known DSG balance this many years before the anchor
/// balance, in this order of preference: one year (the latest FY whose opening and closing
/// balances are both known), then two, three and four (the baseline: 31 March 2023 was not
/// published, so its window is 2022-23 and 2023-24); the window covers the FYs after it up to
/// the anchor. The latest year first because a council's spend per plan beyond its caseload, mix
/// and prices carries forward from the window's end, not its middle (README "Spend per plan").
pub const COST_WINDOW_START_YEARS_BEFORE_ANCHOR: [i32; 4] = [1, 2, 3, 4];

/// The pre-agreement overspend (a safety-valve council's trajectory and its savings after a
/// later agreement, and the nowcast of a missing balance) is measured over the window that starts
/// this many years before the anchor, in this order: two years, then three, four and one. That is
/// the basis `safety_valve.savings_mean` was measured on (each agreement's overspend in 2022-24
/// against its overspend over the two years 2020-22), so the cut it implies is applied to the
/// same kind of base.
pub const OVERSPEND_WINDOW_START_YEARS_BEFORE_ANCHOR: [i32; 4] = [2, 3, 4, 1];

/// The first balance of a window: the first of `years_before` (years before `anchor`) whose
/// balance the council has and the vintage knows.
fn window_start(
    years_before: &[i32],
    seed: &CouncilSeed,
    vintage: Vintage,
    anchor: FinancialYear,
) -> Option<FinancialYear> {
    years_before
        .iter()
        .map(|k| FinancialYear(anchor.0 - k))
        .find(|fy| seed.deficits.contains_key(fy) && vintage.balance_known(*fy))
}

/// Guards a division by a share or weight that may be zero.
const TINY: f64 = 1e-9;

/// The entry mix when the seeds have no national new-plan mix: every new plan aged 5-10, in
/// mainstream.
fn fallback_entry_mix() -> Cells {
    let mut mix = [[0.0; SETTINGS]; AGE_BANDS];
    mix[AGE_5_10][MAINSTREAM] = 1.0;
    mix
}

fn latest_before<V: Copy>(
    series: &BTreeMap<i32, V>,
    known: impl Fn(i32) -> bool,
) -> Option<(i32, V)> {
    series
        .iter()
        .rev()
        .find(|(year, _)| known(**year))
        .map(|(year, v)| (*year, *v))
}

/// The latest value known at the vintage, else the earliest value of the series (a structural
/// share the seeds only have for later years; see the README's back-test limitations).
fn latest_known_or_first<V: Copy>(
    series: &BTreeMap<i32, V>,
    known: impl Fn(i32) -> bool,
) -> Option<(i32, V)> {
    latest_before(series, known).or_else(|| series.iter().next().map(|(k, v)| (*k, *v)))
}

fn normalise(cells: &Cells) -> Cells {
    let sum = total(cells);
    let mut out = [[0.0; SETTINGS]; AGE_BANDS];
    if sum > 0.0 {
        for a in 0..AGE_BANDS {
            for s in 0..SETTINGS {
                out[a][s] = cells[a][s] / sum;
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
        let from_total: f64 = from.iter().sum();
        let to_total: f64 = to.iter().sum();
        if from_total <= 0.0 || to_total <= 0.0 {
            return PhaseTransfer::IDENTITY;
        }
        let p: [f64; SETTINGS] = std::array::from_fn(|s| from[s] / from_total);
        let q: [f64; SETTINGS] = std::array::from_fn(|s| to[s] / to_total);
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
}

/// Ageing and phase transfer from England's single-year-of-age census.
fn structure(baseline: &Baseline, vintage: Vintage) -> Structure {
    // Single-year-of-age data exist only for recent Januaries: they are structural shares (not
    // levels), used at every vintage (documented in the README as a back-test limitation).
    let by_age = latest_known_or_first(&baseline.national_caseload_by_age, |january| {
        vintage.january_known(january)
    })
    .map(|(_, ages)| ages);
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
    Structure { promote, phase }
}

/// The window of Januaries the placement trends are fitted on, and England's trends over it.
struct PlacementFit {
    from_jan: i32,
    latest_jan: i32,
    /// The first census on the current recording basis of post-16 and AP/other: the share
    /// slopes skip the step into it.
    break_jan: i32,
    national_slope: [f64; GROUPS],
    national_capacity_growth: f64,
}

/// A share's yearly slope over the Januaries `from..=to`: the mean of its yearly log changes,
/// leaving out the change into `break_jan` (the first census on a new recording basis) when
/// the window spans it, so a one-off change of recording is not read as a trend. `level(jan)`
/// is the log share. `None` when no yearly change is left.
pub fn share_slope(level: impl Fn(i32) -> f64, from: i32, to: i32, break_jan: i32) -> Option<f64> {
    let years = to - from;
    if from < break_jan && break_jan <= to {
        let step = level(break_jan) - level(break_jan - 1);
        (years > 1).then(|| (level(to) - level(from) - step) / f64::from(years - 1))
    } else {
        (years > 0).then(|| (level(to) - level(from)) / f64::from(years))
    }
}

/// Plans by setting in one council's census (zero when the seeds have none).
fn settings_at(c: &CouncilSeed, jan: i32) -> Option<[f64; SETTINGS]> {
    c.caseload.get(&jan).map(by_setting)
}

impl PlacementFit {
    /// England's yearly change in the groups' log levels ([`crate::placement::log_levels`]: log
    /// specialist placements, log shares of post-16 and AP/other; see [`share_slope`]), and
    /// the log growth of its state special placements, from `from_jan` to the latest census.
    fn national(baseline: &Baseline, latest_jan: i32, p: &crate::scenario::Placement) -> Self {
        let first_jan = baseline.councils[0]
            .caseload
            .keys()
            .next()
            .copied()
            .unwrap_or(latest_jan);
        let from_jan = (latest_jan - p.history_years as i32).max(first_jan);
        let break_jan = p.share_break_january as i32;
        let england = |jan: i32| -> [f64; SETTINGS] {
            let mut out = [0.0; SETTINGS];
            for c in &baseline.councils {
                if let Some(s) = settings_at(c, jan) {
                    for k in 0..SETTINGS {
                        out[k] += s[k];
                    }
                }
            }
            out
        };
        let (a, b) = (england(from_jan), england(latest_jan));
        let span = f64::from((latest_jan - from_jan).max(1));
        let national_capacity_growth = if a[SPECIAL_STATE] > 0.0 && b[SPECIAL_STATE] > 0.0 {
            (b[SPECIAL_STATE] / a[SPECIAL_STATE]).ln() / span
        } else {
            0.0
        };
        let level = |g: usize| move |jan: i32| crate::placement::log_levels(&england(jan))[g];
        PlacementFit {
            from_jan,
            latest_jan,
            break_jan,
            national_slope: std::array::from_fn(|g| {
                let break_jan = if g == 0 { from_jan } else { break_jan };
                share_slope(level(g), from_jan, latest_jan, break_jan).unwrap_or(0.0)
            }),
            national_capacity_growth,
        }
    }

    /// One council's trends: its own changes over the window shrunk toward England's, weight
    /// `plans / (plans + trend_shrinkage_plans)` (state special plans for the capacity).
    fn council(&self, c: &CouncilSeed, p: &crate::scenario::Placement) -> PlacementTrend {
        let latest = settings_at(c, self.latest_jan).unwrap_or([0.0; SETTINGS]);
        let from = settings_at(c, self.from_jan).unwrap_or(latest);
        let span = f64::from((self.latest_jan - self.from_jan).max(1));
        let k = p.trend_shrinkage_plans;
        let weight = |n: f64| if n + k > 0.0 { n / (n + k) } else { 0.0 };
        let log_level0 = crate::placement::log_levels(&latest);
        let w = weight(latest.iter().sum());
        let slope = std::array::from_fn(|g| {
            // A census the seeds lack counts as the latest one (no change of its own).
            let level = |jan: i32| {
                settings_at(c, jan).map_or(log_level0[g], |s| crate::placement::log_levels(&s)[g])
            };
            // Specialist placements are one count across the break: no step is left out.
            let break_jan = if g == 0 {
                self.from_jan
            } else {
                self.break_jan
            };
            let own = share_slope(level, self.from_jan, self.latest_jan, break_jan)
                .unwrap_or(self.national_slope[g]);
            w * own + (1.0 - w) * self.national_slope[g]
        });
        let state = latest[SPECIAL_STATE];
        let own_growth =
            if self.latest_jan > self.from_jan && state > 0.0 && from[SPECIAL_STATE] > 0.0 {
                (state / from[SPECIAL_STATE]).ln() / span
            } else {
                self.national_capacity_growth
            };
        let wk = weight(state);
        PlacementTrend {
            log_level0,
            slope,
            capacity0: state * (1.0 + p.capacity_headroom),
            capacity_growth: wk * own_growth + (1.0 - wk) * self.national_capacity_growth,
        }
    }
}

fn err(ls: &LoadedScenario, key: &str, msg: String) -> InputError {
    ls.key_error(key, &msg)
}

/// The censuses and flows a vintage calibrates from.
struct History {
    /// The latest January census known at the vintage, at or before the first projected FY:
    /// the projection starts from it.
    start_january: i32,
    /// The latest January census known at the vintage (within the horizon): later censuses
    /// than `start_january` replace their year's projected caseload, and demand and placement
    /// trends are fitted at it.
    latest_january: i32,
    /// The start of the growth history window (`history_years` back, as far as the seeds go).
    from_january: i32,
    /// Years between the two (at least 1).
    span: f64,
    /// The calendar year of flows (ceased plans) used for cease rates.
    flow_year: i32,
}

impl History {
    fn new(
        baseline: &Baseline,
        ls: &LoadedScenario,
        vintage: Vintage,
        first: FinancialYear,
    ) -> Result<History, InputError> {
        let januaries = &baseline.councils[0].ehcps;
        let start_january = januaries
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
        if FinancialYear::of_january(start_january) < first.prev() {
            return Err(err(
                ls,
                "horizon.first_fy",
                format!(
                    "the latest census known is January {start_january}, more than a year before {first}"
                ),
            ));
        }
        let last = ls.scenario.horizon.last_fy;
        let latest_january = januaries
            .keys()
            .rev()
            .copied()
            .find(|j| vintage.january_known(*j) && FinancialYear::of_january(*j) <= last)
            .unwrap_or(start_january)
            .max(start_january);
        let history_years = ls.scenario.demand.history_years as i32;
        let first_january = *januaries.keys().next().unwrap_or(&latest_january);
        let from_january = (latest_january - history_years).max(first_january);
        let cutoff_year = vintage.cutoff.map_or(i32::MAX, |c| c.start_year());
        // Flows end a year before the censuses do: the latest calendar year with flows.
        let last_flow_year = baseline.councils[0]
            .flows
            .keys()
            .next_back()
            .copied()
            .unwrap_or(latest_january - 1);
        Ok(History {
            start_january,
            latest_january,
            from_january,
            span: f64::from((latest_january - from_january).max(1)),
            flow_year: (latest_january - 1).min(last_flow_year).min(cutoff_year),
        })
    }
}

/// England's figures that councils' own figures are shrunk toward.
struct EnglandPriors {
    /// Mean log growth in EHCPs over the history window.
    growth: f64,
    /// Non-age-out ceased plans over stock in the flow year.
    cease_rate: f64,
    /// New plans by age band and setting (shares).
    entry_mix: Cells,
    /// Relative cease hazard by age band (mean 1 over England's stock).
    cease_pattern: [f64; AGE_BANDS],
}

impl EnglandPriors {
    fn new(baseline: &Baseline, vintage: Vintage, history: &History) -> Self {
        EnglandPriors {
            growth: england_growth(baseline, history),
            cease_rate: england_cease_rate(baseline, history.flow_year),
            entry_mix: latest_known_or_first(&baseline.national_new_plans_mix, |year| {
                vintage.calendar_year_known(year)
            })
            .map(|(_, mix)| normalise(&mix))
            .unwrap_or_else(fallback_entry_mix),
            cease_pattern: cease_pattern(baseline, vintage),
        }
    }
}

/// England's mean log growth in EHCPs over the history window (sum of councils).
fn england_growth(baseline: &Baseline, history: &History) -> f64 {
    let england_ehcps = |january: i32| -> f64 {
        baseline
            .councils
            .iter()
            .filter_map(|c| c.ehcps.get(&january))
            .sum()
    };
    let (from, latest) = (history.from_january, history.latest_january);
    let (a, b) = (england_ehcps(from), england_ehcps(latest));
    if a > 0.0 && latest > from {
        (b / a).ln() / history.span
    } else {
        0.0
    }
}

/// England's cease rate excluding age-outs in `flow_year`, over the councils with both flows
/// and a census then.
fn england_cease_rate(baseline: &Baseline, flow_year: i32) -> f64 {
    let (ceased, stock) = baseline.councils.iter().fold((0.0, 0.0), |(c0, s0), c| {
        match (c.flows.get(&flow_year), c.ehcps.get(&flow_year)) {
            (Some(f), Some(st)) => (c0 + (f.ceased_plans - f.ceased_max_age).max(0.0), s0 + st),
            _ => (c0, s0),
        }
    });
    if stock > 0.0 {
        ceased / stock
    } else {
        FALLBACK_CEASE_RATE
    }
}

/// Relative cease hazard by age band from England's ceased plans by age (structural shares;
/// see the README), 1 in every band when the seeds have none.
fn cease_pattern(baseline: &Baseline, vintage: Vintage) -> [f64; AGE_BANDS] {
    let mut pattern = [1.0; AGE_BANDS];
    let ceased_by_age = latest_known_or_first(&baseline.national_ceased_by_age, |year| {
        vintage.calendar_year_known(year)
    });
    let (Some((_, ceased)), Some(ages)) = (
        ceased_by_age,
        baseline.national_caseload_by_age.values().next(),
    ) else {
        return pattern;
    };
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
    let total_ceased: f64 = (0..AGE_BANDS)
        .map(|a| (ceased[a].0 - ceased[a].1).max(0.0))
        .sum();
    let total_stock: f64 = stock.iter().sum();
    if total_ceased > 0.0 {
        let mean = total_ceased / total_stock;
        for a in 0..AGE_BANDS {
            pattern[a] = rates[a] / mean;
        }
    }
    pattern
}

/// Resolves the scenario's policy rules over the projected years.
fn policy_schedule(scenario: &Scenario, years: &[FinancialYear]) -> PolicySchedule {
    let idx = |fy: FinancialYear| -> Option<usize> { years.iter().position(|y| *y == fy) };
    let override_end_fy = scenario.override_end;
    let override_end =
        idx(override_end_fy).expect("validation keeps the override end inside the horizon");
    let hnsg_measure = scenario.hnsg.as_ref().and_then(|hnsg| idx(hnsg.balance_fy));
    let hnsg_payment = scenario.hnsg.as_ref().and_then(|hnsg| idx(hnsg.payment_fy));
    let interim = years
        .iter()
        .map(|fy| *fy >= scenario.interim_support.from_fy && *fy <= override_end_fy)
        .collect();
    let after_override = &scenario.after_override;
    let regime = years
        .iter()
        .map(|fy| {
            if *fy >= after_override.from_fy {
                after_override.regime
            } else {
                Regime::Council
            }
        })
        .collect();
    let write_off_at = if after_override.regime == Regime::WriteOff {
        idx(after_override.from_fy)
    } else {
        None
    };
    let sv_payments_allowed = years
        .iter()
        .map(|fy| *fy <= scenario.safety_valve.last_payment_fy)
        .collect();
    let reform = reform_schedule(&scenario.reform, years);
    let uplift_from = years
        .iter()
        .position(|fy| *fy >= scenario.funding.formula_uplift_fy);
    PolicySchedule {
        uplift_from,
        years: years.to_vec(),
        override_end,
        hnsg_measure,
        hnsg_payment,
        interim,
        regime,
        write_off_at,
        sv_payments_allowed,
        new_plan_factor: reform.new_plan_factor,
        reassessment: reform.reassessment,
        fee_cap: reform.fee_cap,
        savings_ramp: savings_ramp(&scenario.mitigation, years),
        cholesky: *scenario.shocks.cholesky(),
    }
}

/// SEND reform by year: the new-plan rate factor (surge before the start, change after), the
/// share of plans reassessed at phase transfer, and the independent fee cap.
struct ReformSchedule {
    new_plan_factor: Vec<f64>,
    reassessment: Vec<f64>,
    fee_cap: Vec<Option<f64>>,
}

fn reform_schedule(reform: &crate::scenario::Reform, years: &[FinancialYear]) -> ReformSchedule {
    let in_force = |fy: &FinancialYear| reform.enabled && *fy >= reform.start_fy;
    let new_plan_factor = years
        .iter()
        .map(|fy| {
            if !reform.enabled {
                1.0
            } else if *fy >= reform.start_fy {
                1.0 + reform.new_plan_rate_change
            } else if fy.0 >= reform.start_fy.0 - reform.surge_years as i32 {
                1.0 + reform.surge
            } else {
                1.0
            }
        })
        .collect();
    let reassessment = years
        .iter()
        .map(|fy| {
            if in_force(fy) {
                reform.reassessment_cease_share
            } else {
                0.0
            }
        })
        .collect();
    let fee_cap = years
        .iter()
        .map(|fy| in_force(fy).then_some(reform.independent_fee_cap))
        .collect();
    ReformSchedule {
        new_plan_factor,
        reassessment,
        fee_cap,
    }
}

/// The share of a savings plan in force each year: 0 before the start, then ramped up
/// linearly over `ramp_years` to 1.
fn savings_ramp(mitigation: &crate::scenario::Mitigation, years: &[FinancialYear]) -> Vec<f64> {
    years
        .iter()
        .map(|fy| {
            if *fy < mitigation.start_fy {
                0.0
            } else {
                (f64::from((fy.0 - mitigation.start_fy.0 + 1) as u32)
                    / f64::from(mitigation.ramp_years.max(1)))
                .min(1.0)
            }
        })
        .collect()
}

/// National new places by year, shared between councils by the scenario's rule.
struct NewPlacesShare {
    /// National places added in each projected year.
    national: Vec<f64>,
    /// The setting whose January caseload the places are shared by.
    setting: usize,
    /// England's caseload in that setting.
    england: f64,
}

impl NewPlacesShare {
    fn new(
        ls: &LoadedScenario,
        baseline: &Baseline,
        january: i32,
        years: &[FinancialYear],
    ) -> Self {
        let placement = &ls.scenario.placement;
        let setting = match placement.new_places_rule {
            PlacesRule::SpecialState => SPECIAL_STATE,
            PlacesRule::SpecialIndependent => SPECIAL_INDEPENDENT,
        };
        let mut national = vec![0.0; years.len()];
        for new_places in &placement.new_places {
            if let Some(t) = years.iter().position(|y| *y == new_places.fy) {
                national[t] += new_places.places;
            }
        }
        let england = baseline
            .councils
            .iter()
            .map(|c| by_setting(&c.caseload[&january])[setting])
            .sum();
        NewPlacesShare {
            national,
            setting,
            england,
        }
    }

    /// One council's places added by year, pro rata to its caseload in the sharing setting.
    fn for_council(&self, cells: &Cells) -> Vec<f64> {
        let share = if self.england > 0.0 {
            by_setting(cells)[self.setting] / self.england
        } else {
            0.0
        };
        self.national.iter().map(|p| p * share).collect()
    }
}

fn check_reserves_overrides(baseline: &Baseline, ls: &LoadedScenario) -> Result<(), InputError> {
    for code in ls.scenario.reserves.overrides.keys() {
        if !baseline
            .councils
            .iter()
            .any(|c| c.la_code.to_string() == *code)
        {
            return Err(err(ls, "reserves.overrides", format!("`{code}` is not a council in the seeds (use a DfE 3-digit code from seeds/councils.csv)")));
        }
    }
    Ok(())
}

/// Everything a council's calibration shares with the others.
struct Calibration<'a> {
    baseline: &'a Baseline,
    ls: &'a LoadedScenario,
    vintage: Vintage,
    /// The first projected FY.
    first: FinancialYear,
    /// The FY before it, at whose end the projection starts.
    origin: FinancialYear,
    years: &'a [FinancialYear],
    history: History,
    england: EnglandPriors,
    structure: &'a Structure,
    places: NewPlacesShare,
    placement: PlacementFit,
}

/// Builds the model for a scenario at a vintage.
pub fn calibrate(
    baseline: &Baseline,
    ls: &LoadedScenario,
    vintage: Vintage,
) -> Result<Model, InputError> {
    let scenario = &ls.scenario;
    let first = scenario.horizon.first_fy;
    let origin = first.prev();
    if let Some(cutoff) = vintage.cutoff {
        if origin > cutoff {
            return Err(err(
                ls,
                "horizon.first_fy",
                format!("starts after the data cutoff {cutoff}"),
            ));
        }
    }
    let years: Vec<FinancialYear> = (first.0..=scenario.horizon.last_fy.0)
        .map(FinancialYear)
        .collect();
    let structure = structure(baseline, vintage);
    let history = History::new(baseline, ls, vintage, first)?;
    let england = EnglandPriors::new(baseline, vintage, &history);
    let schedule = policy_schedule(&ls.scenario, &years);
    let places = NewPlacesShare::new(ls, baseline, history.latest_january, &years);
    let placement = PlacementFit::national(baseline, history.latest_january, &scenario.placement);
    check_reserves_overrides(baseline, ls)?;
    let calibration = Calibration {
        baseline,
        ls,
        vintage,
        first,
        origin,
        years: &years,
        history,
        england,
        structure: &structure,
        places,
        placement,
    };
    let councils = baseline
        .councils
        .iter()
        .map(|seed| calibrate_council(&calibration, seed))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Model {
        councils,
        structure,
        schedule,
        scenario: scenario.clone(),
    })
}

/// One council's starting point: caseload, demand rates, unit costs, money and policy terms.
fn calibrate_council(
    calibration: &Calibration,
    seed: &CouncilSeed,
) -> Result<CouncilModel, InputError> {
    let scenario = &calibration.ls.scenario;
    let cells = seed.caseload[&calibration.history.latest_january];
    let stock = total(&cells);
    let own_weight = own_weight(stock, scenario.demand.shrinkage_plans);
    let growth_prior = growth_prior(calibration, seed, own_weight);
    let (cease_rate, cease_total) = cease_rates(calibration, seed, &cells, own_weight);
    let (new_rate, exit_rate) =
        new_plan_rate(calibration, &cells, growth_prior, &cease_rate, cease_total);
    let prevalence = PrevalenceCeiling::new(scenario, &cells, seed.pop_2_18);
    let start = starting_money(calibration, seed)?;
    let costs = fit_cost_scale(calibration, seed, &start);
    let deficit0 = nowcast_origin_balance(calibration, seed, &start, &costs);
    let stock_origin = seed
        .caseload
        .get(&calibration.origin.end_year())
        .map(total)
        .unwrap_or(stock);
    let (entry_mix, entry_mix_year) = entry_mix(calibration, seed);
    let mut council = CouncilModel {
        la_code: seed.la_code,
        la_name: seed.la_name.clone(),
        caseload0: seed.caseload[&calibration.history.start_january],
        census: census_years(calibration, seed),
        latest_census: FinancialYear::of_january(calibration.history.latest_january).0
            - calibration.first.0,
        growth_prior,
        new_rate,
        exit_rate,
        cease_rate,
        population: prevalence.population,
        ceiling: prevalence.ceiling,
        saturation0: prevalence.saturation0,
        entry_mix,
        entry_mix_year,
        unit_cost0: costs.unit_cost0,
        cost_scale: costs.cost_scale,
        cost_scale_clamped: costs.clamped,
        non_plan0: costs.non_plan0,
        stock_origin,
        placement: calibration.placement.council(seed, &scenario.placement),
        places_added: calibration.places.for_council(&cells),
        hnb_origin: start.hnb_origin,
        hnb_known: known_allocations(calibration, seed),
        deficit0,
        deficit0_nowcast: start.anchor != calibration.origin,
        reserves0: starting_reserves(calibration, seed),
        in_year_deficit0: costs.in_year_deficit0,
        safety_valve: safety_valve_terms(calibration, seed, &costs),
        pins: LocalPins::none(calibration.years.len()),
    };
    apply_local_figures(calibration, &mut council)?;
    Ok(council)
}

/// Pins the council's local figures (a projection made today only; a back-test ignores them):
/// a figure dated at the origin replaces the starting balance or reserves; later ones are
/// pinned in their year; HNB replaces the known allocation. Dates outside the origin to the
/// last projected FY are errors.
fn apply_local_figures(
    calibration: &Calibration,
    council: &mut CouncilModel,
) -> Result<(), InputError> {
    let local = &calibration.baseline.local;
    if calibration.vintage.cutoff.is_some() {
        return Ok(());
    }
    let (origin, years) = (calibration.origin, calibration.years);
    for f in local.of(council.la_code) {
        let t = years.iter().position(|y| *y == f.fy);
        let at_origin = f.fy == origin;
        let allowed = || {
            InputError::at_line(
                &local.path,
                f.line,
                format!(
                    "{} for council {} is dated in {}: allowed from {} (the run's starting balance date, 31 March {}) to {}",
                    f.kind.name(),
                    f.la_code,
                    f.fy,
                    origin,
                    origin.end_year(),
                    years[years.len() - 1]
                ),
            )
        };
        use crate::local::LocalKind as K;
        match (f.kind, t) {
            (K::DsgBalance, _) if at_origin => council.deficit0 = f.value,
            (K::UsableReserves, _) if at_origin => council.reserves0 = f.value,
            (K::DsgBalance, Some(t)) => council.pins.balance[t] = Some(f.value),
            (K::UsableReserves, Some(t)) => council.pins.reserves[t] = Some(f.value),
            (K::ForecastOverspend, Some(t)) => council.pins.overspend[t] = Some(f.value),
            (K::Ehcps, Some(t)) => council.pins.ehcps[t] = Some(f.value),
            (K::Hnb, Some(t)) => {
                council.hnb_known[t] = Some(f.value);
                council.pins.hnb[t] = true;
            }
            _ => return Err(allowed()),
        }
    }
    Ok(())
}

/// Each projected FY's January census, where it is known at the vintage.
fn census_years(calibration: &Calibration, seed: &CouncilSeed) -> Vec<Option<Cells>> {
    let latest = calibration.history.latest_january;
    calibration
        .years
        .iter()
        .map(|fy| {
            let january = fy.end_year();
            (january <= latest && calibration.vintage.january_known(january))
                .then(|| seed.caseload.get(&january).copied())
                .flatten()
        })
        .collect()
}

/// The weight of a council's own data against England's: `plans / (plans + shrinkage_plans)`.
fn own_weight(stock: f64, shrinkage_plans: f64) -> f64 {
    if stock + shrinkage_plans > 0.0 {
        stock / (stock + shrinkage_plans)
    } else {
        0.0
    }
}

/// Growth prior: the council's own mean log growth in EHCPs over the history window, shrunk
/// toward England's and clamped to the scenario's bounds.
fn growth_prior(calibration: &Calibration, seed: &CouncilSeed, own_weight: f64) -> f64 {
    let history = &calibration.history;
    let demand = &calibration.ls.scenario.demand;
    let england = calibration.england.growth;
    let own = match (
        seed.ehcps.get(&history.from_january),
        seed.ehcps.get(&history.latest_january),
    ) {
        (Some(a), Some(b))
            if *a > 0.0 && *b > 0.0 && history.latest_january > history.from_january =>
        {
            (b / a).ln() / history.span
        }
        _ => england,
    };
    (own_weight * own + (1.0 - own_weight) * england).clamp(demand.min_growth, demand.max_growth)
}

/// Cease rates by age band (excluding age-outs): the council's own rate in the flow year,
/// shrunk toward England's, spread over bands by England's pattern. Returns the rates and the
/// shrunk overall rate.
fn cease_rates(
    calibration: &Calibration,
    seed: &CouncilSeed,
    cells: &Cells,
    own_weight: f64,
) -> ([f64; AGE_BANDS], f64) {
    let england = &calibration.england;
    let flow_year = calibration.history.flow_year;
    let own = match (seed.flows.get(&flow_year), seed.ehcps.get(&flow_year)) {
        (Some(f), Some(stock)) if *stock > 0.0 => {
            (f.ceased_plans - f.ceased_max_age).max(0.0) / stock
        }
        _ => england.cease_rate,
    };
    let cease_total = own_weight * own + (1.0 - own_weight) * england.cease_rate;
    let stock = total(cells);
    let age_stock = crate::caseload::by_age(cells);
    let pattern_mean: f64 = if stock > 0.0 {
        (0..AGE_BANDS)
            .map(|a| england.cease_pattern[a] * age_stock[a])
            .sum::<f64>()
            / stock
    } else {
        1.0
    };
    let mut cease_rate = [0.0; AGE_BANDS];
    for a in 0..AGE_BANDS {
        cease_rate[a] = (cease_total * england.cease_pattern[a] / pattern_mean.max(TINY))
            .clamp(0.0, MAX_CEASE_RATE);
    }
    (cease_rate, cease_total)
}

/// The new-plan rate that gives the growth prior in expectation in the first year, after
/// ceasing and ageing out, and the rate of ceasing and ageing out (per plan).
fn new_plan_rate(
    calibration: &Calibration,
    cells: &Cells,
    growth_prior: f64,
    cease_rate: &[f64; AGE_BANDS],
    cease_total: f64,
) -> (f64, f64) {
    let stock = total(cells);
    let age_stock = crate::caseload::by_age(cells);
    let age_out = if stock > 0.0 {
        calibration.structure.promote[AGE_BANDS - 1] * age_stock[AGE_BANDS - 1] / stock
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
    let exit_rate = cease_mean + age_out;
    ((growth_prior.exp() - 1.0 + exit_rate).max(0.0), exit_rate)
}

/// Single years of age in the 2-18 population the seeds give (`pop_2_18`).
const YEARS_2_18: f64 = 17.0;

/// The floor of [`CouncilModel::saturation0`], so that a council at its ceiling at the census
/// still takes new plans as plans leave.
pub const MIN_SATURATION0: f64 = 0.05;

/// `r^shape` for the prevalence ceiling's saturation (calibration and step 1 use this one
/// function, so a band at its census prevalence gets exactly 1). A whole `shape` (the baseline's
/// 4) is worked out by repeated squaring, `(r^2)^2` for 4: plain multiplications, the same bits
/// on every machine and about ten times cheaper than `powf`, which step 1 calls for every band,
/// path and year; any other shape uses `powf`.
pub fn prevalence_power(r: f64, shape: f64) -> f64 {
    prevalence_powers(&[r], shape)[0]
}

/// [`prevalence_power`] of each of `r` (paths side by side in the engine's lanes): each the same
/// operations as alone, in the same order.
#[inline(always)]
pub fn prevalence_powers<const L: usize>(r: &[f64; L], shape: f64) -> [f64; L] {
    if shape.fract() != 0.0 || !(0.0..=64.0).contains(&shape) {
        return r.map(|r| r.powf(shape));
    }
    // Square-and-multiply from `power = 1`, lowest bit first. The first factor taken is
    // `1 x r^(2^k)`, which is `r^(2^k)` exactly, so the power starts there; the squaring after
    // the highest bit is never used. Every multiplication made is the loop's, in its order; the
    // common shapes are written out.
    let square = |x: [f64; L]| x.map(|v| v * v);
    let mut n = shape as u32;
    match n {
        0 => return [1.0; L],
        1 => return *r,
        2 => return square(*r),
        4 => return square(square(*r)),
        _ => {}
    }
    let mut x = *r;
    while n & 1 == 0 {
        x = square(x);
        n >>= 1;
    }
    let mut power = x;
    n >>= 1;
    while n > 0 {
        x = square(x);
        if n & 1 == 1 {
            for l in 0..L {
                power[l] *= x[l];
            }
        }
        n >>= 1;
    }
    power
}

/// A council's population and prevalence ceiling by age band at its latest census.
struct PrevalenceCeiling {
    population: [f64; AGE_BANDS],
    ceiling: [f64; AGE_BANDS],
    saturation0: [f64; AGE_BANDS],
}

impl PrevalenceCeiling {
    /// Estimated rule (README "The model", step 1): a band's population is its single years of
    /// age x the council's 2-18 population / 17 (flat by age, held from mid-2021 to the latest
    /// census); its ceiling is the scenario's, raised to the census prevalence where that is
    /// higher.
    fn new(scenario: &Scenario, cells: &Cells, pop_2_18: f64) -> Self {
        let plans = crate::caseload::by_age(cells);
        let ceiling = scenario.ceiling.prevalence.to_array();
        let shape = scenario.ceiling.shape;
        let mut out = PrevalenceCeiling {
            population: [0.0; AGE_BANDS],
            ceiling: [0.0; AGE_BANDS],
            saturation0: [0.0; AGE_BANDS],
        };
        for a in 0..AGE_BANDS {
            let (low, high) = crate::caseload::AGE_BAND_RANGES[a];
            let years = f64::from(high - low + 1);
            out.population[a] = years * pop_2_18 / YEARS_2_18;
            let prevalence = plans[a] / out.population[a];
            out.ceiling[a] = ceiling[a].max(prevalence);
            out.saturation0[a] =
                (1.0 - prevalence_power(prevalence / out.ceiling[a], shape)).max(MIN_SATURATION0);
        }
        out
    }
}

/// Entry mix: the council's own new plans by age band and setting in its latest known year,
/// shrunk toward England's; England's alone when the council has no year known at the vintage
/// (a documented fallback that `highneeds check` reports). Returns the mix and the own year.
fn entry_mix(calibration: &Calibration, seed: &CouncilSeed) -> (Cells, Option<i32>) {
    let england = calibration.england.entry_mix;
    let vintage = calibration.vintage;
    let Some((year, own_mix)) = latest_before(&seed.new_plans_mix, |year| {
        vintage.calendar_year_known(year)
    }) else {
        return (england, None);
    };
    let own_plans = total(&own_mix);
    let shrinkage = calibration.ls.scenario.placement.entry_mix_shrinkage_plans;
    let own_shares = normalise(&own_mix);
    let mut mix = [[0.0; SETTINGS]; AGE_BANDS];
    for a in 0..AGE_BANDS {
        for s in 0..SETTINGS {
            mix[a][s] = (own_plans * own_shares[a][s] + shrinkage * england[a][s])
                / (own_plans + shrinkage).max(TINY);
        }
    }
    (normalise(&mix), Some(year))
}

/// The council's money at the origin: the anchor balance (at the origin, or, where that was not
/// published, the latest known balance before it) and the HNB of the origin FY.
struct StartingMoney {
    anchor: FinancialYear,
    anchor_balance: f64,
    hnb_origin: f64,
}

fn starting_money(
    calibration: &Calibration,
    seed: &CouncilSeed,
) -> Result<StartingMoney, InputError> {
    let (first, origin, vintage) = (calibration.first, calibration.origin, calibration.vintage);
    let name = format!("{} ({})", seed.la_name, seed.la_code);
    let (anchor, anchor_balance) = seed
        .deficits
        .iter()
        .rev()
        .find(|(fy, _)| **fy <= origin && vintage.balance_known(**fy))
        .map(|(fy, v)| (*fy, *v))
        .ok_or_else(|| {
            InputError::invalid(calibration.baseline.dir.join("deficits.csv"), format!("scenario key horizon.first_fy = {first} needs a DSG balance for {name} at or before 31 March {}; balances exist at the end of {:?}", origin.end_year(), seed.deficits.keys().map(|k| k.to_string()).collect::<Vec<_>>()))
        })?;
    let hnb_origin = hnb_after_deductions(seed, origin).ok_or_else(|| {
        err(
            calibration.ls,
            "horizon.first_fy",
            format!("no HNB allocation for {name} in {origin}"),
        )
    })?;
    Ok(StartingMoney {
        anchor,
        anchor_balance,
        hnb_origin,
    })
}

/// Safety-valve instalments the council received in an FY, where its agreement is known at the
/// vintage: income that moved its DSG balance besides the HNB.
fn sv_received(calibration: &Calibration, seed: &CouncilSeed, fy: FinancialYear) -> f64 {
    seed.safety_valve
        .as_ref()
        .filter(|sv| calibration.vintage.agreement_known(sv.cohort))
        .and_then(|sv| sv.instalments.get(&fy).copied())
        .unwrap_or(0.0)
}

/// The balance at the origin: the anchor balance, plus, for each FY after the anchor up to the
/// origin (where the origin's balance was not published), the window's overspend share of that
/// FY's HNB (less the mean safety-valve cut after a later agreement) less the instalments
/// received. The back-test avoids it by simulating such years instead (see `backtest`).
fn nowcast_origin_balance(
    calibration: &Calibration,
    seed: &CouncilSeed,
    start: &StartingMoney,
    costs: &CostFit,
) -> f64 {
    let savings_mean = calibration.ls.scenario.safety_valve.savings_mean;
    let mut balance = start.anchor_balance;
    for fy in (start.anchor.0 + 1..=calibration.origin.0).map(FinancialYear) {
        let cut = match &seed.safety_valve {
            Some(sv)
                if calibration.vintage.agreement_known(sv.cohort)
                    && sv.cohort > costs.window_end
                    && fy >= sv.cohort =>
            {
                savings_mean * costs.overspend_share.max(0.0)
            }
            _ => 0.0,
        };
        let hnb = hnb_after_deductions(seed, fy).unwrap_or(start.hnb_origin);
        balance += (costs.overspend_share - cut) * hnb - sv_received(calibration, seed, fy);
    }
    balance
}

fn hnb_after_deductions(seed: &CouncilSeed, fy: FinancialYear) -> Option<f64> {
    seed.hnb.get(&fy).map(|v| v.1)
}

/// The fitted unit costs and non-plan spend.
struct CostFit {
    unit_cost0: [f64; SETTINGS],
    cost_scale: f64,
    clamped: bool,
    non_plan0: f64,
    /// Mean in-year deficit over the calibration window, before safety-valve instalments (0
    /// without a window).
    in_year_deficit0: f64,
    /// The window's overspend before instalments as a share of its HNB (0 without a window).
    overspend_share: f64,
    /// The last FY of the window (the anchor).
    window_end: FinancialYear,
}

/// Scales the national unit-cost anchors so that modelled spend over the calibration window
/// equals the spend the data imply there: allocation + safety-valve instalments received + the
/// change in deficit. Non-plan spend takes any residual.
fn fit_cost_scale(calibration: &Calibration, seed: &CouncilSeed, start: &StartingMoney) -> CostFit {
    let costs = &calibration.ls.scenario.costs;
    let (origin, vintage) = (calibration.origin, calibration.vintage);
    let unit_anchor = costs.unit_cost.to_array();
    let inflation = costs.inflation.to_array();
    let price = |s: usize, fy: FinancialYear| (1.0 + inflation[s]).powi(fy.0 - costs.price_fy.0);
    let anchor = start.anchor;
    let window_start = window_start(
        &COST_WINDOW_START_YEARS_BEFORE_ANCHOR,
        seed,
        vintage,
        anchor,
    );
    let mut fit = CostFit {
        unit_cost0: [0.0; SETTINGS],
        cost_scale: 1.0,
        clamped: false,
        non_plan0: costs.non_plan_share * start.hnb_origin,
        in_year_deficit0: 0.0,
        overspend_share: 0.0,
        window_end: anchor,
    };
    if let Some(start_fy) = window_start {
        let window: Vec<FinancialYear> = (start_fy.0 + 1..=anchor.0).map(FinancialYear).collect();
        let funding: Option<f64> = window
            .iter()
            .map(|fy| hnb_after_deductions(seed, *fy))
            .sum();
        let plan: Option<f64> = window
            .iter()
            .map(|fy| {
                seed.caseload.get(&fy.end_year()).map(|cells| {
                    let plans = by_setting(cells);
                    (0..SETTINGS)
                        .map(|s| plans[s] * unit_anchor[s] * price(s, *fy))
                        .sum::<f64>()
                })
            })
            .sum();
        if let (Some(funding), Some(plan)) = (funding, plan) {
            let received: f64 = window
                .iter()
                .map(|fy| sv_received(calibration, seed, *fy))
                .sum();
            let change = start.anchor_balance - seed.deficits[&start_fy];
            let implied = funding + received + change;
            let non_plan_window = costs.non_plan_share * funding;
            if plan > 0.0 {
                let raw = (implied - non_plan_window) / plan;
                fit.cost_scale = raw.clamp(costs.scale_min, costs.scale_max);
                fit.clamped = fit.cost_scale != raw;
                // Non-plan spend takes any residual so the window's spend matches the data.
                let residual = (implied - fit.cost_scale * plan).max(0.0);
                fit.non_plan0 = residual / funding * start.hnb_origin;
            }
        }
    }
    fit.unit_cost0 = std::array::from_fn(|s| unit_anchor[s] * price(s, origin) * fit.cost_scale);
    if let Some((in_year_deficit0, share)) = pre_overspend(calibration, seed, start) {
        (fit.in_year_deficit0, fit.overspend_share) = (in_year_deficit0, share);
    }
    fit
}

/// The council's mean in-year deficit before safety-valve instalments over the overspend window
/// ([`OVERSPEND_WINDOW_START_YEARS_BEFORE_ANCHOR`]), and the same as a share of the window's HNB.
fn pre_overspend(
    calibration: &Calibration,
    seed: &CouncilSeed,
    start: &StartingMoney,
) -> Option<(f64, f64)> {
    let anchor = start.anchor;
    let start_fy = window_start(
        &OVERSPEND_WINDOW_START_YEARS_BEFORE_ANCHOR,
        seed,
        calibration.vintage,
        anchor,
    )?;
    let window: Vec<FinancialYear> = (start_fy.0 + 1..=anchor.0).map(FinancialYear).collect();
    let funding: f64 = window
        .iter()
        .map(|fy| hnb_after_deductions(seed, *fy))
        .sum::<Option<f64>>()?;
    let received: f64 = window
        .iter()
        .map(|fy| sv_received(calibration, seed, *fy))
        .sum();
    let overspend = start.anchor_balance - seed.deficits[&start_fy] + received;
    Some((overspend / window.len() as f64, overspend / funding))
}

/// HNB allocations after deductions for the projected years known at the vintage.
fn known_allocations(calibration: &Calibration, seed: &CouncilSeed) -> Vec<Option<f64>> {
    calibration
        .years
        .iter()
        .map(|fy| {
            if calibration.vintage.allocation_known(*fy) {
                hnb_after_deductions(seed, *fy)
            } else {
                None
            }
        })
        .collect()
}

/// Usable reserves at the start: the scenario's override, else the latest known in the seeds
/// (else the earliest).
fn starting_reserves(calibration: &Calibration, seed: &CouncilSeed) -> f64 {
    let overrides = &calibration.ls.scenario.reserves.overrides;
    match overrides.get(&seed.la_code.to_string()) {
        Some(v) => *v,
        None => seed
            .reserves
            .iter()
            .rev()
            .find(|(fy, _)| calibration.vintage.balance_known(**fy))
            .or_else(|| seed.reserves.iter().next())
            .map(|(_, v)| *v)
            .unwrap_or(0.0),
    }
}

/// A safety-valve agreement signed by the vintage, resolved over the projected years: the
/// instalments, the agreed trajectory (from the council's in-year deficit at the origin down
/// to balance at the target FY), the live years and the instalments due after the HNSG date.
fn safety_valve_terms(
    calibration: &Calibration,
    seed: &CouncilSeed,
    costs: &CostFit,
) -> Option<SafetyValveTerms> {
    let in_year_deficit0 = costs.in_year_deficit0;
    let (years, origin, ls) = (calibration.years, calibration.origin, calibration.ls);
    let agreement = seed
        .safety_valve
        .as_ref()
        .filter(|sv| calibration.vintage.agreement_known(sv.cohort))?;
    let instalment: Vec<f64> = years
        .iter()
        .map(|fy| agreement.instalments.get(fy).copied().unwrap_or(0.0))
        .collect();
    let span = (agreement.target_fy.0 - origin.0).max(1) as f64;
    let trajectory = years
        .iter()
        .map(|fy| {
            (in_year_deficit0.max(0.0) * ((agreement.target_fy.0 - fy.0) as f64 / span)).max(0.0)
        })
        .collect();
    // Live from the FY the agreement was signed (a council cannot be off a trajectory it has
    // not agreed) to its last instalment or target FY.
    let live = years
        .iter()
        .map(|fy| *fy >= agreement.cohort && *fy <= agreement.final_fy.max(agreement.target_fy))
        .collect();
    let last_payment_fy = ls.scenario.safety_valve.last_payment_fy;
    let due_after_hnsg = agreement
        .instalments
        .iter()
        .filter(|(fy, _)| {
            ls.scenario
                .hnsg
                .as_ref()
                .is_some_and(|hnsg| **fy > hnsg.balance_fy)
                && **fy <= last_payment_fy
        })
        .map(|(_, v)| v)
        .sum();
    let signed_after_window = agreement.cohort > costs.window_end;
    let pre_overspend_share = costs.overspend_share.max(0.0);
    // The signing FY's January is the first census that can show the agreement's caseload.
    let caseload_known = calibration.history.latest_january >= agreement.cohort.end_year();
    let cut_base = if caseload_known {
        pre_overspend_share * (1.0 - ls.scenario.safety_valve.caseload_share)
    } else {
        pre_overspend_share
    };
    let savings_live = years
        .iter()
        .map(|fy| signed_after_window && *fy >= agreement.cohort)
        .collect();
    Some(SafetyValveTerms {
        instalment,
        trajectory,
        live,
        due_after_hnsg,
        savings_live,
        pre_overspend_share,
        cut_base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prevalence_power_multiplies_whole_shapes_and_is_powf_otherwise() {
        for r in [0.0, 0.05, 0.37, 0.5, 0.912_345, 1.0, 1.3] {
            let r2 = r * r;
            assert_eq!(
                prevalence_power(r, 4.0).to_bits(),
                (r2 * r2).to_bits(),
                "{r}"
            );
            assert_eq!(prevalence_power(r, 1.0), r);
            assert_eq!(prevalence_power(r, 0.0), 1.0);
            assert_eq!(
                prevalence_power(r, 3.0).to_bits(),
                (r * r2).to_bits(),
                "{r}"
            );
            assert_eq!(
                prevalence_power(r, 2.5).to_bits(),
                r.powf(2.5).to_bits(),
                "{r}"
            );
            for shape in [0.0, 1.0, 2.5, 3.0, 4.0, 7.0, 70.0] {
                let lanes = prevalence_powers(&[r, 0.5 * r, 2.0 * r], shape);
                for (got, x) in lanes.iter().zip([r, 0.5 * r, 2.0 * r]) {
                    assert_eq!(got.to_bits(), prevalence_power(x, shape).to_bits());
                }
            }
            // Within a few units in the last place of powf.
            for shape in [2.0, 3.0, 4.0, 7.0, 12.0] {
                let (a, b) = (prevalence_power(r, shape), r.powf(shape));
                assert!(
                    (a - b).abs() <= 4.0 * f64::EPSILON * b.abs(),
                    "{r}^{shape}: {a} {b}"
                );
            }
        }
    }

    /// `prevalence_powers` starts at the lowest set bit's square and stops after the highest;
    /// the bits are those of square-and-multiply from `power = 1` (every squaring, then the
    /// wasted last one), for every whole shape it takes and odd inputs.
    #[test]
    fn prevalence_powers_are_square_and_multiply_from_one_bit_for_bit() {
        fn from_one(r: f64, shape: u32) -> f64 {
            let (mut x, mut n, mut power) = (r, shape, 1.0);
            while n > 0 {
                if n & 1 == 1 {
                    power *= x;
                }
                x *= x;
                n >>= 1;
            }
            power
        }
        let inputs = [
            0.0,
            -0.0,
            1e-300,
            0.05,
            0.37,
            0.5,
            0.912_345,
            0.999_999_9,
            1.0,
            1.000_001,
            1.3,
            -0.7,
            3.5,
            1e200,
            f64::INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        for shape in 0..=64u32 {
            for r in inputs {
                let got = prevalence_powers(&[r, 0.5 * r], f64::from(shape));
                for (got, x) in got.iter().zip([r, 0.5 * r]) {
                    assert_eq!(got.to_bits(), from_one(x, shape).to_bits(), "{x}^{shape}");
                }
            }
        }
    }

    /// The transfer as a matrix: `m[from][to]`.
    fn matrix(transfer: &PhaseTransfer) -> [[f64; SETTINGS]; SETTINGS] {
        std::array::from_fn(|s| {
            std::array::from_fn(|t| {
                let own = if s == t { transfer.stay[s] } else { 0.0 };
                own + transfer.leave[s] * transfer.to_share[t]
            })
        })
    }

    #[test]
    fn share_slopes_leave_out_the_step_into_the_recording_break() {
        // Log shares: +0.1 a year, and a recording step of +1.0 into 2023.
        let level = |jan: i32| 0.1 * f64::from(jan - 2019) + if jan >= 2023 { 1.0 } else { 0.0 };
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        // Windows spanning the break: the step is left out, the other years' changes kept.
        assert!(close(share_slope(level, 2022, 2026, 2023), 0.1));
        assert!(close(share_slope(level, 2019, 2023, 2023), 0.1));
        assert!(close(share_slope(level, 2021, 2024, 2023), 0.1));
        // Read across it, the step would be a trend of +0.35 a year.
        assert!(close(share_slope(level, 2022, 2026, 2019), 0.35));
        // Windows on one side, or a break at the window's start: plain slopes.
        assert!(close(share_slope(level, 2023, 2026, 2023), 0.1));
        assert!(close(share_slope(level, 2019, 2022, 2023), 0.1));
        // Only the step itself: no slope.
        assert_eq!(share_slope(level, 2022, 2023, 2023), None);
        assert_eq!(share_slope(level, 2023, 2023, 2023), None);
    }

    #[test]
    fn transition_rows_sum_to_one() {
        let m = matrix(&PhaseTransfer::minimal_move(
            &[50.0, 20.0, 5.0, 0.0, 25.0],
            &[30.0, 25.0, 8.0, 30.0, 7.0],
        ));
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
