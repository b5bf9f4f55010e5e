//! Summaries of very large runs: above [`SKETCH_ABOVE_PATHS`] paths a run is simulated in chunks
//! of [`CHUNK_PATHS`] paths ([`crate::engine::simulate_chunks`]) and each (council or England,
//! year, metric) column is summarised as the chunks go, so the memory a run holds no longer grows
//! with its paths (README "Performance", issue 12's fifth round).
//!
//! What stays exact: every mean (the column's values added in path order from -0.0 across the
//! chunks, the same bits as the exact summary's sum), a column that is the same on every path
//! (its value, as in the exact summary), the probabilities and expected shortfalls of
//! `summary.csv`, and the distribution of the number of councils over reserves (counts of
//! paths). What is approximate: the percentiles p05 to p95 of the other columns, read from a
//! DDSketch (`sketches-ddsketch`) with relative accuracy [`RELATIVE_ACCURACY`]: each sketched
//! percentile is within 0.1% (of its size) of the order statistic at rank `floor(p (n - 1))`,
//! the lower of the two that the exact (type 7) percentile interpolates between (tested against
//! exact percentiles of real runs). Values smaller in size than half the last digit written
//! count as zero.
//!
//! Every column receives its values in path order, whatever the thread count, and a DDSketch's
//! answer depends only on how many values fell in each of its bins, so sketched results are the
//! same bits at every thread count.

use crate::engine::{CouncilPaths, EnglandPaths, Tiles};
use crate::metric::{Metric, NationalMetric};
use crate::summary::{CouncilSummary, NationalSummary, OverrideEnd, Stats, PERCENTILES};
use rayon::prelude::*;
use sketches_ddsketch::{Config, DDSketch};

/// Runs of more paths than this summarise their percentiles with a sketch; runs up to it (the
/// 100,000 paths that fit in 1 GB exactly) are exact and unchanged.
pub const SKETCH_ABOVE_PATHS: usize = 100_000;

/// Paths simulated at once in a sketched run (256 blocks of 64): a chunk's results for one
/// council and England's sums over it are about 120 MB over 12 years.
pub const CHUNK_PATHS: usize = 16_384;

/// The DDSketch's relative accuracy: a sketched percentile is within this fraction of its size
/// of the order statistic it stands for.
pub const RELATIVE_ACCURACY: f64 = 0.001;

/// Bins per sign of a sketch. With [`RELATIVE_ACCURACY`] a bin spans a factor of
/// (1 + 0.001) / (1 - 0.001), so 18,432 bins span a factor of about 10^16: from half a pound (or
/// plan) to beyond the largest plausible figure ([`crate::summary::MAX_PLAUSIBLE`]), so no sketch
/// ever merges bins (which would lose the guarantee for the smallest values).
pub const MAX_BINS: u32 = 18_432;

/// The memory a column's summary holds on average in a sketched run, in bytes: a sketch's bins
/// (8 bytes each, as many as the column's values span, about 4,600 per factor of 10), its
/// header, and nothing for the columns that are the same on every path: set so that the
/// estimate is about 5% above the peak measured at 1,000,000 paths (1.37 GB). See
/// [`memory_estimate`].
pub const BYTES_PER_COLUMN: u64 = 18_000;

/// The memory a sketched run of `paths` paths over `years` years and `councils` councils holds,
/// in bytes (an estimate): one chunk's results (as [`crate::engine::memory_estimate`] for a
/// chunk), a column per thread for the sketches' feed, and [`BYTES_PER_COLUMN`] per column of
/// every council and England. It does not grow with `paths` beyond a chunk; the sketches' bins
/// grow only as the tails widen (README "Performance", fifth round, has the measured figures).
pub fn memory_estimate(paths: usize, years: usize, threads: usize, councils: usize) -> u64 {
    let chunk = paths.min(CHUNK_PATHS);
    let columns = (councils * Metric::COUNT + NationalMetric::COUNT) * years;
    crate::engine::memory_estimate(chunk, years, 0)
        + (threads + 1) as u64 * chunk as u64 * 8
        + columns as u64 * BYTES_PER_COLUMN
}

