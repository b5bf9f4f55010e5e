//! Paired comparison of two scenarios on common random numbers: both run with the same master
//! seed, so every draw they share (a stream keyed by seed, kind, path and council index, see
//! `engine::stream`) is the same number in both, and B - A is taken path by path before any
//! percentile.
//!
//! What is shared: every national draw (demand level and trend, fee inflation, HNB growth,
//! interim support, the yearly shocks, the formula uplift) and every council draw (council
//! level, HNSG approval and delay, cost level, yearly shocks, safety-valve saving, savings
//! delivery), because each is made whatever the scenario's switches and each kind has its own
//! stream. What is not: a draw whose distribution the scenarios set differently (e.g. a
//! different `growth_sd`) is the same standard normal scaled differently, so it is paired but
//! not equal; savings delivery is drawn only when a scenario has a savings plan (its own
//! stream, so the other draws stay paired). The scenarios must project the same years for the
//! same councils in the same order, else the comparison is refused; their override ends may
//! differ (the comparison's `horizon` is A's).

use crate::calibration::{calibrate, Vintage};
use crate::engine::{simulate, RunConfig};
use crate::error::InputError;
use crate::metric::{Metric, NationalMetric};
use crate::run::Horizon;
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;
use crate::summary::{proportion, stats, Stats};

/// Council metrics compared per FY.
pub const COUNCIL_METRICS: [Metric; 2] =
    [Metric::CumulativeDeficit, Metric::DeficitExceedsReserves];

/// England metrics compared per FY (summed over councils per path first).
pub const ENGLAND_METRICS: [NationalMetric; 3] = [
    NationalMetric::Council(Metric::CumulativeDeficit),
    NationalMetric::Council(Metric::DeficitExceedsReserves),
    NationalMetric::Council(Metric::CentralPressure),
];

/// The memory a comparison of `paths` paths over `years` years and `councils` councils holds,
/// in bytes (an estimate): a run's (B's, [`crate::engine::memory_estimate`]) while both runs'
/// per-path series of the compared metrics are held (A's whole, B's as its councils finish).
pub fn memory_estimate(paths: usize, years: usize, threads: usize, councils: usize) -> u64 {
    let series = (councils * COUNCIL_METRICS.len() + ENGLAND_METRICS.len()) * years;
    crate::engine::memory_estimate(paths, years, threads) + 2 * (series * paths * 8) as u64
}

/// The distribution over paths of B - A for one quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Mean of A and of B over paths.
    pub mean_a: f64,
    pub mean_b: f64,
    /// Mean and percentiles of the per-path difference B - A.
    pub difference: Stats,
    /// P(B < A) with its Monte Carlo standard error.
    pub p_b_lower: (f64, f64),
}

/// The paired difference of per-path values `a` and `b` (the same paths in the same order).
pub fn difference(a: &[f64], b: &[f64]) -> Difference {
    let n = a.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n.max(1) as f64;
    let mut d: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
    let lower = a.iter().zip(b).filter(|(a, b)| b < a).count();
    Difference {
        mean_a: mean(a),
        mean_b: mean(b),
        difference: stats(&mut d),
        p_b_lower: proportion(lower, n),
    }
}

/// One council's differences: `by_year[t][k]` for `COUNCIL_METRICS[k]`.
pub struct CouncilComparison {
    pub la_code: u16,
    pub la_name: String,
    pub by_year: Vec<[Difference; 2]>,
}

/// A paired comparison of scenario B against scenario A.
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub paths: usize,
    pub seed: u64,
    /// B's seed: A's on common random numbers.
    pub seed_b: u64,
    /// A's years and override end.
    pub horizon: Horizon,
    pub councils: Vec<CouncilComparison>,
    /// `england[t][k]` for `ENGLAND_METRICS[k]`.
    pub england: Vec<[Difference; 3]>,
}

/// One scenario's per-path values: per council `[metric][t][path]`, and England's.
struct PerPath {
    councils: Vec<Vec<Vec<Vec<f64>>>>,
    england: Vec<Vec<Vec<f64>>>,
    horizon: Horizon,
    codes: Vec<(u16, String)>,
}

