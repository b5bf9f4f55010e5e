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
    stats_with_mean(values, mean, &mut Bins::default())
}

/// [`stats`] with the mean already worked out (summed in `values`' order), and the scratch
/// of [`binned_percentiles`].
fn stats_with_mean(values: &mut [f64], mean: f64, bins: &mut Bins) -> Stats {
    // Many metrics are the same on every path (known years, policies that do not apply).
    let constant = values
        .first()
        .is_some_and(|first| values.iter().all(|v| v.to_bits() == first.to_bits()));
    stats_of_column(values, mean, constant, bins)
}

/// [`stats_with_mean`] told whether every value has the first one's bits (`constant`, which
/// [`Tiles::columns`] finds while it copies the column, so a constant column is not read again).
fn stats_of_column(values: &mut [f64], mean: f64, constant: bool, bins: &mut Bins) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    if constant {
        return Stats::constant(mean, values[0]);
    }
    let ranks = type7_ranks(values.len());
    let binned = (values.len() >= BINNED_FROM)
        .then(|| binned_percentiles(values, ranks, bins))
        .flatten();
    Stats::with_percentiles(mean, binned.unwrap_or_else(|| percentiles(values, ranks)))
}

/// The order statistic below each of the [`PERCENTILES`] of `n` values, type 7: `h = (n - 1) p`
/// rounded down, with the fraction of `h` (the weight of the next order statistic).
fn type7_ranks(n: usize) -> [(usize, f64); 5] {
    PERCENTILES.map(|p| {
        let h = (n - 1) as f64 * p;
        let lo = h.floor() as usize;
        (lo, h - lo as f64)
    })
}

/// The five [`PERCENTILES`] of `values` (reordered in place), type 7: the order statistic at
/// `h = (n - 1) p` rounded down (`ranks`, from [`type7_ranks`]), plus the fraction of `h` times
/// the step to the next one.
///
/// The median is selected first, then each quartile inside its half, then p05 and p95 inside
/// the outer quarters, so each selection partitions only the part between two order
/// statistics already in place; the next order statistic above each is the minimum of the
/// part up to the next one in place. Order statistics are unique bit patterns under
/// `f64::total_cmp`, so the result does not depend on the order of selection.
///
/// Without NaN and negative zeros, `<` on floats orders the values as `f64::total_cmp` does (equal
/// values are then the same bits), so the selections compare floats directly, which is cheaper.
fn percentiles(values: &mut [f64], ranks: [(usize, f64); 5]) -> [f64; 5] {
    let negative_zero = (-0.0_f64).to_bits();
    let unordered = values.iter().fold(false, |any, v| {
        any | v.is_nan() | (v.to_bits() == negative_zero)
    });
    if unordered {
        select_percentiles(values, ranks, f64::total_cmp)
    } else {
        select_percentiles(values, ranks, float_order)
    }
}

