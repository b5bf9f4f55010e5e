//! Summaries over paths: mean and percentiles (type 7, linear interpolation), computed
//! per council from its paths and for England from the per-path national sums.

use crate::engine::{m, CouncilPaths, EnglandPaths, NATIONAL_COUNT};

pub const PERCENTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// Mean then p05, p25, p50, p75, p95.
pub type Stats = [f64; 6];

/// Mean and percentiles of `values` (reordered in place). Empty input gives zeros.
pub fn stats(values: &mut [f64]) -> Stats {
    let n = values.len();
    if n == 0 {
        return [0.0; 6];
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    // Many metrics are the same on every path (known years, policies that do not apply).
    let first = values[0];
    if values.iter().all(|v| v.to_bits() == first.to_bits()) {
        return [mean, first, first, first, first, first];
    }
    let mut out = [mean, 0.0, 0.0, 0.0, 0.0, 0.0];
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
        out[i + 1] = x_lo + frac * (x_hi - x_lo);
        from = lo;
    }
    out
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
    /// `stats[t * METRICS + metric]`
    pub stats: Vec<Stats>,
    pub at_override: OverrideEnd,
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
    let stats_v = stats_table(cp.paths, cp.years, m::COUNT, |p, t, k| cp.get(p, t, k));
    let col = |k: usize| -> Vec<f64> { (0..cp.paths).map(|p| cp.get(p, override_t, k)).collect() };
    let hits = |k: usize| col(k).iter().filter(|v| **v > 0.5).count();
    let at_override = OverrideEnd {
        deficit: stats_v[override_t * m::COUNT + m::CUMULATIVE_DEFICIT],
        reserves: stats_v[override_t * m::COUNT + m::RESERVES],
        ratio: stats_v[override_t * m::COUNT + m::DEFICIT_TO_RESERVES],
        p_exceeds: proportion(hits(m::DEFICIT_EXCEEDS_RESERVES), cp.paths),
        expected_shortfall: mean_se(&col(m::SHORTFALL)),
        p_sv_breach: proportion(hits(m::SV_BREACH), cp.paths),
    };
    CouncilSummary {
        council: cp.council,
        stats: stats_v,
        at_override,
    }
}

/// Stats per year and national metric: `[t * NATIONAL_COUNT + metric]`.
pub fn summarise_national(np: &EnglandPaths) -> Vec<Stats> {
    stats_table(np.paths, np.years, NATIONAL_COUNT, |p, t, k| {
        np.get(p, t, k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_linear_interpolation() {
        let mut v: Vec<f64> = (0..101).rev().map(f64::from).collect();
        let s = stats(&mut v);
        assert_eq!(s, [50.0, 5.0, 25.0, 50.0, 75.0, 95.0]);
        let mut w = vec![4.0, 1.0, 3.0, 2.0];
        let s = stats(&mut w);
        assert!((s[3] - 2.5).abs() < 1e-12);
        assert!((s[1] - 1.15).abs() < 1e-12);
        assert!((s[5] - 3.85).abs() < 1e-12);
    }

    #[test]
    fn proportions_have_standard_errors() {
        let (p, se) = proportion(25, 100);
        assert_eq!(p, 0.25);
        assert!((se - (0.25f64 * 0.75 / 100.0).sqrt()).abs() < 1e-15);
    }
}