/// How a run's percentiles are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Percentiles {
    /// From every path's value (type 7), all paths held at once.
    Exact,
    /// From a DDSketch per column, the paths run in chunks.
    Sketched,
}

impl Percentiles {
    /// Exact up to `sketch_above` paths, sketched above.
    pub fn for_paths(paths: usize, sketch_above: usize) -> Self {
        if paths > sketch_above {
            Percentiles::Sketched
        } else {
            Percentiles::Exact
        }
    }
}

/// What the manifest records of a sketched run's percentiles.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SketchRecord {
    pub method: &'static str,
    pub crate_name: &'static str,
    pub relative_accuracy: f64,
    pub max_bins: u32,
    pub zero_below: &'static str,
    pub chunk_paths: usize,
    pub error: &'static str,
    pub exact: &'static str,
}

impl SketchRecord {
    pub fn new() -> Self {
        SketchRecord {
            method: "DDSketch per council (or England), year and metric, fed every path in path order",
            crate_name: "sketches-ddsketch 0.4",
            relative_accuracy: RELATIVE_ACCURACY,
            max_bins: MAX_BINS,
            zero_below: "half the last digit written (0.5 for pounds, plans, places and councils; 0.00005 for ratios and flags)",
            chunk_paths: CHUNK_PATHS,
            error: "each of p05, p25, p50, p75, p95 is within 0.1% of its size of the order statistic at rank floor(p (paths - 1)) (the exact type-7 percentile lies between that one and the next)",
            exact: "means, columns that are the same on every path, summary.csv's probabilities and expected shortfalls, councils_over_reserves.csv",
        }
    }
}

impl Default for SketchRecord {
    fn default() -> Self {
        Self::new()
    }
}

/// One column's summary so far: the sum of its values in path order, and its values while they
/// are all the same, then a sketch.
#[derive(Clone)]
struct Column {
    sum: f64,
    paths: u64,
    /// The first value's bits, and whether every value so far has had them.
    first: Option<u64>,
    sketch: Option<Box<DDSketch>>,
    /// Values smaller in size count as zero.
    zero_below: f64,
}

impl Column {
    fn new(decimals: usize) -> Self {
        Column {
            sum: -0.0,
            paths: 0,
            first: None,
            sketch: None,
            zero_below: 0.5 * 10f64.powi(-(decimals as i32)),
        }
    }

    /// Adds the next paths' values, in path order.
    fn add(&mut self, values: &[f64]) {
        for v in values {
            self.sum += v;
        }
        if self.sketch.is_none() {
            let first = *self.first.get_or_insert(values[0].to_bits());
            if values.iter().all(|v| v.to_bits() == first) {
                self.paths += values.len() as u64;
                return;
            }
            let mut sketch =
                DDSketch::new(Config::new(RELATIVE_ACCURACY, MAX_BINS, self.zero_below));
            let constant = f64::from_bits(first);
            if constant.is_finite() {
                sketch.add_with_count(constant, self.paths);
            }
            self.sketch = Some(Box::new(sketch));
        }
        let sketch = self.sketch.as_mut().expect("made above");
        // A value that is not finite makes the sum, and so the mean, not finite: the run is
        // refused (`RunReport::check_figures`), so the sketch need not see it.
        for &v in values.iter().filter(|v| v.is_finite()) {
            sketch.add(v);
        }
        self.paths += values.len() as u64;
    }

    fn stats(&self) -> Stats {
        if self.paths == 0 {
            return Stats::default();
        }
        let mean = self.sum / self.paths as f64;
        match &self.sketch {
            None => Stats::constant(mean, f64::from_bits(self.first.unwrap_or(0))),
            Some(sketch) => Stats::with_percentiles(
                mean,
                PERCENTILES.map(|p| sketch.quantile(p).ok().flatten().unwrap_or(f64::NAN)),
            ),
        }
    }
}

