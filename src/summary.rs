//! Summaries over paths: mean and percentiles (type 7, linear interpolation), computed
//! per council from its paths and for England from the per-path national sums.

use crate::engine::{CouncilPaths, EnglandPaths};
use crate::metric::{Metric, NationalMetric};

pub const PERCENTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

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
        Stats {
            mean,
            p05: value,
            p25: value,
            p50: value,
            p75: value,
            p95: value,
        }
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
    let n = values.len();
    if n == 0 {
        return Stats::default();
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    // Many metrics are the same on every path (known years, policies that do not apply).
    let first = values[0];
    if values.iter().all(|v| v.to_bits() == first.to_bits()) {
        return Stats::constant(mean, first);
    }
    let mut percentiles = [0.0; 5];
    let mut from = 0;
    for (i, p) in PERCENTILES.iter().enumerate() {
        let h = (n - 1) as f64 * p;
        let lo = h.floor() as usize;
        let frac = h - lo as f64;
        // Selection within the part not yet ordered: earlier picks partition the slice.
        let rest = &mut values[from..];
        let (_, x, right) = rest.select_nth_unstable_by(lo - from, f64::total_cmp);
        let x_lo = *x;
        let x_hi = if frac > 0.0 {
            right.iter().copied().fold(f64::INFINITY, f64::min)
        } else {
            x_lo
        };
        percentiles[i] = x_lo + frac * (x_hi - x_lo);
        from = lo;
    }
    let [p05, p25, p50, p75, p95] = percentiles;
    Stats {
        mean,
        p05,
        p25,
        p50,
        p75,
        p95,
    }
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

/// Stats over paths of `get(path, t, metric)` per year and metric: `[t * metrics + metric]`.
fn stats_table(
    paths: usize,
    years: usize,
    metrics: usize,
    get: impl Fn(usize, usize, usize) -> f64,
) -> Vec<Stats> {
    let mut scratch = vec![0.0; paths];
    let mut out = Vec::with_capacity(years * metrics);
    for t in 0..years {
        for k in 0..metrics {
            for (p, slot) in scratch.iter_mut().enumerate() {
                *slot = get(p, t, k);
            }
            out.push(stats(&mut scratch));
        }
    }
    out
}

pub fn summarise_council(cp: &CouncilPaths, override_t: usize) -> CouncilSummary {
    let summary = CouncilSummary {
        council: cp.council,
        stats: stats_table(cp.paths, cp.years, Metric::COUNT, |p, t, k| {
            cp.get(p, t, Metric::ALL[k])
        }),
        at_override: OverrideEnd::default(),
    };
    let col = |m: Metric| -> Vec<f64> { (0..cp.paths).map(|p| cp.get(p, override_t, m)).collect() };
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
        stats: stats_table(np.paths, np.years, NationalMetric::COUNT, |p, t, k| {
            np.get(p, t, NationalMetric::ALL[k])
        }),
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

    #[test]
    fn proportions_have_standard_errors() {
        let (p, se) = proportion(25, 100);
        assert_eq!(p, 0.25);
        assert!((se - (0.25f64 * 0.75 / 100.0).sqrt()).abs() < 1e-15);
    }
}
