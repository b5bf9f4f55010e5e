//! The Monte Carlo engine: the README's "The model", "One year's step" (steps 1 to 7, in that
//! order in `simulate_lanes`). Councils run one after another, each over blocks of paths
//! in parallel, and a council's paths `LANES` at a time; England's sums are added in council
//! order.
//! No I/O and no printing. Every random stream is derived from (seed, path, council), so
//! results do not depend on the thread count; national sums are added in a fixed order.

use crate::calibration::{
    prevalence_powers, CouncilModel, Model, PhaseTransfer, SafetyValveTerms, Structure,
};
use crate::caseload::{
    total, Cells, AGE_11_15, AGE_5_10, AGE_BANDS, MAINSTREAM, SETTINGS, SETTING_NAMES,
    SPECIAL_INDEPENDENT, SPECIAL_STATE,
};
use crate::metric::{Metric, NationalMetric};
use crate::placement::{
    self, ClockLanes, PlacementLanes, PlacementPath, PlacementSpread, SpreadParts, TrendClock,
    DECAY_DELAY,
};
use crate::scenario::{Hnsg, NonPlanDriver, Regime, Scenario};
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Run size and seed.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub paths: usize,
    pub seed: u64,
}

/// One path's national draws: parameters drawn once per path and shocks drawn each year.
/// Drawn once per run or chunk of paths ([`national_draws`]) and shared by every council.
#[derive(Debug, Clone)]
pub struct NationalDraws {
    level: f64,
    trend: f64,
    inflation: [f64; SETTINGS],
    funding_growth: f64,
    interim_share: f64,
    /// Uplift on the formula-floor allocations (1 + u), drawn once per path.
    formula_uplift: f64,
    /// Growth that slows: the half-life (years) and the long-run growth, drawn once per path.
    half_life: f64,
    long_run_growth: f64,
    /// Each age band's yearly change in log population, drawn once per path.
    population_change: [f64; AGE_BANDS],
    /// The national part of the placement trends' draws: standard normals in
    /// [`placement::PlacementTrend::draw`]'s order, the capacity's correlated with the specialist
    /// placements' (every council of the path shares them).
    placement: [f64; placement::NORMALS],
    /// What the long-run draws give `k` years after a census, by `k` from 0 (worked out once per
    /// path: they do not depend on the council).
    long_run: Vec<LongRunYear>,
    demand_shock: Vec<f64>,
    cost_noise: Vec<f64>,
    funding_noise: Vec<f64>,
    /// `exp(level + trend x years on + demand shock)` in each year, for each latest census that a
    /// council has ([`census_years`] order, then by year): the new-plan rate's factor on the
    /// path without a council's own draws, the same for every council with that census (empty
    /// when no placement group follows the plans and spend follows them one for one).
    median_rate: Vec<f64>,
}

/// The long-run draws' effect `k` years after a council's latest census (`k >= 0`), the same
/// for every council: step 1's kept share of growth, the placement trends' clock and each age
/// band's population growth factor.
#[derive(Debug, Clone, Copy)]
struct LongRunYear {
    /// `0.5^((k - DECAY_DELAY) / half_life)`, 1 up to `DECAY_DELAY` (see [`decayed_rate`]).
    kept: f64,
    /// The placement trends' clock with decay (see [`TrendClock::decayed`]).
    clock: TrendClock,
    /// `exp(population_change x k)` by age band.
    population_growth: [f64; AGE_BANDS],
}

impl LongRunYear {
    fn new(k: usize, half_life: f64, long_run_growth: f64, change: &[f64; AGE_BANDS]) -> Self {
        let years_on = k as f64;
        LongRunYear {
            kept: 0.5_f64.powf((years_on - DECAY_DELAY).max(0.0) / half_life),
            clock: TrendClock::decayed(years_on, half_life, long_run_growth),
            population_growth: change.map(|c| (c * years_on).exp()),
        }
    }
}