/// Columns `[t * width + k]` of results laid out in `tiles`, fed one year per task (each column
/// gets its values in path order, whatever the thread count).
fn add_table(columns: &mut [Column], tiles: Tiles, values: &[f64]) {
    columns
        .par_chunks_mut(tiles.width)
        .enumerate()
        .for_each(|(t, year)| {
            let mut column = vec![0.0; tiles.paths];
            for (k, summary) in year.iter_mut().enumerate() {
                tiles.column(values, t, k, &mut column);
                summary.add(&column);
            }
        });
}

/// A mean and its Monte Carlo standard error, merged chunk by chunk (Chan et al.'s pairwise
/// update of the sum of squared deviations) in chunk order.
#[derive(Clone, Default)]
struct MeanSe {
    sum: f64,
    paths: u64,
    mean: f64,
    squares: f64,
}

impl MeanSe {
    fn new() -> Self {
        MeanSe {
            sum: -0.0,
            ..Default::default()
        }
    }
    fn add(&mut self, values: &[f64]) {
        let n = values.len() as f64;
        let chunk_sum: f64 = values.iter().sum();
        for v in values {
            self.sum += v;
        }
        let chunk_mean = chunk_sum / n;
        let chunk_squares: f64 = values.iter().map(|v| (v - chunk_mean).powi(2)).sum();
        let before = self.paths as f64;
        let total = before + n;
        let delta = chunk_mean - self.mean;
        self.mean += delta * n / total;
        self.squares += chunk_squares + delta * delta * before * n / total;
        self.paths += values.len() as u64;
    }
    /// (mean, standard error), as [`crate::summary::mean_se`].
    fn get(&self) -> (f64, f64) {
        let n = (self.paths as f64).max(1.0);
        let var = self.squares / (n - 1.0).max(1.0);
        (self.sum / n, (var / n).sqrt())
    }
}

/// A council's summary built chunk by chunk.
#[derive(Clone)]
pub struct CouncilSketch {
    council: usize,
    columns: Vec<Column>,
    exceeds: usize,
    sv_breach: usize,
    shortfall: MeanSe,
    paths: usize,
}

impl CouncilSketch {
    pub fn new(council: usize, years: usize) -> Self {
        CouncilSketch {
            council,
            columns: (0..years)
                .flat_map(|_| Metric::ALL.map(|m| Column::new(m.decimals())))
                .collect(),
            exceeds: 0,
            sv_breach: 0,
            shortfall: MeanSe::new(),
            paths: 0,
        }
    }

    /// Adds a chunk of the council's paths (the next ones, in path order).
    pub fn add(&mut self, chunk: &CouncilPaths, override_t: usize) {
        add_table(&mut self.columns, chunk.tiles(), &chunk.values);
        let mut column = vec![0.0; chunk.paths];
        let hits = |m: Metric, column: &mut Vec<f64>| {
            chunk.column(override_t, m, column);
            column.iter().filter(|v| **v > 0.5).count()
        };
        self.exceeds += hits(Metric::DeficitExceedsReserves, &mut column);
        self.sv_breach += hits(Metric::SvBreach, &mut column);
        chunk.column(override_t, Metric::Shortfall, &mut column);
        self.shortfall.add(&column);
        self.paths += chunk.paths;
    }

