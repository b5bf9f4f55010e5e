//! The Monte Carlo engine: MODEL.md section 4. Councils run in fixed chunks of 4 (in parallel),
//! a chunk's councils a block of paths at a time, and a council's paths `LANES` at a time.
//! No I/O and no printing. Every random stream is derived from (seed, path, council), so
//! results do not depend on the thread count; national sums are added in a fixed order.

use crate::calibration::{CouncilModel, Model, Structure};
use crate::caseload::{total, AGE_BANDS, MAINSTREAM, SETTINGS, SPECIAL_INDEPENDENT, SPECIAL_STATE};
use crate::scenario::Regime;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Council metrics, in output order. `ehcps_<setting>` and `ehcps_<age band>` follow `ehcps`.
pub const METRICS: [&str; 35] = [
    "ehcps",
    "ehcps_mainstream",
    "ehcps_special_state",
    "ehcps_special_independent",
    "ehcps_post16",
    "ehcps_ap_other",
    "ehcps_under_5",
    "ehcps_age_5_10",
    "ehcps_age_11_15",
    "ehcps_age_16_19",
    "ehcps_age_20_25",
    "new_plans",
    "ceased_plans",
    "aged_out",
    "special_places",
    "overflow",
    "spend",
    "savings",
    "funding",
    "in_year_balance",
    "sv_payment",
    "sv_withheld",
    "sv_breach",
    "council_contribution",
    "hnsg_payment",
    "interim_support",
    "central_pressure",
    "written_off",
    "cumulative_deficit",
    "reserves",
    "deficit_to_reserves",
    "deficit_exceeds_reserves",
    "shortfall",
    "induced_placements",
    "interest_cost",
];

pub mod m {
    pub const EHCPS: usize = 0;
    pub const BY_SETTING: usize = 1;
    pub const BY_AGE: usize = 6;
    pub const NEW_PLANS: usize = 11;
    pub const CEASED_PLANS: usize = 12;
    pub const AGED_OUT: usize = 13;
    pub const SPECIAL_PLACES: usize = 14;
    pub const OVERFLOW: usize = 15;
    pub const SPEND: usize = 16;
    pub const SAVINGS: usize = 17;
    pub const FUNDING: usize = 18;
    pub const IN_YEAR_BALANCE: usize = 19;
    pub const SV_PAYMENT: usize = 20;
    pub const SV_WITHHELD: usize = 21;
    pub const SV_BREACH: usize = 22;
    pub const COUNCIL_CONTRIBUTION: usize = 23;
    pub const HNSG_PAYMENT: usize = 24;
    pub const INTERIM_SUPPORT: usize = 25;
    pub const CENTRAL_PRESSURE: usize = 26;
    pub const WRITTEN_OFF: usize = 27;
    pub const CUMULATIVE_DEFICIT: usize = 28;
    pub const RESERVES: usize = 29;
    pub const DEFICIT_TO_RESERVES: usize = 30;
    pub const DEFICIT_EXCEEDS_RESERVES: usize = 31;
    pub const SHORTFALL: usize = 32;
    pub const INDUCED: usize = 33;
    pub const INTEREST: usize = 34;
    pub const COUNT: usize = 35;
}

/// National metrics computed per path (sums over councils, or counts), in output order: the
/// council metrics (0/1 flags become counts of councils), then two England-only metrics.
pub const NATIONAL_METRICS: [&str; NATIONAL_COUNT] = national_names();

const fn national_names() -> [&'static str; NATIONAL_COUNT] {
    let mut names = [""; NATIONAL_COUNT];
    let mut k = 0;
    while k < m::COUNT {
        names[k] = METRICS[k];
        k += 1;
    }
    names[m::SV_BREACH] = "councils_sv_breach";
    names[m::DEFICIT_EXCEEDS_RESERVES] = "councils_over_reserves";
    names[N_NET_DEFICIT] = "net_cumulative_deficit";
    names[N_IN_DEFICIT] = "councils_in_deficit";
    names
}
pub const NATIONAL_COUNT: usize = 37;
const N_NET_DEFICIT: usize = 35;
const N_IN_DEFICIT: usize = 36;