/// The most years after a council's latest census that a run reaches.
fn most_years_on(model: &Model) -> usize {
    let last = model.schedule.years.len() as i32 - 1;
    model
        .councils
        .iter()
        .map(|c| (last - c.latest_census).max(0) as usize)
        .max()
        .unwrap_or(0)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The generator for one independent unit: (seed, stream kind, path, council).
pub fn stream(seed: u64, kind: u64, path: usize, council: usize) -> Pcg64Mcg {
    let s = splitmix(
        splitmix(splitmix(seed ^ kind.wrapping_mul(0xA24B_AED4_963E_E407)) ^ path as u64)
            ^ (council as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25),
    );
    Pcg64Mcg::seed_from_u64(s)
}

const NATIONAL_STREAM: u64 = 1;
const COUNCIL_STREAM: u64 = 2;
/// The delivered share of a savings plan has its own stream, so switching mitigation on or off
/// (or changing its Beta parameters) leaves every other draw of the path unchanged.
const MITIGATION_STREAM: u64 = 3;
/// Draws added later have their own streams, so they leave every earlier draw of a path
/// unchanged: the HNB formula uplift (national) and a safety-valve council's saving.
const UPLIFT_STREAM: u64 = 4;
const SV_SAVINGS_STREAM: u64 = 5;
/// The placement trends' draws (once per path and council).
const PLACEMENT_STREAM: u64 = 6;
/// The long run's draws (once per path): half-life, long-run growth, population change.
const LONG_RUN_STREAM: u64 = 7;
/// The national part of the placement trends' draws (once per path).
const NATIONAL_PLACEMENT_STREAM: u64 = 8;

/// The deficit-to-reserves ratio is capped at plus or minus this (and is this when reserves
/// are exhausted and the council is in deficit), so tiny reserves do not give huge ratios.
pub const DEFICIT_TO_RESERVES_CAP: f64 = 100.0;

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// The distinct latest censuses of the councils (years from the first FY), in increasing order:
/// [`NationalDraws`]'s `median_rate` has a row for each.
fn census_years(model: &Model) -> Vec<i32> {
    let mut years: Vec<i32> = model.councils.iter().map(|c| c.latest_census).collect();
    years.sort_unstable();
    years.dedup();
    years
}

/// Whether any placement group (or the state special places) follows the council's own plans
/// (`placement.plans_elasticity`, `capacity_plans_elasticity`).
fn follows_plans(scenario: &Scenario) -> bool {
    scenario.placement.plans_elasticity.to_array() != [0.0; placement::GROUPS]
        || scenario.placement.capacity_plans_elasticity != 0.0
}

/// Whether spend follows the council's own plans at less than one for one
/// (`costs.plans_response` below 1; see [`OwnPlans`]).
fn spend_responds(scenario: &Scenario) -> bool {
    scenario.costs.plans_response != 1.0
}

fn draw_national(model: &Model, seed: u64, path: usize, censuses: &[i32]) -> NationalDraws {
    let scenario = &model.scenario;
    let years = model.schedule.years.len();
    let mut rng = stream(seed, NATIONAL_STREAM, path, 0);
    let demand = &scenario.demand;
    let costs = &scenario.costs;
    let level = demand.level_sd * normal(&mut rng);
    let trend = demand.trend_mean + demand.trend_sd * normal(&mut rng);
    let base = costs.inflation.to_array();
    let inflation = std::array::from_fn(|s| base[s] + costs.inflation_sd * normal(&mut rng));
    let funding_growth =
        scenario.funding.growth_mean + scenario.funding.growth_sd * normal(&mut rng);
    let uniform: f64 = rng.gen();
    let interim = &scenario.interim_support;
    let interim_share = interim.share_low + uniform * (interim.share_high - interim.share_low);
    let cholesky = &model.schedule.cholesky;
    let mut demand_shock = Vec::with_capacity(years);
    let mut cost_noise = Vec::with_capacity(years);
    let mut funding_noise = Vec::with_capacity(years);
    let mut ar = 0.0;
    for _ in 0..years {
        let z = [normal(&mut rng), normal(&mut rng), normal(&mut rng)];
        let e: [f64; 3] = std::array::from_fn(|i| (0..3).map(|j| cholesky[i][j] * z[j]).sum());
        ar = demand.persistence * ar + demand.national_shock_sd * e[0];
        demand_shock.push(ar);
        cost_noise.push(costs.inflation_noise_sd * e[1]);
        funding_noise.push(scenario.funding.noise_sd * e[2]);
    }
    let funding = &scenario.funding;
    let uplift: f64 = stream(seed, UPLIFT_STREAM, path, 0).gen();
    let formula_uplift = 1.0
        + funding.formula_uplift_low
        + uplift * (funding.formula_uplift_high - funding.formula_uplift_low);
    let mut long_run = stream(seed, LONG_RUN_STREAM, path, 0);
    let decay = &scenario.decay;
    let u_half_life: f64 = long_run.gen();
    let u_growth: f64 = long_run.gen();
    let shift = scenario.population.change_sd * normal(&mut long_run);
    let change = scenario.population.change.to_array();
    let half_life =
        decay.half_life_low + u_half_life * (decay.half_life_high - decay.half_life_low);
    let long_run_growth = decay.long_run_growth_low
        + u_growth * (decay.long_run_growth_high - decay.long_run_growth_low);
    let population_change = std::array::from_fn(|a| change[a] + shift);
    let placement = correlated_placement_normals(
        &mut stream(seed, NATIONAL_PLACEMENT_STREAM, path, 0),
        scenario.placement.capacity_specialist_correlation,
    );
    let median_rate = if follows_plans(scenario) || spend_responds(scenario) {
        censuses
            .iter()
            .flat_map(|&census| {
                demand_shock.iter().enumerate().map(move |(t, shock)| {
                    let years_on = f64::from(t as i32 - census);
                    (level + trend * years_on + shock).exp()
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    NationalDraws {
        median_rate,
        placement,
        half_life,
        long_run_growth,
        population_change,
        long_run: (0..=most_years_on(model))
            .map(|k| LongRunYear::new(k, half_life, long_run_growth, &population_change))
            .collect(),
        level,
        trend,
        inflation,
        funding_growth,
        interim_share,
        formula_uplift,
        demand_shock,
        cost_noise,
        funding_noise,
    }
}

/// The national draws of paths `paths` (computed once per run, or per chunk of paths, and
/// shared by all councils). Each path's draws depend only on the seed and the path's number.
pub fn national_draws(
    model: &Model,
    seed: u64,
    paths: std::ops::Range<usize>,
) -> Vec<NationalDraws> {
    let censuses = census_years(model);
    paths
        .into_par_iter()
        .map(|path| draw_national(model, seed, path, &censuses))
        .collect()
}

/// A quantity drawn once per path that moves England's figures, or a path's summary of the draws
/// it makes each year or per council: what the global sensitivity measure ranks against the
/// headline ([`path_parameters`]). The national ones are the path's own draws; the council ones
/// are weighted means over councils, so a path where the big councils drew high counts as high.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathParameter {
    /// National level of the log new-plan rate (EHCP growth level).
    DemandLevel,
    /// Yearly drift in the log new-plan rate (EHCP growth trend).
    DemandTrend,
    /// Yearly unit-cost growth of a setting (`caseload::SETTING_NAMES` order).
    Inflation(usize),
    /// Yearly HNB growth after the known allocations.
    HnbGrowth,
    /// Share of overspends paid as interim support up to the override end.
    InterimShare,
    /// Uplift of the formula-floor allocations (1 + u).
    FormulaUplift,
    /// National demand shocks (log new-plan rate, AR(1)), mean over the projected years (after
    /// the latest census) to the override end.
    DemandShocks,
    /// National cost-inflation shocks, mean over the years to the override end.
    CostShocks,
    /// National HNB growth shocks, mean over the years to the override end in which the HNB is
    /// grown (not a known allocation).
    HnbShocks,
    /// Councils' own levels of the log new-plan rate, weighted by plans at the origin.
    CouncilDemandLevel,
    /// Councils' spend levels relative to calibration (log), weighted by HNB at the origin.
    CouncilCostLevel,
    /// Share of the councils' positive deficits at the start whose HNSG plan is approved.
    HnsgApproved,
    /// Half-life (years) of the decay of the new-plan rate's growth part.
    HalfLife,
    /// Long-run yearly growth of plans that the decay tends to.
    LongRunGrowth,
    /// Yearly change in log population, mean over age bands (the path's common shift).
    PopulationChange,
}

impl PathParameter {
    /// Every path parameter, in output order (`ALL[p.index()] == p`).
    pub const ALL: [PathParameter; 19] = [
        PathParameter::DemandLevel,
        PathParameter::DemandTrend,
        PathParameter::Inflation(0),
        PathParameter::Inflation(1),
        PathParameter::Inflation(2),
        PathParameter::Inflation(3),
        PathParameter::Inflation(4),
        PathParameter::HnbGrowth,
        PathParameter::InterimShare,
        PathParameter::FormulaUplift,
        PathParameter::DemandShocks,
        PathParameter::CostShocks,
        PathParameter::HnbShocks,
        PathParameter::CouncilDemandLevel,
        PathParameter::CouncilCostLevel,
        PathParameter::HnsgApproved,
        PathParameter::HalfLife,
        PathParameter::LongRunGrowth,
        PathParameter::PopulationChange,
    ];
    pub const COUNT: usize = PathParameter::ALL.len();

    pub const fn index(self) -> usize {
        match self {
            PathParameter::DemandLevel => 0,
            PathParameter::DemandTrend => 1,
            PathParameter::Inflation(s) => 2 + s,
            PathParameter::HnbGrowth => 7,
            PathParameter::InterimShare => 8,
            PathParameter::FormulaUplift => 9,
            PathParameter::DemandShocks => 10,
            PathParameter::CostShocks => 11,
            PathParameter::HnbShocks => 12,
            PathParameter::CouncilDemandLevel => 13,
            PathParameter::CouncilCostLevel => 14,
            PathParameter::HnsgApproved => 15,
            PathParameter::HalfLife => 16,
            PathParameter::LongRunGrowth => 17,
            PathParameter::PopulationChange => 18,
        }
    }

    /// The parameter's name in `sensitivity_global.csv`.
    pub fn name(self) -> String {
        match self {
            PathParameter::DemandLevel => "demand_level".into(),
            PathParameter::DemandTrend => "demand_trend".into(),
            PathParameter::Inflation(s) => format!("inflation_{}", SETTING_NAMES[s]),
            PathParameter::HnbGrowth => "hnb_growth".into(),
            PathParameter::InterimShare => "interim_support_share".into(),
            PathParameter::FormulaUplift => "formula_uplift".into(),
            PathParameter::DemandShocks => "demand_shocks".into(),
            PathParameter::CostShocks => "cost_shocks".into(),
            PathParameter::HnbShocks => "hnb_shocks".into(),
            PathParameter::CouncilDemandLevel => "council_demand_levels".into(),
            PathParameter::CouncilCostLevel => "council_spend_levels".into(),
            PathParameter::HnsgApproved => "hnsg_approved_share".into(),
            PathParameter::HalfLife => "growth_half_life".into(),
            PathParameter::LongRunGrowth => "long_run_growth".into(),
            PathParameter::PopulationChange => "population_change".into(),
        }
    }

    /// What the parameter is, in plain words (chart labels).
    pub fn description(self) -> String {
        match self {
            PathParameter::DemandLevel => "EHCP growth level (national)".into(),
            PathParameter::DemandTrend => "EHCP growth trend".into(),
            PathParameter::Inflation(s) => {
                let setting = [
                    "mainstream",
                    "state special",
                    "independent special",
                    "post-16",
                    "AP/other",
                ];
                format!("Unit-cost growth, {}", setting[s])
            }
            PathParameter::HnbGrowth => "HNB growth".into(),
            PathParameter::InterimShare => "Interim support share".into(),
            PathParameter::FormulaUplift => "HNB formula uplift".into(),
            PathParameter::DemandShocks => "Yearly demand shocks (national)".into(),
            PathParameter::CostShocks => "Yearly cost shocks (national)".into(),
            PathParameter::HnbShocks => "Yearly HNB shocks (national)".into(),
            PathParameter::CouncilDemandLevel => "Councils' EHCP growth levels".into(),
            PathParameter::CouncilCostLevel => "Councils' spend levels".into(),
            PathParameter::HnsgApproved => "HNSG approvals (deficit-weighted)".into(),
            PathParameter::HalfLife => "Half-life of EHCP growth".into(),
            PathParameter::LongRunGrowth => "Long-run EHCP growth".into(),
            PathParameter::PopulationChange => "Population change".into(),
        }
    }
}

/// Each council's share of England's total of `f` (negative values count as 0).
fn council_weights(model: &Model, f: fn(&CouncilModel) -> f64) -> Vec<f64> {
    let w: Vec<f64> = model.councils.iter().map(|c| f(c).max(0.0)).collect();
    let total: f64 = w.iter().sum();
    w.iter()
        .map(|x| if total > 0.0 { x / total } else { 0.0 })
        .collect()
}

/// The mean of `shocks` over the years up to `through` in which they act (0 if none).
fn mean_acting(shocks: &[f64], acting: &[bool], through: usize) -> f64 {
    let (sum, count) = (0..=through)
        .filter(|&t| acting[t])
        .fold((0.0, 0), |(sum, count), t| (sum + shocks[t], count + 1));
    if count > 0 {
        sum / f64::from(count)
    } else {
        0.0
    }
}

/// Every path's [`PathParameter`]s (`[path][parameter.index()]`): the draws [`simulate`] makes
/// for the same model and config (the same streams, so the same numbers), with the yearly shocks
/// averaged over the years up to `through` (the override end) in which they act. No simulation
/// is run.
pub fn path_parameters(
    model: &Model,
    config: RunConfig,
    through: usize,
) -> Vec<[f64; PathParameter::COUNT]> {
    let run = RunInputs {
        model,
        national: Vec::new(),
        first_path: 0,
        seed: config.seed,
        delivered: None,
        placement_spread: placement_spreads(model),
        censuses: Vec::new(),
        response: ResponseWindows::new(&model.scenario, model.schedule.years.len()),
    };
    let weights = |f: fn(&CouncilModel) -> f64| council_weights(model, f);
    let (by_plans, by_hnb, by_deficit) = (
        weights(|c| c.stock_origin),
        weights(|c| c.hnb_origin),
        weights(|c| c.deficit0),
    );
    // The years in which each yearly shock acts: demand after the latest census, costs every
    // year, HNB growth where some council's allocation is not known.
    let years = model.schedule.years.len();
    let projected: Vec<bool> = (0..years)
        .map(|t| model.councils.iter().any(|c| t as i32 > c.latest_census))
        .collect();
    let every_year = vec![true; years];
    let hnb_grown: Vec<bool> = (0..years)
        .map(|t| model.councils.iter().any(|c| c.hnb_known[t].is_none()))
        .collect();
    (0..config.paths)
        .into_par_iter()
        .map(|path| {
            let n = draw_national(model, config.seed, path, &[]);
            let mut out = [0.0; PathParameter::COUNT];
            let mut set = |p: PathParameter, v: f64| out[p.index()] = v;
            set(PathParameter::DemandLevel, n.level);
            set(PathParameter::DemandTrend, n.trend);
            for (s, inflation) in n.inflation.iter().enumerate() {
                set(PathParameter::Inflation(s), *inflation);
            }
            set(PathParameter::HnbGrowth, n.funding_growth);
            set(PathParameter::InterimShare, n.interim_share);
            set(PathParameter::FormulaUplift, n.formula_uplift);
            set(PathParameter::HalfLife, n.half_life);
            set(PathParameter::LongRunGrowth, n.long_run_growth);
            let bands = n.population_change.len() as f64;
            set(
                PathParameter::PopulationChange,
                n.population_change.iter().sum::<f64>() / bands,
            );
            let mean = |shocks: &[f64], acting: &[bool]| mean_acting(shocks, acting, through);
            set(
                PathParameter::DemandShocks,
                mean(&n.demand_shock, &projected),
            );
            set(PathParameter::CostShocks, mean(&n.cost_noise, &every_year));
            set(PathParameter::HnbShocks, mean(&n.funding_noise, &hnb_grown));
            let (mut demand, mut cost, mut approved) = (0.0, 0.0, 0.0);
            for c in 0..model.councils.len() {
                let mut rng = [stream(config.seed, COUNCIL_STREAM, path, c)];
                let draws = PathDraws::<1>::draw(&run, &mut rng, c, path, [&n.placement]);
                demand += by_plans[c] * draws.demand_level[0];
                cost += by_hnb[c] * draws.cost_level[0];
                approved += by_deficit[c] * f64::from(u8::from(draws.hnsg_approved[0]));
            }
            set(PathParameter::CouncilDemandLevel, demand);
            set(PathParameter::CouncilCostLevel, cost);
            set(PathParameter::HnsgApproved, approved);
            out
        })
        .collect()
}

/// Paths per block, a multiple of `LANES`. Results are stored in tiles of this many paths, and
/// the engine simulates a council one block at a time (blocks in parallel), adding the block's
/// results into England's sums while they are in the core's cache.
pub const PATHS_PER_BLOCK: usize = 64;

/// Per-path results in tiles of [`PATHS_PER_BLOCK`] paths: within a tile, each (year, metric)
/// column is a contiguous run of the tile's paths, so a summary reads one column at memory
/// speed and a block of paths owns one contiguous tile (`width` metrics per year).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiles {
    pub(crate) paths: usize,
    pub(crate) years: usize,
    pub(crate) width: usize,
}

impl Tiles {
    /// Values in one tile.
    fn tile_len(self) -> usize {
        self.years * self.width * PATHS_PER_BLOCK
    }
    /// Values in the table (the last tile is padded to a whole tile).
    pub(crate) fn len(self) -> usize {
        self.paths.div_ceil(PATHS_PER_BLOCK) * self.tile_len()
    }
    #[inline]
    pub(crate) fn index(self, path: usize, t: usize, k: usize) -> usize {
        let (tile, lane) = (path / PATHS_PER_BLOCK, path % PATHS_PER_BLOCK);
        ((tile * self.years + t) * self.width + k) * PATHS_PER_BLOCK + lane
    }
    /// Copies column (t, k) into `out` (one value per path, in path order).
    pub(crate) fn column(self, values: &[f64], t: usize, k: usize, out: &mut [f64]) {
        let start = (t * self.width + k) * PATHS_PER_BLOCK;
        for (tile, dst) in values
            .chunks_exact(self.tile_len())
            .zip(out[..self.paths].chunks_mut(PATHS_PER_BLOCK))
        {
            dst.copy_from_slice(&tile[start..start + dst.len()]);
        }
    }
    /// Copies the columns (t, k) of the metrics `metrics` (at most [`COLUMNS_AT_ONCE`]) into
    /// `out` (one after another, `paths` values each, in path order) and returns each one's sum
    /// over paths, added in path order from -0.0 (the same bits as `Iterator::sum` over the
    /// column), and whether each one is constant (every value with the first one's bits). The
    /// metrics' sums are independent chains, interleaved [`SIDE_BY_SIDE`] at a time so the CPU
    /// overlaps them, and their values are read once, a contiguous part of each tile at a time;
    /// a column is checked against its first value while it is copied, tile by tile until a
    /// value differs (in most columns that vary, one of the first tile's).
    pub(crate) fn columns(
        self,
        values: &[f64],
        t: usize,
        metrics: std::ops::Range<usize>,
        out: &mut [f64],
    ) -> ([f64; COLUMNS_AT_ONCE], [bool; COLUMNS_AT_ONCE]) {
        let mut sums = [-0.0; COLUMNS_AT_ONCE];
        let mut differs = [0u64; COLUMNS_AT_ONCE];
        self.copy_columns::<true>(values, t, metrics, out, &mut sums, &mut differs);
        (sums, differs.map(|d| d == 0))
    }
    /// [`Tiles::columns`], adding each column's values to its `sums[i]` (in path order, after
    /// whatever it already holds: a column's earlier chunks) instead of starting from -0.0.
    pub(crate) fn columns_onto(
        self,
        values: &[f64],
        t: usize,
        metrics: std::ops::Range<usize>,
        out: &mut [f64],
        sums: &mut [f64; COLUMNS_AT_ONCE],
    ) {
        self.copy_columns::<false>(values, t, metrics, out, sums, &mut [0; COLUMNS_AT_ONCE]);
    }
    /// [`Tiles::columns_onto`], and where `CHECK`, each column's bits that differ from its first
    /// value's or-ed into `differs[i]` (0 where the column is constant).
    #[inline(always)]
    fn copy_columns<const CHECK: bool>(
        self,
        values: &[f64],
        t: usize,
        metrics: std::ops::Range<usize>,
        out: &mut [f64],
        sums: &mut [f64; COLUMNS_AT_ONCE],
        differs: &mut [u64; COLUMNS_AT_ONCE],
    ) {
        const B: usize = PATHS_PER_BLOCK;
        let count = metrics.len();
        assert!(count <= COLUMNS_AT_ONCE && out.len() >= count * self.paths);
        let part = (t * self.width + metrics.start) * B..(t * self.width + metrics.end) * B;
        let mut firsts = [0u64; COLUMNS_AT_ONCE];
        if CHECK {
            if let Some(tile) = values.get(part.clone()) {
                for (i, f) in firsts.iter_mut().take(count).enumerate() {
                    *f = tile[i * B].to_bits();
                }
            }
        }
        for (b, tile) in values.chunks_exact(self.tile_len()).enumerate() {
            let lanes = (self.paths - b * B).min(B);
            let src = &tile[part.clone()];
            for (i, column) in out.chunks_exact_mut(self.paths).take(count).enumerate() {
                let run = &src[i * B..i * B + lanes];
                column[b * B..b * B + lanes].copy_from_slice(run);
                // A column that differs from its first value already needs no more checks.
                if CHECK && differs[i] == 0 {
                    differs[i] = differences(run, firsts[i]);
                }
            }
            add_tile(src, lanes, &mut sums[..count]);
        }
    }
}

/// The bits of `run`'s values that differ from `first`'s, or-ed together: 0 where every value
/// has `first`'s bits.
#[inline(always)]
fn differences(run: &[f64], first: u64) -> u64 {
    let differ = |d: u64, v: &f64| d | (v.to_bits() ^ first);
    match <&[f64; PATHS_PER_BLOCK]>::try_from(run) {
        Ok(whole) => whole.iter().fold(0, differ),
        Err(_) => run.iter().fold(0, differ),
    }
}

/// Columns [`Tiles::columns_onto`] adds side by side: independent chains of additions, which
/// the CPU overlaps.
const SIDE_BY_SIDE: usize = 4;

/// Adds the first `lanes` values of each column in `part` (a tile's runs of
/// [`PATHS_PER_BLOCK`] values, one run per column) to that column's sum in `sums`, in path
/// order, [`SIDE_BY_SIDE`] columns at a time (the rest one by one).
#[inline(always)]
fn add_tile(part: &[f64], lanes: usize, sums: &mut [f64]) {
    const B: usize = PATHS_PER_BLOCK;
    const G: usize = SIDE_BY_SIDE;
    for (group, sums) in part.chunks(G * B).zip(sums.chunks_mut(G)) {
        if let (Ok(group), Ok(sums)) = (
            <&[f64; G * B]>::try_from(group),
            <&mut [f64; G]>::try_from(&mut *sums),
        ) {
            add_side_by_side(group, lanes, sums);
        } else {
            for (column, sum) in group.chunks_exact(B).zip(sums) {
                for v in &column[..lanes] {
                    *sum += v;
                }
            }
        }
    }
}

/// Adds the first `lanes` values of each of `group`'s [`SIDE_BY_SIDE`] columns (runs
/// [`PATHS_PER_BLOCK`] apart) to its sum, in path order: one chain per column, the chains
/// interleaved, and fixed sizes, so the loop has no bounds checks.
#[inline(always)]
fn add_side_by_side(
    group: &[f64; SIDE_BY_SIDE * PATHS_PER_BLOCK],
    lanes: usize,
    sums: &mut [f64; SIDE_BY_SIDE],
) {
    let mut chains = *sums;
    for lane in 0..lanes.min(PATHS_PER_BLOCK) {
        for (j, chain) in chains.iter_mut().enumerate() {
            *chain += group[j * PATHS_PER_BLOCK + lane];
        }
    }
    *sums = chains;
}

/// The most columns [`Tiles::columns`] copies at once (a summary holds this many columns per
/// thread).
pub(crate) const COLUMNS_AT_ONCE: usize = 20;

/// One council's results per path, year and metric, in tiles of [`PATHS_PER_BLOCK`] paths
/// (read them with [`CouncilPaths::get`] or [`CouncilPaths::column`]).
#[derive(Debug, Clone)]
pub struct CouncilPaths {
    pub council: usize,
    pub paths: usize,
    pub years: usize,
    pub values: Vec<f64>,
}

impl CouncilPaths {
    fn zeros(paths: usize, years: usize) -> Self {
        let mut cp = CouncilPaths {
            council: 0,
            paths,
            years,
            values: Vec::new(),
        };
        cp.values = vec![0.0; cp.tiles().len()];
        cp
    }
    pub(crate) fn tiles(&self) -> Tiles {
        Tiles {
            paths: self.paths,
            years: self.years,
            width: Metric::COUNT,
        }
    }
    #[inline]
    pub fn get(&self, path: usize, t: usize, metric: Metric) -> f64 {
        self.values[self.tiles().index(path, t, metric.index())]
    }
    /// `metric` in year `t` on every path, in path order, into `out[..paths]`.
    pub fn column(&self, t: usize, metric: Metric, out: &mut [f64]) {
        self.tiles().column(&self.values, t, metric.index(), out);
    }
}

/// England's results per path, year and national metric (already summed over councils), in
/// tiles like [`CouncilPaths`].
#[derive(Debug, Clone)]
pub struct EnglandPaths {
    pub paths: usize,
    pub years: usize,
    pub values: Vec<f64>,
}

impl EnglandPaths {
    fn zeros(paths: usize, years: usize) -> Self {
        let mut ep = EnglandPaths {
            paths,
            years,
            values: Vec::new(),
        };
        ep.values = vec![0.0; ep.tiles().len()];
        ep
    }
    pub(crate) fn tiles(&self) -> Tiles {
        Tiles {
            paths: self.paths,
            years: self.years,
            width: NationalMetric::COUNT,
        }
    }
    #[inline]
    pub fn get(&self, path: usize, t: usize, metric: NationalMetric) -> f64 {
        self.values[self.tiles().index(path, t, metric.index())]
    }
    /// `metric` in year `t` on every path, in path order, into `out[..paths]`.
    pub fn column(&self, t: usize, metric: NationalMetric, out: &mut [f64]) {
        self.tiles().column(&self.values, t, metric.index(), out);
    }
}

/// Paths simulated side by side for one council. Each lane is one path with its own random
/// stream and does exactly the arithmetic a lone path would, in the same order, so results are
/// the same bits whatever the lane count (tested): lanes only let the CPU overlap and vectorise
/// independent paths.
pub const LANES: usize = 4;

/// What every council and path of a run shares, set up once per run.
struct RunInputs<'a> {
    model: &'a Model,
    /// Per-path national draws: `national[i]` is path `first_path + i`'s.
    national: Vec<NationalDraws>,
    /// The first path simulated (a multiple of [`PATHS_PER_BLOCK`]): 0, or a chunk's first.
    first_path: usize,
    seed: u64,
    /// The delivered share of a savings plan (when the scenario has one).
    delivered: Option<Beta<f64>>,
    /// The placement draws' spreads: a council-path's own part plus the national part, for a
    /// council-path drawn narrow and one drawn wide (`placement.wide_factor`).
    placement_spread: [SpreadParts; 2],
    /// The councils' distinct latest censuses ([`census_years`]): the rows of each path's
    /// `median_rate` table.
    censuses: Vec<i32>,
    /// The spend response's windows ([`OwnPlans`]).
    response: ResponseWindows,
}

/// The placement draws' spreads of `RunInputs::placement_spread`: narrow, then wide.
fn placement_spreads(model: &Model) -> [SpreadParts; 2] {
    let p = &model.scenario.placement;
    let shared = PlacementSpread {
        level_sd: p.national_level_sd.to_array(),
        slope_sd: p.national_slope_sd.to_array(),
        capacity_level_sd: p.capacity_national_level_sd,
        capacity_growth_sd: p.capacity_national_growth_sd,
    };
    [1.0, p.wide_factor].map(|scale| {
        let own = PlacementSpread {
            level_sd: p.share_level_sd.to_array().map(|sd| scale * sd),
            slope_sd: p.share_slope_sd.to_array().map(|sd| scale * sd),
            capacity_level_sd: scale * p.capacity_level_sd,
            capacity_growth_sd: scale * p.capacity_growth_sd,
        };
        SpreadParts::new(&own, &shared)
    })
}

/// Simulates paths `block` of council `council` into the block's tile of its results.
fn simulate_block(
    run: &RunInputs,
    shares: &[BandShares],
    weights: &(DemandWeights<LANES>, DemandWeights<1>),
    council: usize,
    block: std::ops::Range<usize>,
    tile: &mut [f64],
) {
    let mut path = block.start;
    while path < block.end {
        let lanes = if block.end - path >= LANES { LANES } else { 1 };
        if lanes == LANES {
            simulate_lanes::<LANES>(run, shares, &weights.0, council, path, tile);
        } else {
            simulate_lanes::<1>(run, shares, &weights.1, council, path, tile);
        }
        path += lanes;
    }
}

/// Step 1's band shares of a council in each year (the same for all its paths).
fn band_shares(model: &Model, council: usize) -> Vec<BandShares> {
    model
        .schedule
        .reassessment
        .iter()
        .map(|&reassess| BandShares::new(&model.councils[council], &model.structure, reassess))
        .collect()
}

/// The lanes' rows of results in one year: metric `k` of lane `l` goes to
/// `tile[at + k * PATHS_PER_BLOCK + l]` (the lanes are neighbouring paths of a tile). `row` is
/// the tile from `at` to the last metric's last lane, so that the writes need no bounds checks.
struct Rows<'a, const L: usize> {
    row: &'a mut [f64],
}

impl<'a, const L: usize> Rows<'a, L> {
    #[inline(always)]
    fn new(tile: &'a mut [f64], at: usize) -> Self {
        Rows {
            row: &mut tile[at..at + (Metric::COUNT - 1) * PATHS_PER_BLOCK + L],
        }
    }

    #[inline(always)]
    fn set(&mut self, metric: Metric, lanes: [f64; L]) {
        let at = metric.index() * PATHS_PER_BLOCK;
        self.row[at..at + L].copy_from_slice(&lanes);
    }

    /// Lane `l`'s value of `metric`.
    #[inline(always)]
    fn set_lane(&mut self, metric: Metric, l: usize, value: f64) {
        self.row[metric.index() * PATHS_PER_BLOCK + l] = value;
    }
}

/// A council's draws made once per path (lane), always in the same order whatever the
/// scenario's switches, so scenarios that differ only in policy share their random numbers.
struct PathDraws<const L: usize> {
    /// Council level of the log new-plan rate (parameter uncertainty).
    demand_level: [f64; L],
    hnsg_approved: [bool; L],
    /// The year the HNSG is paid in: the payment year, or the next if delayed.
    hnsg_paid_at: [Option<usize>; L],
    /// Council spend level relative to calibration (calibration error).
    cost_level: [f64; L],
    /// Delivered share of a savings plan (1 without a plan).
    delivered: [f64; L],
    /// Share of its pre-agreement overspend that a safety-valve council saves after an
    /// agreement signed later than its calibration window (drawn for every council).
    sv_saving: [f64; L],
    /// Placement-share and state special capacity trends (README "Placement uncertainty").
    placement: PlacementLanes<L>,
}

impl<const L: usize> PathDraws<L> {
    /// Lane `l`'s inputs to the money steps (4 to 7) in year `t`.
    fn lane_year(&self, l: usize, t: usize, gross: f64, funding_factor: f64) -> LaneYear {
        LaneYear {
            t,
            gross,
            delivered: self.delivered[l],
            sv_saving: self.sv_saving[l],
            hnsg_approved: self.hnsg_approved[l],
            hnsg_paid_at: self.hnsg_paid_at[l],
            funding_factor,
        }
    }

    /// `national` holds each lane's path's national placement normals.
    fn draw(
        run: &RunInputs,
        rng: &mut [Pcg64Mcg; L],
        council: usize,
        first_path: usize,
        national: [&[f64; placement::NORMALS]; L],
    ) -> Self {
        let scenario = &run.model.scenario;
        let mut draws = PathDraws {
            demand_level: [0.0; L],
            hnsg_approved: [false; L],
            hnsg_paid_at: [None; L],
            cost_level: [0.0; L],
            delivered: std::array::from_fn(|l| match &run.delivered {
                Some(beta) => beta.sample(&mut stream(
                    run.seed,
                    MITIGATION_STREAM,
                    first_path + l,
                    council,
                )),
                None => 1.0,
            }),
            sv_saving: std::array::from_fn(|l| {
                let sv = &scenario.safety_valve;
                let mut r = stream(run.seed, SV_SAVINGS_STREAM, first_path + l, council);
                sv.savings_mean + sv.savings_sd * normal(&mut r)
            }),
            placement: PlacementLanes::new(&std::array::from_fn(|l| {
                draw_placement(run, council, first_path + l, national[l])
            })),
        };
        for (l, r) in rng.iter_mut().enumerate() {
            draws.demand_level[l] = scenario.demand.council_level_sd * normal(r);
            // Drawn whether or not the scenario has an HNSG, so both share their numbers.
            let (approval, delay) = scenario.hnsg.as_ref().map_or((0.0, 0.0), |hnsg| {
                (hnsg.approval_probability, hnsg.delay_probability)
            });
            draws.hnsg_approved[l] = r.gen::<f64>() < approval;
            let delayed = r.gen::<f64>() < delay;
            draws.hnsg_paid_at[l] =
                (run.model.schedule.hnsg_payment).map(|t| if delayed { t + 1 } else { t });
            draws.cost_level[l] = scenario.costs.council_level_sd * normal(r);
        }
        draws
    }
}

/// One path's placement trends for a council, from its own stream: a level and a slope for each
/// group's log share, a level and a growth for the state special places. The capacity's normals
/// are correlated with the specialist share's (`placement.capacity_specialist_correlation`), and
/// the three groups' levels with each other (`placement.group_correlation`; the specialist
/// level's normal is the first and is not changed by it).
/// With probability `placement.wide_share` every spread of the council-path is `wide_factor`
/// times as wide (a scale mixture of normals: placement errors have heavy tails).
/// The council's own normals are added to the path's national ones
/// (`placement.national_level_sd` and the like; not widened), so England's placements carry the
/// error that councils share (README "Placement uncertainty").
fn draw_placement(
    run: &RunInputs,
    council: usize,
    path: usize,
    national: &[f64; placement::NORMALS],
) -> PlacementPath {
    let p = &run.model.scenario.placement;
    let mut rng = stream(run.seed, PLACEMENT_STREAM, path, council);
    let mut z = correlated_placement_normals(&mut rng, p.capacity_specialist_correlation);
    placement::correlate_levels(p.group_correlation.cholesky(), &mut z);
    let wide = rng.gen::<f64>() < p.wide_share;
    let parts = &run.placement_spread[usize::from(wide)];
    let z = parts.normals(&z, national);
    run.model.councils[council].placement.draw(&parts.total, &z)
}

/// `placement::NORMALS` standard normals for a placement draw, the capacity's level and growth
/// correlated with the specialist placements' level and growth by `rho`.
fn correlated_placement_normals(rng: &mut Pcg64Mcg, rho: f64) -> [f64; placement::NORMALS] {
    let mut z: [f64; placement::NORMALS] = std::array::from_fn(|_| normal(rng));
    let own = (1.0 - rho * rho).sqrt();
    // Specialist share: level z[0], slope z[1]; capacity: level and growth last.
    z[2 * placement::GROUPS] = rho * z[0] + own * z[2 * placement::GROUPS];
    z[2 * placement::GROUPS + 1] = rho * z[1] + own * z[2 * placement::GROUPS + 1];
    z
}

/// Each year's new-plan rate and spend factor, by lane. The yearly council shocks do not depend
/// on the state, so they (and their `exp`) are worked out before the year loop, in the same draw
/// order; the year loop is then plain arithmetic.
struct YearlyFactors<const L: usize> {
    /// By year (one allocation for the council's lanes).
    years: Vec<YearFactors<L>>,
}

/// One year's [`YearlyFactors`].
struct YearFactors<const L: usize> {
    new_rate: [f64; L],
    cost_factor: [f64; L],
    /// The most plans each age band may hold (prevalence ceiling x population).
    cap: [[f64; L]; AGE_BANDS],
    /// How far the placement trends have run: they decay with step 1's growth.
    placement_clock: ClockLanes<L>,
    /// The share of the year's new plans that the council's own demand draws add (its level
    /// and shocks; `1 - rate without them / rate`), in years after the latest census; 0 when no
    /// placement group follows the plans (`placement.plans_elasticity`).
    own_share: [f64; L],
    /// The new-plan rate without the council's own draws over the rate with them (the median
    /// path's new plans per new plan), times the elasticity of the rate to the council's own
    /// log deviation (1 without decay), in years after the latest census; 0 before, and when
    /// spend follows the plans one for one (`costs.plans_response` 1).
    median_share: [f64; L],
    /// The council's own log deviation of its new-plan rate (its level plus its shock; step
    /// 1's draws), when spend does not follow the plans one for one.
    own_log: [f64; L],
}

/// Step 1's slowing of growth: the new-plan rate `rate` of a council whose plans end and age out
/// at `exit_rate` a year, `years_on` years after its latest census, with its growth part
/// (`rate - exit_rate`) decayed toward `long_run_growth` with a half-life of `half_life` years:
/// `exit + g_LR + (rate - exit - g_LR) x 0.5^((years_on - DECAY_DELAY) / half_life)` (at least 0)
/// after the first projected year; `rate` itself up to `DECAY_DELAY` (1) years after the census,
/// so the first projected year grows as calibrated.
pub fn decayed_rate(
    rate: f64,
    exit_rate: f64,
    long_run_growth: f64,
    half_life: f64,
    years_on: f64,
) -> f64 {
    if years_on <= DECAY_DELAY {
        return rate;
    }
    decayed_by(
        rate,
        exit_rate,
        long_run_growth,
        0.5_f64.powf((years_on - DECAY_DELAY) / half_life),
    )
}

/// [`decayed_rate`] after the census, with its `0.5^(years_on / half_life)` worked out (`kept`).
fn decayed_by(rate: f64, exit_rate: f64, long_run_growth: f64, kept: f64) -> f64 {
    (exit_rate + long_run_growth + (rate - exit_rate - long_run_growth) * kept).max(0.0)
}

/// Step 1's saturation under the prevalence ceiling: the share of the new plans wanted in an age
/// band that enter it, when the band holds `plans` (before this year's new plans) and may hold
/// `cap`: `(1 - r^shape) / saturation0` with `r = plans / cap`, between 0 and 1. `saturation0`
/// is the same expression at the latest census, so new plans enter as fitted there.
pub fn saturation(plans: f64, cap: f64, saturation0: f64, shape: f64) -> f64 {
    saturations(&[plans], &[cap], saturation0, shape)[0]
}

/// [`saturation`] of each lane (a lone path's operations in the same order), worked out side by
/// side so that the CPU can vectorise the divisions.
#[inline(always)]
fn saturations<const L: usize>(
    plans: &[f64; L],
    cap: &[f64; L],
    saturation0: f64,
    shape: f64,
) -> [f64; L] {
    let r: [f64; L] = std::array::from_fn(|l| (plans[l] / cap[l]).max(0.0));
    let power = prevalence_powers(&r, shape);
    std::array::from_fn(|l| ((1.0 - power[l]) / saturation0).clamp(0.0, 1.0))
}

impl<const L: usize> YearlyFactors<L> {
    /// Year `t`'s prevalence ceiling for step 1, when the scenario has one.
    fn saturation<'a>(
        &'a self,
        t: usize,
        council: &'a CouncilModel,
        scenario: &Scenario,
    ) -> Option<Saturation<'a, L>> {
        scenario.ceiling.enabled.then(|| Saturation {
            cap: &self.years[t].cap,
            saturation0: &council.saturation0,
            shape: scenario.ceiling.shape,
        })
    }

    #[inline(always)]
    fn draw(
        run: &RunInputs,
        council: &CouncilModel,
        national: &[&NationalDraws; L],
        draws: &PathDraws<L>,
        rng: &mut [Pcg64Mcg; L],
    ) -> Self {
        let scenario = &run.model.scenario;
        let schedule = &run.model.schedule;
        let demand = &scenario.demand;
        let years = schedule.years.len();
        let level: [f64; L] = std::array::from_fn(|l| national[l].level + draws.demand_level[l]);
        let mut shock = [0.0; L];
        let mut cost_shock = [0.0; L];
        let mut out = YearlyFactors {
            years: Vec::with_capacity(years),
        };
        let follows_plans = follows_plans(scenario);
        let responds = spend_responds(scenario);
        // The council's row of each path's `median_rate` table (there when `follows_plans` or
        // `responds`).
        let median_row = run
            .censuses
            .iter()
            .position(|&census| census == council.latest_census)
            .unwrap_or(0)
            * years;
        // The ceiling per unit of population growth: `ceiling x population`, the same in every
        // year and lane.
        let ceiling_population: [f64; AGE_BANDS] =
            std::array::from_fn(|a| council.ceiling[a] * council.population[a]);
        for t in 0..years {
            // Years since the latest census, at which the new-plan rate was set.
            let years_on = f64::from(t as i32 - council.latest_census);
            // The long-run draws' effect this year, per lane (`years_on` at least 0).
            let k = (t as i32 - council.latest_census).max(0) as usize;
            let long_run: [&LongRunYear; L] = std::array::from_fn(|l| &national[l].long_run[k]);
            // Each lane's draws from its own stream, in the lone path's order; the arithmetic
            // below is each lane's lone-path arithmetic, worked side by side.
            for l in 0..L {
                let eps = normal(&mut rng[l]);
                shock[l] = demand.persistence * shock[l] + demand.council_shock_sd * eps;
                let eps_cost = normal(&mut rng[l]);
                cost_shock[l] = scenario.costs.noise_persistence * cost_shock[l]
                    + scenario.costs.council_noise_sd * eps_cost;
            }
            let drawn: [f64; L] = std::array::from_fn(|l| {
                council.new_rate
                    * (level[l]
                        + national[l].trend * years_on
                        + national[l].demand_shock[t]
                        + shock[l])
                        .exp()
            });
            // `decayed_rate` and `TrendClock::decayed`, their powers worked out per path.
            let decays = scenario.decay.enabled && years_on > 0.0;
            let mut clock = ClockLanes::splat(TrendClock::linear(years_on));
            let slowed: [f64; L] = if decays {
                for l in 0..L {
                    clock.set(l, long_run[l].clock);
                }
                std::array::from_fn(|l| {
                    decayed_by(
                        drawn[l],
                        council.exit_rate,
                        national[l].long_run_growth,
                        long_run[l].kept,
                    )
                })
            } else {
                drawn
            };
            let rate = slowed.map(|v| v * schedule.new_plan_factor[t]);
            let mut own = [0.0; L];
            let mut median_share = [0.0; L];
            if (follows_plans || responds) && years_on > 0.0 {
                // The same rate without the council's own level and shocks: the median path's,
                // from which the plans' error is measured (used in lanes whose rate is above 0).
                // A loop, not `std::array::from_fn`, which the compiler does not always inline
                // into the step's wide copy (`simulate_lanes`).
                let mut expected = [0.0; L];
                for (l, expected) in expected.iter_mut().enumerate() {
                    let rate = council.new_rate * national[l].median_rate[median_row + t];
                    *expected = if scenario.decay.enabled {
                        decayed_by(
                            rate,
                            council.exit_rate,
                            national[l].long_run_growth,
                            long_run[l].kept,
                        )
                    } else {
                        rate
                    };
                }
                if follows_plans {
                    let share: [f64; L] = std::array::from_fn(|l| 1.0 - expected[l] / slowed[l]);
                    own = std::array::from_fn(|l| if slowed[l] > 0.0 { share[l] } else { 0.0 });
                }
                if responds {
                    // Times the elasticity of the slowed rate to the own deviation (the decay
                    // moves the rate toward a fixed rate, keeping `kept` of it).
                    let share: [f64; L] = std::array::from_fn(|l| {
                        let elasticity = if scenario.decay.enabled {
                            long_run[l].kept * drawn[l] / slowed[l]
                        } else {
                            1.0
                        };
                        expected[l] / slowed[l] * elasticity
                    });
                    median_share =
                        std::array::from_fn(|l| if slowed[l] > 0.0 { share[l] } else { 0.0 });
                }
            }
            let own_log: [f64; L] = if responds {
                std::array::from_fn(|l| draws.demand_level[l] + shock[l])
            } else {
                [0.0; L]
            };
            let factor: [f64; L] =
                std::array::from_fn(|l| (draws.cost_level[l] + cost_shock[l]).exp());
            let cap: [[f64; L]; AGE_BANDS] = std::array::from_fn(|a| {
                std::array::from_fn(|l| ceiling_population[a] * long_run[l].population_growth[a])
            });
            out.years.push(YearFactors {
                new_rate: rate,
                cost_factor: factor,
                cap,
                placement_clock: clock,
                own_share: own,
                median_share,
                own_log,
            });
        }
        out
    }
}

