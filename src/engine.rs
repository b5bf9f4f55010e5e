//! The Monte Carlo engine: MODEL.md section 4, one council at a time over all paths.
//! No I/O and no printing. Every random stream is derived from (seed, path, council), so
//! results do not depend on the thread count; national sums are added in a fixed order.

use crate::calibration::{CouncilModel, Model};
use crate::caseload::{
    by_age, by_setting, total, AGE_BANDS, MAINSTREAM, SETTINGS, SPECIAL_INDEPENDENT, SPECIAL_STATE,
};
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

/// Fills `cp` (reused between councils: no allocation, no page faults) and, if given, adds
/// each path to the national sums right after simulating it, while its rows are in L1.
fn simulate_council_into(
    model: &Model,
    nat: &[NationalPathsDraws],
    ci: usize,
    cfg: RunConfig,
    cp: &mut CouncilPaths,
    mut acc: Option<&mut NationalAcc>,
) {
    let c = &model.councils[ci];
    let n = model.timeline.years.len();
    let stride = n * m::COUNT;
    cp.council = ci;
    cp.paths = cfg.paths;
    cp.years = n;
    cp.values.resize(cfg.paths * stride, 0.0);
    let mit = &model.scenario.mitigation;
    let savings = (mit.savings_share > 0.0)
        .then(|| Beta::new(mit.delivered_alpha, mit.delivered_beta).ok())
        .flatten();
    for (p, np) in nat.iter().enumerate().take(cfg.paths) {
        let out = &mut cp.values[p * stride..(p + 1) * stride];
        let delivered = match &savings {
            Some(beta) => beta.sample(&mut stream(cfg.seed, MITIGATION_STREAM, p, ci)),
            None => 1.0,
        };
        simulate_path(
            model,
            c,
            &np.0,
            stream(cfg.seed, COUNCIL_STREAM, p, ci),
            delivered,
            out,
        );
        if let Some(acc) = acc.as_deref_mut() {
            acc.add_path(p, out);
        }
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

/// One council, one path: the yearly step of MODEL.md section 4. Writes `years x METRICS`.
fn simulate_path(
    model: &Model,
    c: &CouncilModel,
    np: &NationalPath,
    mut rng: Pcg64Mcg,
    delivered: f64,
    out: &mut [f64],
) {
    let sc = &model.scenario;
    let tl = &model.timeline;
    let st = &model.structure;
    let d = &sc.demand;
    // Draws made once per path, always in the same order, whatever the scenario switches:
    // scenarios that differ only in policy share their random numbers.
    let council_level = d.council_level_sd * normal(&mut rng);
    let approved = rng.gen::<f64>() < sc.hnsg.approval_probability;
    let delayed = rng.gen::<f64>() < sc.hnsg.delay_probability;
    // Council spend level relative to calibration (calibration error), once per path.
    let cost_level = sc.costs.council_level_sd * normal(&mut rng);
    let mut cost_shock = 0.0;

    let mut cells = c.caseload0;
    let mut unit_cost = c.unit_cost0;
    let mut non_plan = c.non_plan0;
    let mut capacity = c.capacity0;
    let mut deficit = c.deficit0;
    let mut reserves = c.reserves0;
    let mut hnb = c.hnb_origin;
    let mut shock = 0.0;
    // Plans in force; overflow and induced placements move plans without changing it.
    let mut stock = total(&cells);
    let mut held_back = 0.0;
    let mut breached = false;
    let mut hnsg_due = 0.0;
    let hnsg_pay_t = tl.hnsg_payment.map(|t| if delayed { t + 1 } else { t });

    for t in 0..tl.years.len() {
        let row = &mut out[t * m::COUNT..(t + 1) * m::COUNT];
        let eps = normal(&mut rng);
        shock = d.persistence * shock + d.council_shock_sd * eps;
        let eps_cost = normal(&mut rng);
        cost_shock = d.persistence * cost_shock + sc.costs.council_noise_sd * eps_cost;
        let mut new_total = 0.0;
        let mut ceased_total = 0.0;
        let mut aged_out = 0.0;
        // 1. Demand (unless this year's census is already known).
        if t > 0 || !c.caseload_is_first_year {
            let k = (t + 1) as f64;
            let rate = c.new_rate
                * (np.level + council_level + np.trend * k + np.demand[t] + shock).exp()
                * tl.new_plan_factor[t];
            new_total = rate * stock;
            let reassess = tl.reassessment[t];
            // Each band keeps its stayers, gains the plans moving up from the band below
            // (re-placed by the phase-transfer matrix) and its share of new plans.
            let mut next = [[0.0; SETTINGS]; AGE_BANDS];
            let mut arriving = [0.0; SETTINGS];
            for a in 0..AGE_BANDS {
                let stay = 1.0 - c.cease_rate[a];
                let promote = st.promote[a];
                // Phase transfer: reform may reassess (and end) some plans here.
                let keep = if a == 1 || a == 2 {
                    1.0 - reassess
                } else {
                    1.0
                };
                let remain_share = stay * (1.0 - promote);
                let up_share = stay * promote * keep;
                let band: f64 = cells[a].iter().sum();
                ceased_total += band * (c.cease_rate[a] + stay * promote * (1.0 - keep));
                for s in 0..SETTINGS {
                    next[a][s] =
                        cells[a][s] * remain_share + arriving[s] + new_total * c.entry_mix[a][s];
                }
                if a + 1 < AGE_BANDS {
                    // Plans moving up are re-placed by the phase-transfer matrix (nalgebra).
                    let moving = nalgebra::Vector5::from_fn(|s, _| cells[a][s] * up_share);
                    let arrived = st.transition[a] * moving;
                    arriving = std::array::from_fn(|s| arrived[s]);
                } else {
                    aged_out = band * up_share;
                }
            }
            cells = next;
        }
        // 2. Placement: capacity, induced demand, overflow to independent special schools.
        let added = c.places_added[t];
        capacity += added;
        let mut induced = 0.0;
        if added > 0.0 && sc.placement.induced_demand > 0.0 {
            let want = sc.placement.induced_demand * added;
            let main: f64 = cells.iter().map(|r| r[MAINSTREAM]).sum();
            induced = want.min(main);
            if main > 0.0 {
                // Induced placements follow the age profile of mainstream plans.
                let f = induced / main;
                for row_c in cells.iter_mut() {
                    let moved = row_c[MAINSTREAM] * f;
                    row_c[MAINSTREAM] -= moved;
                    row_c[SPECIAL_STATE] += moved;
                }
            }
        }
        let state_demand: f64 = cells.iter().map(|r| r[SPECIAL_STATE]).sum();
        let mut overflow = 0.0;
        if state_demand > capacity && state_demand > 0.0 {
            overflow = state_demand - capacity;
            let f = overflow / state_demand;
            for row_c in cells.iter_mut() {
                let moved = row_c[SPECIAL_STATE] * f;
                row_c[SPECIAL_STATE] -= moved;
                row_c[SPECIAL_INDEPENDENT] += moved;
            }
        }
        // 3. Costs: one year of inflation per FY (drawn per path, national yearly noise).
        for s in 0..SETTINGS {
            let mut g = np.inflation[s] + np.cost_noise[t];
            if s == SPECIAL_INDEPENDENT {
                if let Some(cap) = tl.fee_cap[t] {
                    g = g.min(cap);
                }
            }
            unit_cost[s] *= 1.0 + g;
        }
        non_plan *= 1.0 + np.inflation[MAINSTREAM] + np.cost_noise[t];
        let settings = by_setting(&cells);
        stock = settings.iter().sum();
        let plan_spend: f64 = (0..SETTINGS).map(|s| settings[s] * unit_cost[s]).sum();
        let gross = (plan_spend + non_plan) * (cost_level + cost_shock).exp();
        // 5. Mitigation (a share of spend, ramped, delivered share uncertain per path).
        let savings = gross * sc.mitigation.savings_share * tl.savings_ramp[t] * delivered;
        let spend = gross - savings;
        // 4. Funding: known allocations, then growth with uncertainty.
        hnb = match c.hnb_known[t] {
            Some(v) => v,
            None => hnb * (1.0 + np.funding_growth + np.funding_noise[t]),
        };
        let funding =
            hnb * (1.0 + sc.funding.schools_block_transfer * sc.funding.schools_block_ratio);
        let in_year_balance = funding - spend;
        let overspend = -in_year_balance;
        // 7. Policy: safety valve.
        let (mut sv_payment, mut sv_withheld, mut contribution) = (0.0, 0.0, 0.0);
        if let Some(sv) = &c.safety_valve {
            let scheduled = sv.instalment[t];
            if sv.live[t] {
                contribution = sc.safety_valve.council_contribution_share * scheduled;
            }
            let off_track =
                sv.live[t] && overspend > sv.trajectory[t] + sc.safety_valve.tolerance * funding;
            if off_track {
                breached = true;
            }
            if tl.sv_payments_allowed[t] {
                if off_track && sc.safety_valve.withhold {
                    sv_withheld = sc.safety_valve.withhold_share * scheduled;
                    held_back += sv_withheld;
                    sv_payment = scheduled - sv_withheld;
                } else {
                    sv_payment = scheduled;
                    if !off_track && sc.safety_valve.release_when_back_on_track {
                        sv_payment += held_back;
                        held_back = 0.0;
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
        let hnsg_payment = if Some(t) == hnsg_pay_t {
            std::mem::take(&mut hnsg_due)
        } else {
            0.0
        };
        // After the override: regime.
        let mut written_off = 0.0;
        if Some(t) == tl.write_off_at {
            written_off = deficit.max(0.0);
        }
        let grants = sv_payment + hnsg_payment + interim + contribution;
        let central = if tl.regime[t] == Regime::Central {
            (spend - funding - grants).max(0.0)
        } else {
            0.0
        };
        // 6. Balance.
        let interest = sc.reserves.interest_rate * deficit.max(0.0);
        reserves = reserves * (1.0 - sc.reserves.drawdown_rate) - interest - contribution;
        deficit += spend - funding - grants - central - written_off;
        if Some(t) == tl.hnsg_measure {
            let mut eligible = deficit.max(0.0) * (1.0 - sc.hnsg.haircut);
            if sc.hnsg.net_safety_valve_due {
                eligible -= c.safety_valve.as_ref().map_or(0.0, |sv| sv.due_after_hnsg);
            }
            hnsg_due = if approved {
                sc.hnsg.share * eligible.max(0.0)
            } else {
                0.0
            };
        }
        let exceeds = deficit > reserves;
        let ratio = if reserves > 0.0 {
            (deficit / reserves).clamp(-100.0, 100.0)
        } else if deficit > 0.0 {
            100.0
        } else {
            0.0
        };

        row[m::EHCPS] = stock;
        row[m::BY_SETTING..m::BY_SETTING + SETTINGS].copy_from_slice(&settings);
        row[m::BY_AGE..m::BY_AGE + AGE_BANDS].copy_from_slice(&by_age(&cells));
        row[m::NEW_PLANS] = new_total;
        row[m::CEASED_PLANS] = ceased_total;
        row[m::AGED_OUT] = aged_out;
        row[m::SPECIAL_PLACES] = capacity;
        row[m::OVERFLOW] = overflow;
        row[m::SPEND] = spend;
        row[m::SAVINGS] = savings;
        row[m::FUNDING] = funding;
        row[m::IN_YEAR_BALANCE] = in_year_balance;
        row[m::SV_PAYMENT] = sv_payment;
        row[m::SV_WITHHELD] = sv_withheld;
        row[m::SV_BREACH] = f64::from(u8::from(breached));
        row[m::COUNCIL_CONTRIBUTION] = contribution;
        row[m::HNSG_PAYMENT] = hnsg_payment;
        row[m::INTERIM_SUPPORT] = interim;
        row[m::CENTRAL_PRESSURE] = central;
        row[m::WRITTEN_OFF] = written_off;
        row[m::CUMULATIVE_DEFICIT] = deficit;
        row[m::RESERVES] = reserves;
        row[m::DEFICIT_TO_RESERVES] = ratio;
        row[m::DEFICIT_EXCEEDS_RESERVES] = f64::from(u8::from(exceeds));
        row[m::SHORTFALL] = (deficit - reserves).max(0.0);
        row[m::INDUCED] = induced;
        row[m::INTEREST] = interest;
    }
}

/// Councils per chunk. Chunks are fixed (never depend on the thread count), each chunk sums its
/// councils in council order, and chunks are added into England's totals in chunk order, so the
/// national floating-point sums are the same bits whatever the number of threads.
const COUNCILS_PER_CHUNK: usize = 4;

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
            for (d, x) in dst[..m::COUNT].iter_mut().zip(src) {
                *d += x;
            }
            // England's cumulative deficit is the sum over councils in deficit; the ratio is
            // recomputed from the sums in `finish`.
            dst[m::CUMULATIVE_DEFICIT] += cum.max(0.0) - cum;
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
    let nat = national_draws(model, cfg);
    let n = model.councils.len();
    let chunks: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(COUNCILS_PER_CHUNK)
        .map(|start| start..(start + COUNCILS_PER_CHUNK).min(n))
        .collect();
    let mut total = NationalAcc::new(cfg.paths, years);
    let mut results = Vec::with_capacity(n);
    // Chunks run in parallel a group at a time, reusing their buffers (bounded memory, no page
    // faults), and are added into England's totals in chunk order.
    let group = 2 * rayon::current_num_threads().max(1);
    let mut pool: Vec<(NationalAcc, CouncilPaths)> = (0..group.min(chunks.len()))
        .map(|_| {
            let buf = CouncilPaths {
                council: 0,
                paths: cfg.paths,
                years,
                values: Vec::new(),
            };
            (NationalAcc::new(cfg.paths, years), buf)
        })
        .collect();
    for batch in chunks.chunks(group) {
        let done: Vec<Vec<R>> = batch
            .par_iter()
            .zip(pool.par_iter_mut())
            .map(|(range, (acc, buf))| {
                acc.sums.iter_mut().for_each(|v| *v = 0.0);
                let mut rs = Vec::with_capacity(range.len());
                for ci in range.clone() {
                    simulate_council_into(model, &nat, ci, cfg, buf, Some(acc));
                    rs.push(per_council(buf));
                    progress();
                }
                rs
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
