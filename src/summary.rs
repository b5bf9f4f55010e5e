//! Summaries over paths: mean and percentiles (type 7, linear interpolation), computed
//! per council from its paths and for England from the per-path national sums.

use crate::engine::{CouncilPaths, EnglandPaths, Tiles, COLUMNS_AT_ONCE};
use crate::metric::{Metric, NationalMetric};
use rayon::prelude::*;
use std::cmp::Ordering;

pub const PERCENTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// A figure whose size reaches this (£1,000,000bn, or 10^15 plans) is not a plausible result
/// but the sign of an input the model cannot represent: the exporters refuse it, as they
/// refuse NaN and infinities. It also bounds how wide a written figure can be.
pub const MAX_PLAUSIBLE: f64 = 1e15;

/// Whether `value` is finite and smaller in size than `MAX_PLAUSIBLE`.
pub fn is_plausible(value: f64) -> bool {
    value.is_finite() && value.abs() < MAX_PLAUSIBLE
}

/// Mean and percentiles of one quantity over paths.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub mean: f64,
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

/// A central band of a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// p25 to p75.
    Central50,
    /// p05 to p95.
    Central90,
}

impl Stats {
    /// The same value on every path.
    pub fn constant(mean: f64, value: f64) -> Stats {
        Stats::with_percentiles(mean, [value; 5])
    }
    /// The mean and the five [`PERCENTILES`] in their order.
    pub fn with_percentiles(mean: f64, [p05, p25, p50, p75, p95]: [f64; 5]) -> Stats {
        Stats {
            mean,
            p05,
            p25,
            p50,
            p75,
            p95,
        }
    }
    /// Every figure with its name: mean, p05, p25, p50, p75, p95.
    pub fn named(&self) -> [(&'static str, f64); 6] {
        [
            ("mean", self.mean),
            ("p05", self.p05),
            ("p25", self.p25),
            ("p50", self.p50),
            ("p75", self.p75),
            ("p95", self.p95),
        ]
    }
    /// The first figure (in `named` order) that is not plausible, with its name.
    pub fn first_implausible(&self) -> Option<(&'static str, f64)> {
        self.named().into_iter().find(|(_, v)| !is_plausible(*v))
    }
    /// p05, p25, p50, p75, p95.
    pub fn percentiles(&self) -> [f64; 5] {
        [self.p05, self.p25, self.p50, self.p75, self.p95]
    }
    /// The band's (low, high) ends.
    pub fn band(&self, band: Band) -> (f64, f64) {
        match band {
            Band::Central50 => (self.p25, self.p75),
            Band::Central90 => (self.p05, self.p95),
        }
    }
    /// Whether `x` lies in the band, ends included.
    pub fn in_band(&self, band: Band, x: f64) -> bool {
        let (lo, hi) = self.band(band);
        x >= lo && x <= hi
    }
    /// Every figure divided by `by` (e.g. pounds to billions).
    pub fn scaled(&self, by: f64) -> Stats {
        Stats {
            mean: self.mean / by,
            p05: self.p05 / by,
            p25: self.p25 / by,
            p50: self.p50 / by,
            p75: self.p75 / by,
            p95: self.p95 / by,
        }
    }
}

/// Mean and percentiles of `values` (reordered in place). Empty input gives zeros.
pub fn stats(values: &mut [f64]) -> Stats {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    stats_with_mean(values, mean)
}

/// [`stats`] with the mean already worked out (summed in `values`' order).
fn stats_with_mean(values: &mut [f64], mean: f64) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    // Many metrics are the same on every path (known years, policies that do not apply).
    let first = values[0];
    if values.iter().all(|v| v.to_bits() == first.to_bits()) {
        return Stats::constant(mean, first);
    }
    Stats::with_percentiles(mean, percentiles(values))
}