/// A council's caseload and unit costs by lane, carried from one year to the next.
struct CaseloadState<const L: usize> {
    /// Plans by age band and setting.
    cells: [[[f64; L]; SETTINGS]; AGE_BANDS],
    /// Plans by age band, summed over settings in setting order: the next demand step's band
    /// totals (nothing moves plans between the end of a year and the next demand step).
    ages: [[f64; L]; AGE_BANDS],
    /// Plans in force; overflow and induced placements move plans without changing it.
    stock: [f64; L],
    unit_cost: [[f64; L]; SETTINGS],
    non_plan: [f64; L],
    /// Plans in force last year (the origin census at the start): non-plan spend per plan.
    stock_before: [f64; L],
    /// Non-plan spend moves with plans in force (`costs.non_plan_driver = "plans"`).
    non_plan_per_plan: bool,
    /// State special places.
    capacity: [f64; L],
    /// The scenario's new places added so far (the same in every lane).
    places_to_date: f64,
    /// Specialist placements induced by those places so far.
    induced_to_date: f64,
    /// The log excess of the plans over the council's expected plans that its own demand draws
    /// have added since the latest census (`placement.plans_elasticity`).
    plan_surprise: [f64; L],
}

impl<const L: usize> CaseloadState<L> {
    fn start(council: &CouncilModel, non_plan_per_plan: bool) -> Self {
        CaseloadState {
            stock_before: [council.stock_origin; L],
            non_plan_per_plan,
            cells: std::array::from_fn(|a| std::array::from_fn(|s| [council.caseload0[a][s]; L])),
            ages: std::array::from_fn(|a| {
                let mut band = 0.0;
                for v in council.caseload0[a] {
                    band += v;
                }
                [band; L]
            }),
            stock: [total(&council.caseload0); L],
            unit_cost: std::array::from_fn(|s| [council.unit_cost0[s]; L]),
            non_plan: [council.non_plan0; L],
            capacity: [council.placement.capacity0; L],
            places_to_date: 0.0,
            induced_to_date: 0.0,
            plan_surprise: [0.0; L],
        }
    }
}

