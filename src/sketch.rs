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

use crate::engine::{CouncilPaths, EnglandPaths, Tiles, COLUMNS_AT_ONCE};
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

/// The memory a column's summary holds on average in a sketched run, in bytes: its bins' counts
/// (4 bytes each, as many as the column's values span, about 4,600 per factor of 10), its
/// header, and nothing for the columns that are the same on every path: set so that the
/// estimate with `highneeds run`'s 64 MiB base (0.87 GB) is about 5% above the peak measured at
/// 1,000,000 paths on 2 threads with the counts kept as `u32` (0.83 GB, 810,976 KiB, main
/// `d1a80ac`; it was 18,000 for the crate's own 8-byte store and a 1.37 GB peak). See
/// [`memory_estimate`].
pub const BYTES_PER_COLUMN: u64 = 9_600;

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

/// The crate's bin key ([`Config::key`], `floor(ln(x) / ln(gamma))`) of `x > min_possible`,
/// worked out without a call to `ln` for almost every value: [`KeyCells`], built from an
/// estimate of the logarithm from `x`'s exponent and a short series for its mantissa (absolute
/// error below 1e-10, a few hundred-millionths of a bin), and the crate's own `key` only where
/// a value lies within [`KEY_MARGIN`] (or [`EDGE_WINDOW`] doubles) of a bin's edge, where the
/// two computations could round to different sides. So every value gets the crate's key, bit
/// for bit (tested).
#[derive(Clone, Copy)]
struct Keys {
    config: Config,
    /// `1 / ln(gamma)`.
    per_ln: f64,
}

/// How close (in bins) to a bin's edge the estimate at a cell's end may come before the crate's
/// `key` decides every value of the cell ([`KeyCells`]): far above the estimate's error (below
/// 1e-7 bins).
const KEY_MARGIN: f64 = 1e-5;

/// 1.5 * 2^52: a whole number `k` of size below 2^31 plus this is exact, with `k` in the low
/// 32 bits of its bits (two's complement), which are those of `KEY_BITS` plus `k`.
const KEY_BITS: f64 = 6_755_399_441_055_744.0;

/// The key held in the bits of `key + KEY_BITS` ([`KeyCells::sure_key_bits`]).
#[inline]
fn key_of_bits(bits: u64) -> i32 {
    bits as u32 as i32
}

impl Keys {
    fn new(config: Config) -> Self {
        Keys {
            config,
            per_ln: 1.0 / config.gamma.ln(),
        }
    }

    /// `ln(x) / ln(gamma)` to within about 1e-7, for a positive normal `x`: the key before
    /// rounding down.
    #[inline]
    fn estimate(&self, x: f64) -> f64 {
        ln(x) * self.per_ln
    }

    /// The crate's key of `x > 0`: its cell's ([`KeyCells`]), else the crate's own.
    #[cfg(test)]
    fn key(&self, x: f64) -> i32 {
        let cells = KeyCells::get();
        assert_eq!(cells.per_ln.to_bits(), self.per_ln.to_bits());
        match cells.sure_key_bits(x) {
            0 => self.config.key(x),
            bits => key_of_bits(bits),
        }
    }

