//! Sensitivity: which assumption drives the answer. Two measures, on common random numbers:
//!
//! - **One at a time** (the tornado): each input of the scenario's `[[sensitivity]]` table is
//!   set to its low and then its high value, every other key as in the scenario, and each run
//!   uses the base run's seed, so every draw the runs share is the same number on the same path
//!   (see `compare`). The change from the base is taken path by path before any percentile.
//! - **Global** (from the base run alone): the Spearman rank correlation between each path's
//!   drawn parameters ([`PathParameter`]) and the headline on that path, England's deficit at
//!   the override end. It says which of the model's own uncertainties moves the answer most.

use crate::calibration::{calibrate, Model, Vintage};
use crate::compare::difference;
use crate::engine::{path_parameters, simulate, PathParameter, RunConfig};
use crate::error::{ImplausibleFigure, InputError};
use crate::metric::{Metric, NationalMetric};
use crate::run::Horizon;
use crate::scenario::{LoadedScenario, SensitivityInput};
use crate::seeds::Baseline;
use crate::summary::{is_plausible, stats, Stats};
use crate::FinancialYear;

/// A figure the sensitivity reports: an England metric in a year counted from the override end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub metric: NationalMetric,
    /// Years after the FY that ends on the override end date (0 = that FY).
    pub years_after_override: usize,
}

/// England's deficit (councils in deficit) at the override end: the headline.
pub const HEADLINE: Measure = Measure {
    metric: NationalMetric::Council(Metric::CumulativeDeficit),
    years_after_override: 0,
};

/// The figures reported for every input: the headline, the number of councils whose deficit
/// exceeds their reserves at the override end, and central pressure in the first FY after it.
pub const MEASURES: [Measure; 3] = [
    HEADLINE,
    Measure {
        metric: NationalMetric::Council(Metric::DeficitExceedsReserves),
        years_after_override: 0,
    },
    Measure {
        metric: NationalMetric::Council(Metric::CentralPressure),
        years_after_override: 1,
    },
];

/// One measure on one side of an input: medians over paths and the per-path difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    /// Median over paths in the base run.
    pub base: f64,
    /// Median over paths with the input moved.
    pub value: f64,
    /// The per-path difference (moved - base): its median is the change reported.
    pub difference: Stats,
}

/// An input moved to its low and its high value: `low[k]` and `high[k]` for `measures[k]`.
#[derive(Debug, Clone)]
pub struct InputEffect {
    pub input: SensitivityInput,
    pub low: Vec<Effect>,
    pub high: Vec<Effect>,
}

impl InputEffect {
    /// The spread between the low and high sides' median changes in measure `k` (the tornado
    /// is sorted by it for the headline).
    pub fn swing(&self, k: usize) -> f64 {
        (self.high[k].difference.p50 - self.low[k].difference.p50).abs()
    }
}

/// The rank correlation of one path parameter with the headline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalEffect {
    pub parameter: PathParameter,
    /// Spearman's rho over paths; `None` when the parameter is the same on every path.
    pub spearman: Option<f64>,
    /// Its 90% interval (Fisher transform with the variance 1.06 / (n - 3) of Fieller et al.).
    pub interval: Option<(f64, f64)>,
}

/// A sensitivity analysis of one scenario.
pub struct Sensitivity {
    pub scenario: String,
    pub councils: usize,
    pub paths: usize,
    pub seed: u64,
    pub horizon: Horizon,
    /// The measures reported (those whose year is inside the horizon) and their years.
    pub measures: Vec<(Measure, FinancialYear)>,
    /// The base run's distribution of each measure.
    pub base: Vec<Stats>,
    /// In the order of the scenario's `[[sensitivity]]` table.
    pub inputs: Vec<InputEffect>,
    /// In [`PathParameter::ALL`] order.
    pub global: Vec<GlobalEffect>,
}