/// One path's money carried from one year to the next.
#[derive(Debug, Clone, Copy)]
struct Accounts {
    /// HNB after deductions.
    hnb: f64,
    /// Cumulative DSG deficit (positive = deficit).
    deficit: f64,
    reserves: f64,
    /// Safety-valve instalments withheld and not yet released.
    sv_held_back: f64,
    /// Off the safety-valve trajectory in some year so far.
    sv_breached: bool,
    /// HNSG measured at the balance date, to be paid in the payment year.
    hnsg_due: f64,
    /// The council's spend relative to its calibration after a local spend figure (1 before).
    spend_level: f64,
}

impl Accounts {
    fn start(council: &CouncilModel) -> Self {
        Accounts {
            hnb: council.hnb_origin,
            deficit: council.deficit0,
            reserves: council.reserves0,
            sv_held_back: 0.0,
            sv_breached: false,
            hnsg_due: 0.0,
            spend_level: 1.0,
        }
    }
}

/// One council, paths `first_path .. first_path + L`: the yearly step of the README's "The
/// model" section, steps 1 to 7 in order. Writes `years x Metric::COUNT` values for each path
/// into `tile`, the results of the block of paths that holds them.
///
/// The step runs in the copy for the CPU's widest vectors ([`crate::vectors::widest`]: four
/// lanes to an AVX2 instruction where the CPU has it), the same bits either way.
fn simulate_lanes<const L: usize>(
    run: &RunInputs,
    shares: &[BandShares],
    weights: &DemandWeights<L>,
    council_index: usize,
    first_path: usize,
    tile: &mut [f64],
) {
    // The step in the copy for the CPU's widest vectors, with every function on its hot path
    // inlined into it (`#[inline(always)]`).
    crate::vectors::widest(
        #[inline(always)]
        || {
            let model = run.model;
            let scenario = &model.scenario;
            let schedule = &model.schedule;
            let council = &model.councils[council_index];
            let years = schedule.years.len();
            let first_lane = first_path % PATHS_PER_BLOCK;
            let national: [&NationalDraws; L] =
                std::array::from_fn(|l| &run.national[first_path + l - run.first_path]);
            let mut rng: [Pcg64Mcg; L] = std::array::from_fn(|l| {
                stream(run.seed, COUNCIL_STREAM, first_path + l, council_index)
            });
            let draws = PathDraws::draw(
                run,
                &mut rng,
                council_index,
                first_path,
                national.map(|n| &n.placement),
            );
            let yearly = YearlyFactors::draw(run, council, &national, &draws, &mut rng);
            let inflation: [[f64; L]; SETTINGS] =
                std::array::from_fn(|s| std::array::from_fn(|l| national[l].inflation[s]));
            let funding_factor = funding_factor(scenario);
            let per_plan = scenario.costs.non_plan_driver == NonPlanDriver::Plans;
            let mut state = CaseloadState::<L>::start(council, per_plan);
            let mut accounts = [Accounts::start(council); L];
            let mut own_plans = OwnPlans::<L>::start(&run.response);

            for t in 0..years {
                // 1. Demand, or this year's census where it is known.
                let ceiling = yearly.saturation(t, council, scenario);
                let flows = demand_or_census(
                    council,
                    weights,
                    t,
                    &shares[t],
                    &yearly.years[t].new_rate,
                    ceiling,
                    &mut state,
                );
                // 2. Placement.
                let placed = placement_step(
                    council,
                    &draws.placement,
                    &yearly.years[t].placement_clock,
                    t as i32 - council.latest_census,
                    council.places_added[t],
                    scenario.placement.induced_demand,
                    PlanSurprise {
                        new_plans: &flows.new_plans,
                        own_share: &yearly.years[t].own_share,
                        elasticity: scenario.placement.plans_elasticity.to_array(),
                        capacity_elasticity: scenario.placement.capacity_plans_elasticity,
                    },
                    &mut state,
                );
                if let Some(ehcps) = council.pins.ehcps[t] {
                    local_census(ehcps, &mut state);
                }
                // 3. Costs.
                let noise: [f64; L] = std::array::from_fn(|l| national[l].cost_noise[t]);
                let settings = caseload_totals(&mut state);
                let response = own_plans.year(t, &yearly.years[t], &flows, &state.stock);
                let plan_spend = cost_step(
                    &inflation,
                    &noise,
                    schedule.fee_cap[t],
                    &settings,
                    &mut state,
                );
                let mut rows =
                    Rows::<L>::new(&mut *tile, t * Metric::COUNT * PATHS_PER_BLOCK + first_lane);
                for l in 0..L {
                    let gross = (plan_spend[l] + state.non_plan[l])
                        * yearly.years[t].cost_factor[l]
                        * response[l];
                    let lane = draws.lane_year(l, t, gross, funding_factor);
                    let money = finances(model, council, national[l], &lane, &mut accounts[l]);
                    write_money(&mut rows, l, &money, &accounts[l]);
                }
                write_plans(
                    &mut rows,
                    &state,
                    &settings,
                    &flows,
                    &placed,
                    &yearly.years[t].cap,
                );
            }
        },
    );
}