    /// A value whose key is `key` and which is above `floor` (the sketch's zero threshold):
    /// the crate's value for the bin, or, if that is not above `floor` (the lowest bin), the
    /// least double above `floor` in the bin. `None` if the bin has no such value.
    fn representative(&self, key: i32, floor: f64) -> Option<f64> {
        let value = self.config.value(key);
        if value > floor && self.config.key(value) == key {
            return Some(value);
        }
        // The least positive double above `floor` whose key is at least `key` (keys do not
        // fall as values rise).
        let (mut low, mut high) = (floor.to_bits() + 1, f64::MAX.to_bits());
        while low < high {
            let middle = low + (high - low) / 2;
            if self.config.key(f64::from_bits(middle)) >= key {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        let value = f64::from_bits(low);
        (self.config.key(value) == key).then_some(value)
    }
}

/// Mantissa bits that pick a cell of [`KeyCells`]: a cell is 2^-10 of its power of two, at
/// most about half a bin wide (a bin spans a factor of 1.002), so it holds at most one bin's
/// edge.
const CELL_BITS: u32 = 10;

/// Doubles in a cell: their bits are `CELL_ULPS` consecutive numbers.
const CELL_ULPS: u64 = 1 << (52 - CELL_BITS);

/// The powers of two [`KeyCells`] covers, as biased exponents: from 2^-20 (about 1e-6, below
/// every column's zero threshold, the least of which is 0.00005) to 2^53 (about 9e15, beyond
/// [`crate::summary::MAX_PLAUSIBLE`]).
const CELL_EXPONENTS: std::ops::Range<u64> = 1003..1076;

/// Doubles on each side of a cell's edge whose key the crate's own `key` decides: 2^28, between
/// 1.5e-5 and 3e-5 of a bin, a hundred times the estimate's error (below 1e-7 of a bin).
const EDGE_WINDOW: u64 = 1 << 28;

/// The crate's key of every double in [`CELL_EXPONENTS`] from two numbers per cell of
/// [`CELL_BITS`] mantissa bits: the key at the cell's start and where in the cell the next key
/// begins (if it does). A value's cell is its bits shifted right (the exponent and the top
/// mantissa bits), so its key is a load, a subtraction and a comparison, where working out the
/// logarithm's estimate for each value ([`Keys::estimate`] and its rounding down) cost a
/// division and a series of dependent steps (about 6 ns a value in this machine's two-lane
/// SSE2, most of a sketched run's feed). Built once (about 75,000 cells, some 600 KB) from the
/// estimate at each cell's ends and, in the cells it crosses an edge in, a bisection for the
/// first double whose estimate reaches the next key. Values within [`EDGE_WINDOW`] doubles of
/// that edge, and every value of the few cells whose ends lie within [`KEY_MARGIN`] of an
/// edge, are left to the crate's `key`, so every value gets the crate's key bit for bit
/// (tested). Every column's keys have the same `gamma` ([`RELATIVE_ACCURACY`]; only the zero
/// threshold differs, which the key does not read).
struct KeyCells {
    /// `per_ln` of the keys the cells were built from (a column's keys must have it).
    per_ln: f64,
    /// Per cell: the key at its start in the top 16 bits (two's complement), and below them the
    /// edge's place in the cell ([`KeyCells::NO_EDGE`] where it has none).
    cells: Vec<u64>,
}

impl KeyCells {
    /// The edge of a cell with one key throughout: farther from any of its doubles than
    /// [`EDGE_WINDOW`].
    const NO_EDGE: u64 = 1 << 46;

    /// The key of a cell whose every value the crate's key decides.
    const ASK: i16 = i16::MIN;

    /// The first cell's index in a double's bits shifted right by `52 - CELL_BITS`.
    const FIRST: u64 = CELL_EXPONENTS.start << CELL_BITS;

    fn new(keys: &Keys) -> Self {
        let count = (CELL_EXPONENTS.end - CELL_EXPONENTS.start) << CELL_BITS;
        let start = |cell: u64| (Self::FIRST + cell) << (52 - CELL_BITS);
        let estimate = |bits: u64| keys.estimate(f64::from_bits(bits));
        let entry = |key: f64, edge: u64| (u64::from(key as i16 as u16) << 48) | edge;
        let ask = entry(f64::from(Self::ASK), Self::NO_EDGE);
        let cells = (0..count)
            .map(|cell| {
                // The estimates at the cell's first double and at the next cell's.
                let (first, end) = (start(cell), start(cell + 1));
                let (low, high) = (estimate(first), estimate(end));
                let key = low.floor();
                if low - key <= KEY_MARGIN || high >= key + 2.0 - KEY_MARGIN {
                    return ask;
                }
                if high < key + 1.0 - KEY_MARGIN {
                    return entry(key, Self::NO_EDGE);
                }
                // The first double whose estimate reaches `key + 1`: the estimate is below it
                // at `first` and not below it at `end`, so the bisection keeps a crossing.
                let (mut below, mut reached) = (first, end);
                while reached - below > 1 {
                    let middle = below + (reached - below) / 2;
                    if estimate(middle) >= key + 1.0 {
                        reached = middle;
                    } else {
                        below = middle;
                    }
                }
                let edge = reached - first;
                if edge < EDGE_WINDOW || CELL_ULPS - edge < EDGE_WINDOW {
                    ask
                } else {
                    entry(key, edge)
                }
            })
            .collect();
        KeyCells {
            per_ln: keys.per_ln,
            cells,
        }
    }

    /// The cells for [`RELATIVE_ACCURACY`], built on first use.
    fn get() -> &'static KeyCells {
        static CELLS: std::sync::OnceLock<KeyCells> = std::sync::OnceLock::new();
        CELLS.get_or_init(|| {
            KeyCells::new(&Keys::new(Config::new(RELATIVE_ACCURACY, MAX_BINS, 1.0)))
        })
    }

    /// The crate's key of `x >= 0` from its cell, as the bits of `key + 1.5 * 2^52` (the key is
    /// their low 32 bits: [`key_of_bits`]); 0, which no key has, where the crate's `key` must
    /// decide: `x` near an edge, in a cell that asks, or outside the cells (zero, tiny, huge,
    /// infinite or NaN). No division and no floating-point arithmetic.
    #[inline]
    fn sure_key_bits(&self, x: f64) -> u64 {
        let bits = x.to_bits();
        let cell = (bits >> (52 - CELL_BITS)).wrapping_sub(Self::FIRST);
        let Some(&entry) = self.cells.get(cell as usize) else {
            return 0;
        };
        let key = (entry >> 48) as u16 as i16;
        let from_edge = (bits & (CELL_ULPS - 1)) as i64 - (entry & (Self::NO_EDGE * 2 - 1)) as i64;
        if key == Self::ASK || from_edge.unsigned_abs() < EDGE_WINDOW {
            return 0;
        }
        let key = i64::from(key) + i64::from(from_edge >= 0);
        KEY_BITS.to_bits().wrapping_add(key as u64)
    }
}

/// The natural logarithm of a positive normal `x`, to within about 1e-10: `x = m 2^e` with
/// `m` in [sqrt(1/2), sqrt(2)), and `ln m = 2 (s + s^3/3 + ... + s^11/11)`, `s = (m-1)/(m+1)`
/// (`|s|` < 0.172, so the terms left out add up to less than 2e-11).
#[inline]
fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as f64 - 1023.0;
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1.0;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
    exponent * std::f64::consts::LN_2 + 2.0 * s * series
}