/// Run size and seed.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub paths: usize,
    pub seed: u64,
}

/// Per-path national draws (parameters drawn once per path, shocks per year).
#[derive(Debug, Clone)]
struct NationalPath {
    level: f64,
    trend: f64,
    inflation: [f64; SETTINGS],
    funding_growth: f64,
    interim_share: f64,
    demand: Vec<f64>,
    cost_noise: Vec<f64>,
    funding_noise: Vec<f64>,
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

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

fn national_path(model: &Model, seed: u64, p: usize) -> NationalPath {
    let sc = &model.scenario;
    let n = model.timeline.years.len();
    let mut rng = stream(seed, NATIONAL_STREAM, p, 0);
    let d = &sc.demand;
    let level = d.level_sd * normal(&mut rng);
    let trend = d.trend_mean + d.trend_sd * normal(&mut rng);
    let base = sc.costs.inflation.to_array();
    let inflation = std::array::from_fn(|s| base[s] + sc.costs.inflation_sd * normal(&mut rng));
    let funding_growth = sc.funding.growth_mean + sc.funding.growth_sd * normal(&mut rng);
    let u: f64 = rng.gen();
    let interim_share = sc.interim_support.share_low
        + u * (sc.interim_support.share_high - sc.interim_support.share_low);
    let l = &model.timeline.cholesky;
    let mut demand = Vec::with_capacity(n);
    let mut cost_noise = Vec::with_capacity(n);
    let mut funding_noise = Vec::with_capacity(n);
    let mut ar = 0.0;
    for _ in 0..n {
        let z = [normal(&mut rng), normal(&mut rng), normal(&mut rng)];
        let e: [f64; 3] = std::array::from_fn(|i| (0..3).map(|j| l[i][j] * z[j]).sum());
        ar = d.persistence * ar + d.national_shock_sd * e[0];
        demand.push(ar);
        cost_noise.push(sc.costs.inflation_noise_sd * e[1]);
        funding_noise.push(sc.funding.noise_sd * e[2]);
    }
    NationalPath {
        level,
        trend,
        inflation,
        funding_growth,
        interim_share,
        demand,
        cost_noise,
        funding_noise,
    }
}

/// One council's results: `values[(path * years + t) * METRICS + metric]`.
#[derive(Debug, Clone)]
pub struct CouncilPaths {
    pub council: usize,
    pub paths: usize,
    pub years: usize,
    pub values: Vec<f64>,
}

impl CouncilPaths {
    #[inline]
    pub fn get(&self, path: usize, t: usize, metric: usize) -> f64 {
        self.values[(path * self.years + t) * m::COUNT + metric]
    }
}

/// National results: per path, year and national metric (already summed over councils).
#[derive(Debug, Clone)]
pub struct NationalPaths {
    pub paths: usize,
    pub years: usize,
    pub values: Vec<f64>,
}

impl NationalPaths {
    #[inline]
    pub fn get(&self, path: usize, t: usize, metric: usize) -> f64 {
        self.values[(path * self.years + t) * NATIONAL_COUNT + metric]
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
    /// Per-path national draws.
    national: Vec<NationalPathsDraws>,
    seed: u64,
    /// The delivered share of a savings plan (when the scenario has one).
    delivered: Option<Beta<f64>>,
}

/// Simulates paths `paths` of council `ci` into `cp` (sized for all the run's paths) and adds
/// them to the chunk's national sums right after each group of lanes, while its rows are in cache.
fn simulate_paths(
    run: &RunInputs,
    ci: usize,
    paths: std::ops::Range<usize>,
    cp: &mut CouncilPaths,
    acc: &mut NationalAcc,
) {
    let stride = cp.years * m::COUNT;
    let model = run.model;
    let c = &model.councils[ci];
    let shares: Vec<BandShares> = model
        .timeline
        .reassessment
        .iter()
        .map(|&r| BandShares::new(c, &model.structure, r))
        .collect();
    let mut p = paths.start;
    while p < paths.end {
        let lanes = if paths.end - p >= LANES { LANES } else { 1 };
        if lanes == LANES {
            simulate_lanes::<LANES>(run, &shares, ci, p, &mut cp.values);
        } else {
            simulate_lanes::<1>(run, &shares, ci, p, &mut cp.values);
        }
        for q in p..p + lanes {
            acc.add_path(q, &cp.values[q * stride..(q + 1) * stride]);
        }
        p += lanes;
    }
}

/// Opaque per-path national draws (computed once per run, shared by all councils).
#[derive(Debug, Clone)]
pub struct NationalPathsDraws(NationalPath);

pub fn national_draws(model: &Model, cfg: RunConfig) -> Vec<NationalPathsDraws> {
    (0..cfg.paths)
        .into_par_iter()
        .map(|p| NationalPathsDraws(national_path(model, cfg.seed, p)))
        .collect()
}

/// One council, paths `p0 .. p0 + L`: the yearly step of MODEL.md section 4. Writes
/// `years x METRICS` rows for each path into `values` (all paths of the council).
fn simulate_lanes<const L: usize>(
    run: &RunInputs,
    shares: &[BandShares],
    ci: usize,
    p0: usize,
    values: &mut [f64],
) {
    let (model, seed) = (run.model, run.seed);
    let sc = &model.scenario;
    let tl = &model.timeline;
    let st = &model.structure;
    let d = &sc.demand;
    let c = &model.councils[ci];
    let n = tl.years.len();
    let stride = n * m::COUNT;
    let out = &mut values[p0 * stride..(p0 + L) * stride];
    let np: [&NationalPath; L] = std::array::from_fn(|l| &run.national[p0 + l].0);
    let mut rng: [Pcg64Mcg; L] = std::array::from_fn(|l| stream(seed, COUNCIL_STREAM, p0 + l, ci));
    let mit = &sc.mitigation;
    let delivered: [f64; L] = std::array::from_fn(|l| match &run.delivered {
        Some(beta) => beta.sample(&mut stream(seed, MITIGATION_STREAM, p0 + l, ci)),
        None => 1.0,
    });
    // Draws made once per path, always in the same order, whatever the scenario switches:
    // scenarios that differ only in policy share their random numbers.
    let mut council_level = [0.0; L];
    let mut approved = [false; L];
    let mut delayed = [false; L];
    // Council spend level relative to calibration (calibration error), once per path.
    let mut cost_level = [0.0; L];
    for l in 0..L {
        let r = &mut rng[l];
        council_level[l] = d.council_level_sd * normal(r);
        approved[l] = r.gen::<f64>() < sc.hnsg.approval_probability;
        delayed[l] = r.gen::<f64>() < sc.hnsg.delay_probability;
        cost_level[l] = sc.costs.council_level_sd * normal(r);
    }
    let hnsg_pay_t: [Option<usize>; L] =
        std::array::from_fn(|l| tl.hnsg_payment.map(|t| if delayed[l] { t + 1 } else { t }));

    // Each lane's draws that do not change over the years.
    let level: [f64; L] = std::array::from_fn(|l| np[l].level + council_level[l]);
    let trend: [f64; L] = std::array::from_fn(|l| np[l].trend);
    let inflation: [[f64; L]; SETTINGS] =
        std::array::from_fn(|s| std::array::from_fn(|l| np[l].inflation[s]));

    // State by lane: plans by age band and setting, unit costs by setting, money.
    let mut cells: [[[f64; L]; SETTINGS]; AGE_BANDS] =
        std::array::from_fn(|a| std::array::from_fn(|s| [c.caseload0[a][s]; L]));
    let mut unit_cost: [[f64; L]; SETTINGS] = std::array::from_fn(|s| [c.unit_cost0[s]; L]);
    let mut non_plan = [c.non_plan0; L];
    let mut capacity = c.capacity0;
    let mut deficit = [c.deficit0; L];
    let mut reserves = [c.reserves0; L];
    let mut hnb = [c.hnb_origin; L];
    // HNB plus any schools-block transfer.
    let funding_factor = 1.0 + sc.funding.schools_block_transfer * sc.funding.schools_block_ratio;
    // Plans in force; overflow and induced placements move plans without changing it.
    let mut stock = [total(&c.caseload0); L];
    let mut held_back = [0.0; L];
    let mut breached = [false; L];
    let mut hnsg_due = [0.0; L];
    // Plans by age band, summed over settings in setting order: the next demand step's band
    // totals (nothing moves plans between the end of a year and the next demand step).
    let mut ages: [[f64; L]; AGE_BANDS] = std::array::from_fn(|a| {
        let mut band = 0.0;
        for v in c.caseload0[a] {
            band += v;
        }
        [band; L]
    });

    // The yearly council shocks do not depend on the state, so they (and their `exp`) are
    // worked out first, in the same draw order; the year loop below is then plain arithmetic.
    let mut shock = [0.0; L];
    let mut cost_shock = [0.0; L];
    let mut new_rate = Vec::with_capacity(n);
    let mut cost_factor = Vec::with_capacity(n);
    for t in 0..n {
        let k = (t + 1) as f64;
        let mut rate = [0.0; L];
        let mut factor = [0.0; L];
        for l in 0..L {
            let eps = normal(&mut rng[l]);
            shock[l] = d.persistence * shock[l] + d.council_shock_sd * eps;
            let eps_cost = normal(&mut rng[l]);
            cost_shock[l] = d.persistence * cost_shock[l] + sc.costs.council_noise_sd * eps_cost;
            rate[l] = c.new_rate
                * (level[l] + trend[l] * k + np[l].demand[t] + shock[l]).exp()
                * tl.new_plan_factor[t];
            factor[l] = (cost_level[l] + cost_shock[l]).exp();
        }
        new_rate.push(rate);
        cost_factor.push(factor);
    }

    for t in 0..n {
        let mut new_total = [0.0; L];
        let mut ceased_total = [0.0; L];
        let mut aged_out = [0.0; L];
        // 1. Demand (unless this year's census is already known).
        if t > 0 || !c.caseload_is_first_year {
            for l in 0..L {
                new_total[l] = new_rate[t][l] * stock[l];
            }
            (ceased_total, aged_out) =
                demand_step(c, st, &shares[t], &new_total, &mut cells, &ages);
        }
        // 2. Placement: capacity, induced demand, overflow to independent special schools.
        let added = c.places_added[t];
        capacity += added;
        let mut induced = [0.0; L];
        if added > 0.0 && sc.placement.induced_demand > 0.0 {
            let want = sc.placement.induced_demand * added;
            for l in 0..L {
                let main: f64 = cells.iter().map(|r| r[MAINSTREAM][l]).sum();
                induced[l] = want.min(main);
                if main > 0.0 {
                    // Induced placements follow the age profile of mainstream plans.
                    let f = induced[l] / main;
                    for row_c in cells.iter_mut() {
                        let moved = row_c[MAINSTREAM][l] * f;
                        row_c[MAINSTREAM][l] -= moved;
                        row_c[SPECIAL_STATE][l] += moved;
                    }
                }
            }
        }
        let overflow = overflow_step(capacity, &mut cells);
        // 3. Costs: one year of inflation per FY (drawn per path, national yearly noise).
        let noise: [f64; L] = std::array::from_fn(|l| np[l].cost_noise[t]);
        for s in 0..SETTINGS {
            for l in 0..L {
                let mut g = inflation[s][l] + noise[l];
                if s == SPECIAL_INDEPENDENT {
                    if let Some(cap) = tl.fee_cap[t] {
                        g = g.min(cap);
                    }
                }
                unit_cost[s][l] *= 1.0 + g;
            }
        }
        let mut settings = [[0.0; L]; SETTINGS];
        ages = [[0.0; L]; AGE_BANDS];
        for a in 0..AGE_BANDS {
            for s in 0..SETTINGS {
                for l in 0..L {
                    settings[s][l] += cells[a][s][l];
                    ages[a][l] += cells[a][s][l];
                }
            }
        }
        let mut plan_spend = [0.0; L];
        for l in 0..L {
            non_plan[l] *= 1.0 + inflation[MAINSTREAM][l] + noise[l];
            stock[l] = 0.0;
        }
        for s in 0..SETTINGS {
            for l in 0..L {
                stock[l] += settings[s][l];
                plan_spend[l] += settings[s][l] * unit_cost[s][l];
            }
        }
        for l in 0..L {
            let np = np[l];
            let gross = (plan_spend[l] + non_plan[l]) * cost_factor[t][l];
            // 5. Mitigation (a share of spend, ramped, delivered share uncertain per path).
            let savings = gross * mit.savings_share * tl.savings_ramp[t] * delivered[l];
            let spend = gross - savings;
            // 4. Funding: known allocations, then growth with uncertainty.
            hnb[l] = match c.hnb_known[t] {
                Some(v) => v,
                None => hnb[l] * (1.0 + np.funding_growth + np.funding_noise[t]),
            };
            let funding = hnb[l] * funding_factor;
            let in_year_balance = funding - spend;
            let overspend = -in_year_balance;
            // 7. Policy: safety valve.
            let (mut sv_payment, mut sv_withheld, mut contribution) = (0.0, 0.0, 0.0);
            if let Some(sv) = &c.safety_valve {
                let scheduled = sv.instalment[t];
                if sv.live[t] {
                    contribution = sc.safety_valve.council_contribution_share * scheduled;
                }
                let off_track = sv.live[t]
                    && overspend > sv.trajectory[t] + sc.safety_valve.tolerance * funding;
                if off_track {
                    breached[l] = true;
                }
                if tl.sv_payments_allowed[t] {
                    if off_track && sc.safety_valve.withhold {
                        sv_withheld = sc.safety_valve.withhold_share * scheduled;
                        held_back[l] += sv_withheld;
                        sv_payment = scheduled - sv_withheld;
                    } else {
                        sv_payment = scheduled;
                        if !off_track && sc.safety_valve.release_when_back_on_track {
                            sv_payment += held_back[l];
                            held_back[l] = 0.0;
                        }
                    }
                }
            }
            // Support for deficits accrued between the HNSG date and the override end.
            let interim = if tl.interim[t] {
                np.interim_share * overspend.max(0.0)
            } else {
                0.0
            };
            // HNSG payment (measured earlier, paid in the payment FY, maybe a year late).
            let hnsg_payment = if Some(t) == hnsg_pay_t[l] {
                std::mem::take(&mut hnsg_due[l])
            } else {
                0.0
            };
            // After the override: regime.
            let mut written_off = 0.0;
            if Some(t) == tl.write_off_at {
                written_off = deficit[l].max(0.0);
            }
            let grants = sv_payment + hnsg_payment + interim + contribution;
            let central = if tl.regime[t] == Regime::Central {
                (spend - funding - grants).max(0.0)
            } else {
                0.0
            };
            // 6. Balance.
            let interest = sc.reserves.interest_rate * deficit[l].max(0.0);
            reserves[l] = reserves[l] * (1.0 - sc.reserves.drawdown_rate) - interest - contribution;
            deficit[l] += spend - funding - grants - central - written_off;
            if Some(t) == tl.hnsg_measure {
                let mut eligible = deficit[l].max(0.0) * (1.0 - sc.hnsg.haircut);
                if sc.hnsg.net_safety_valve_due {
                    eligible -= c.safety_valve.as_ref().map_or(0.0, |sv| sv.due_after_hnsg);
                }
                hnsg_due[l] = if approved[l] {
                    sc.hnsg.share * eligible.max(0.0)
                } else {
                    0.0
                };
            }
            let exceeds = deficit[l] > reserves[l];
            let ratio = if reserves[l] > 0.0 {
                (deficit[l] / reserves[l]).clamp(-100.0, 100.0)
            } else if deficit[l] > 0.0 {
                100.0
            } else {
                0.0
            };

            let row = &mut out[l * stride + t * m::COUNT..l * stride + (t + 1) * m::COUNT];
            row[m::EHCPS] = stock[l];
            for s in 0..SETTINGS {
                row[m::BY_SETTING + s] = settings[s][l];
            }
            for a in 0..AGE_BANDS {
                row[m::BY_AGE + a] = ages[a][l];
            }
            row[m::NEW_PLANS] = new_total[l];
            row[m::CEASED_PLANS] = ceased_total[l];
            row[m::AGED_OUT] = aged_out[l];
            row[m::SPECIAL_PLACES] = capacity;
            row[m::OVERFLOW] = overflow[l];
            row[m::SPEND] = spend;
            row[m::SAVINGS] = savings;
            row[m::FUNDING] = funding;
            row[m::IN_YEAR_BALANCE] = in_year_balance;
            row[m::SV_PAYMENT] = sv_payment;
            row[m::SV_WITHHELD] = sv_withheld;
            row[m::SV_BREACH] = f64::from(u8::from(breached[l]));
            row[m::COUNCIL_CONTRIBUTION] = contribution;
            row[m::HNSG_PAYMENT] = hnsg_payment;
            row[m::INTERIM_SUPPORT] = interim;
            row[m::CENTRAL_PRESSURE] = central;
            row[m::WRITTEN_OFF] = written_off;
            row[m::CUMULATIVE_DEFICIT] = deficit[l];
            row[m::RESERVES] = reserves[l];
            row[m::DEFICIT_TO_RESERVES] = ratio;
            row[m::DEFICIT_EXCEEDS_RESERVES] = f64::from(u8::from(exceeds));
            row[m::SHORTFALL] = (deficit[l] - reserves[l]).max(0.0);
            row[m::INDUCED] = induced[l];
            row[m::INTEREST] = interest;
        }
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

impl BandShares {
    fn new(c: &CouncilModel, st: &Structure, reassess: f64) -> Self {
        let mut out = BandShares {
            remain: [0.0; AGE_BANDS],
            up: [0.0; AGE_BANDS],
            ceased: [0.0; AGE_BANDS],
        };
        for a in 0..AGE_BANDS {
            let stay = 1.0 - c.cease_rate[a];
            let promote = st.promote[a];
            // Phase transfer: reform may reassess (and end) some plans here.
            let keep = if a == 1 || a == 2 {
                1.0 - reassess
            } else {
                1.0
            };
            out.remain[a] = stay * (1.0 - promote);
            out.up[a] = stay * promote * keep;
            out.ceased[a] = c.cease_rate[a] + stay * promote * (1.0 - keep);
        }
        out
    }
}

/// Step 1 for every lane: each band keeps its stayers, gains the plans moving up from the band
/// below (re-placed by the phase transfer) and its share of the new plans. Bands are updated in
/// place from the top, so the band below is still last year's.
#[inline(always)]
fn demand_step<const L: usize>(
    c: &CouncilModel,
    st: &Structure,
    shares: &BandShares,
    new_total: &[f64; L],
    cells: &mut [[[f64; L]; SETTINGS]; AGE_BANDS],
    bands: &[[f64; L]; AGE_BANDS],
) -> ([f64; L], [f64; L]) {
    // Plans ending (ceased, or reassessed at a phase transfer) and ageing out of the last band.
    let mut ceased_total = [0.0; L];
    for (band, share) in bands.iter().zip(&shares.ceased) {
        for l in 0..L {
            ceased_total[l] += band[l] * share;
        }
    }
    let aged_out: [f64; L] =
        std::array::from_fn(|l| bands[AGE_BANDS - 1][l] * shares.up[AGE_BANDS - 1]);
    for a in (0..AGE_BANDS).rev() {
        let mut arriving = [[0.0; L]; SETTINGS];
        if a > 0 {
            // Plans moving up: those leaving their setting are pooled and re-placed.
            let tr = &st.phase[a - 1];
            let below = &cells[a - 1];
            let up = shares.up[a - 1];
            let moving: [[f64; L]; SETTINGS] =
                std::array::from_fn(|s| std::array::from_fn(|l| below[s][l] * up));
            let mut pool = [0.0; L];
            for s in 0..SETTINGS {
                for l in 0..L {
                    pool[l] += tr.leave[s] * moving[s][l];
                }
            }
            for s in 0..SETTINGS {
                for l in 0..L {
                    arriving[s][l] = tr.stay[s] * moving[s][l] + tr.to_share[s] * pool[l];
                }
            }
        }
        let remain = shares.remain[a];
        for (s, cell) in cells[a].iter_mut().enumerate() {
            let mix = c.entry_mix[a][s];
            for l in 0..L {
                cell[l] = cell[l] * remain + arriving[s][l] + new_total[l] * mix;
            }
        }
    }
    (ceased_total, aged_out)
}

/// Step 2's overflow for every lane: state special demand above capacity moves to independent
/// special schools, in proportion across age bands. Returns the overflow per lane.
#[inline(always)]
fn overflow_step<const L: usize>(
    capacity: f64,
    cells: &mut [[[f64; L]; SETTINGS]; AGE_BANDS],
) -> [f64; L] {
    let mut demand = [0.0; L];
    for row in cells.iter() {
        for l in 0..L {
            demand[l] += row[SPECIAL_STATE][l];
        }
    }
    let mut overflow = [0.0; L];
    let mut moved_share = [0.0; L];
    for l in 0..L {
        if demand[l] > capacity && demand[l] > 0.0 {
            overflow[l] = demand[l] - capacity;
            moved_share[l] = overflow[l] / demand[l];
        }
    }
    for row in cells.iter_mut() {
        for l in 0..L {
            let moved = row[SPECIAL_STATE][l] * moved_share[l];
            row[SPECIAL_STATE][l] -= moved;
            row[SPECIAL_INDEPENDENT][l] += moved;
        }
    }
    overflow
}

/// Councils per chunk. Chunks are fixed (never depend on the thread count), each chunk sums its
/// councils in council order, and chunks are added into England's totals in chunk order, so the
/// national floating-point sums are the same bits whatever the number of threads.
const COUNCILS_PER_CHUNK: usize = 4;

/// Paths per block (a multiple of `LANES`): a block's national sums for one chunk, about
/// `PATHS_PER_BLOCK x years x NATIONAL_METRICS x 8` bytes, stay in the core's cache.
const PATHS_PER_BLOCK: usize = 64;

/// National sums for one chunk of councils: per path, year and national metric.
struct NationalAcc {
    paths: usize,
    years: usize,
    sums: Vec<f64>,
}

impl NationalAcc {
    fn new(paths: usize, years: usize) -> Self {
        NationalAcc {
            paths,
            years,
            sums: vec![0.0; paths * years * NATIONAL_COUNT],
        }
    }
    /// Adds one path of one council (`years x METRICS` rows) to the sums.
    #[inline]
    fn add_path(&mut self, p: usize, rows: &[f64]) {
        let dst_all =
            &mut self.sums[p * self.years * NATIONAL_COUNT..(p + 1) * self.years * NATIONAL_COUNT];
        for (src, dst) in rows
            .chunks_exact(m::COUNT)
            .zip(dst_all.chunks_exact_mut(NATIONAL_COUNT))
        {
            let cum = src[m::CUMULATIVE_DEFICIT];
            let in_deficit = dst[m::CUMULATIVE_DEFICIT] + cum.max(0.0);
            for (d, x) in dst[..m::COUNT].iter_mut().zip(src) {
                *d += x;
            }
            // England's cumulative deficit is the sum over councils in deficit; the ratio is
            // recomputed from the sums in `finish`.
            dst[m::CUMULATIVE_DEFICIT] = in_deficit;
            dst[N_NET_DEFICIT] += cum;
            dst[N_IN_DEFICIT] += f64::from(u8::from(cum > 0.0));
        }
    }
    /// Adds another chunk's sums (call in chunk order).
    fn add(&mut self, other: &NationalAcc) {
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            *a += b;
        }
    }
    fn finish(self) -> NationalPaths {
        let mut values = self.sums;
        for chunk in values.chunks_mut(NATIONAL_COUNT) {
            let r = chunk[m::RESERVES];
            chunk[m::DEFICIT_TO_RESERVES] = if r > 0.0 {
                chunk[m::CUMULATIVE_DEFICIT] / r
            } else {
                0.0
            };
        }
        NationalPaths {
            paths: self.paths,
            years: self.years,
            values,
        }
    }
}

/// Runs every council over every path in parallel (on the current rayon pool). `per_council`
/// turns each council's paths into what the caller keeps (e.g. its summary); results come back
/// in council order. `progress` is called once per finished council.
pub fn simulate<R, F>(
    model: &Model,
    cfg: RunConfig,
    per_council: F,
    progress: &(dyn Fn() + Sync),
) -> (Vec<R>, NationalPaths)
where
    R: Send,
    F: Fn(&CouncilPaths) -> R + Sync,
{
    let years = model.timeline.years.len();
    let mit = &model.scenario.mitigation;
    let run = RunInputs {
        model,
        national: national_draws(model, cfg),
        seed: cfg.seed,
        delivered: (mit.savings_share > 0.0)
            .then(|| Beta::new(mit.delivered_alpha, mit.delivered_beta).ok())
            .flatten(),
    };
    let n = model.councils.len();
    let chunks: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(COUNCILS_PER_CHUNK)
        .map(|start| start..(start + COUNCILS_PER_CHUNK).min(n))
        .collect();
    let mut total = NationalAcc::new(cfg.paths, years);
    let mut results = Vec::with_capacity(n);
    // Chunks run in parallel, one per thread at a time, reusing their buffers (bounded memory,
    // no page faults), and are added into England's totals in chunk order.
    let group = rayon::current_num_threads().max(1);
    let mut pool: Vec<(NationalAcc, Vec<CouncilPaths>)> = (0..group.min(chunks.len()))
        .map(|_| {
            let bufs = (0..COUNCILS_PER_CHUNK)
                .map(|_| CouncilPaths {
                    council: 0,
                    paths: cfg.paths,
                    years,
                    values: vec![0.0; cfg.paths * years * m::COUNT],
                })
                .collect();
            (NationalAcc::new(cfg.paths, years), bufs)
        })
        .collect();
    for batch in chunks.chunks(group) {
        let done: Vec<Vec<R>> = batch
            .par_iter()
            .zip(pool.par_iter_mut())
            .map(|(range, (acc, bufs))| {
                acc.sums.iter_mut().for_each(|v| *v = 0.0);
                // A block of paths at a time for every council of the chunk, so the block's
                // national sums stay in cache; each path still adds its councils in order.
                for start in (0..cfg.paths).step_by(PATHS_PER_BLOCK) {
                    let block = start..(start + PATHS_PER_BLOCK).min(cfg.paths);
                    for (ci, buf) in range.clone().zip(bufs.iter_mut()) {
                        buf.council = ci;
                        simulate_paths(&run, ci, block.clone(), buf, acc);
                    }
                }
                bufs.iter()
                    .take(range.len())
                    .map(|buf| {
                        let r = per_council(buf);
                        progress();
                        r
                    })
                    .collect()
            })
            .collect();
        for (rs, (acc, _)) in done.into_iter().zip(&pool) {
            results.extend(rs);
            total.add(acc);
        }
    }
    (results, total.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_distinct_and_repeatable() {
        let a: u64 = stream(7, 2, 0, 1).gen();
        let b: u64 = stream(7, 2, 1, 0).gen();
        let c: u64 = stream(7, 2, 0, 1).gen();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn metric_names_are_unique() {
        let mut v = METRICS.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), METRICS.len());
        assert_eq!(METRICS.len(), m::COUNT);
        assert_eq!(METRICS[m::CUMULATIVE_DEFICIT], "cumulative_deficit");
        assert_eq!(NATIONAL_METRICS[N_NET_DEFICIT], "net_cumulative_deficit");
    }
}