/// The most years `costs.plans_response_years` may be (the window [`OwnPlans`] keeps).
pub const MAX_RESPONSE_YEARS: usize = 10;

/// How far a council's spend follows the plans its own demand draws add
/// (`costs.plans_response`, beta, over `costs.plans_response_years`, W). Spend is the
/// caseload's cost x `exp((beta - 1) u + (1 - beta^2) v / 2)`, where `u` is the first-order log
/// excess of the council's plans over the median path's that its own draws made in the last W
/// years and `v` its variance: `u = sum over those years of b x`, `x` the year's own log
/// deviation of the new-plan rate (the council's level plus its AR(1) shock, both normal with
/// mean 0) and `b` that year's new plans at the median path's rate over the plans in force
/// (times the rate's elasticity to `x` under decay; 0 in census years). An excess made earlier
/// than W years ago is followed one for one (spend has caught up with it). `v` is the
/// variance of that sum given the weights, from the level's sd and the shock's AR(1)
/// covariances (the scenario's), so for a normal `u` and plans `∝ exp(u)` the council's
/// expected spend is the same as at one for one, `E[exp(u) x factor] = E[exp(u)]`, and
/// England's with it; the spread across councils and paths narrows and the median path spends
/// a little more. At beta 1 the factor is exactly 1.
struct OwnPlans<'a, const L: usize> {
    beta: f64,
    /// The window's slots and covariances in each year (the run's [`ResponseWindows`]).
    windows: &'a [ResponseYear],
    /// By year modulo the window: `b` and `x` by lane.
    weight: [[f64; L]; MAX_RESPONSE_YEARS],
    deviation: [[f64; L]; MAX_RESPONSE_YEARS],
}

/// [`OwnPlans`]'s window in one year, the same for every council, path and lane (it depends on
/// the scenario and the year only): this year's slot, the window's slots oldest first, and the
/// covariances of their deviations (the level's variance plus the shocks', `rho^|i - j|` x the
/// earlier year's variance, the shock's AR(1) variance from 0 in the first year).
#[derive(Debug, Clone, Copy)]
struct ResponseYear {
    now: usize,
    span: usize,
    slots: [usize; MAX_RESPONSE_YEARS],
    cov: [[f64; MAX_RESPONSE_YEARS]; MAX_RESPONSE_YEARS],
}

/// The spend response's windows of a run, worked out once for all councils and paths.
struct ResponseWindows {
    beta: f64,
    /// By year (empty when spend follows the plans one for one, `beta` 1).
    years: Vec<ResponseYear>,
}

impl ResponseWindows {
    fn new(scenario: &Scenario, years: usize) -> Self {
        let demand = &scenario.demand;
        let beta = scenario.costs.plans_response;
        // `plans_response_years` is 1 to `MAX_RESPONSE_YEARS` (`scenario::ranges`).
        let w = (scenario.costs.plans_response_years as usize).clamp(1, MAX_RESPONSE_YEARS);
        let level_var = demand.council_level_sd * demand.council_level_sd;
        let shock_var0 = demand.council_shock_sd * demand.council_shock_sd;
        let rho = demand.persistence;
        let mut shock_var = [0.0; MAX_RESPONSE_YEARS];
        // At beta 1 the factor is exactly 1 and no window is needed.
        let years = if beta == 1.0 { 0 } else { years };
        let mut out = Vec::with_capacity(years);
        for year in 0..years {
            let now = year % w;
            let last_var = if year == 0 {
                0.0
            } else {
                shock_var[(year - 1) % w]
            };
            shock_var[now] = rho * rho * last_var + shock_var0;
            let span = w.min(year + 1);
            let mut slots = [0; MAX_RESPONSE_YEARS];
            let mut powers = [1.0; MAX_RESPONSE_YEARS];
            for k in 0..span {
                slots[k] = (year + w - (span - 1 - k)) % w;
                if k > 0 {
                    powers[k] = powers[k - 1] * rho;
                }
            }
            let mut cov = [[0.0; MAX_RESPONSE_YEARS]; MAX_RESPONSE_YEARS];
            for i in 0..span {
                for j in 0..span {
                    cov[i][j] = level_var + powers[i.abs_diff(j)] * shock_var[slots[i.min(j)]];
                }
            }
            out.push(ResponseYear {
                now,
                span,
                slots,
                cov,
            });
        }
        ResponseWindows { beta, years: out }
    }
}

impl<'a, const L: usize> OwnPlans<'a, L> {
    fn start(windows: &'a ResponseWindows) -> Self {
        OwnPlans {
            beta: windows.beta,
            windows: &windows.years,
            weight: [[0.0; L]; MAX_RESPONSE_YEARS],
            deviation: [[0.0; L]; MAX_RESPONSE_YEARS],
        }
    }

    /// Year `t`'s spend factor, after step 1's `flows` with `plans` in force (step 3's).
    #[inline(always)]
    fn year(
        &mut self,
        t: usize,
        factors: &YearFactors<L>,
        flows: &PlanFlows<L>,
        plans: &[f64; L],
    ) -> [f64; L] {
        if self.beta == 1.0 {
            return [1.0; L];
        }
        let window = &self.windows[t];
        let now = window.now;
        for l in 0..L {
            self.weight[now][l] = if plans[l] > 0.0 {
                flows.new_plans[l] * factors.median_share[l] / plans[l]
            } else {
                0.0
            };
            self.deviation[now][l] = factors.own_log[l];
        }
        let slots = &window.slots[..window.span];
        let mut excess = [0.0; L];
        let mut var = [0.0; L];
        for (&si, covs) in slots.iter().zip(&window.cov) {
            let bi = &self.weight[si];
            let xi = &self.deviation[si];
            for l in 0..L {
                excess[l] += bi[l] * xi[l];
            }
            for (&sj, &cov) in slots.iter().zip(covs) {
                let bj = &self.weight[sj];
                for l in 0..L {
                    var[l] += bi[l] * bj[l] * cov;
                }
            }
        }
        let mut out = [1.0; L];
        for l in 0..L {
            if excess[l] != 0.0 || var[l] != 0.0 {
                out[l] = ((self.beta - 1.0) * excess[l]
                    + (1.0 - self.beta * self.beta) * var[l] / 2.0)
                    .exp();
            }
        }
        out
    }
}

/// Funding as a multiple of the HNB: the HNB plus any schools-block transfer.
fn funding_factor(scenario: &Scenario) -> f64 {
    1.0 + scenario.funding.schools_block_transfer * scenario.funding.schools_block_ratio
}

/// Step 1 for year `t`: the census where it is known (the first year is the census itself),
/// else the demand step (under the prevalence ceiling, when the scenario has one).
#[inline(always)]
fn demand_or_census<const L: usize>(
    council: &CouncilModel,
    weights: &DemandWeights<L>,
    t: usize,
    shares: &BandShares,
    new_rate: &[f64; L],
    ceiling: Option<Saturation<L>>,
    state: &mut CaseloadState<L>,
) -> PlanFlows<L> {
    match (t, &council.census[t]) {
        (0, Some(_)) => PlanFlows::none(),
        (_, Some(census)) => census_step(shares, census, state),
        (_, None) => demand_step(weights, shares, new_rate, ceiling, state),
    }
}

/// Step 1's shares of each age band in one year: those who stay in the band, move up a band
/// (or age out from the last) and whose plans end. The same for every path of a council.
#[derive(Debug, Clone, Copy)]
struct BandShares {
    remain: [f64; AGE_BANDS],
    up: [f64; AGE_BANDS],
    ceased: [f64; AGE_BANDS],
}

/// The bands whose plans moving up cross a phase transfer at which reform reassesses plans:
/// 5-10 to 11-15 (primary to secondary) and 11-15 to 16-19 (secondary to post-16).
const REASSESSED_ON_MOVING_UP: [usize; 2] = [AGE_5_10, AGE_11_15];

impl BandShares {
    fn new(council: &CouncilModel, structure: &Structure, reassess: f64) -> Self {
        let mut out = BandShares {
            remain: [0.0; AGE_BANDS],
            up: [0.0; AGE_BANDS],
            ceased: [0.0; AGE_BANDS],
        };
        for a in 0..AGE_BANDS {
            let stay = 1.0 - council.cease_rate[a];
            let promote = structure.promote[a];
            // Phase transfer: reform may reassess (and end) some plans here.
            let keep = if REASSESSED_ON_MOVING_UP.contains(&a) {
                1.0 - reassess
            } else {
                1.0
            };
            out.remain[a] = stay * (1.0 - promote);
            out.up[a] = stay * promote * keep;
            out.ceased[a] = council.cease_rate[a] + stay * promote * (1.0 - keep);
        }
        out
    }
}

/// Step 1's flows for every lane: new plans, plans ended (ceased, or reassessed at a phase
/// transfer) and plans ageing out of the last band.
struct PlanFlows<const L: usize> {
    new_plans: [f64; L],
    ceased: [f64; L],
    aged_out: [f64; L],
}

impl<const L: usize> PlanFlows<L> {
    fn none() -> Self {
        PlanFlows {
            new_plans: [0.0; L],
            ceased: [0.0; L],
            aged_out: [0.0; L],
        }
    }
}

/// Step 1's weights of a council that are the same in every year, each repeated across the
/// lanes: its new plans' mix by age band and setting (`entry_mix`) and the phase transfers'
/// terms (`Structure::phase`, for the plans moving up into band `a + 1` at index `a`). The
/// lanes' products read them as whole vectors (16-byte aligned) instead of repeating a scalar
/// into a vector at every use; the values, and so every product, are the same.
#[repr(align(16))]
struct DemandWeights<const L: usize> {
    mix: [[[f64; L]; SETTINGS]; AGE_BANDS],
    leave: [[[f64; L]; SETTINGS]; AGE_BANDS - 1],
    stay: [[[f64; L]; SETTINGS]; AGE_BANDS - 1],
    to_share: [[[f64; L]; SETTINGS]; AGE_BANDS - 1],
}

impl<const L: usize> DemandWeights<L> {
    fn new(council: &CouncilModel, structure: &Structure) -> Self {
        let phase = |f: fn(&PhaseTransfer) -> &[f64; SETTINGS]| {
            std::array::from_fn(|a| f(&structure.phase[a]).map(|v| [v; L]))
        };
        DemandWeights {
            mix: council.entry_mix.map(|band| band.map(|v| [v; L])),
            leave: phase(|p| &p.leave),
            stay: phase(|p| &p.stay),
            to_share: phase(|p| &p.to_share),
        }
    }
}

/// Step 1's prevalence ceiling in one year: the most plans each age band may hold, by lane, and
/// the saturation's terms.
struct Saturation<'a, const L: usize> {
    cap: &'a [[f64; L]; AGE_BANDS],
    saturation0: &'a [f64; AGE_BANDS],
    shape: f64,
}