/// How many values fell in each of a sign's bins (the crate's keys), dense between the least and
/// the greatest key seen.
#[derive(Clone, Default)]
struct Bins {
    /// The key of `counts[0]`.
    offset: i32,
    counts: Vec<u32>,
}

impl Bins {
    #[inline]
    fn increment(&mut self, key: i32) {
        let index = key.wrapping_sub(self.offset) as u32 as usize;
        match self.counts.get_mut(index) {
            Some(count) => *count += 1,
            None => self.add(key, 1),
        }
    }

    /// Adds `count` values in bin `key`, widening the bins (with room for 64 more on the side
    /// that grows) if `key` is outside them.
    fn add(&mut self, key: i32, count: u32) {
        if self.counts.is_empty() {
            self.offset = key;
            self.counts.push(0);
        }
        let end = self.offset + self.counts.len() as i32;
        if key < self.offset {
            let low = key - 64;
            let mut counts = vec![0; (self.offset - low) as usize];
            counts.append(&mut self.counts);
            self.counts = counts;
            self.offset = low;
        } else if key >= end {
            self.counts.resize((key + 65 - self.offset) as usize, 0);
        }
        self.counts[(key - self.offset) as usize] += count;
    }

    /// Each bin with values in it: (key, count).
    fn filled(&self) -> impl Iterator<Item = (i32, u32)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(i, count)| (self.offset + i as i32, *count))
    }
}

/// A column's values binned as a DDSketch bins them (the crate's keys, each sign apart, and the
/// values counted as zero): the sketch itself is built from these counts when the column is
/// summarised ([`Histogram::sketch`]), so its bins hold the same counts as a sketch fed every
/// value one at a time, and it answers the same percentiles.
#[derive(Clone, Default)]
struct Histogram {
    positive: Bins,
    negative: Bins,
    zeros: u64,
}

impl Histogram {
    /// Adds `count` values `v` (finite), as `DDSketch::add_with_count` bins them.
    fn add(&mut self, keys: &Keys, zero_below: f64, v: f64, count: u32) {
        if v > zero_below {
            self.positive.add(keys.config.key(v), count);
        } else if v < -zero_below {
            self.negative.add(keys.config.key(-v), count);
        } else {
            self.zeros += u64::from(count);
        }
    }