impl Sensitivity {
    /// Every figure the exporters write is finite and plausible, or the first that is not (the
    /// base, then each input's low and high side, by measure) is the error.
    pub fn check_figures(&self) -> Result<(), ImplausibleFigure> {
        let sides = self.inputs.iter().flat_map(|e| {
            [
                (format!("{} = {}", e.input.key, e.input.low), &e.low),
                (format!("{} = {}", e.input.key, e.input.high), &e.high),
            ]
        });
        for (area, effects) in sides {
            for ((measure, fy), effect) in self.measures.iter().zip(effects.iter()) {
                let figures = [("base", effect.base), ("value", effect.value)]
                    .into_iter()
                    .chain(effect.difference.named());
                for (statistic, value) in figures {
                    if !is_plausible(value) {
                        return Err(ImplausibleFigure {
                            metric: measure.metric.name(),
                            statistic,
                            area: format!("England with {area}"),
                            fy: *fy,
                            value,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The inputs sorted by their swing in the headline, largest first (ties keep table order).
    pub fn by_swing(&self) -> Vec<&InputEffect> {
        let mut sorted: Vec<&InputEffect> = self.inputs.iter().collect();
        sorted.sort_by(|a, b| b.swing(0).total_cmp(&a.swing(0)));
        sorted
    }
}

/// Calls made to `progress` by [`sensitivity`]: one per council of each run.
pub fn progress_steps(scenario: &LoadedScenario, councils: usize) -> u64 {
    ((1 + 2 * scenario.sensitivity.len()) * councils) as u64
}

/// England's per-path values of each measure (`[k][path]`) for a calibrated model.
fn measured(
    model: &Model,
    config: RunConfig,
    measures: &[(Measure, usize)],
    progress: &(dyn Fn() + Sync),
) -> Vec<Vec<f64>> {
    let (_, england) = simulate(model, config, |_| (), progress);
    measures
        .iter()
        .map(|&(m, t)| {
            let mut column = vec![0.0; config.paths];
            england.column(t, m.metric, &mut column);
            column
        })
        .collect()
}

fn median(values: &[f64]) -> f64 {
    stats(&mut values.to_vec()).p50
}

/// Runs the base scenario and each input of its `[[sensitivity]]` table at its low and its high
/// value, on the same seed and paths (on the current rayon pool), and the global measure from
/// the base run. `progress` is called once per council of each run.
pub fn sensitivity(
    baseline: &Baseline,
    scenario: &LoadedScenario,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<Sensitivity, InputError> {
    if scenario.sensitivity.is_empty() {
        return Err(InputError::invalid(
            &scenario.files[0],
            "the scenario has no `[[sensitivity]]` inputs: add a table per input with `key`, \
             `low`, `high` and `source` (see scenarios/baseline.toml)",
        ));
    }
    // Every side must give a valid scenario: refuse a bad one before anything runs.
    let mut moved = Vec::with_capacity(scenario.sensitivity.len());
    for input in &scenario.sensitivity {
        moved.push([
            input.scenario_with(scenario, "low", &input.low)?,
            input.scenario_with(scenario, "high", &input.high)?,
        ]);
    }
    let model = calibrate(baseline, scenario, Vintage::latest())?;
    let horizon = Horizon {
        years: model.schedule.years.clone(),
        override_end: model.schedule.override_end,
    };
    let at: Vec<(Measure, usize)> = MEASURES
        .iter()
        .map(|&m| (m, horizon.override_end + m.years_after_override))
        .filter(|&(_, t)| t < horizon.years.len())
        .collect();
    let councils = model.councils.len();
    let base = measured(&model, config, &at, progress);
    let global = global_measure(&model, config, horizon.override_end, &base[0]);
    let mut inputs = Vec::with_capacity(scenario.sensitivity.len());
    for (input, [low, high]) in scenario.sensitivity.iter().zip(&moved) {
        let side = |moved: &LoadedScenario| -> Result<Vec<Effect>, InputError> {
            let model = calibrate(baseline, moved, Vintage::latest())?;
            if model.schedule.years != horizon.years || model.councils.len() != councils {
                return Err(InputError::invalid(
                    &scenario.files[0],
                    format!(
                        "key `{}` moved changes the years or councils projected; a \
                         sensitivity needs the same",
                        input.key
                    ),
                ));
            }
            let values = measured(&model, config, &at, progress);
            Ok(base
                .iter()
                .zip(&values)
                .map(|(b, v)| Effect {
                    base: median(b),
                    value: median(v),
                    difference: difference(b, v).difference,
                })
                .collect())
        };
        let low = side(low)?;
        let high = side(high)?;
        inputs.push(InputEffect {
            input: input.clone(),
            low,
            high,
        });
    }
    Ok(Sensitivity {
        scenario: scenario.scenario.name.clone(),
        councils,
        paths: config.paths,
        seed: config.seed,
        measures: at.iter().map(|&(m, t)| (m, horizon.years[t])).collect(),
        base: base.iter().map(|v| stats(&mut v.clone())).collect(),
        horizon,
        inputs,
        global,
    })
}

/// The rank correlation of every path parameter with the headline (`headline[path]`).
fn global_measure(
    model: &Model,
    config: RunConfig,
    override_end: usize,
    headline: &[f64],
) -> Vec<GlobalEffect> {
    let parameters = path_parameters(model, config, override_end);
    PathParameter::ALL
        .iter()
        .map(|&parameter| {
            let drawn: Vec<f64> = parameters.iter().map(|p| p[parameter.index()]).collect();
            let spearman = spearman(&drawn, headline);
            GlobalEffect {
                parameter,
                spearman,
                interval: spearman.and_then(|rho| interval(rho, headline.len())),
            }
        })
        .collect()
}

/// Ranks from 1, ties given their mean rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean_rank;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation of `x` and `y` (the Pearson correlation of their ranks, ties at
/// their mean rank), or `None` when either is the same everywhere (or there are fewer than 2).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || n != y.len() {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        let (dx, dy) = (a - mean, b - mean);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The 90% interval of a Spearman correlation `rho` over `n` paths: Fisher's transform with
/// variance 1.06 / (n - 3) (Fieller, Hartley and Pearson, 1957). `None` below 4 paths.
pub fn interval(rho: f64, n: usize) -> Option<(f64, f64)> {
    if n < 4 {
        return None;
    }
    const Z90: f64 = 1.644_853_626_951_472_2;
    let z = rho.clamp(-0.999_999, 0.999_999).atanh();
    let half = Z90 * (1.06 / (n as f64 - 3.0)).sqrt();
    Some(((z - half).tanh(), (z + half).tanh()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn spearman_sees_order_not_size() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let cubed: Vec<f64> = x.iter().map(|v: &f64| v.powi(3)).collect();
        assert_eq!(spearman(&x, &cubed), Some(1.0));
        let reversed: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert_eq!(spearman(&x, &reversed), Some(-1.0));
        assert_eq!(spearman(&x, &[2.0; 5]), None);
        // One swap among five: rho = 1 - 6 * 2 / (5 * 24) = 0.9.
        let rho = spearman(&x, &[1.0, 3.0, 2.0, 4.0, 5.0]).unwrap();
        assert!((rho - 0.9).abs() < 1e-12, "{rho}");
        let (lo, hi) = interval(0.5, 1000).unwrap();
        assert!(lo < 0.5 && 0.5 < hi && hi - lo < 0.1, "{lo} {hi}");
    }
}