/// Step 1, demand, for every lane: `rate x stock` new plans are wanted; each band keeps its
/// stayers, gains the plans moving up from the band below (re-placed by the phase transfer) and
/// its share of the new plans, scaled under a prevalence ceiling by the band's [`saturation`];
/// plans still above the ceiling end (counted as ceased). Bands are updated in place from the
/// top, so the band below is still last year's.
#[inline(always)]
fn demand_step<const L: usize>(
    weights: &DemandWeights<L>,
    shares: &BandShares,
    new_rate: &[f64; L],
    ceiling: Option<Saturation<L>>,
    state: &mut CaseloadState<L>,
) -> PlanFlows<L> {
    let mut flows = plans_ending(shares, &state.ages);
    let wanted: [f64; L] = std::array::from_fn(|l| new_rate[l] * state.stock[l]);
    let cells = &mut state.cells;
    for a in (0..AGE_BANDS).rev() {
        let mut arriving = [[0.0; L]; SETTINGS];
        if a > 0 {
            // Plans moving up: those leaving their setting are pooled and re-placed.
            let leave = &weights.leave[a - 1];
            let stay = &weights.stay[a - 1];
            let to_share = &weights.to_share[a - 1];
            let below = &cells[a - 1];
            let up = shares.up[a - 1];
            let moving: [[f64; L]; SETTINGS] =
                std::array::from_fn(|s| std::array::from_fn(|l| below[s][l] * up));
            let mut pool = [0.0; L];
            for s in 0..SETTINGS {
                for l in 0..L {
                    pool[l] += leave[s][l] * moving[s][l];
                }
            }
            for s in 0..SETTINGS {
                for l in 0..L {
                    arriving[s][l] = stay[s][l] * moving[s][l] + to_share[s][l] * pool[l];
                }
            }
        }
        let remain = shares.remain[a];
        // The band's plans that stay or arrive, before this year's new plans.
        let kept_cells: [[f64; L]; SETTINGS] = std::array::from_fn(|s| {
            std::array::from_fn(|l| cells[a][s][l] * remain + arriving[s][l])
        });
        let mut entering = [1.0; L];
        if let Some(c) = &ceiling {
            let mut kept = [0.0; L];
            for cell in &kept_cells {
                for l in 0..L {
                    kept[l] += cell[l];
                }
            }
            entering = saturations(&kept, &c.cap[a], c.saturation0[a], c.shape);
        }
        let mut band = [0.0; L];
        for (s, cell) in cells[a].iter_mut().enumerate() {
            let mix = &weights.mix[a][s];
            for l in 0..L {
                let new = wanted[l] * mix[l] * entering[l];
                cell[l] = kept_cells[s][l] + new;
                flows.new_plans[l] += new;
                band[l] += cell[l];
            }
        }
        if let Some(c) = &ceiling {
            // The lanes above the ceiling (found side by side; in most years none is).
            let over: [bool; L] = std::array::from_fn(|l| band[l] > c.cap[a][l]);
            for l in (0..L).filter(|_| over.contains(&true)) {
                let cap = c.cap[a][l];
                if over[l] {
                    let keep = cap / band[l];
                    for cell in cells[a].iter_mut() {
                        cell[l] *= keep;
                    }
                    flows.ceased[l] += band[l] - cap;
                }
            }
        }
    }
    flows
}

/// Step 1's plans that end (ceased, or reassessed at a phase transfer) and age out of the last
/// band, from last year's plans by age band, for every lane (no new plans yet).
#[inline(always)]
fn plans_ending<const L: usize>(
    shares: &BandShares,
    bands: &[[f64; L]; AGE_BANDS],
) -> PlanFlows<L> {
    let mut flows = PlanFlows::none();
    for (band, share) in bands.iter().zip(&shares.ceased) {
        for l in 0..L {
            flows.ceased[l] += band[l] * share;
        }
    }
    flows.aged_out = std::array::from_fn(|l| bands[AGE_BANDS - 1][l] * shares.up[AGE_BANDS - 1]);
    flows
}

/// Step 1 in a year whose January census is known: plans end and age out as in the demand step,
/// the census replaces the projected caseload, and the new plans are those the census implies
/// (`census - (stock - ended - aged out)`; a fall beyond the ended plans counts as ended). The
/// demand step's cells are not worked out: the census replaces every one of them, and without
/// a ceiling or new plans its flows are [`plans_ending`]'s.
#[inline(always)]
fn census_step<const L: usize>(
    shares: &BandShares,
    census: &Cells,
    state: &mut CaseloadState<L>,
) -> PlanFlows<L> {
    let flows = plans_ending(shares, &state.ages);
    with_census(flows, census, state)
}

/// The census step's end: the census replaces every lane's caseload, and the new plans are
/// those it implies after the plans that end and age out (`flows`).
#[inline(always)]
fn with_census<const L: usize>(
    mut flows: PlanFlows<L>,
    census: &Cells,
    state: &mut CaseloadState<L>,
) -> PlanFlows<L> {
    let census_total = total(census);
    for l in 0..L {
        let implied = census_total - (state.stock[l] - flows.ceased[l] - flows.aged_out[l]);
        flows.new_plans[l] = implied.max(0.0);
        flows.ceased[l] += (-implied).max(0.0);
        for (band, census_band) in state.cells.iter_mut().zip(census) {
            for (cell, plans) in band.iter_mut().zip(census_band) {
                cell[l] = *plans;
            }
        }
    }
    flows
}

/// What step 2 needs to make the placement groups follow the council's own plans
/// (`placement.plans_elasticity`).
struct PlanSurprise<'a, const L: usize> {
    /// This year's new plans.
    new_plans: &'a [f64; L],
    /// The share of them that the council's own demand draws add.
    own_share: &'a [f64; L],
    /// Each group's log change per log change of the plans (specialist, post-16, AP/other).
    elasticity: [f64; placement::GROUPS],
    /// The state special places' log change per log change of the plans.
    capacity_elasticity: f64,
}

/// Step 2's placements for every lane.
struct Placed<const L: usize> {
    /// Extra specialist placements drawn from mainstream by new places this year.
    induced: [f64; L],
    /// Specialist placements above the state special places, placed in independent special
    /// schools.
    overflow: [f64; L],
}

/// Step 2, placement, for every lane, in a year `years_on` after the latest census (census years
/// keep their placements): the placement shares follow the path's trends (run to `clock`: they
/// decay with step 1's growth where the scenario has `[decay]`), state special places
/// grow by theirs plus the scenario's new places (each drawing `induced_demand` specialist
/// placements from mainstream), specialist placements fill the places first and the rest go to
/// independent special schools; the plans are then re-placed to those totals. Each group
/// follows the plans its council's own demand draws add (`surprise`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn placement_step<const L: usize>(
    council: &CouncilModel,
    paths: &PlacementLanes<L>,
    clock: &ClockLanes<L>,
    years_on: i32,
    places_added: f64,
    induced_demand: f64,
    surprise: PlanSurprise<L>,
    state: &mut CaseloadState<L>,
) -> Placed<L> {
    state.places_to_date += places_added;
    let mut placed = Placed {
        induced: [0.0; L],
        overflow: [0.0; L],
    };
    if years_on <= 0 {
        for l in 0..L {
            state.capacity[l] = state.cells.iter().map(|band| band[SPECIAL_STATE][l]).sum();
        }
        return placed;
    }
    let wanted = induced_demand * places_added;
    state.induced_to_date += wanted;
    // The plans, and each setting's plans (summed over the bands in band order, as
    // `placement::replace` sums them).
    let mut plans = [0.0; L];
    let mut column = [[0.0; L]; SETTINGS];
    for band in &state.cells {
        for (setting, cell) in column.iter_mut().zip(band) {
            for l in 0..L {
                plans[l] += cell[l];
                setting[l] += cell[l];
            }
        }
    }
    let mainstream = column[MAINSTREAM];
    // The new plans the council's own draws added this year, as a log change of its plans.
    for l in 0..L {
        state.plan_surprise[l] +=
            surprise.new_plans[l] * surprise.own_share[l] / plans[l].max(f64::MIN_POSITIVE);
    }
    let shift = surprise
        .elasticity
        .map(|e| state.plan_surprise.map(|v| e * v));
    let capacity_shift = state
        .plan_surprise
        .map(|v| surprise.capacity_elasticity * v);
    let trend = council
        .placement
        .trend_capacities(paths, clock, &capacity_shift);
    state.capacity = trend.map(|v| v + state.places_to_date);
    placed.induced = mainstream.map(|v| wanted.min(v));
    let (targets, overflow) = council.placement.lane_targets(
        paths,
        clock,
        &plans,
        &state.capacity,
        state.induced_to_date,
        &shift,
    );
    placed.overflow = overflow;
    placement::replace_columns(&mut state.cells, &column, &targets);
    placed
}

/// The year's plans by setting (returned) and by age band (into `state.ages`, the next demand
/// step's band totals), after demand and placement.
#[inline(always)]
fn caseload_totals<const L: usize>(state: &mut CaseloadState<L>) -> [[f64; L]; SETTINGS] {
    let mut settings = [[0.0; L]; SETTINGS];
    for (band, ages) in state.cells.iter().zip(&mut state.ages) {
        let mut age = [0.0; L];
        for (setting, cell) in settings.iter_mut().zip(band) {
            for l in 0..L {
                setting[l] += cell[l];
                age[l] += cell[l];
            }
        }
        *ages = age;
    }
    settings
}

/// Step 3, costs, for every lane: one year of inflation on unit costs (drawn per path, plus
/// national yearly noise; independent fees capped under reform) and on non-plan spend, and the
/// year's plan spend. Also sets `state.stock`, the plans in force.
#[inline(always)]
fn cost_step<const L: usize>(
    inflation: &[[f64; L]; SETTINGS],
    noise: &[f64; L],
    fee_cap: Option<f64>,
    settings: &[[f64; L]; SETTINGS],
    state: &mut CaseloadState<L>,
) -> [f64; L] {
    for s in 0..SETTINGS {
        for l in 0..L {
            let mut growth = inflation[s][l] + noise[l];
            if s == SPECIAL_INDEPENDENT {
                if let Some(cap) = fee_cap {
                    growth = growth.min(cap);
                }
            }
            state.unit_cost[s][l] *= 1.0 + growth;
        }
    }
    let mut plan_spend = [0.0; L];
    let mut stock = [0.0; L];
    for l in 0..L {
        state.non_plan[l] *= 1.0 + inflation[MAINSTREAM][l] + noise[l];
    }
    for s in 0..SETTINGS {
        for l in 0..L {
            stock[l] += settings[s][l];
            plan_spend[l] += settings[s][l] * state.unit_cost[s][l];
        }
    }
    state.stock = stock;
    if state.non_plan_per_plan {
        // Non-plan spend per plan in force is held in real terms.
        for l in 0..L {
            if state.stock_before[l] > 0.0 {
                state.non_plan[l] *= state.stock[l] / state.stock_before[l];
            }
            state.stock_before[l] = state.stock[l];
        }
    }
    plan_spend
}

/// One lane's inputs to steps 4 to 7 in year `t`.
struct LaneYear {
    t: usize,
    /// Spend before savings (plans, non-plan spend, council spend factor).
    gross: f64,
    delivered: f64,
    sv_saving: f64,
    hnsg_approved: bool,
    hnsg_paid_at: Option<usize>,
    funding_factor: f64,
}

/// One lane's money in one year (steps 4 to 7).
struct Money {
    spend: f64,
    savings: f64,
    funding: f64,
    in_year_balance: f64,
    events: PolicyEvents,
    interest: f64,
}

/// Steps 4 to 7 for one lane: funding, mitigation, policy events and the balance.
#[inline(always)]
fn finances(
    model: &Model,
    council: &CouncilModel,
    national: &NationalDraws,
    lane: &LaneYear,
    accounts: &mut Accounts,
) -> Money {
    let t = lane.t;
    // 4. Funding.
    let uplifted = model.schedule.uplift_from.is_some_and(|u| t >= u) && !council.pins.hnb[t];
    let funding = funding_step(
        council.hnb_known[t],
        uplifted,
        national,
        lane,
        &mut accounts.hnb,
    );
    // 5. Mitigation, and a safety-valve agreement's cut.
    let gross = lane.gross * accounts.spend_level;
    let savings = mitigation_step(
        gross,
        model.scenario.mitigation.savings_share,
        model.schedule.savings_ramp[t],
        lane.delivered,
    ) + safety_valve_saving(council, t, lane.sv_saving, accounts.hnb);
    let mut spend = gross - savings;
    if let Some(overspend) = council.pins.overspend[t] {
        spend = local_spend(funding + overspend, spend, accounts);
    }
    // 6. Policy events.
    let events = policy_events(model, council, national, lane, spend, funding, accounts);
    // 7. Balance.
    let interest = balance_step(model, council, lane, spend, funding, &events, accounts);
    if let Some(balance) = council.pins.balance[t] {
        // The year's spend is what takes the balance to the local figure (policy flows were
        // worked out on the modelled spend).
        let pinned = spend + balance - accounts.deficit;
        spend = local_spend(pinned, spend, accounts);
        accounts.deficit = balance;
    }
    if let Some(reserves) = council.pins.reserves[t] {
        accounts.reserves = reserves;
    }
    let in_year_balance = funding - spend;
    Money {
        spend,
        savings,
        funding,
        in_year_balance,
        events,
        interest,
    }
}

/// Step 4, funding, for one lane: the known allocation (from the formula year on, raised by the
/// path's uplift), else last year's grown by the path's growth and the national yearly shock;
/// times the funding factor (any schools-block transfer).
#[inline(always)]
fn funding_step(
    known: Option<f64>,
    uplifted: bool,
    national: &NationalDraws,
    lane: &LaneYear,
    hnb: &mut f64,
) -> f64 {
    *hnb = match known {
        Some(v) if uplifted => v * national.formula_uplift,
        Some(v) => v,
        None => *hnb * (1.0 + national.funding_growth + national.funding_noise[lane.t]),
    };
    *hnb * lane.funding_factor
}

/// Step 5, mitigation, for one lane: the savings, a share of spend, ramped in, times the
/// delivered share drawn per path.
#[inline(always)]
fn mitigation_step(gross: f64, savings_share: f64, ramp: f64, delivered: f64) -> f64 {
    gross * savings_share * ramp * delivered
}