    /// Adds the finite ones of `values`, with `keys_of` as scratch: first every value's key
    /// where its cell is sure of it ([`KeyCells::sure_key_bits`]), then the bins (the crate's
    /// `key` for the rest).
    fn add_all(&mut self, keys: &Keys, zero_below: f64, values: &[f64], keys_of: &mut Vec<u64>) {
        keys_of.clear();
        keys_of.resize(values.len(), 0);
        let cells = KeyCells::get();
        debug_assert_eq!(cells.per_ln.to_bits(), keys.per_ln.to_bits());
        for (key, v) in keys_of.iter_mut().zip(values) {
            *key = cells.sure_key_bits(v.abs());
        }
        for (&v, &bits) in values.iter().zip(keys_of.iter()) {
            if bits != 0 {
                // `v` is finite and not zero.
                if v > zero_below {
                    self.positive.increment(key_of_bits(bits));
                } else if v < -zero_below {
                    self.negative.increment(key_of_bits(bits));
                } else {
                    self.zeros += 1;
                }
            } else if v.is_finite() {
                self.add(keys, zero_below, v, 1);
            }
        }
    }

    /// The DDSketch holding these counts: each bin's count added at once with a value of that
    /// bin, the least and greatest bins first (so the sketch sizes its store once).
    fn sketch(&self, keys: &Keys, zero_below: f64) -> DDSketch {
        let mut sketch = DDSketch::new(keys.config);
        for (bins, sign) in [(&self.positive, 1.0), (&self.negative, -1.0)] {
            let mut filled: Vec<(i32, u32)> = bins.filled().collect();
            if filled.len() > 2 {
                let last = filled.len() - 1;
                filled.swap(1, last);
            }
            for (key, count) in filled {
                let value = keys
                    .representative(key, zero_below)
                    .expect("a bin that holds values has a value above the zero threshold");
                sketch.add_with_count(sign * value, u64::from(count));
            }
        }
        sketch.add_with_count(0.0, self.zeros);
        sketch
    }
}

/// One column's summary so far: the sum of its values in path order, and its values while they
/// are all the same, then their bins.
#[derive(Clone)]
struct Column {
    sum: f64,
    paths: u64,
    /// The first value's bits, and whether every value so far has had them.
    first: Option<u64>,
    bins: Option<Box<Histogram>>,
    /// Values smaller in size count as zero.
    zero_below: f64,
    keys: Keys,
}

impl Column {
    fn new(decimals: usize) -> Self {
        let zero_below = 0.5 * 10f64.powi(-(decimals as i32));
        Column {
            sum: -0.0,
            paths: 0,
            first: None,
            bins: None,
            zero_below,
            keys: Keys::new(Config::new(RELATIVE_ACCURACY, MAX_BINS, zero_below)),
        }
    }

    /// Adds the next paths' values, in path order (`scratch`: room for the bins' work).
    #[cfg(test)]
    fn add(&mut self, values: &[f64], scratch: &mut Vec<u64>) {
        let mut sum = self.sum;
        for v in values {
            sum += v;
        }
        self.add_summed(values, sum, scratch);
    }

    /// [`Column::add`] with the sum already carried on over `values` (from `self.sum`, in path
    /// order: see [`Tiles::columns_onto`]).
    fn add_summed(&mut self, values: &[f64], sum: f64, scratch: &mut Vec<u64>) {
        let paths = self.paths + values.len() as u64;
        assert!(
            paths <= u64::from(u32::MAX),
            "a sketched column counts at most 2^32 - 1 paths"
        );
        self.sum = sum;
        if self.bins.is_none() {
            let first = *self.first.get_or_insert(values[0].to_bits());
            if values.iter().all(|v| v.to_bits() == first) {
                self.paths = paths;
                return;
            }
            let mut bins = Histogram::default();
            let constant = f64::from_bits(first);
            // A value that is not finite makes the sum, and so the mean, not finite: the run is
            // refused (`RunReport::check_figures`), so the bins need not count it.
            if constant.is_finite() && self.paths > 0 {
                bins.add(&self.keys, self.zero_below, constant, self.paths as u32);
            }
            self.bins = Some(Box::new(bins));
        }
        let bins = self.bins.as_mut().expect("made above");
        bins.add_all(&self.keys, self.zero_below, values, scratch);
        self.paths = paths;
    }