/// `<` and `>` as an ordering: `f64::total_cmp`'s order for values without NaN and -0.0
/// (equal values are then the same bits), and cheaper.
#[inline(always)]
fn float_order(a: &f64, b: &f64) -> Ordering {
    if a < b {
        Ordering::Less
    } else if a > b {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// [`percentiles`] with the selections ordered by `order` (the total order of the values).
#[inline(always)]
fn select_percentiles(
    values: &mut [f64],
    ranks: [(usize, f64); 5],
    order: impl Fn(&f64, &f64) -> Ordering + Copy,
) -> [f64; 5] {
    let n = values.len();
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

/// Columns with at least this many values are summarised by [`binned_percentiles`]; shorter
/// ones by [`percentiles`] alone.
const BINNED_FROM: usize = 4096;

/// Equal-width bins of [`binned_percentiles`] between the bounds taken from a sample (and, where
/// the sample repeats a value, one more for that value and one more step above it, see
/// [`BinLayout::bin`]).
const BINS: usize = 1024;

/// Values read at even steps through a column to place its bins.
const SAMPLE: usize = 64;

/// Bins in use where the layout splits a step at the sample's most repeated value: `BINS + 1`
/// (see [`BinLayout::bin`]), rounded up to whole [`BLOCK`]s.
const SPLIT_BINS: usize = BINS + BLOCK;

/// Room for the counts of every bin: a power of two from [`SPLIT_BINS`], so that a bin indexes
/// the counts through a mask, without a bounds check.
const COUNTS: usize = SPLIT_BINS.next_power_of_two();

/// Counts read, added and cleared together by the scan of [`binned_percentiles`].
const BLOCK: usize = 16;

const _: () = assert!(BINS.is_multiple_of(BLOCK) && COUNTS >= SPLIT_BINS);

/// Each thread's scratch for [`binned_percentiles`]: a bin per value, the count per bin (all
/// zero between columns; [`COUNTS`] of them from the first column binned), and the values of
/// the needed bins.
#[derive(Debug, Default)]
struct Bins {
    of_value: Vec<u32>,
    counts: Vec<u32>,
    gathered: Vec<f64>,
}

/// How [`binned_percentiles`] maps values to bins: `BINS - 1` equal steps from `low`, each
/// `1 / per_value` wide, the ends open; and, where `split` (the sample repeats a value, or has
/// one step), `mass` (the sample's most repeated value) a bin of its own between the values
/// below it and above it in its step.
#[derive(Debug, Clone, Copy)]
struct BinLayout {
    low: f64,
    per_value: f64,
    mass: f64,
    split: bool,
}

impl BinLayout {
    /// From a sample read at even steps: its second least and second greatest values as the
    /// bounds (widened by 1/32 of the span at each end), or, where those are equal, the least
    /// and greatest; where the sample's values are all one, or its span is infinite, one step.
    fn from_sample(values: &[f64]) -> BinLayout {
        let step = values.len() / SAMPLE;
        let mut sample = [0.0; SAMPLE];
        for (j, s) in sample.iter_mut().enumerate() {
            *s = values[j * step];
        }
        sample.sort_unstable_by(f64::total_cmp);
        let (mut mass, mut run, mut longest) = (sample[0], 0, 0);
        for j in 1..SAMPLE {
            if sample[j].to_bits() == sample[j - 1].to_bits() {
                run += 1;
                if run > longest {
                    (longest, mass) = (run, sample[j]);
                }
            } else {
                run = 0;
            }
        }
        let (mut low, mut high) = (sample[1], sample[SAMPLE - 2]);
        if high <= low {
            (low, high) = (sample[0], sample[SAMPLE - 1]);
        }
        let span = high - low;
        if span > 0.0 && span.is_finite() {
            let margin = span / 32.0;
            BinLayout {
                low: low - margin,
                per_value: (BINS - 2) as f64 / (span + 2.0 * margin),
                mass,
                split: longest > 0,
            }
        } else {
            BinLayout {
                low: mass,
                per_value: 0.0,
                mass,
                split: true,
            }
        }
    }

    /// The step of `v`: `(v - low) * per_value` rounded to the nearest, clamped to
    /// `0..=BINS - 2`. It never decreases as `v` grows (each operation rounds monotonically).
    #[inline(always)]
    fn step(self, v: f64) -> u64 {
        // Adding 2^52 rounds a number in [0, 2^52) to an integer, in the low bits.
        const ROUND: f64 = 4_503_599_627_370_496.0;
        let x = (v - self.low) * self.per_value;
        let x = if x > 0.0 { x } else { 0.0 };
        let x = if x < (BINS - 2) as f64 {
            x
        } else {
            (BINS - 2) as f64
        };
        (x + ROUND).to_bits() - ROUND.to_bits()
    }

    /// The bin of `v`: where `split`, at most `BINS`, its step, plus 1 at `mass` and 2 above it
    /// (so `mass`, whose step is `s`, has bin `s + 1` to itself: values below it have steps up
    /// to `s`, values above it bins from `s + 2`); otherwise its step. It never decreases as
    /// `v` grows (a sum of terms that never decrease), so the bins hold the values in their
    /// order, except NaN.
    #[inline(always)]
    fn bin(self, v: f64) -> u32 {
        if self.split {
            Self::split_bin(self.step(v), v, self.mass)
        } else {
            self.step(v) as u32
        }
    }

    /// `step`, plus 1 at `mass` and 2 above it.
    #[inline(always)]
    fn split_bin(step: u64, v: f64, mass: f64) -> u32 {
        (step + u64::from(v >= mass) + u64::from(v > mass)) as u32
    }

    /// Bins in use, a multiple of [`BLOCK`].
    fn bins(self) -> usize {
        if self.split {
            SPLIT_BINS
        } else {
            BINS
        }
    }
}

/// The place of `bin`'s count among [`COUNTS`]: every bin is below [`SPLIT_BINS`], so the mask
/// keeps it as it is, and the compiler drops the bounds check.
#[inline(always)]
fn slot(bin: u32) -> usize {
    bin as usize & (COUNTS - 1)
}

/// Values binned together by [`bin_and_count`] before their bins are counted.
const BIN_RUN: usize = 16;

/// Writes each value's bin (`layout.bin`) into `of_value` and counts it in `counts`,
/// [`BIN_RUN`] values at a time: a run is binned ([`bin_values`], a loop in vector registers),
/// then its bins counted while they are at hand; whether `values` holds NaN or -0.0. `SPLIT`
/// is `layout.split`, a constant so each loop compiles without the other's work.
#[inline(always)]
fn bin_and_count<const SPLIT: bool>(
    layout: BinLayout,
    values: &[f64],
    of_value: &mut [u32],
    counts: &mut [u32; COUNTS],
) -> bool {
    let mut count = |bins: &[u32]| {
        for &bin in bins {
            counts[slot(bin)] += 1;
        }
    };
    let (bin_runs, bins_left) = of_value.as_chunks_mut::<BIN_RUN>();
    let (value_runs, values_left) = values.as_chunks::<BIN_RUN>();
    let mut unordered = false;
    for (bins, run) in bin_runs.iter_mut().zip(value_runs) {
        unordered |= bin_values::<SPLIT>(layout, run, bins);
        count(bins);
    }
    unordered |= bin_values::<SPLIT>(layout, values_left, bins_left);
    count(bins_left);
    unordered
}

/// Writes each value's bin (`layout.bin`) into `of_value`; whether `values` holds NaN or -0.0.
/// `SPLIT` is `layout.split` (see [`bin_and_count`]).
#[inline(always)]
fn bin_values<const SPLIT: bool>(layout: BinLayout, values: &[f64], of_value: &mut [u32]) -> bool {
    // NaN, and the sign bit of any zero (set by -0.0 alone), kept as float operations so the
    // loop stays in vector registers.
    let (mut nan, mut zeros_sign) = (false, 0.0_f64);
    let mass = layout.mass;
    for (bin, &v) in of_value.iter_mut().zip(values) {
        let step = layout.step(v);
        *bin = if SPLIT {
            BinLayout::split_bin(step, v, mass)
        } else {
            step as u32
        };
        nan |= v.is_nan();
        zeros_sign = f64::from_bits(zeros_sign.to_bits() | if v == 0.0 { v.to_bits() } else { 0 });
    }
    nan || zeros_sign.to_bits() != 0
}

/// The five [`PERCENTILES`] of `values` (`ranks` from [`type7_ranks`]), the same bits as
/// [`percentiles`], found without reordering `values`: each value is counted in its bin
/// ([`BinLayout`]), the counts say which bins hold the order statistics needed (the one at each
/// rank and, where the fraction is not zero, the next), and only those bins' values are
/// gathered and selected from (`mass`'s bin, which holds one value, not even that). `None`
/// where `values` holds NaN or -0.0, which [`percentiles`] orders by `f64::total_cmp`.
fn binned_percentiles(
    values: &[f64],
    ranks: [(usize, f64); 5],
    scratch: &mut Bins,
) -> Option<[f64; 5]> {
    let layout = BinLayout::from_sample(values);
    let Bins {
        of_value,
        counts,
        gathered,
    } = scratch;
    counts.resize(COUNTS, 0);
    let counts: &mut [u32; COUNTS] = counts.as_mut_slice().try_into().expect("COUNTS counts");
    of_value.resize(values.len(), 0);
    let unordered = if layout.split {
        bin_and_count::<true>(layout, values, of_value, counts)
    } else {
        bin_and_count::<false>(layout, values, of_value, counts)
    };
    if unordered {
        // The counts cleared for the next column.
        counts.fill(0);
        return None;
    }

    // The ranks needed, ascending: each percentile's, and the next where its fraction is not 0.
    let mut wanted = [usize::MAX; 10];
    for (i, (lo, frac)) in ranks.into_iter().enumerate() {
        wanted[2 * i] = lo;
        if frac > 0.0 {
            wanted[2 * i + 1] = lo + 1;
        }
    }
    wanted.sort_unstable();
    let mut count = 0;
    for i in 0..wanted.len() {
        if wanted[i] != usize::MAX && (count == 0 || wanted[count - 1] != wanted[i]) {
            wanted[count] = wanted[i];
            count += 1;
        }
    }
    let wanted = &wanted[..count];
    // Each wanted rank's bin, and its rank among the gathered values: those of the needed
    // bins but `mass`'s, whose order statistics are all `mass`. The counts are read a block at
    // a time (a block's bins one by one only where it holds a wanted rank) and cleared for the
    // next column.
    let mass_bin = if layout.split {
        layout.bin(layout.mass) as usize
    } else {
        usize::MAX
    };
    let mut needed = [0usize; 10];
    let mut in_mass = [false; 10];
    let mut gathered_rank = [0usize; 10];
    let (mut below, mut gathered_len, mut w, mut needed_len) = (0, 0, 0, 0);
    let (blocks, _) = counts[..layout.bins()].as_chunks_mut::<BLOCK>();
    for (b, block) in blocks.iter_mut().enumerate() {
        let total = block.iter().sum::<u32>() as usize;
        if w < count && wanted[w] < below + total {
            let mut at = below;
            for (i, &c) in block.iter().enumerate() {
                let above = at + c as usize;
                if w < count && wanted[w] < above {
                    let bin = b * BLOCK + i;
                    while w < count && wanted[w] < above {
                        in_mass[w] = bin == mass_bin;
                        gathered_rank[w] = gathered_len + wanted[w] - at;
                        w += 1;
                    }
                    if bin != mass_bin {
                        needed[needed_len] = bin;
                        needed_len += 1;
                        gathered_len += c as usize;
                    }
                }
                at = above;
            }
        }
        below += total;
        *block = [0; BLOCK];
    }
    debug_assert_eq!((w, below), (count, values.len()));
    // The needed bins' values, in path order: flagged by a count of 1 (all others are 0 now),
    // and cleared again after. Where they are few, a branch that is rarely taken; else each
    // value is written, and kept where its bin is needed.
    let needed = &needed[..needed_len];
    for &bin in needed {
        counts[bin] = 1;
    }
    gathered.clear();
    gathered.resize(gathered_len + 1, 0.0);
    let sparse = gathered_len <= values.len() / SPARSE_GATHER;
    let kept = gather(of_value, values, counts, gathered, sparse);
    debug_assert_eq!(kept, gathered_len);
    for &bin in needed {
        counts[bin] = 0;
    }
    let mut order_statistics = [layout.mass; 10];
    let mut at = [0usize; 10];
    let mut selected = 0;
    for w in 0..count {
        if !in_mass[w] {
            at[selected] = gathered_rank[w];
            selected += 1;
        }
    }
    let mut found = [0.0; 10];
    select_ranks(
        &mut gathered[..gathered_len],
        0,
        &at[..selected],
        &mut found,
    );
    let mut found = found.into_iter();
    for w in 0..count {
        if !in_mass[w] {
            order_statistics[w] = found.next().unwrap_or(layout.mass);
        }
    }
    let at_rank = |r: usize| order_statistics[wanted.iter().position(|&q| q == r).unwrap_or(0)];
    Some(ranks.map(|(lo, frac)| {
        let x_lo = at_rank(lo);
        if frac > 0.0 {
            x_lo + frac * (at_rank(lo + 1) - x_lo)
        } else {
            x_lo
        }
    }))
}

/// [`binned_percentiles`] gathers with a branch (see [`gather`]) where at most one value in
/// this many is gathered.
const SPARSE_GATHER: usize = 16;

/// Values the sparse [`gather`] checks together.
const GATHER_RUN: usize = 8;

/// Writes the values whose bin's flag in `needed` is not 0 (all flags 0 or 1) into `out`, in
/// path order, and returns how many; `out` holds one more than that. `sparse`: with a branch
/// per [`GATHER_RUN`] values, rarely taken where few are needed; otherwise every value is
/// written and kept where its bin is needed, without a branch to mispredict.
fn gather(
    of_value: &[u32],
    values: &[f64],
    needed: &[u32; COUNTS],
    out: &mut [f64],
    sparse: bool,
) -> usize {
    let mut kept = 0;
    if sparse {
        // A branch per [`GATHER_RUN`] values, rarely taken: where any of them is needed, each is
        // written and kept where its bin is needed.
        let (bin_runs, bins_left) = of_value.as_chunks::<GATHER_RUN>();
        let (value_runs, values_left) = values[..of_value.len()].as_chunks::<GATHER_RUN>();
        for (bins, run) in bin_runs.iter().zip(value_runs) {
            let flags = bins.map(|bin| needed[slot(bin)]);
            if flags.iter().fold(0, |any, &f| any | f) != 0 {
                for (&v, &flag) in run.iter().zip(&flags) {
                    out[kept] = v;
                    kept += flag as usize;
                }
            }
        }
        for (&bin, &v) in bins_left.iter().zip(values_left) {
            if needed[slot(bin)] != 0 {
                out[kept] = v;
                kept += 1;
            }
        }
    } else {
        for (&bin, &v) in of_value.iter().zip(values) {
            out[kept] = v;
            kept += needed[slot(bin)] as usize;
        }
    }
    kept
}

/// Puts into `found[i]` the order statistic of `values` at rank `ranks[i] - offset` (`ranks`
/// ascending, all at least `offset`), reordering `values`: the middle rank first, then each
/// half's ranks inside its part.
fn select_ranks(values: &mut [f64], offset: usize, ranks: &[usize], found: &mut [f64]) {
    if ranks.is_empty() {
        return;
    }
    let middle = ranks.len() / 2;
    // No NaN and no -0.0 here, so `<` orders the values as `f64::total_cmp` does.
    let (below, at, above) = values.select_nth_unstable_by(ranks[middle] - offset, float_order);
    found[middle] = *at;
    let (found_below, found_above) = found.split_at_mut(middle);
    select_ranks(below, offset, &ranks[..middle], found_below);
    select_ranks(
        above,
        ranks[middle] + 1,
        &ranks[middle + 1..],
        &mut found_above[1..],
    );
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
    /// pages in again (several MB at 100,000 paths). With them, the scratch of
    /// [`binned_percentiles`].
    static COLUMNS: std::cell::RefCell<(Vec<f64>, Bins)> =
        std::cell::RefCell::new((Vec::new(), Bins::default()));
}

/// Stats over paths per year and metric, `[t * width + k]`, of results laid out in `tiles`:
/// year by year in parallel, [`COLUMNS_AT_ONCE`] metrics at a time, each metric's column (one
/// value per path) copied with its sum (for the mean) and whether it is constant, and
/// summarised.
fn stats_table(tiles: Tiles, values: &[f64]) -> Vec<Stats> {
    let paths = tiles.paths;
    if paths == 0 {
        return vec![Stats::default(); tiles.years * tiles.width];
    }
    let per_year: Vec<Vec<Stats>> = (0..tiles.years)
        .into_par_iter()
        .map(|t| {
            COLUMNS.with_borrow_mut(|(scratch, bins)| {
                scratch.resize(COLUMNS_AT_ONCE * paths, 0.0);
                let mut stats = Vec::with_capacity(tiles.width);
                for first in (0..tiles.width).step_by(COLUMNS_AT_ONCE) {
                    let metrics = first..(first + COLUMNS_AT_ONCE).min(tiles.width);
                    let (sums, constant) = tiles.columns(values, t, metrics.clone(), scratch);
                    for ((column, sum), constant) in scratch
                        .chunks_exact_mut(paths)
                        .zip(sums)
                        .zip(constant)
                        .take(metrics.len())
                    {
                        stats.push(stats_of_column(column, sum / paths as f64, constant, bins));
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
    use crate::engine::PATHS_PER_BLOCK;

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

    /// Columns of `n` values of many shapes: every path of [`binned_percentiles`] (the sample's
    /// bounds, its most repeated value, one step) and its refusals (NaN, -0.0).
    fn awkward_columns(n: usize) -> Vec<(&'static str, Vec<f64>)> {
        let mut uniform = crate::fixtures::xorshift_uniform(0x9E37_79B9_7F4A_7C15);
        let mut column = |f: &mut dyn FnMut(usize, f64) -> f64| -> Vec<f64> {
            (0..n).map(|i| f(i, uniform())).collect()
        };
        vec![
            ("uniform", column(&mut |_, u| u * 2e6 - 1e6)),
            ("all equal", column(&mut |_, _| 3.25)),
            ("all zero", column(&mut |_, _| 0.0)),
            (
                "two values",
                column(&mut |_, u| f64::from(u8::from(u < 0.3))),
            ),
            (
                "one other value",
                column(&mut |i, _| f64::from(u8::from(i == n / 2))),
            ),
            ("few integers", column(&mut |_, u| (u * 9.0).floor() + 20.0)),
            (
                "mass at zero",
                column(&mut |_, u| if u < 0.8 { 0.0 } else { u * 1e7 }),
            ),
            (
                "mass inside",
                column(&mut |_, u| if u < 0.4 { 5.0 } else { u * 10.0 }),
            ),
            ("ascending", column(&mut |i, _| i as f64 * 0.5 - 7.0)),
            ("descending", column(&mut |i, _| -(i as f64))),
            (
                "heavy tails",
                column(&mut |_, u| (u - 0.5) / (u * (1.0 - u)).powi(3)),
            ),
            ("log-normal", column(&mut |_, u| (30.0 * (u - 0.5)).exp())),
            (
                "tiny steps",
                column(&mut |_, u| 1.0 + (u * 8.0).floor() * f64::EPSILON),
            ),
            ("subnormal", column(&mut |_, u| (u - 0.5) * 1e-310)),
            (
                "huge",
                column(&mut |_, u| if u < 0.5 { -1e308 } else { 1e308 * u }),
            ),
            (
                "infinities",
                column(&mut |_, u| match (u * 10.0) as u32 {
                    0 => f64::NEG_INFINITY,
                    9 => f64::INFINITY,
                    _ => u,
                }),
            ),
            ("all infinite", column(&mut |_, _| f64::INFINITY)),
            (
                // The sample reads every (n / 64)th value: these outliers lie between.
                "outliers off the sample",
                column(&mut |i, u| {
                    let step = (n / SAMPLE).max(1);
                    match (i % step == step / 2, i % 3) {
                        (true, 0) => -1e12 * (1.0 + u),
                        (true, 1) => 1e12 * (1.0 + u),
                        _ => u,
                    }
                }),
            ),
            (
                // A span so small that the bins' scale overflows to infinity.
                "subnormal steps",
                column(&mut |_, u| (u * 3.0).floor() * 5e-324),
            ),
            (
                // The bins' lower edge overflows to -infinity.
                "near the least double",
                column(&mut |_, u| -f64::MAX + u * 1e300),
            ),
            (
                "a sample of one value",
                column(&mut |i, u| if i % 2 == 0 { 7.0 } else { u }),
            ),
            (
                "signed zeros",
                column(&mut |_, u| match (u * 4.0) as u32 {
                    0 => -0.0,
                    1 => 0.0,
                    _ => u - 0.5,
                }),
            ),
            (
                "one -0.0",
                column(&mut |i, u| if i == 7 { -0.0 } else { u }),
            ),
            (
                "one NaN",
                column(&mut |i, u| if i == 9 { f64::NAN } else { u }),
            ),
            (
                "NaN at the top",
                column(&mut |_, u| if u < 0.1 { f64::NAN } else { u }),
            ),
        ]
    }

    /// Checks [`binned_percentiles`] against [`percentiles`] (the plain selection) and a full
    /// sort, bit for bit: it refuses exactly the columns holding NaN or -0.0, and
    /// [`stats_with_mean`] gives the selection's percentiles for every column.
    fn assert_binned_as_selected(name: &str, values: &[f64], bins: &mut Bins) {
        let n = values.len();
        let ranks = type7_ranks(n);
        let selected = percentiles(&mut values.to_vec(), ranks);
        let unordered = values
            .iter()
            .any(|v| v.is_nan() || v.to_bits() == (-0.0f64).to_bits());
        match binned_percentiles(values, ranks, bins) {
            None => assert!(unordered, "{name}, n = {n}: refused without NaN or -0.0"),
            Some(binned) => {
                assert!(!unordered, "{name}, n = {n}: not refused");
                let sorted = sorted_percentiles(values);
                for ((b, s), w) in binned.iter().zip(selected).zip(sorted) {
                    assert_eq!(
                        b.to_bits(),
                        s.to_bits(),
                        "{name}, n = {n}: {binned:?} != {selected:?} (selection)"
                    );
                    assert_eq!(
                        b.to_bits(),
                        w.to_bits(),
                        "{name}, n = {n}: {binned:?} != {sorted:?} (sort)"
                    );
                }
            }
        }
        let got = stats_with_mean(&mut values.to_vec(), 0.0, bins).percentiles();
        assert_percentiles_bits(name, values, got, selected);
    }

    /// `got` is `want` bit for bit, or the one value of an all-equal column five times (the
    /// summaries' shortcut for constant columns).
    fn assert_percentiles_bits(name: &str, values: &[f64], got: [f64; 5], want: [f64; 5]) {
        let (n, first) = (values.len(), values[0]);
        let want = if values.iter().all(|v| v.to_bits() == first.to_bits()) {
            [first; 5]
        } else {
            want
        };
        for (g, w) in got.iter().zip(want) {
            assert_eq!(
                g.to_bits(),
                w.to_bits(),
                "{name}, n = {n}: {got:?} != {want:?}"
            );
        }
    }

    #[test]
    fn binned_percentiles_are_the_selections_bit_for_bit() {
        // One scratch for all, as a thread's columns share it.
        let mut bins = Bins::default();
        // Lengths with and without values left over after whole runs of `BIN_RUN`.
        for n in [
            BINNED_FROM,
            BINNED_FROM + 1,
            BINNED_FROM + BIN_RUN - 1,
            5_003,
            10_000,
            20_000,
        ] {
            let mut layouts = [0; 2];
            for (name, values) in awkward_columns(n) {
                assert_binned_as_selected(name, &values, &mut bins);
                let layout = BinLayout::from_sample(&values);
                layouts[usize::from(layout.split)] += 1;
                // In order of value, the bins never fall and stay below `layout.bins()`; the
                // mass's bin, where the layout splits, holds the mass alone (in the columns the
                // bins summarise: those without NaN).
                if values.iter().any(|v| v.is_nan()) {
                    continue;
                }
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let of_sorted: Vec<u32> = sorted.iter().map(|&v| layout.bin(v)).collect();
                assert!(
                    of_sorted.windows(2).all(|w| w[0] <= w[1]),
                    "{name}, n = {n}"
                );
                assert!(
                    of_sorted.iter().all(|&b| (b as usize) < layout.bins()),
                    "{name}"
                );
                if layout.split {
                    let mass_bin = layout.bin(layout.mass);
                    for (&v, &b) in sorted.iter().zip(&of_sorted) {
                        assert_eq!(b == mass_bin, v == layout.mass, "{name}, n = {n}: {v}");
                    }
                }
            }
            // Both layouts, with and without a bin of the sample's most repeated value.
            assert!(layouts[0] >= 5 && layouts[1] >= 5, "n = {n}: {layouts:?}");
            // The scan, or the refusal of a column holding NaN or -0.0, leaves every count 0
            // for the next column.
            assert!(bins.counts.iter().all(|&c| c == 0), "n = {n}");
        }
    }

    #[test]
    fn both_gathers_keep_the_needed_bins_values_in_path_order() {
        let mut uniform = crate::fixtures::xorshift_uniform(0x2545_F491_4F6C_DD1D);
        // Lengths with and without values left over after whole runs of `GATHER_RUN`.
        for n in [BINNED_FROM, BINNED_FROM + 5, 10_003] {
            for (name, values) in awkward_columns(n) {
                let layout = BinLayout::from_sample(&values);
                let of_value: Vec<u32> = values.iter().map(|&v| layout.bin(v)).collect();
                let mut needed = Box::new([0u32; COUNTS]);
                // A few bins, some of them holding values, and sometimes most of them.
                for _ in 0..4 {
                    needed[of_value[(uniform() * n as f64) as usize % n] as usize] = 1;
                }
                if uniform() < 0.5 {
                    needed[..BINS / 2].fill(1);
                }
                let want: Vec<u64> = values
                    .iter()
                    .zip(&of_value)
                    .filter(|(_, &bin)| needed[bin as usize] != 0)
                    .map(|(v, _)| v.to_bits())
                    .collect();
                for sparse in [true, false] {
                    let mut out = vec![0.0; want.len() + 1];
                    let kept = gather(&of_value, &values, &needed, &mut out, sparse);
                    let got: Vec<u64> = out[..kept].iter().map(|v| v.to_bits()).collect();
                    assert_eq!(got, want, "{name}, n = {n}, sparse = {sparse}");
                }
            }
        }
    }

    /// A column of `n` values from `seed`: a point mass holding `mass_share` of them (a value
    /// from a short list: zero, small and large numbers, infinities), the rest spread over
    /// `spread` (a scale, from subnormal to near `f64::MAX`, or rounded to a few levels), with
    /// `special_share` of awkward values (infinities, NaN, -0.0, the largest and least doubles),
    /// and laid out `order`: as drawn, ascending, descending, or with the 16 most extreme values
    /// moved off the sample's positions.
    fn mixed_column(
        n: usize,
        seed: u64,
        mass_share: f64,
        mass_choice: usize,
        spread: usize,
        special_share: f64,
        order: usize,
    ) -> Vec<f64> {
        const MASSES: [f64; 7] = [0.0, 1.0, -3.5, 1e9, f64::INFINITY, 5e-324, -1e300];
        const SPECIALS: [f64; 8] = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        let mut uniform = crate::fixtures::xorshift_uniform(seed | 1);
        let mut values: Vec<f64> = (0..n)
            .map(|_| {
                let pick = uniform();
                let u = uniform();
                if pick < mass_share {
                    MASSES[mass_choice % MASSES.len()]
                } else if pick < mass_share + special_share {
                    SPECIALS[(u * SPECIALS.len() as f64) as usize % SPECIALS.len()]
                } else {
                    match spread % 8 {
                        0 => u,
                        1 => (u - 0.5) * 1e7,
                        2 => 1e-320 * u,
                        3 => f64::MAX * (u - 0.5) * 1.99,
                        4 => -f64::MAX + u * 1e300,
                        5 => 1.0 + (u * 5.0).floor() * f64::EPSILON,
                        6 => (u * 3.0).floor() * 2.5,
                        _ => (40.0 * (u - 0.5)).exp() * if u < 0.3 { -1.0 } else { 1.0 },
                    }
                }
            })
            .collect();
        match order % 4 {
            1 => values.sort_by(f64::total_cmp),
            2 => values.sort_by(|a, b| b.total_cmp(a)),
            3 => {
                // The sample reads positions j * step; put the extremes elsewhere.
                let step = n / SAMPLE;
                let mut by_size: Vec<usize> = (0..n).collect();
                by_size.sort_by(|&i, &j| values[i].abs().total_cmp(&values[j].abs()));
                for (k, &i) in by_size.iter().rev().take(16).enumerate() {
                    let off_sample = (k + 1) * step - 1;
                    values.swap(i, off_sample);
                }
                // The least values too.
                for (k, &i) in by_size.iter().take(16).enumerate() {
                    let off_sample = (k + 1) * step + step / 2;
                    values.swap(i, off_sample.min(n - 1));
                }
            }
            _ => {}
        }
        values
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn binned_percentiles_are_the_selections_for_mixed_columns(
            n in BINNED_FROM..12_000usize,
            seed in proptest::prelude::any::<u64>(),
            mass_share in proptest::prop_oneof![
                proptest::strategy::Just(0.0),
                0.0..1.0f64,
                0.9..1.0f64,
            ],
            mass_choice in 0..7usize,
            spread in 0..8usize,
            special_share in proptest::prop_oneof![
                proptest::strategy::Just(0.0),
                proptest::strategy::Just(0.0),
                0.0..0.001f64,
                0.0..0.2f64,
            ],
            order in 0..4usize,
        ) {
            let values = mixed_column(n, seed, mass_share, mass_choice, spread, special_share, order);
            assert_binned_as_selected("mixed", &values, &mut Bins::default());
            // Without NaN and -0.0, so the bins' way is the one taken.
            let ordered: Vec<f64> = values
                .iter()
                .map(|&v| if v.is_nan() { 2.0 } else { v + 0.0 })
                .collect();
            assert_binned_as_selected("mixed, ordered", &ordered, &mut Bins::default());
        }
    }

    #[test]
    fn small_columns_match_a_full_sort() {
        for n in [1, 2, 3, 4, 5, 7, 64, 100, BINNED_FROM - 1] {
            for (name, values) in awkward_columns(n) {
                if values.iter().any(|v| v.is_nan()) {
                    continue;
                }
                let got = stats(&mut values.clone()).percentiles();
                assert_percentiles_bits(name, &values, got, sorted_percentiles(&values));
            }
        }
    }

    /// Columns that are the same on every path but one (at the first path, in the last, partial
    /// tile, or the last path), or the same bits throughout where `==` would say otherwise
    /// (NaN) or the other way round (0.0 and -0.0).
    fn nearly_constant_columns(n: usize) -> Vec<(&'static str, Vec<f64>)> {
        let quiet_nan = f64::NAN;
        let other_nan = f64::from_bits(quiet_nan.to_bits() | 1);
        let but = |at: usize, base: f64, other: f64| -> Vec<f64> {
            (0..n).map(|i| if i == at { other } else { base }).collect()
        };
        vec![
            ("all 2.5", vec![2.5; n]),
            ("all NaN", vec![quiet_nan; n]),
            ("all -0.0", vec![-0.0; n]),
            ("first differs", but(0, 4.0, 4.5)),
            ("last differs", but(n - 1, 4.0, 4.5)),
            ("one in the last tile", but(n - 2, 1e9, -1e9)),
            (
                "one in the second tile",
                but(PATHS_PER_BLOCK + 3, 7.0, 7.0000001),
            ),
            ("0.0 and one -0.0", but(n / 2, 0.0, -0.0)),
            ("-0.0 and one 0.0", but(0, -0.0, 0.0)),
            ("NaN and another NaN", but(n - 1, quiet_nan, other_nan)),
            ("infinity and one NaN", but(n / 3, f64::INFINITY, quiet_nan)),
        ]
    }

    #[test]
    fn tables_summarise_each_column_as_stats_does_bit_for_bit() {
        // Paths below and above `BINNED_FROM`, the last tile partial (its padding holds values
        // that are not the column's), and more metrics than `COLUMNS_AT_ONCE`: each column of
        // `stats_table` (copied with its sum and whether it is constant, from the tiles) must be
        // `stats` of the column alone, all six figures bit for bit; but a NaN mean, whose
        // payload after the additions is not specified (the compiler may swap an addition's
        // operands), is only NaN.
        for paths in [300, BINNED_FROM + 70, 10_000] {
            let mut shapes = awkward_columns(paths);
            shapes.extend(nearly_constant_columns(paths));
            let tiles = Tiles {
                paths,
                years: 2,
                width: COLUMNS_AT_ONCE + 7,
            };
            let mut values = vec![-123.0; tiles.len()];
            let mut columns = Vec::new();
            for t in 0..tiles.years {
                for k in 0..tiles.width {
                    let (name, column) = &shapes[(t * tiles.width + k) % shapes.len()];
                    for (path, &v) in column.iter().enumerate() {
                        values[tiles.index(path, t, k)] = v;
                    }
                    columns.push((*name, column.clone()));
                }
            }
            let table = stats_table(tiles, &values);
            assert_eq!(table.len(), columns.len());
            for (got, (name, column)) in table.iter().zip(&columns) {
                let want = stats(&mut column.clone());
                for ((figure, g), (_, w)) in got.named().into_iter().zip(want.named()) {
                    let nan_mean = figure == "mean" && g.is_nan() && w.is_nan();
                    assert!(
                        nan_mean || g.to_bits() == w.to_bits(),
                        "{name}, {paths} paths, {figure}: {got:?} != {want:?}"
                    );
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