/// Step 5's safety-valve cut for one lane: after an agreement signed later than the calibration
/// window, the drawn share of the council's pre-agreement overspend (as a share of this year's
/// HNB), less the caseload part where the census already shows it (`cut_base`).
#[inline(always)]
fn safety_valve_saving(council: &CouncilModel, t: usize, share: f64, hnb: f64) -> f64 {
    match &council.safety_valve {
        Some(sv) if sv.savings_live[t] => share * sv.cut_base * hnb,
        _ => 0.0,
    }
}

/// A local spend figure for one lane: the council's spend level from now on moves by the ratio of
/// the local spend to the modelled one. Returns the local spend.
#[inline(always)]
fn local_spend(local: f64, modelled: f64, accounts: &mut Accounts) -> f64 {
    if modelled > 0.0 && local > 0.0 {
        accounts.spend_level *= local / modelled;
    }
    local
}

/// A local census for every lane: the plans of each lane are scaled (all cells alike) to the
/// council's own count.
#[inline(always)]
fn local_census<const L: usize>(ehcps: f64, state: &mut CaseloadState<L>) {
    let mut total = [0.0; L];
    for band in &state.cells {
        for setting in band {
            for l in 0..L {
                total[l] += setting[l];
            }
        }
    }
    for band in state.cells.iter_mut() {
        for setting in band.iter_mut() {
            for l in 0..L {
                if total[l] > 0.0 {
                    setting[l] *= ehcps / total[l];
                }
            }
        }
    }
}

/// Step 6's flows for one lane in one year.
struct PolicyEvents {
    safety_valve: SafetyValveYear,
    /// Support for deficits accrued between the HNSG date and the override end.
    interim: f64,
    /// HNSG paid (measured earlier, paid in the payment FY, maybe a year late).
    hnsg_payment: f64,
    /// The residual deficit written off (regime `write_off`, in its first year).
    written_off: f64,
    /// Overspend absorbed centrally after the override (regime `central`).
    central: f64,
    /// Money paid towards the deficit: safety-valve instalments, HNSG, interim support and the
    /// council's own contribution.
    grants: f64,
}

/// Step 6, policy events, for one lane: the safety valve, interim support, the HNSG payment and
/// the after-override regime.
#[inline(always)]
fn policy_events(
    model: &Model,
    council: &CouncilModel,
    national: &NationalDraws,
    lane: &LaneYear,
    spend: f64,
    funding: f64,
    accounts: &mut Accounts,
) -> PolicyEvents {
    let schedule = &model.schedule;
    let t = lane.t;
    let overspend = -(funding - spend);
    let safety_valve = match &council.safety_valve {
        Some(terms) => safety_valve_step(model, terms, t, overspend, funding, accounts),
        None => SafetyValveYear::default(),
    };
    let interim = if schedule.interim[t] {
        national.interim_share * overspend.max(0.0)
    } else {
        0.0
    };
    let hnsg_payment = if Some(t) == lane.hnsg_paid_at {
        std::mem::take(&mut accounts.hnsg_due)
    } else {
        0.0
    };
    let written_off = if Some(t) == schedule.write_off_at {
        accounts.deficit.max(0.0)
    } else {
        0.0
    };
    let grants = safety_valve.payment + hnsg_payment + interim + safety_valve.contribution;
    let central = if schedule.regime[t] == Regime::Central {
        (spend - funding - grants).max(0.0)
    } else {
        0.0
    };
    PolicyEvents {
        safety_valve,
        interim,
        hnsg_payment,
        written_off,
        central,
        grants,
    }
}

/// Step 7, the balance, for one lane: interest on the deficit and the council's contribution
/// come out of reserves, the deficit moves by the identity in the README, and the HNSG claim is
/// measured at its balance date. Returns the interest.
#[inline(always)]
fn balance_step(
    model: &Model,
    council: &CouncilModel,
    lane: &LaneYear,
    spend: f64,
    funding: f64,
    events: &PolicyEvents,
    accounts: &mut Accounts,
) -> f64 {
    let reserves = &model.scenario.reserves;
    let interest = reserves.interest_rate * accounts.deficit.max(0.0);
    accounts.reserves = accounts.reserves * (1.0 - reserves.drawdown_rate)
        - interest
        - events.safety_valve.contribution;
    accounts.deficit += spend - funding - events.grants - events.central - events.written_off;
    let measured_now = Some(lane.t) == model.schedule.hnsg_measure;
    if let Some(hnsg) = model.scenario.hnsg.as_ref().filter(|_| measured_now) {
        accounts.hnsg_due = hnsg_claim(hnsg, council, lane.hnsg_approved, accounts.deficit);
    }
    interest
}

/// Step 6's safety-valve flows for one lane in one year.
#[derive(Debug, Default, Clone, Copy)]
struct SafetyValveYear {
    payment: f64,
    withheld: f64,
    contribution: f64,
}

/// Step 6, the safety valve for one lane: the council's contribution in live years, the breach
/// test against the agreed trajectory, and the instalment paid, withheld or released.
#[inline(always)]
fn safety_valve_step(
    model: &Model,
    terms: &SafetyValveTerms,
    t: usize,
    overspend: f64,
    funding: f64,
    accounts: &mut Accounts,
) -> SafetyValveYear {
    let rules = &model.scenario.safety_valve;
    let mut out = SafetyValveYear::default();
    let scheduled = terms.instalment[t];
    if terms.live[t] {
        out.contribution = rules.council_contribution_share * scheduled;
    }
    let off_track = terms.live[t] && overspend > terms.trajectory[t] + rules.tolerance * funding;
    if off_track {
        accounts.sv_breached = true;
    }
    if model.schedule.sv_payments_allowed[t] {
        if off_track && rules.withhold {
            out.withheld = rules.withhold_share * scheduled;
            accounts.sv_held_back += out.withheld;
            out.payment = scheduled - out.withheld;
        } else {
            out.payment = scheduled;
            if !off_track && rules.release_when_back_on_track {
                out.payment += accounts.sv_held_back;
                accounts.sv_held_back = 0.0;
            }
        }
    }
    out
}

/// Step 7's HNSG measurement at the balance date: the eligible deficit (after the haircut, and
/// net of safety-valve instalments still due if the scenario says so) times the grant's share,
/// or nothing if the council's plan is not approved. Paid in the payment year (step 6).
#[inline(always)]
fn hnsg_claim(hnsg: &Hnsg, council: &CouncilModel, approved: bool, deficit: f64) -> f64 {
    let mut eligible = deficit.max(0.0) * (1.0 - hnsg.haircut);
    if hnsg.net_safety_valve_due {
        eligible -= council
            .safety_valve
            .as_ref()
            .map_or(0.0, |sv| sv.due_after_hnsg);
    }
    if approved {
        hnsg.share * eligible.max(0.0)
    } else {
        0.0
    }
}

/// The ratio of deficit to reserves, capped at [`DEFICIT_TO_RESERVES_CAP`].
#[inline(always)]
fn deficit_to_reserves(deficit: f64, reserves: f64) -> f64 {
    if reserves > 0.0 {
        (deficit / reserves).clamp(-DEFICIT_TO_RESERVES_CAP, DEFICIT_TO_RESERVES_CAP)
    } else if deficit > 0.0 {
        DEFICIT_TO_RESERVES_CAP
    } else {
        0.0
    }
}

/// Writes every lane's plan metrics for one year.
#[inline(always)]
fn write_plans<const L: usize>(
    rows: &mut Rows<L>,
    state: &CaseloadState<L>,
    settings: &[[f64; L]; SETTINGS],
    flows: &PlanFlows<L>,
    placed: &Placed<L>,
    cap: &[[f64; L]; AGE_BANDS],
) {
    rows.set(Metric::Ehcps, state.stock);
    for s in 0..SETTINGS {
        rows.set(Metric::BY_SETTING[s], settings[s]);
    }
    let mut ceiling = [0.0; L];
    let mut use_ = [0.0_f64; L];
    for a in 0..AGE_BANDS {
        rows.set(Metric::BY_AGE[a], state.ages[a]);
        for l in 0..L {
            ceiling[l] += cap[a][l];
            use_[l] = use_[l].max(state.ages[a][l] / cap[a][l]);
        }
    }
    rows.set(Metric::EhcpCeiling, ceiling);
    rows.set(Metric::CeilingUse, use_);
    rows.set(Metric::NewPlans, flows.new_plans);
    rows.set(Metric::CeasedPlans, flows.ceased);
    rows.set(Metric::AgedOut, flows.aged_out);
    rows.set(Metric::SpecialPlaces, state.capacity);
    rows.set(Metric::Overflow, placed.overflow);
    rows.set(Metric::InducedPlacements, placed.induced);
}

/// Writes lane `l`'s money metrics for one year, and the comparison with reserves.
#[inline(always)]
fn write_money<const L: usize>(rows: &mut Rows<L>, l: usize, money: &Money, accounts: &Accounts) {
    let events = &money.events;
    rows.set_lane(Metric::Spend, l, money.spend);
    rows.set_lane(Metric::Savings, l, money.savings);
    rows.set_lane(Metric::Funding, l, money.funding);
    rows.set_lane(Metric::InYearBalance, l, money.in_year_balance);
    rows.set_lane(Metric::SvPayment, l, events.safety_valve.payment);
    rows.set_lane(Metric::SvWithheld, l, events.safety_valve.withheld);
    rows.set_lane(
        Metric::CouncilContribution,
        l,
        events.safety_valve.contribution,
    );
    rows.set_lane(Metric::HnsgPayment, l, events.hnsg_payment);
    rows.set_lane(Metric::InterimSupport, l, events.interim);
    rows.set_lane(Metric::CentralPressure, l, events.central);
    rows.set_lane(Metric::WrittenOff, l, events.written_off);
    rows.set_lane(Metric::InterestCost, l, money.interest);
    let (deficit, reserves) = (accounts.deficit, accounts.reserves);
    rows.set_lane(
        Metric::SvBreach,
        l,
        f64::from(u8::from(accounts.sv_breached)),
    );
    rows.set_lane(Metric::CumulativeDeficit, l, deficit);
    rows.set_lane(Metric::Reserves, l, reserves);
    rows.set_lane(
        Metric::DeficitToReserves,
        l,
        deficit_to_reserves(deficit, reserves),
    );
    rows.set_lane(
        Metric::DeficitExceedsReserves,
        l,
        f64::from(u8::from(deficit > reserves)),
    );
    rows.set_lane(Metric::Shortfall, l, (deficit - reserves).max(0.0));
}

/// Adds one council's tile (a block of paths) into England's sums for the block (`england`),
/// year by year: each metric, except that England's cumulative deficit takes only a council in
/// deficit (the ratio is recomputed from the sums in [`finish_england`]), plus the net deficit
/// and the count of councils in deficit. Councils are added in council order, so each path's
/// sums are the same bits whatever the thread count.
fn add_council(england: &mut [f64], tile: &[f64], years: usize) {
    const B: usize = PATHS_PER_BLOCK;
    let (width, national) = (Metric::COUNT * B, NationalMetric::COUNT * B);
    let deficit = Metric::CumulativeDeficit.index() * B;
    for t in 0..years {
        let src = &tile[t * width..(t + 1) * width];
        let dst = &mut england[t * national..(t + 1) * national];
        let (metrics, england) = dst.split_at_mut(width);
        for (e, x) in metrics[..deficit].iter_mut().zip(&src[..deficit]) {
            *e += x;
        }
        for (e, x) in metrics[deficit + B..].iter_mut().zip(&src[deficit + B..]) {
            *e += x;
        }
        let (net, in_deficit) = england.split_at_mut(B);
        for lane in 0..B {
            let cum = src[deficit + lane];
            metrics[deficit + lane] += cum.max(0.0);
            net[lane] += cum;
            in_deficit[lane] += f64::from(u8::from(cum > 0.0));
        }
    }
}

/// England's deficit-to-reserves ratio and ceiling use (plans over the councils' summed
/// ceilings) from the sums, path by path.
fn finish_england(england: &mut EnglandPaths) {
    const B: usize = PATHS_PER_BLOCK;
    let (deficit, reserves, ratio) = (
        Metric::CumulativeDeficit.index() * B,
        Metric::Reserves.index() * B,
        Metric::DeficitToReserves.index() * B,
    );
    let (plans, ceiling, use_) = (
        Metric::Ehcps.index() * B,
        Metric::EhcpCeiling.index() * B,
        Metric::CeilingUse.index() * B,
    );
    for year in england.values.chunks_exact_mut(NationalMetric::COUNT * B) {
        for lane in 0..B {
            let c = year[ceiling + lane];
            year[use_ + lane] = if c > 0.0 { year[plans + lane] / c } else { 0.0 };
            let r = year[reserves + lane];
            year[ratio + lane] = if r > 0.0 {
                year[deficit + lane] / r
            } else {
                0.0
            };
        }
    }
}

/// Simulates one council on the paths of `run` (its first path onwards, as many as `buffer`
/// holds) into `buffer` and adds it into England's sums. Blocks of paths run in parallel; each
/// path adds its councils in council order (the caller's), so the sums are the same bits whatever
/// the thread count.
fn simulate_council(
    run: &RunInputs,
    council: usize,
    buffer: &mut CouncilPaths,
    england: &mut EnglandPaths,
) {
    let shares = band_shares(run.model, council);
    // The demand step's weights of the council, for lane groups and lone paths.
    let (c, structure) = (&run.model.councils[council], &run.model.structure);
    let weights = (
        DemandWeights::new(c, structure),
        DemandWeights::new(c, structure),
    );
    let (paths, years) = (england.paths, england.years);
    let first = run.first_path;
    let national_tile = england.tiles().tile_len();
    let council_tile = buffer.tiles().tile_len();
    buffer.council = council;
    england
        .values
        .par_chunks_exact_mut(national_tile)
        .zip(buffer.values.par_chunks_exact_mut(council_tile))
        .enumerate()
        .for_each(|(b, (england_tile, tile))| {
            let block = first + b * PATHS_PER_BLOCK..first + ((b + 1) * PATHS_PER_BLOCK).min(paths);
            simulate_block(run, &shares, &weights, council, block, tile);
            add_council(england_tile, tile, years);
        });
}