    fn stats(&self) -> Stats {
        if self.paths == 0 {
            return Stats::default();
        }
        let mean = self.sum / self.paths as f64;
        match &self.bins {
            None => Stats::constant(mean, f64::from_bits(self.first.unwrap_or(0))),
            Some(bins) => {
                let sketch = bins.sketch(&self.keys, self.zero_below);
                Stats::with_percentiles(
                    mean,
                    PERCENTILES.map(|p| sketch.quantile(p).ok().flatten().unwrap_or(f64::NAN)),
                )
            }
        }
    }
}

thread_local! {
    /// Each thread's [`COLUMNS_AT_ONCE`] columns and the bins' scratch for [`add_table`], kept
    /// from one chunk to the next (allocated afresh, their pages were faulted in every time).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<u64>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Columns `[t * width + k]` of results laid out in `tiles`, fed one year per task (each column
/// gets its values in path order, whatever the thread count), [`COLUMNS_AT_ONCE`] metrics at a
/// time with their sums carried on in one pass ([`Tiles::columns_onto`]).
fn add_table(columns: &mut [Column], tiles: Tiles, values: &[f64]) {
    let paths = tiles.paths;
    if paths == 0 {
        return;
    }
    columns
        .par_chunks_mut(tiles.width)
        .enumerate()
        .for_each(|(t, year)| {
            SCRATCH.with_borrow_mut(|(out, scratch)| {
                out.resize(COLUMNS_AT_ONCE * paths, 0.0);
                for (g, group) in year.chunks_mut(COLUMNS_AT_ONCE).enumerate() {
                    let first = g * COLUMNS_AT_ONCE;
                    let mut sums = [0.0; COLUMNS_AT_ONCE];
                    for (sum, column) in sums.iter_mut().zip(group.iter()) {
                        *sum = column.sum;
                    }
                    tiles.columns_onto(values, t, first..first + group.len(), out, &mut sums);
                    for ((summary, column), sum) in
                        group.iter_mut().zip(out.chunks_exact(paths)).zip(sums)
                    {
                        summary.add_summed(column, sum, scratch);
                    }
                }
            })
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
        c.add(&[7.0; 100], &mut Vec::new());
        let s = c.stats();
        assert_eq!((s.mean, s.p05, s.p95), (7.0, 7.0, 7.0));
        c.add(&[1000.0; 100], &mut Vec::new());
        let s = c.stats();
        // Half the values are 7, half 1000: p25 near 7 and p75 near 1000, within 0.1%.
        assert!((s.p25 - 7.0).abs() <= 7.0 * RELATIVE_ACCURACY, "{s:?}");
        assert!(
            (s.p75 - 1000.0).abs() <= 1000.0 * RELATIVE_ACCURACY,
            "{s:?}"
        );
        assert_eq!(s.mean, (7.0 * 100.0 + 1000.0 * 100.0) / 200.0);
    }

    /// Values from a fixed generator: log-uniform over 25 factors of 10, both signs, and the
    /// doubles next to many bins' edges.
    fn awkward_values(config: &Config) -> Vec<f64> {
        let mut next = crate::fixtures::xorshift_uniform(0x9E37_79B9_7F4A_7C15);
        let mut values: Vec<f64> = (0..200_000)
            .map(|_| 10f64.powf(next() * 25.0 - 6.0) * if next() < 0.3 { -1.0 } else { 1.0 })
            .collect();
        for key in (-8_000..18_000).step_by(7) {
            let edge = config.pow_gamma(key);
            for step in -3i64..=3 {
                values.push(f64::from_bits((edge.to_bits() as i64 + step) as u64));
            }
        }
        values
    }

    #[test]
    fn keys_are_the_crates_bit_for_bit() {
        let config = Config::new(RELATIVE_ACCURACY, MAX_BINS, 0.5);
        let keys = Keys::new(config);
        let cells = KeyCells::get();
        let mut asked = 0;
        for v in awkward_values(&config) {
            let x = v.abs();
            assert_eq!(keys.key(x), config.key(x), "{x:e}");
            asked += usize::from(cells.sure_key_bits(x) == 0);
            assert!(
                (ln(x) - x.ln()).abs() < 1e-10,
                "{x:e}: {} against {}",
                ln(x),
                x.ln()
            );
        }
        // Only the 26,000 values next to a bin's edge, and those above the cells (2^53: about an
        // eighth of the 200,000 log-uniform ones), ask the crate.
        assert!(asked < 52_000, "{asked}");
    }

    /// Every cell's key at its first and last doubles, and at the doubles around its edge (just
    /// inside and outside the window the crate decides), is the crate's; the cells decide all
    /// but a few of them.
    #[test]
    fn cells_give_the_crates_keys_at_their_ends_and_edges() {
        let config = Config::new(RELATIVE_ACCURACY, MAX_BINS, 0.5);
        let cells = KeyCells::get();
        let (mut checked, mut asked, mut with_edge) = (0, 0, 0);
        let mut check = |bits: u64| {
            let x = f64::from_bits(bits);
            match cells.sure_key_bits(x) {
                0 => asked += 1,
                key => assert_eq!(key_of_bits(key), config.key(x), "{x:e} ({bits:#x})"),
            }
            checked += 1;
        };
        for (cell, &entry) in cells.cells.iter().enumerate() {
            let first = (KeyCells::FIRST + cell as u64) << (52 - CELL_BITS);
            for offset in [0, 1, CELL_ULPS / 2, CELL_ULPS - 2, CELL_ULPS - 1] {
                check(first + offset);
            }
            let edge = entry & (KeyCells::NO_EDGE * 2 - 1);
            if edge < CELL_ULPS {
                with_edge += 1;
                for offset in [
                    edge - EDGE_WINDOW - 1,
                    edge - EDGE_WINDOW,
                    edge - EDGE_WINDOW + 1,
                    edge - 1,
                    edge,
                    edge + EDGE_WINDOW - 1,
                    edge + EDGE_WINDOW,
                    edge + EDGE_WINDOW + 1,
                ] {
                    check(first + offset);
                }
            }
        }
        let count = cells.cells.len();
        assert_eq!(count, 73 << CELL_BITS);
        // A bin spans 2 to 4 cells, so a quarter to a half of them hold an edge.
        assert!(
            with_edge > count / 4 && with_edge < count / 2,
            "{with_edge} of {count}"
        );
        // The crate decides the 4 doubles within the window around each edge, and all of a
        // cell whose end comes within `KEY_MARGIN` of an edge (a few in 10,000).
        assert!(
            asked <= 4 * with_edge + checked / 1_000,
            "{asked} of {checked}"
        );
    }

    #[test]
    fn binned_columns_answer_as_a_sketch_fed_one_value_at_a_time() {
        for decimals in [0, 4] {
            let mut column = Column::new(decimals);
            let values = awkward_values(&column.keys.config);
            let mut one_at_a_time = DDSketch::new(column.keys.config);
            // A constant start, then everything in chunks, with zeros and non-finite values.
            let mut all = vec![3.25; 1000];
            all.extend(values.iter().map(|v| v * 1e-3).filter(|v| v.abs() < 1e12));
            all.extend([0.0, -0.0, 1e-7, f64::NAN, f64::INFINITY, 0.4]);
            for chunk in all.chunks(4096) {
                column.add(chunk, &mut Vec::new());
            }
            for &v in all.iter().filter(|v| v.is_finite()) {
                one_at_a_time.add(v);
            }
            let got = column.stats().percentiles();
            for (p, got) in PERCENTILES.iter().zip(got) {
                let want = one_at_a_time.quantile(*p).unwrap().unwrap();
                assert_eq!(got.to_bits(), want.to_bits(), "p = {p}: {got} != {want}");
            }
        }
    }

    #[test]
    fn a_bin_below_the_crates_value_gets_a_representative_above_the_zero_threshold() {
        let config = Config::new(RELATIVE_ACCURACY, MAX_BINS, 0.5);
        let keys = Keys::new(config);
        let key = config.key(0.5000001);
        let value = keys.representative(key, 0.5).expect("a value");
        assert!(value > 0.5 && config.key(value) == key);
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
        c.add(&values, &mut Vec::new());
        assert_eq!(c.stats().p50, 0.0);
        assert!((c.stats().p95 - 5e6).abs() <= 5e6 * RELATIVE_ACCURACY);
    }
}