    /// The council's summary, as [`crate::summary::summarise_council`] gives an exact one.
    pub fn summary(&self, override_t: usize) -> CouncilSummary {
        let stats: Vec<Stats> = self.columns.iter().map(Column::stats).collect();
        let get = |m: Metric| stats[override_t * Metric::COUNT + m.index()];
        let proportion = |hits| crate::summary::proportion(hits, self.paths);
        let at_override = OverrideEnd {
            deficit: get(Metric::CumulativeDeficit),
            reserves: get(Metric::Reserves),
            ratio: get(Metric::DeficitToReserves),
            p_exceeds: proportion(self.exceeds),
            expected_shortfall: self.shortfall.get(),
            p_sv_breach: proportion(self.sv_breach),
        };
        CouncilSummary {
            council: self.council,
            stats,
            at_override,
        }
    }
}

/// England's summary built chunk by chunk, and the number of paths with each number of
/// councils over reserves at the override end.
pub struct EnglandSketch {
    columns: Vec<Column>,
    over_reserves: Vec<usize>,
}

impl EnglandSketch {
    pub fn new(years: usize, councils: usize) -> Self {
        EnglandSketch {
            columns: (0..years)
                .flat_map(|_| NationalMetric::ALL.map(|m| Column::new(m.decimals())))
                .collect(),
            over_reserves: vec![0; councils + 1],
        }
    }

    /// Adds a chunk of England's per-path sums (the next paths, in path order).
    pub fn add(&mut self, chunk: &EnglandPaths, override_t: usize) {
        add_table(&mut self.columns, chunk.tiles(), &chunk.values);
        count_over_reserves(chunk, override_t, &mut self.over_reserves);
    }

    pub fn summary(&self) -> NationalSummary {
        NationalSummary {
            stats: self.columns.iter().map(Column::stats).collect(),
        }
    }

    /// Paths by number of councils over reserves at the override end (index = councils).
    pub fn over_reserves(&self) -> &[usize] {
        &self.over_reserves
    }
}

/// Adds to `counts[c]` the paths of `england` on which `c` councils end year `t` with a deficit
/// above reserves (`counts` has a slot for each number of councils, 0 to all).
pub fn count_over_reserves(england: &EnglandPaths, t: usize, counts: &mut [usize]) {
    let n = counts.len() - 1;
    let over = NationalMetric::Council(Metric::DeficitExceedsReserves);
    for p in 0..england.paths {
        let v = england.get(p, t, over).round().clamp(0.0, n as f64) as usize;
        counts[v] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_stays_exact_while_constant_and_keeps_its_count_when_it_stops_being() {
        let mut c = Column::new(0);
        c.add(&[7.0; 100]);
        let s = c.stats();
        assert_eq!((s.mean, s.p05, s.p95), (7.0, 7.0, 7.0));
        c.add(&[1000.0; 100]);
        let s = c.stats();
        // Half the values are 7, half 1000: p25 near 7 and p75 near 1000, within 0.1%.
        assert!((s.p25 - 7.0).abs() <= 7.0 * RELATIVE_ACCURACY, "{s:?}");
        assert!(
            (s.p75 - 1000.0).abs() <= 1000.0 * RELATIVE_ACCURACY,
            "{s:?}"
        );
        assert_eq!(s.mean, (7.0 * 100.0 + 1000.0 * 100.0) / 200.0);
    }

    #[test]
    fn chunked_standard_errors_match_the_two_pass_ones() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64 * 1.5e6).collect();
        let want = crate::summary::mean_se(&values);
        let mut m = MeanSe::new();
        for chunk in values.chunks(128) {
            m.add(chunk);
        }
        let got = m.get();
        assert_eq!(got.0.to_bits(), want.0.to_bits());
        assert!((got.1 - want.1).abs() <= 1e-9 * want.1, "{got:?} {want:?}");
    }

    #[test]
    fn values_smaller_than_half_the_last_digit_count_as_zero() {
        let mut c = Column::new(0);
        let values: Vec<f64> = (0..1000).map(|i| if i < 600 { 0.3 } else { 5e6 }).collect();
        c.add(&values);
        assert_eq!(c.stats().p50, 0.0);
        assert!((c.stats().p95 - 5e6).abs() <= 5e6 * RELATIVE_ACCURACY);
    }
}