/// The five [`PERCENTILES`] of `values` (reordered in place), type 7: the order statistic at
/// `h = (n - 1) p` rounded down, plus the fraction of `h` times the step to the next one.
///
/// The median is selected first, then each quartile inside its half, then p05 and p95 inside
/// the outer quarters, so each selection partitions only the part between two order
/// statistics already in place; the next order statistic above each is the minimum of the
/// part up to the next one in place. Order statistics are unique bit patterns under
/// `f64::total_cmp`, so the result does not depend on the order of selection.
///
/// Without NaN and negative zeros, `<` on floats orders the values as `f64::total_cmp` does (equal
/// values are then the same bits), so the selections compare floats directly, which is cheaper.
fn percentiles(values: &mut [f64]) -> [f64; 5] {
    let negative_zero = (-0.0_f64).to_bits();
    let unordered = values.iter().fold(false, |any, v| {
        any | v.is_nan() | (v.to_bits() == negative_zero)
    });
    if unordered {
        select_percentiles(values, f64::total_cmp)
    } else {
        select_percentiles(values, |a, b| {
            if a < b {
                Ordering::Less
            } else if a > b {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
    }
}

/// [`percentiles`] with the selections ordered by `order` (the total order of the values).
#[inline(always)]
fn select_percentiles(
    values: &mut [f64],
    order: impl Fn(&f64, &f64) -> Ordering + Copy,
) -> [f64; 5] {
    let n = values.len();
    let rank = |p: f64| {
        let h = (n - 1) as f64 * p;
        let lo = h.floor() as usize;
        (lo, h - lo as f64)
    };
    let ranks: [(usize, f64); 5] = PERCENTILES.map(rank);
    // Selection order: p50, p25, p75, p05, p95 (indices into PERCENTILES).
    let mut placed: Vec<usize> = Vec::with_capacity(5);
    for i in [2, 1, 3, 0, 4] {
        let r = ranks[i].0;
        if placed.contains(&r) {
            continue;
        }
        let from = placed.iter().filter(|&&q| q < r).max().map_or(0, |q| q + 1);
        let to = next_placed(&placed, r, n);
        values[from..to].select_nth_unstable_by(r - from, order);
        placed.push(r);
    }
    ranks.map(|(lo, frac)| {
        let x_lo = values[lo];
        if frac > 0.0 {
            // The next order statistic: the least value between `lo` and the next one placed.
            let to = next_placed(&placed, lo, n);
            let x_hi = if lo + 1 == to {
                values[to]
            } else {
                values[lo + 1..to]
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
            };
            x_lo + frac * (x_hi - x_lo)
        } else {
            x_lo
        }
    })
}

/// The least rank above `r` already in place, else `n` (one past the last).
fn next_placed(placed: &[usize], r: usize, n: usize) -> usize {
    placed
        .iter()
        .filter(|&&q| q > r)
        .min()
        .copied()
        .unwrap_or(n)
}

/// Probability of an event with its Monte Carlo standard error.
pub fn proportion(hits: usize, n: usize) -> (f64, f64) {
    let p = hits as f64 / n.max(1) as f64;
    (p, (p * (1.0 - p) / n.max(1) as f64).sqrt())
}

/// Mean with its Monte Carlo standard error.
pub fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// What a run keeps of one council: stats per year and metric, and override-end figures.
#[derive(Debug, Clone)]
pub struct CouncilSummary {
    pub council: usize,
    /// `stats[t * Metric::COUNT + metric.index()]`
    pub stats: Vec<Stats>,
    pub at_override: OverrideEnd,
}

impl CouncilSummary {
    /// Stats of `metric` in year `t`.
    pub fn get(&self, t: usize, metric: Metric) -> &Stats {
        &self.stats[t * Metric::COUNT + metric.index()]
    }
}

/// England's stats per year and national metric.
#[derive(Debug, Clone)]
pub struct NationalSummary {
    /// `stats[t * NationalMetric::COUNT + metric.index()]`
    pub stats: Vec<Stats>,
}

impl NationalSummary {
    /// Stats of `metric` in year `t`.
    pub fn get(&self, t: usize, metric: NationalMetric) -> &Stats {
        &self.stats[t * NationalMetric::COUNT + metric.index()]
    }
}

#[derive(Debug, Clone, Default)]
pub struct OverrideEnd {
    pub deficit: Stats,
    pub reserves: Stats,
    pub ratio: Stats,
    pub p_exceeds: (f64, f64),
    pub expected_shortfall: (f64, f64),
    pub p_sv_breach: (f64, f64),
}

thread_local! {
    /// Each thread's columns for [`stats_table`], kept from one table to the next: a council's
    /// table follows another's, and allocating the columns afresh for each would fault their
    /// pages in again (several MB at 100,000 paths).
    static COLUMNS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Stats over paths per year and metric, `[t * width + k]`, of results laid out in `tiles`:
/// year by year in parallel, [`COLUMNS_AT_ONCE`] metrics at a time, each metric's column (one
/// value per path) copied with its sum (for the mean) and summarised.
fn stats_table(tiles: Tiles, values: &[f64]) -> Vec<Stats> {
    let paths = tiles.paths;
    if paths == 0 {
        return vec![Stats::default(); tiles.years * tiles.width];
    }
    let per_year: Vec<Vec<Stats>> = (0..tiles.years)
        .into_par_iter()
        .map(|t| {
            COLUMNS.with_borrow_mut(|scratch| {
                scratch.resize(COLUMNS_AT_ONCE * paths, 0.0);
                let mut stats = Vec::with_capacity(tiles.width);
                for first in (0..tiles.width).step_by(COLUMNS_AT_ONCE) {
                    let metrics = first..(first + COLUMNS_AT_ONCE).min(tiles.width);
                    let sums = tiles.columns(values, t, metrics.clone(), scratch);
                    for (column, sum) in scratch
                        .chunks_exact_mut(paths)
                        .zip(sums)
                        .take(metrics.len())
                    {
                        stats.push(stats_with_mean(column, sum / paths as f64));
                    }
                }
                stats
            })
        })
        .collect();
    per_year.into_iter().flatten().collect()
}

pub fn summarise_council(cp: &CouncilPaths, override_t: usize) -> CouncilSummary {
    let summary = CouncilSummary {
        council: cp.council,
        stats: stats_table(cp.tiles(), &cp.values),
        at_override: OverrideEnd::default(),
    };
    let col = |m: Metric| -> Vec<f64> {
        let mut out = vec![0.0; cp.paths];
        cp.column(override_t, m, &mut out);
        out
    };
    let hits = |m: Metric| col(m).iter().filter(|v| **v > 0.5).count();
    let at_override = OverrideEnd {
        deficit: *summary.get(override_t, Metric::CumulativeDeficit),
        reserves: *summary.get(override_t, Metric::Reserves),
        ratio: *summary.get(override_t, Metric::DeficitToReserves),
        p_exceeds: proportion(hits(Metric::DeficitExceedsReserves), cp.paths),
        expected_shortfall: mean_se(&col(Metric::Shortfall)),
        p_sv_breach: proportion(hits(Metric::SvBreach), cp.paths),
    };
    CouncilSummary {
        at_override,
        ..summary
    }
}

/// Stats per year and national metric, from the per-path national sums.
pub fn summarise_national(np: &EnglandPaths) -> NationalSummary {
    NationalSummary {
        stats: stats_table(np.tiles(), &np.values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_linear_interpolation() {
        let mut v: Vec<f64> = (0..101).rev().map(f64::from).collect();
        let s = stats(&mut v);
        let want = Stats {
            mean: 50.0,
            p05: 5.0,
            p25: 25.0,
            p50: 50.0,
            p75: 75.0,
            p95: 95.0,
        };
        assert_eq!(s, want);
        let mut w = vec![4.0, 1.0, 3.0, 2.0];
        let s = stats(&mut w);
        assert!((s.p50 - 2.5).abs() < 1e-12);
        assert!((s.p05 - 1.15).abs() < 1e-12);
        assert!((s.p95 - 3.85).abs() < 1e-12);
        assert!(s.in_band(Band::Central90, 3.8) && !s.in_band(Band::Central50, 3.8));
    }

    /// Type-7 percentiles from a full sort: the definition the selection must match.
    fn sorted_percentiles(values: &[f64]) -> [f64; 5] {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        PERCENTILES.map(|p| {
            let h = (v.len() - 1) as f64 * p;
            let lo = h.floor() as usize;
            let frac = h - lo as f64;
            if frac > 0.0 {
                v[lo] + frac * (v[lo + 1] - v[lo])
            } else {
                v[lo]
            }
        })
    }

    #[test]
    fn selection_matches_a_full_sort_bit_for_bit() {
        // Every size up to 300, with ties and signed zeros, from a fixed generator.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for n in 1..300 {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    match x % 7 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => 1.5,
                        _ => (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5,
                    }
                })
                .collect();
            // With negative zeros (selected by `total_cmp`), and without (by `<`).
            let positive: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
            for values in [values, positive] {
                let want = sorted_percentiles(&values);
                let got = stats(&mut values.clone()).percentiles();
                for (g, w) in got.iter().zip(want) {
                    assert_eq!(g.to_bits(), w.to_bits(), "n = {n}: {got:?} != {want:?}");
                }
            }
        }
    }

    #[test]
    fn proportions_have_standard_errors() {
        let (p, se) = proportion(25, 100);
        assert_eq!(p, 0.25);
        assert!((se - (0.25f64 * 0.75 / 100.0).sqrt()).abs() < 1e-15);
    }
}