fn per_path(
    baseline: &Baseline,
    scenario: &LoadedScenario,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<PerPath, InputError> {
    let model = calibrate(baseline, scenario, Vintage::latest())?;
    let (councils, england) = simulate(
        &model,
        config,
        |cp| {
            COUNCIL_METRICS
                .iter()
                .map(|&m| {
                    (0..cp.years)
                        .map(|t| (0..cp.paths).map(|p| cp.get(p, t, m)).collect())
                        .collect()
                })
                .collect()
        },
        progress,
    );
    let england = ENGLAND_METRICS
        .iter()
        .map(|&m| {
            (0..england.years)
                .map(|t| (0..england.paths).map(|p| england.get(p, t, m)).collect())
                .collect()
        })
        .collect();
    Ok(PerPath {
        councils,
        england,
        horizon: Horizon {
            years: model.schedule.years.clone(),
            override_end: model.schedule.override_end,
        },
        codes: model
            .councils
            .iter()
            .map(|c| (c.la_code, c.la_name.clone()))
            .collect(),
    })
}

/// The scenario's own file (for error messages).
fn file_of(s: &LoadedScenario) -> std::path::PathBuf {
    s.files.first().cloned().unwrap_or_default()
}

/// Runs A with `config` and B with the same paths and `seed_b` (on the current rayon pool) and
/// pairs them path by path. With `seed_b == config.seed` the pairs share their random numbers;
/// another seed gives the difference of independent runs (for contrast). `progress` is called
/// once per finished council of either run.
pub fn compare(
    baseline: &Baseline,
    a: &LoadedScenario,
    b: &LoadedScenario,
    config: RunConfig,
    seed_b: u64,
    progress: &(dyn Fn() + Sync),
) -> Result<Comparison, InputError> {
    let ra = per_path(baseline, a, config, progress)?;
    let config_b = RunConfig {
        seed: seed_b,
        ..config
    };
    let rb = per_path(baseline, b, config_b, progress)?;
    if ra.horizon.years != rb.horizon.years {
        return Err(InputError::invalid(
            file_of(b),
            format!(
                "{} projects {} to {} but {} projects {} to {}; a paired comparison needs the same years",
                a.scenario.name,
                ra.horizon.first(),
                ra.horizon.last(),
                b.scenario.name,
                rb.horizon.first(),
                rb.horizon.last(),
            ),
        ));
    }
    if ra.codes != rb.codes {
        return Err(InputError::invalid(
            file_of(b),
            format!(
                "{} and {} calibrate different councils; a paired comparison needs the same councils",
                a.scenario.name, b.scenario.name
            ),
        ));
    }
    let years = ra.horizon.years.len();
    let councils = ra
        .councils
        .iter()
        .zip(&rb.councils)
        .zip(&ra.codes)
        .map(|((ca, cb), (la_code, la_name))| CouncilComparison {
            la_code: *la_code,
            la_name: la_name.clone(),
            by_year: (0..years)
                .map(|t| std::array::from_fn(|k| difference(&ca[k][t], &cb[k][t])))
                .collect(),
        })
        .collect();
    let england = (0..years)
        .map(|t| std::array::from_fn(|k| difference(&ra.england[k][t], &rb.england[k][t])))
        .collect();
    Ok(Comparison {
        a: a.scenario.name.clone(),
        b: b.scenario.name.clone(),
        paths: config.paths,
        seed: config.seed,
        seed_b,
        horizon: ra.horizon,
        councils,
        england,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_counts_paths_where_b_is_lower() {
        let d = difference(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 3.0, 2.0]);
        assert_eq!(d.p_b_lower.0, 0.5);
        assert!((d.difference.mean - (-0.5)).abs() < 1e-12);
        assert_eq!((d.mean_a, d.mean_b), (2.5, 2.0));
        let same = difference(&[1.0, 5.0], &[1.0, 5.0]);
        assert_eq!(same.difference, Stats::constant(0.0, 0.0));
        assert_eq!(same.p_b_lower, (0.0, 0.0));
    }
}