impl<'a> RunInputs<'a> {
    /// What every council shares on paths `paths` (the national draws made for those paths).
    fn new(model: &'a Model, seed: u64, paths: std::ops::Range<usize>) -> Self {
        let mitigation = &model.scenario.mitigation;
        RunInputs {
            model,
            first_path: paths.start,
            national: national_draws(model, seed, paths),
            seed,
            delivered: (mitigation.savings_share > 0.0)
                .then(|| Beta::new(mitigation.delivered_alpha, mitigation.delivered_beta).ok())
                .flatten(),
            placement_spread: placement_spreads(model),
            censuses: census_years(model),
            response: ResponseWindows::new(&model.scenario, model.schedule.years.len()),
        }
    }
}

/// Runs every council over every path (in parallel on the current rayon pool). `per_council`
/// turns each council's paths into what the caller keeps (e.g. its summary); results come back
/// in council order. `progress` is called once per finished council.
///
/// Councils run one after another, each with its paths spread over the threads, and are added
/// into England's sums in council order; so the memory a run holds is one council's results and
/// England's sums, whatever the thread count.
pub fn simulate<R, F>(
    model: &Model,
    config: RunConfig,
    per_council: F,
    progress: &(dyn Fn() + Sync),
) -> (Vec<R>, EnglandPaths)
where
    F: Fn(&CouncilPaths) -> R,
{
    let years = model.schedule.years.len();
    let run = RunInputs::new(model, config.seed, 0..config.paths);
    let n = model.councils.len();
    let mut england = EnglandPaths::zeros(config.paths, years);
    let mut buffer = CouncilPaths::zeros(config.paths, years);
    let mut results = Vec::with_capacity(n);
    for council in 0..n {
        simulate_council(&run, council, &mut buffer, &mut england);
        results.push(per_council(&buffer));
        progress();
    }
    finish_england(&mut england);
    (results, england)
}

/// [`simulate`] over chunks of `chunk_paths` paths (a multiple of [`PATHS_PER_BLOCK`]), one
/// after another, for runs too large to hold every path: for each chunk, every council in
/// council order is simulated on the chunk's paths and handed to `per_council` (its
/// [`CouncilPaths`] hold the chunk's paths only), then England's sums over the chunk's paths to
/// `per_england`. `progress` is called once per council and chunk.
///
/// A path's random draws depend only on the seed, the path's number and the council, never on
/// the chunk it falls in, so every path's results (and England's sums, added in council order)
/// are the same bits as in [`simulate`] (tested).
pub fn simulate_chunks(
    model: &Model,
    config: RunConfig,
    chunk_paths: usize,
    mut per_council: impl FnMut(&CouncilPaths),
    mut per_england: impl FnMut(&EnglandPaths),
    progress: &(dyn Fn() + Sync),
) {
    assert!(
        chunk_paths > 0 && chunk_paths.is_multiple_of(PATHS_PER_BLOCK),
        "a chunk is a whole number of blocks"
    );
    let years = model.schedule.years.len();
    for first in (0..config.paths).step_by(chunk_paths) {
        let paths = first..(first + chunk_paths).min(config.paths);
        let run = RunInputs::new(model, config.seed, paths.clone());
        let mut england = EnglandPaths::zeros(paths.len(), years);
        let mut buffer = CouncilPaths::zeros(paths.len(), years);
        for council in 0..model.councils.len() {
            simulate_council(&run, council, &mut buffer, &mut england);
            per_council(&buffer);
            progress();
        }
        finish_england(&mut england);
        per_england(&england);
    }
}

/// How many times [`simulate_chunks`] calls `progress`: once per council and chunk.
pub fn chunk_progress_steps(paths: usize, chunk_paths: usize, councils: usize) -> u64 {
    (paths.div_ceil(chunk_paths) * councils) as u64
}

/// The memory [`simulate`] and the summaries hold for a run of `paths` paths over `years` years,
/// in bytes (an estimate, within a few per cent; the model and the seeds add a few MB): one
/// council's results and England's sums, the national draws, and
/// [`COLUMNS_AT_ONCE`] columns per thread.
pub fn memory_estimate(paths: usize, years: usize, threads: usize) -> u64 {
    let tiles = paths.div_ceil(PATHS_PER_BLOCK) as u64 * PATHS_PER_BLOCK as u64;
    let per_path_year = (Metric::COUNT + NationalMetric::COUNT) as u64 * 8;
    // National draws: the struct, four yearly series (the median rate's for one census), the
    // long-run table (a row for each year after a census, `years + 1` at most in a run that
    // starts the year after its census) and the allocator's headers.
    let draws = (std::mem::size_of::<NationalDraws>()
        + 4 * (years * 8 + 16)
        + (years + 1) * std::mem::size_of::<LongRunYear>()
        + 16) as u64;
    let columns = threads as u64 * paths as u64 * COLUMNS_AT_ONCE as u64 * 8;
    tiles * years as u64 * per_path_year + paths as u64 * draws + columns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The census step as it was worked out before: the whole demand step without new plans or a
    /// ceiling, its cells then replaced by the census (so the flows it hands on are the demand
    /// step's, not [`plans_ending`]'s).
    fn census_step_through_demand<const L: usize>(
        weights: &DemandWeights<L>,
        shares: &BandShares,
        census: &Cells,
        state: &mut CaseloadState<L>,
    ) -> PlanFlows<L> {
        let flows = demand_step(weights, shares, &[0.0; L], None, state);
        with_census(flows, census, state)
    }

    #[test]
    fn census_step_gives_the_demand_steps_flows_and_the_census_bit_for_bit() {
        let mut next = crate::fixtures::xorshift_uniform(0x5DEE_CE66_D1CE_4E5B);
        let mut cells = || -> [[[f64; LANES]; SETTINGS]; AGE_BANDS] {
            std::array::from_fn(|_| std::array::from_fn(|_| std::array::from_fn(|_| 50.0 * next())))
        };
        let (weights_cells, start_cells) = (cells(), cells());
        let mut next = crate::fixtures::xorshift_uniform(0x2545_F491_4F6C_DD1D);
        for round in 0..300 {
            let weights = DemandWeights::<LANES> {
                mix: weights_cells
                    .map(|band| band.map(|cell| [cell[round % LANES] / 250.0; LANES])),
                leave: std::array::from_fn(|_| std::array::from_fn(|_| [next(); LANES])),
                stay: std::array::from_fn(|_| std::array::from_fn(|_| [next(); LANES])),
                to_share: std::array::from_fn(|_| std::array::from_fn(|_| [next(); LANES])),
            };
            let shares = BandShares {
                remain: std::array::from_fn(|_| next()),
                up: std::array::from_fn(|_| next()),
                ceased: std::array::from_fn(|_| 0.2 * next()),
            };
            // Censuses below and above the plans kept (a fall beyond the ended plans too).
            let scale = 0.1 + 0.5 * (round % 5) as f64;
            let census: Cells =
                std::array::from_fn(|_| std::array::from_fn(|_| scale * 40.0 * next()));
            let cells = start_cells.map(|band| band.map(|cell| cell.map(|v| v * next())));
            let mut ages = [[0.0; LANES]; AGE_BANDS];
            for (age, band) in ages.iter_mut().zip(&cells) {
                for cell in band {
                    for l in 0..LANES {
                        age[l] += cell[l];
                    }
                }
            }
            let mut stock = [0.0; LANES];
            for age in &ages {
                for l in 0..LANES {
                    stock[l] += age[l];
                }
            }
            let state = || CaseloadState::<LANES> {
                cells,
                ages,
                stock,
                unit_cost: [[1.0; LANES]; SETTINGS],
                non_plan: [0.0; LANES],
                stock_before: stock,
                non_plan_per_plan: false,
                capacity: [0.0; LANES],
                places_to_date: 0.0,
                induced_to_date: 0.0,
                plan_surprise: [0.0; LANES],
            };
            let (mut want, mut got) = (state(), state());
            let before = census_step_through_demand(&weights, &shares, &census, &mut want);
            let now = census_step(&shares, &census, &mut got);
            for l in 0..LANES {
                for (a, b) in [
                    (before.new_plans[l], now.new_plans[l]),
                    (before.ceased[l], now.ceased[l]),
                    (before.aged_out[l], now.aged_out[l]),
                ] {
                    assert_eq!(a.to_bits(), b.to_bits(), "round {round}, lane {l}");
                }
            }
            for (want, got) in want.cells.iter().flatten().zip(got.cells.iter().flatten()) {
                assert_eq!(
                    want.map(f64::to_bits),
                    got.map(f64::to_bits),
                    "round {round}"
                );
            }
        }
    }

    #[test]
    fn columns_copy_each_metric_in_path_order_with_its_sum_carried_on_in_path_order() {
        // Three tiles, the last one partial. `columns` must give `Iterator::sum`'s bits;
        // `columns_onto` the bits of adding the column's values one by one after a non-zero
        // earlier sum (a column's earlier chunks).
        let tiles = Tiles {
            paths: 2 * PATHS_PER_BLOCK + 5,
            years: 3,
            width: 37,
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values: Vec<f64> = (0..tiles.len())
            .map(|_| {
                x = splitmix(x);
                (x >> 11) as f64 / (1u64 << 40) as f64 - 1000.0
            })
            .collect();
        // Some columns the same on every path (the padding of the last tile not), some but one
        // path (the first, one in the last tile, the last), some 0.0 but one -0.0, and one NaN
        // but one NaN with other bits.
        let nan = f64::NAN;
        let odd_nan = f64::from_bits(nan.to_bits() | 1);
        let last = tiles.paths - 1;
        for (t, k, base, other) in [
            (0, 0, 3.5, None),
            (0, 3, 0.0, None),
            (0, 19, -0.0, None),
            (0, 20, nan, None),
            (0, 36, 1e300, None),
            (1, 1, 2.0, Some((0, 2.5))),
            (1, 5, 2.0, Some((last - 2, 2.5))),
            (1, 22, 2.0, Some((last, -2.0))),
            (2, 8, 0.0, Some((PATHS_PER_BLOCK + 7, -0.0))),
            (2, 31, nan, Some((last, odd_nan))),
            (2, 32, -7.0, None),
        ] {
            for path in 0..tiles.paths {
                values[tiles.index(path, t, k)] = base;
            }
            if let Some((path, v)) = other {
                values[tiles.index(path, t, k)] = v;
            }
        }
        let mut out = vec![0.0; COLUMNS_AT_ONCE * tiles.paths];
        let mut want = vec![0.0; tiles.paths];
        let mut constants = 0;
        for t in 0..tiles.years {
            // Whole groups of `SIDE_BY_SIDE` columns and the ones left over (one to three).
            for metrics in [
                0..COLUMNS_AT_ONCE,
                COLUMNS_AT_ONCE..37,
                36..37,
                2..4,
                30..33,
                8..12,
            ] {
                let (sums, constant) = tiles.columns(&values, t, metrics.clone(), &mut out);
                for (i, k) in metrics.clone().enumerate() {
                    tiles.column(&values, t, k, &mut want);
                    let got = &out[i * tiles.paths..(i + 1) * tiles.paths];
                    let bits = |column: &[f64]| column.iter().map(|v| v.to_bits()).collect();
                    let got_bits: Vec<u64> = bits(got);
                    assert_eq!(got_bits, bits(&want[..]), "t {t}, metric {k}");
                    // A NaN sum's payload is not specified (the compiler may swap an
                    // addition's operands): NaN is enough.
                    let sum: f64 = want.iter().sum();
                    let both_nan = sums[i].is_nan() && sum.is_nan();
                    assert!(both_nan || sums[i].to_bits() == sum.to_bits(), "t {t}, {k}");
                    let same = want.iter().all(|v| v.to_bits() == want[0].to_bits());
                    assert_eq!(constant[i], same, "t {t}, metric {k}");
                    constants += usize::from(same);
                }
                let earlier: Vec<f64> = metrics.clone().map(|k| k as f64 * 0.1 - 1.7).collect();
                let mut sums = [0.0; COLUMNS_AT_ONCE];
                sums[..earlier.len()].copy_from_slice(&earlier);
                out.fill(0.0);
                tiles.columns_onto(&values, t, metrics.clone(), &mut out, &mut sums);
                for (i, k) in metrics.enumerate() {
                    tiles.column(&values, t, k, &mut want);
                    let got = &out[i * tiles.paths..(i + 1) * tiles.paths];
                    assert!(got
                        .iter()
                        .zip(&want)
                        .all(|(g, w)| g.to_bits() == w.to_bits()));
                    let mut sum = earlier[i];
                    for v in &want {
                        sum += v;
                    }
                    let both_nan = sums[i].is_nan() && sum.is_nan();
                    assert!(both_nan || sums[i].to_bits() == sum.to_bits(), "t {t}, {k}");
                }
            }
        }
        // The six constant columns, three of them in two of the metrics' ranges.
        assert_eq!(constants, 9);
    }

    #[test]
    fn streams_are_distinct_and_repeatable() {
        let a: u64 = stream(7, 2, 0, 1).gen();
        let b: u64 = stream(7, 2, 1, 0).gen();
        let c: u64 = stream(7, 2, 0, 1).gen();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
