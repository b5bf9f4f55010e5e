//! Step 2 of the yearly step, placement (README "The model", step 2): where plans are placed.
//!
//! Each council's placements follow its own trends to its latest census. Specialist placements
//! (state + independent special) grow at their own fitted log rate: they are led by the places
//! available, not by the number of plans. The log share of post-16 and of AP/other in all plans
//! moves by a fitted slope each year, and mainstream takes the rest. State special places grow by
//! their own fitted trend, with the scenario's new places on top. Specialist placements fill the
//! state special places first; what the places cannot take goes to independent and
//! non-maintained special schools (the overflow). Trends and levels are uncertain and drawn once
//! per path and council. No I/O.

use crate::caseload::{AGE_BANDS, MAINSTREAM, SETTINGS, SPECIAL_INDEPENDENT, SPECIAL_STATE};

/// Placement groups modelled against mainstream, in this order.
pub const GROUPS: usize = 3;
/// Names of the groups (scenario keys and README).
pub const GROUP_NAMES: [&str; GROUPS] = ["specialist", "post16", "ap_other"];
const POST16: usize = crate::caseload::Setting::Post16 as usize;
const AP_OTHER: usize = crate::caseload::Setting::ApOther as usize;

/// Largest share of all plans the three groups may take together (mainstream keeps the rest):
/// a guard for long horizons, where trends could otherwise squeeze mainstream out.
pub const MAX_GROUP_SHARE: f64 = 0.95;

/// The groups' log levels in one census: log specialist placements, then the log shares of
/// post-16 and AP/other in all plans (a group with no plans counts half a plan, so that its log
/// stays finite).
pub fn log_levels(by_setting: &[f64; SETTINGS]) -> [f64; GROUPS] {
    let all: f64 = by_setting.iter().sum::<f64>().max(1.0);
    let g = groups(by_setting);
    [
        g[0].max(0.5).ln(),
        (g[1].max(0.5) / all).ln(),
        (g[2].max(0.5) / all).ln(),
    ]
}

/// Plans by group: specialist (state + independent special), post-16, AP/other.
pub fn groups(by_setting: &[f64; SETTINGS]) -> [f64; GROUPS] {
    [
        by_setting[SPECIAL_STATE] + by_setting[SPECIAL_INDEPENDENT],
        by_setting[POST16],
        by_setting[AP_OTHER],
    ]
}

/// Years after the latest census in which demand and the placement trends keep their fitted pace
/// before they start to slow (`[decay]`): the first projected year grows as calibrated (the
/// new-plan rate is set so that expected first-year growth equals the growth prior), and growth
/// slows from the second. Before issue 10's follow-up the decay started at the census, so the
/// first year already grew about 0.4 points below the prior (README "Growth that slows").
pub const DECAY_DELAY: f64 = 1.0;

/// How far the placement trends have run, `years` after the latest census (README step 2).
///
/// Where demand growth decays (step 1: its growth part halves every `h` years toward the path's
/// long-run plan growth `g_LR`), the placement trends decay with it, from [`DECAY_DELAY`] (`D` =
/// one) years after the census: a yearly slope `b` moves a log share by `b x tau(k)` after `k`
/// years, `tau(k) = D + h/ln2 x (1 - 0.5^((k-D)/h))` (the integral of `b x 0.5^((u-D)/h)`, `b`
/// itself in the first `D` years, from 0 to `k`) instead of `b x k`, and an absolute log growth
/// `g` (specialist placements, state special places) decays toward `g_LR`:
/// `g_LR x k + (g - g_LR) x tau(k)`. Without decay, and for `k <= D`, both are linear in `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendClock {
    /// Years since the latest census (`k`).
    pub years: f64,
    /// The cumulative effect of a unit yearly slope: `k` without decay or up to `D`, else
    /// `D + h/ln2 x (1 - 0.5^((k-D)/h))`.
    pub sloped_years: f64,
    /// What absolute growths decay toward: the path's long-run plan growth (0 without decay).
    pub long_run_growth: f64,
}

impl TrendClock {
    /// Linear trends (no decay): today's fitted growths and slopes kept for ever.
    pub fn linear(years: f64) -> Self {
        TrendClock {
            years,
            sloped_years: years,
            long_run_growth: 0.0,
        }
    }

    /// Trends that decay with a half-life of `half_life` years toward `long_run_growth` (for
    /// absolute growths) and toward 0 (for share slopes), from [`DECAY_DELAY`] years after the
    /// census. Linear before that.
    pub fn decayed(years: f64, half_life: f64, long_run_growth: f64) -> Self {
        if years <= DECAY_DELAY {
            return Self::linear(years);
        }
        let per_year = std::f64::consts::LN_2 / half_life;
        TrendClock {
            years,
            sloped_years: DECAY_DELAY - (-(years - DECAY_DELAY) * per_year).exp_m1() / per_year,
            long_run_growth,
        }
    }

    /// Cumulative log change of a share whose yearly slope is `slope`.
    pub fn share_change(&self, slope: f64) -> f64 {
        slope * self.sloped_years
    }

    /// Cumulative log change of a count whose yearly log growth is `growth` at the census.
    pub fn growth_change(&self, growth: f64) -> f64 {
        self.long_run_growth * self.years + (growth - self.long_run_growth) * self.sloped_years
    }
}

/// A council's fitted placement trends (calibration), before the per-path draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementTrend {
    /// The groups' log levels at the latest census ([`log_levels`]).
    pub log_level0: [f64; GROUPS],
    /// Yearly change in those log levels: own history shrunk toward England's.
    pub slope: [f64; GROUPS],
    /// State special places at the latest census (its state special placements x headroom).
    pub capacity0: f64,
    /// Yearly log growth of state special places: own history shrunk toward England's.
    pub capacity_growth: f64,
}

/// Spread of the placement trends (scenario terms), drawn once per path and council.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementSpread {
    pub level_sd: [f64; GROUPS],
    pub slope_sd: [f64; GROUPS],
    pub capacity_level_sd: f64,
    pub capacity_growth_sd: f64,
}

impl PlacementSpread {
    /// The sds in the draw's order: each group's level then slope, then the capacity's.
    fn sds(&self) -> [f64; NORMALS] {
        let mut sd = [0.0; NORMALS];
        for g in 0..GROUPS {
            sd[2 * g] = self.level_sd[g];
            sd[2 * g + 1] = self.slope_sd[g];
        }
        sd[2 * GROUPS] = self.capacity_level_sd;
        sd[2 * GROUPS + 1] = self.capacity_growth_sd;
        sd
    }

    fn from_sds(sd: &[f64; NORMALS]) -> PlacementSpread {
        PlacementSpread {
            level_sd: std::array::from_fn(|g| sd[2 * g]),
            slope_sd: std::array::from_fn(|g| sd[2 * g + 1]),
            capacity_level_sd: sd[2 * GROUPS],
            capacity_growth_sd: sd[2 * GROUPS + 1],
        }
    }
}

/// A council-path's placement spread as its own part plus a shared (national) part: each term's
/// sd is `sqrt(own^2 + shared^2)` and its normal `(own x z + shared x z_shared) / sd`, so the
/// drawn value is the sum of the two parts; a term without a shared part keeps its own sd and
/// normal exactly. A run works the total sds out once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpreadParts {
    own: [f64; NORMALS],
    shared: [f64; NORMALS],
    /// Each term's `sqrt(own^2 + shared^2)` (its own sd where it has no shared part).
    pub total: PlacementSpread,
    total_sd: [f64; NORMALS],
}

impl SpreadParts {
    pub fn new(own: &PlacementSpread, shared: &PlacementSpread) -> SpreadParts {
        let (own, shared) = (own.sds(), shared.sds());
        let total_sd: [f64; NORMALS] = std::array::from_fn(|i| {
            if shared[i] == 0.0 {
                own[i]
            } else {
                own[i].hypot(shared[i])
            }
        });
        SpreadParts {
            own,
            shared,
            total: PlacementSpread::from_sds(&total_sd),
            total_sd,
        }
    }

    /// The total's normals: `(own x own_z + shared x shared_z) / total` for each term, or
    /// `own_z` itself where there is no shared part.
    pub fn normals(&self, own_z: &[f64; NORMALS], shared_z: &[f64; NORMALS]) -> [f64; NORMALS] {
        std::array::from_fn(|i| {
            if self.shared[i] == 0.0 {
                own_z[i]
            } else {
                (self.own[i] * own_z[i] + self.shared[i] * shared_z[i]) / self.total_sd[i]
            }
        })
    }
}

/// Number of standard normals one path's placement draw uses (fixed, whatever the scenario).
pub const NORMALS: usize = 2 * GROUPS + 2;

/// Correlates the groups' level normals (`z[2 g]`, in [`PlacementTrend::draw`]'s order) by the
/// lower Cholesky factor `cholesky` of their correlation (`placement.group_correlation`): each
/// becomes `sum_{j <= g} L[g][j] z[2 j]`. The slopes' and the capacity's normals are left as they
/// are. The identity leaves every normal's bits unchanged (`0 x z` adds nothing), and the first
/// row of a Cholesky factor is `[1, 0, 0]`, so the specialist level's normal is never changed
/// (the places stay correlated with it as before).
pub fn correlate_levels(cholesky: &[[f64; GROUPS]; GROUPS], z: &mut [f64; NORMALS]) {
    let level: [f64; GROUPS] = std::array::from_fn(|g| z[2 * g]);
    for g in 0..GROUPS {
        z[2 * g] = (0..=g).map(|j| cholesky[g][j] * level[j]).sum();
    }
}

/// One path's placement parameters for one council.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementPath {
    /// Log levels drawn around the fitted ones, less half their variance (so each level's mean,
    /// not its median, is the fitted one).
    pub log_level: [f64; GROUPS],
    pub slope: [f64; GROUPS],
    /// Half the variance of each drawn slope: a trend run for `tau` sloped years is lowered by
    /// this x `tau^2`, so its mean stays the fitted trend's.
    pub slope_half_var: [f64; GROUPS],
    pub capacity_level: f64,
    pub capacity_growth: f64,
    /// Half the variance of the drawn capacity growth (as `slope_half_var`).
    pub capacity_growth_half_var: f64,
}

impl PlacementTrend {
    /// The path's parameters from `NORMALS` standard normals (in a fixed order: each group's
    /// level then slope, then the capacity level and growth).
    ///
    /// Each draw is lognormal around its trend with the trend as its mean: a log level drawn
    /// with sd `s` is lowered by `s^2/2`, and a slope's effect after `tau` sloped years by
    /// `slope_sd^2 tau^2 / 2` (README step 2, "Placement uncertainty"). Without the correction
    /// England's sums of councils' placements would run above the sum of their trends by
    /// `exp(s^2/2)`, a factor that grows with the horizon.
    pub fn draw(&self, spread: &PlacementSpread, z: &[f64; NORMALS]) -> PlacementPath {
        let half_var = |sd: f64| 0.5 * sd * sd;
        PlacementPath {
            log_level: std::array::from_fn(|g| {
                self.log_level0[g] - half_var(spread.level_sd[g]) + spread.level_sd[g] * z[2 * g]
            }),
            slope: std::array::from_fn(|g| self.slope[g] + spread.slope_sd[g] * z[2 * g + 1]),
            slope_half_var: spread.slope_sd.map(half_var),
            capacity_level: -half_var(spread.capacity_level_sd)
                + spread.capacity_level_sd * z[2 * GROUPS],
            capacity_growth: self.capacity_growth + spread.capacity_growth_sd * z[2 * GROUPS + 1],
            capacity_growth_half_var: half_var(spread.capacity_growth_sd),
        }
    }

    /// State special places from the trend at `clock` (before the scenario's new places).
    /// `shift` moves the places' log level: what the council's plans beyond its expected plans
    /// add (0 for none). One lane of [`PlacementTrend::trend_capacities`].
    pub fn trend_capacity(&self, path: &PlacementPath, clock: &TrendClock, shift: f64) -> f64 {
        let lanes = PlacementLanes::new(&[*path]);
        self.trend_capacities(&lanes, &ClockLanes::splat(*clock), &[shift])[0]
    }

    /// Setting totals for `stock` plans at `clock` (after the latest census), with `capacity` state
    /// special places and `induced` extra specialist placements drawn from mainstream by new
    /// places. Returns the totals (they add up to `stock`) and the overflow: specialist
    /// placements above the state special places, which go to independent special schools.
    /// `shift` moves each group's log level (specialist placements; post-16 and AP/other
    /// shares): what the council's plans beyond its expected plans add (0 for none). One lane of
    /// [`PlacementTrend::lane_targets`].
    pub fn targets(
        &self,
        path: &PlacementPath,
        clock: &TrendClock,
        stock: f64,
        capacity: f64,
        induced: f64,
        shift: [f64; GROUPS],
    ) -> ([f64; SETTINGS], f64) {
        let (out, overflow) = self.lane_targets(
            &PlacementLanes::new(&[*path]),
            &ClockLanes::splat(*clock),
            &[stock],
            &[capacity],
            induced,
            &shift.map(|v| [v]),
        );
        (out.map(|by_lane| by_lane[0]), overflow[0])
    }
}

/// [`TrendClock`]s of `L` lanes side by side (structure of arrays): lane `l` of each field is
/// lane `l`'s clock's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockLanes<const L: usize> {
    pub years: [f64; L],
    pub sloped_years: [f64; L],
    pub long_run_growth: [f64; L],
}

impl<const L: usize> ClockLanes<L> {
    /// Every lane's clock `clock`.
    pub fn splat(clock: TrendClock) -> Self {
        ClockLanes {
            years: [clock.years; L],
            sloped_years: [clock.sloped_years; L],
            long_run_growth: [clock.long_run_growth; L],
        }
    }

    /// Sets lane `l`'s clock.
    pub fn set(&mut self, l: usize, clock: TrendClock) {
        self.years[l] = clock.years;
        self.sloped_years[l] = clock.sloped_years;
        self.long_run_growth[l] = clock.long_run_growth;
    }

    /// [`TrendClock::growth_change`] of each lane.
    #[inline(always)]
    fn growth_change(&self, growth: &[f64; L]) -> [f64; L] {
        std::array::from_fn(|l| self.lane(l).growth_change(growth[l]))
    }

    /// Lane `l`'s clock.
    #[inline(always)]
    fn lane(&self, l: usize) -> TrendClock {
        TrendClock {
            years: self.years[l],
            sloped_years: self.sloped_years[l],
            long_run_growth: self.long_run_growth[l],
        }
    }

    /// `half_var x tau^2` of each lane: what a trend drawn with that half variance is lowered by.
    #[inline(always)]
    fn spread(&self, half_var: &[f64; L]) -> [f64; L] {
        std::array::from_fn(|l| half_var[l] * self.sloped_years[l] * self.sloped_years[l])
    }
}

/// [`PlacementPath`]s of `L` lanes side by side (structure of arrays): lane `l` of each field is
/// lane `l`'s path's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementLanes<const L: usize> {
    pub log_level: [[f64; L]; GROUPS],
    pub slope: [[f64; L]; GROUPS],
    pub slope_half_var: [[f64; L]; GROUPS],
    pub capacity_level: [f64; L],
    pub capacity_growth: [f64; L],
    pub capacity_growth_half_var: [f64; L],
}

impl<const L: usize> PlacementLanes<L> {
    pub fn new(paths: &[PlacementPath; L]) -> Self {
        let by_group = |field: fn(&PlacementPath) -> &[f64; GROUPS]| -> [[f64; L]; GROUPS] {
            std::array::from_fn(|g| std::array::from_fn(|l| field(&paths[l])[g]))
        };
        PlacementLanes {
            log_level: by_group(|p| &p.log_level),
            slope: by_group(|p| &p.slope),
            slope_half_var: by_group(|p| &p.slope_half_var),
            capacity_level: paths.map(|p| p.capacity_level),
            capacity_growth: paths.map(|p| p.capacity_growth),
            capacity_growth_half_var: paths.map(|p| p.capacity_growth_half_var),
        }
    }
}

impl PlacementTrend {
    /// [`PlacementTrend::trend_capacity`] of every lane, worked side by side so that the CPU can
    /// vectorise them (each lane independent of the others, tested bit for bit).
    #[inline(always)]
    pub fn trend_capacities<const L: usize>(
        &self,
        paths: &PlacementLanes<L>,
        clock: &ClockLanes<L>,
        shift: &[f64; L],
    ) -> [f64; L] {
        let change = clock.growth_change(&paths.capacity_growth);
        let spread = clock.spread(&paths.capacity_growth_half_var);
        let log: [f64; L] =
            std::array::from_fn(|l| change[l] - spread[l] + paths.capacity_level[l] + shift[l]);
        let grown = log.map(f64::exp);
        grown.map(|v| self.capacity0 * v)
    }

    /// [`PlacementTrend::targets`] of every lane, worked side by side so that the CPU can
    /// vectorise them (each lane independent of the others, tested bit for bit): the setting
    /// totals `[setting][lane]` and each lane's overflow.
    #[inline(always)]
    pub fn lane_targets<const L: usize>(
        &self,
        paths: &PlacementLanes<L>,
        clock: &ClockLanes<L>,
        stock: &[f64; L],
        capacity: &[f64; L],
        induced: f64,
        shift: &[[f64; L]; GROUPS],
    ) -> ([[f64; L]; SETTINGS], [f64; L]) {
        // Specialist placements: an absolute growth; post-16 and AP/other: share slopes.
        let growth = clock.growth_change(&paths.slope[0]);
        // A loop over the groups, not `std::array::from_fn`, which the compiler does not always
        // inline into the engine's wide copy of the step (`engine::simulate_lanes`).
        let mut log = [[0.0; L]; GROUPS];
        for (g, log) in log.iter_mut().enumerate() {
            let spread = clock.spread(&paths.slope_half_var[g]);
            *log = std::array::from_fn(|l| {
                let change = if g == 0 {
                    growth[l]
                } else {
                    clock.lane(l).share_change(paths.slope[g][l])
                };
                paths.log_level[g][l] + change - spread[l] + shift[g][l]
            });
        }
        let [specialist_level, post16_level, ap_level] = log.map(|by_lane| by_lane.map(f64::exp));
        let mut out = [[0.0; L]; SETTINGS];
        let mut overflow = [0.0; L];
        for l in 0..L {
            let trend_specialist = specialist_level[l].min(MAX_GROUP_SHARE * stock[l]);
            let room = MAX_GROUP_SHARE - trend_specialist / stock[l].max(1e-9);
            let sum = post16_level[l] + ap_level[l];
            let (post16, ap) = if sum > room {
                (post16_level[l] * room / sum, ap_level[l] * room / sum)
            } else {
                (post16_level[l], ap_level[l])
            };
            let mainstream = stock[l] * (1.0 - post16 - ap) - trend_specialist;
            let moved = induced.min(mainstream);
            let specialist = trend_specialist + moved;
            let state = specialist.min(capacity[l].max(0.0));
            out[MAINSTREAM][l] = mainstream - moved;
            out[SPECIAL_STATE][l] = state;
            out[SPECIAL_INDEPENDENT][l] = specialist - state;
            out[POST16][l] = stock[l] * post16;
            out[AP_OTHER][l] = stock[l] * ap;
            overflow[l] = specialist - state;
        }
        (out, overflow)
    }
}

/// Re-places every lane's plans (`cells[band][setting][lane]`) so that the setting totals equal
/// the lane's `targets[setting][lane]` (which add up to its plans), by a minimal move like the
/// phase transfer's: a setting above its target releases its surplus from every age band in
/// proportion to its plans there; each band's released plans go to the settings below their
/// targets in proportion to their shortfalls. Each age band keeps its plans and each setting
/// reaches its target exactly; a lane without a shortfall is left as it is.
///
/// The lanes are independent paths, each with a lone path's arithmetic in the same order (tested
/// bit for bit): they are worked together so that the CPU can vectorise the divisions.
#[inline(always)]
pub fn replace<const L: usize>(
    cells: &mut [[[f64; L]; SETTINGS]; AGE_BANDS],
    targets: &[[f64; L]; SETTINGS],
) {
    let mut column = [[0.0; L]; SETTINGS];
    for band in cells.iter() {
        for (s, cell) in band.iter().enumerate() {
            for l in 0..L {
                column[s][l] += cell[l];
            }
        }
    }
    replace_columns(cells, &column, targets);
}

/// [`replace`] with the setting totals `column[setting][lane]` of `cells` given (each the
/// setting's plans added band by band in band order, from 0), for a caller that has them.
#[inline(always)]
pub fn replace_columns<const L: usize>(
    cells: &mut [[[f64; L]; SETTINGS]; AGE_BANDS],
    column: &[[f64; L]; SETTINGS],
    targets: &[[f64; L]; SETTINGS],
) {
    let mut keep = [[1.0; L]; SETTINGS];
    let mut shortfall = [[0.0; L]; SETTINGS];
    for s in 0..SETTINGS {
        for l in 0..L {
            if column[s][l] > targets[s][l] {
                keep[s][l] = targets[s][l] / column[s][l];
            } else {
                shortfall[s][l] = targets[s][l] - column[s][l];
            }
        }
    }
    let total_shortfall: [f64; L] =
        std::array::from_fn(|l| shortfall.iter().map(|by_lane| by_lane[l]).sum());
    // A lane whose total shortfall is 0 or less keeps its plans.
    let moves: [bool; L] =
        std::array::from_fn(|l| total_shortfall[l] > 0.0 || total_shortfall[l].is_nan());
    if !moves.contains(&true) {
        return;
    }
    // Each setting's share of the released plans, and the share of its plans that it releases,
    // worked out once rather than per band.
    let gets: [[f64; L]; SETTINGS] =
        std::array::from_fn(|s| std::array::from_fn(|l| shortfall[s][l] / total_shortfall[l]));
    let releases: [[f64; L]; SETTINGS] = keep.map(|by_lane| by_lane.map(|k| 1.0 - k));
    // Every lane is moved; a lane that keeps its plans (rare) gets them back afterwards.
    let kept = moves.contains(&false).then_some(*cells);
    for band in cells.iter_mut() {
        let mut released = [0.0; L];
        for s in 0..SETTINGS {
            for l in 0..L {
                released[l] += band[s][l] * releases[s][l];
            }
        }
        for (s, cell) in band.iter_mut().enumerate() {
            *cell = std::array::from_fn(|l| cell[l] * keep[s][l] + released[l] * gets[s][l]);
        }
    }
    if let Some(kept) = kept {
        for (band, kept_band) in cells.iter_mut().zip(&kept) {
            for (cell, kept_cell) in band.iter_mut().zip(kept_band) {
                for l in 0..L {
                    if !moves[l] {
                        cell[l] = kept_cell[l];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend() -> PlacementTrend {
        PlacementTrend {
            log_level0: log_levels(&[400.0, 250.0, 50.0, 150.0, 100.0]),
            slope: [-0.05, -0.02, 0.03],
            capacity0: 250.0,
            capacity_growth: 0.05,
        }
    }
    const NO_SPREAD: PlacementSpread = PlacementSpread {
        level_sd: [0.0; GROUPS],
        slope_sd: [0.0; GROUPS],
        capacity_level_sd: 0.0,
        capacity_growth_sd: 0.0,
    };

    #[test]
    fn a_shared_part_adds_to_the_own_draw_and_its_absence_changes_nothing() {
        let own = PlacementSpread {
            level_sd: [0.03, 0.1, 0.2],
            slope_sd: [0.02, 0.05, 0.0],
            capacity_level_sd: 0.03,
            capacity_growth_sd: 0.01,
        };
        let own_z: [f64; NORMALS] = std::array::from_fn(|i| 0.3 * i as f64 - 1.0);
        let shared_z: [f64; NORMALS] = std::array::from_fn(|i| 1.2 - 0.25 * i as f64);
        // No shared part: the same sds and normals, bit for bit.
        let alone = SpreadParts::new(&own, &NO_SPREAD);
        assert_eq!(
            (alone.total, alone.normals(&own_z, &shared_z)),
            (own, own_z)
        );
        let shared = PlacementSpread {
            level_sd: [0.01, 0.0, 0.05],
            slope_sd: [0.005, 0.03, 0.1],
            capacity_level_sd: 0.0,
            capacity_growth_sd: 0.002,
        };
        let parts = SpreadParts::new(&own, &shared);
        let (sum, z) = (parts.total, parts.normals(&own_z, &shared_z));
        let (a, b, c) = (own.sds(), shared.sds(), sum.sds());
        for i in 0..NORMALS {
            // Variances add, and sd x normal is the sum of the two parts.
            assert!(
                (c[i] * c[i] - a[i] * a[i] - b[i] * b[i]).abs() < 1e-15,
                "{i}"
            );
            let parts = a[i] * own_z[i] + b[i] * shared_z[i];
            assert!(
                (c[i] * z[i] - parts).abs() < 1e-15,
                "{i}: {} {parts}",
                c[i] * z[i]
            );
        }
    }

    #[test]
    fn targets_reproduce_the_census_and_conserve_plans() {
        let t = trend();
        let p = t.draw(&NO_SPREAD, &[0.0; NORMALS]);
        // Targets `years` after the census with no shift.
        let at = |years, stock, capacity, induced| {
            t.targets(
                &p,
                &TrendClock::linear(years),
                stock,
                capacity,
                induced,
                [0.0; GROUPS],
            )
        };
        // At the census the shares are the census's; 250 places for 300 specialist placements:
        // 50 go to independent schools.
        let (out, overflow) = at(0.0, 950.0, 250.0, 0.0);
        let expect = [400.0, 250.0, 50.0, 150.0, 100.0];
        for s in 0..SETTINGS {
            assert!((out[s] - expect[s]).abs() < 1e-9, "{out:?}");
        }
        assert!((overflow - 50.0).abs() < 1e-9);
        // Ten more places: ten fewer independent placements.
        let (more, overflow) = at(0.0, 950.0, 260.0, 0.0);
        assert!((more[SPECIAL_INDEPENDENT] - 40.0).abs() < 1e-9, "{more:?}");
        assert!((overflow - 40.0).abs() < 1e-9);
        // Induced placements come from mainstream; plans are conserved.
        let (ind, _) = at(0.0, 950.0, 1000.0, 10.0);
        assert!((ind[MAINSTREAM] - 390.0).abs() < 1e-9);
        assert!((ind[SPECIAL_STATE] - 310.0).abs() < 1e-9);
        assert!((ind.iter().sum::<f64>() - 950.0).abs() < 1e-9);
        // A year on, specialist placements grow by their rate whatever the plans (300 x
        // exp(-0.05)); post-16's share moves by its slope.
        let (next, _) = at(1.0, 1000.0, 1e9, 0.0);
        let specialist = next[SPECIAL_STATE] + next[SPECIAL_INDEPENDENT];
        assert!((specialist - 300.0 * (-0.05f64).exp()).abs() < 1e-9);
        assert!((next[POST16] - 1000.0 * 150.0 / 950.0 * (-0.02f64).exp()).abs() < 1e-9);
        assert!((next.iter().sum::<f64>() - 1000.0).abs() < 1e-9);
        // A shift (plans above the expected plans) moves the specialist placements and the
        // shares by exp(shift); mainstream takes the rest.
        let shift = [0.1, 0.0, 0.2];
        let (up, _) = t.targets(&p, &TrendClock::linear(1.0), 1000.0, 1e9, 0.0, shift);
        let up_specialist = up[SPECIAL_STATE] + up[SPECIAL_INDEPENDENT];
        assert!((up_specialist / specialist - 0.1f64.exp()).abs() < 1e-12);
        assert!((up[POST16] - next[POST16]).abs() < 1e-9);
        assert!((up[AP_OTHER] / next[AP_OTHER] - 0.2f64.exp()).abs() < 1e-12);
        assert!((up.iter().sum::<f64>() - 1000.0).abs() < 1e-9);
        let places = |shift| t.trend_capacity(&p, &TrendClock::linear(1.0), shift);
        assert!((places(0.3) / places(0.0) - 0.3f64.exp()).abs() < 1e-12);
    }

    #[test]
    fn capacity_trend_compounds_its_growth() {
        let t = trend();
        let p = t.draw(&NO_SPREAD, &[0.0; NORMALS]);
        let k = t.trend_capacity(&p, &TrendClock::linear(3.0), 0.0);
        assert!((k - 250.0 * (0.15f64).exp()).abs() < 1e-9);
        // A path's draw moves the level and the growth once for every year.
        let spread = PlacementSpread {
            capacity_level_sd: 0.1,
            capacity_growth_sd: 0.01,
            ..NO_SPREAD
        };
        let mut z = [0.0; NORMALS];
        z[2 * GROUPS] = 1.0;
        z[2 * GROUPS + 1] = -1.0;
        let q = t.draw(&spread, &z);
        let ratio = |y: f64| {
            t.trend_capacity(&q, &TrendClock::linear(y), 0.0)
                / t.trend_capacity(&p, &TrendClock::linear(y), 0.0)
        };
        // Less half the variances (the level's 0.1^2/2, the growth's 0.01^2 y^2/2), so that the
        // drawn places have the trend as their mean.
        let expect = |y: f64| 0.1 - 0.01 * y - 0.005 - 0.00005 * y * y;
        assert!((ratio(1.0).ln() - expect(1.0)).abs() < 1e-12);
        assert!((ratio(4.0).ln() - expect(4.0)).abs() < 1e-12);
    }

    #[test]
    fn drawn_shares_have_the_fitted_trend_as_their_mean() {
        // Level sd 0.2, slope sd 0.08 a year (post-16's are 0.18 and 0.084). Over many paths
        // the post-16 share averages its trend's at every horizon; draws centred on the trend's
        // log (main before this change) average exp(0.2^2/2 + 0.08^2 k^2/2) times it: +2% at
        // the census and +10.5% five years on.
        use rand::{Rng, SeedableRng};
        let t = trend();
        let spread = PlacementSpread {
            level_sd: [0.0, 0.2, 0.0],
            slope_sd: [0.0, 0.08, 0.0],
            ..NO_SPREAD
        };
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let n = 200_000;
        for k in [0.0, 2.0, 5.0] {
            let clock = TrendClock::linear(k);
            let mean = (0..n)
                .map(|_| {
                    let z = std::array::from_fn(|_| rng.sample(rand_distr::StandardNormal));
                    let p = t.draw(&spread, &z);
                    t.targets(&p, &clock, 1000.0, 1e9, 0.0, [0.0; GROUPS]).0[POST16]
                })
                .sum::<f64>()
                / f64::from(n);
            let fitted = 1000.0 * 150.0 / 950.0 * (-0.02 * k).exp();
            assert!(
                (mean / fitted - 1.0).abs() < 0.01,
                "k {k}: {mean} vs {fitted}"
            );
        }
    }

    /// The baseline's fitted `placement.group_correlation` (specialist, post-16, AP/other).
    fn fitted_group_correlation() -> crate::scenario::Correlation3 {
        crate::scenario::Correlation3::new([
            [1.0, 0.02, -0.18],
            [0.02, 1.0, -0.39],
            [-0.18, -0.39, 1.0],
        ])
        .expect("positive definite")
    }

    /// `n` draws of the placement normals, the levels correlated by `correlation`.
    fn correlated_normals(
        correlation: &crate::scenario::Correlation3,
        n: usize,
    ) -> Vec<[f64; NORMALS]> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        (0..n)
            .map(|_| {
                let mut z = std::array::from_fn(|_| rng.sample(rand_distr::StandardNormal));
                correlate_levels(correlation.cholesky(), &mut z);
                z
            })
            .collect()
    }

    fn pearson(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        sxy / (sxx * syy).sqrt()
    }

    #[test]
    fn drawn_group_levels_have_the_configured_correlation() {
        // 40,000 draws: a correlation's standard error is about 0.005, so 0.02 is four of them;
        // independent levels (main before this change) are 0.18 and 0.39 away.
        let correlation = fitted_group_correlation();
        let z = correlated_normals(&correlation, 40_000);
        let column = |i: usize| z.iter().map(|z| z[i]).collect::<Vec<_>>();
        for g in 0..GROUPS {
            let level = column(2 * g);
            let sd = (level.iter().map(|v| v * v).sum::<f64>() / level.len() as f64).sqrt();
            assert!((sd - 1.0).abs() < 0.02, "group {g}: level sd {sd}");
            for h in 0..g {
                let r = pearson(&level, &column(2 * h));
                let want = correlation.matrix()[g][h];
                assert!((r - want).abs() < 0.02, "groups {g},{h}: {r} vs {want}");
            }
            // Slopes stay independent of every level.
            let r = pearson(&column(2 * g + 1), &column(0));
            assert!(r.abs() < 0.02, "slope {g} with the specialist level: {r}");
        }
        // The identity changes no normal's bits.
        let mut identity = correlated_normals(&crate::scenario::Correlation3::identity(), 1000);
        let plain = {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
            (0..1000)
                .map(|_| std::array::from_fn(|_| rng.sample(rand_distr::StandardNormal)))
                .collect::<Vec<[f64; NORMALS]>>()
        };
        for (a, b) in identity.iter_mut().zip(&plain) {
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
        }
    }

    #[test]
    fn correlated_group_levels_narrow_mainstream() {
        // The baseline's council level sds (specialist 0.030, post-16 0.112, AP/other 0.210) on a
        // council of 950 plans (300 specialist, 150 post-16, 100 AP/other) at the census.
        // Mainstream is the remainder, so its deviation is about -(300 x 0.030 e_S + 150 x 0.112
        // e_16 + 100 x 0.210 e_AP): sd 28.4 plans with independent levels and 21.6 with the
        // fitted correlation (ratio 0.762, worked out from the matrix below).
        let t = trend();
        let spread = PlacementSpread {
            level_sd: [0.030, 0.112, 0.210],
            ..NO_SPREAD
        };
        let mainstream_sd = |correlation: &crate::scenario::Correlation3| {
            let draws: Vec<f64> = correlated_normals(correlation, 40_000)
                .iter()
                .map(|z| {
                    let p = t.draw(&spread, z);
                    t.targets(&p, &TrendClock::linear(0.0), 950.0, 1e9, 0.0, [0.0; GROUPS])
                        .0[MAINSTREAM]
                })
                .collect();
            let n = draws.len() as f64;
            let mean = draws.iter().sum::<f64>() / n;
            (draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
        };
        let correlation = fitted_group_correlation();
        let weight = [300.0 * 0.030, 150.0 * 0.112, 100.0 * 0.210];
        let variance = |m: &[[f64; 3]; 3]| -> f64 {
            (0..3)
                .map(|i| (0..3).map(|j| weight[i] * weight[j] * m[i][j]).sum::<f64>())
                .sum()
        };
        let expected = (variance(correlation.matrix())
            / variance(crate::scenario::Correlation3::identity().matrix()))
        .sqrt();
        let ratio =
            mainstream_sd(&correlation) / mainstream_sd(&crate::scenario::Correlation3::identity());
        assert!(
            ratio < 0.85,
            "mainstream's sd fell only to {ratio:.3} of the independent draws'"
        );
        assert!(
            (ratio - expected).abs() < 0.03,
            "ratio {ratio:.3} vs {expected:.3} expected"
        );
    }

    #[test]
    fn decayed_trends_follow_the_integral_of_the_halving_slope() {
        let (h, g_lr, k) = (15.0, 0.01, 10.0);
        let clock = TrendClock::decayed(k, h, g_lr);
        // The cumulative slope is the integral of 0.5^((u - DECAY_DELAY)/h), 1 for the first
        // DECAY_DELAY years, from 0 to k (Simpson's rule; the kink falls on a pair's edge).
        let n = 1000;
        let step = k / n as f64;
        let f = |u: f64| 0.5_f64.powf((u - DECAY_DELAY).max(0.0) / h);
        let integral = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else {
                    2.0 + 2.0 * (i % 2) as f64
                };
                w * f(i as f64 * step)
            })
            .sum::<f64>()
            * step
            / 3.0;
        assert!((clock.sloped_years - integral).abs() < 1e-9, "{clock:?}");
        let closed =
            DECAY_DELAY + h / std::f64::consts::LN_2 * (1.0 - 0.5_f64.powf((k - DECAY_DELAY) / h));
        assert!((clock.sloped_years - closed).abs() < 1e-12);
        assert!(clock.sloped_years < k);
        // In the targets: specialist placements decay toward g_LR, the shares' slopes toward 0.
        let t = trend();
        let p = t.draw(&NO_SPREAD, &[0.0; NORMALS]);
        let (out, _) = t.targets(&p, &clock, 1000.0, 1e9, 0.0, [0.0; GROUPS]);
        let specialist = out[SPECIAL_STATE] + out[SPECIAL_INDEPENDENT];
        let grown = g_lr * k + (-0.05 - g_lr) * closed;
        assert!((specialist - 300.0 * grown.exp()).abs() < 1e-9, "{out:?}");
        let post16 = 1000.0 * 150.0 / 950.0 * (-0.02 * closed).exp();
        let ap = 1000.0 * 100.0 / 950.0 * (0.03 * closed).exp();
        assert!((out[POST16] - post16).abs() < 1e-9);
        assert!((out[AP_OTHER] - ap).abs() < 1e-9);
        assert!((out.iter().sum::<f64>() - 1000.0).abs() < 1e-9);
        // The places decay the same way toward g_LR.
        let places = 250.0 * (g_lr * k + (0.05 - g_lr) * closed).exp();
        assert!((t.trend_capacity(&p, &clock, 0.0) - places).abs() < 1e-9);
        // Far on, the growth is g_LR a year and the shares stop moving.
        let (a, b) = (
            TrendClock::decayed(200.0, h, g_lr),
            TrendClock::decayed(201.0, h, g_lr),
        );
        assert!((b.growth_change(0.05) - a.growth_change(0.05) - g_lr).abs() < 1e-5);
        assert!((b.share_change(0.03) - a.share_change(0.03)).abs() < 1e-5);
    }

    #[test]
    fn without_decay_the_trends_are_linear() {
        let t = trend();
        let p = t.draw(&NO_SPREAD, &[0.0; NORMALS]);
        for k in [0.0, 1.0, 4.0, 10.0] {
            let linear = TrendClock::linear(k);
            assert_eq!(linear.share_change(0.03), 0.03 * k);
            assert_eq!(linear.growth_change(-0.05), -0.05 * k);
            let (out, _) = t.targets(&p, &linear, 1000.0, 1e9, 0.0, [0.0; GROUPS]);
            let specialist = out[SPECIAL_STATE] + out[SPECIAL_INDEPENDENT];
            assert!((specialist - 300.0 * (-0.05 * k).exp()).abs() < 1e-9);
            let post16 = 1000.0 * 150.0 / 950.0 * (-0.02 * k).exp();
            assert!((out[POST16] - post16).abs() < 1e-9);
            assert!((t.trend_capacity(&p, &linear, 0.0) - 250.0 * (0.05 * k).exp()).abs() < 1e-9);
        }
        // At and before the census, and in the first projected year, a decayed clock is the
        // linear one: the trends keep their fitted pace for DECAY_DELAY years.
        assert_eq!(DECAY_DELAY, 1.0);
        for k in [0.0, 0.5, 1.0] {
            assert_eq!(TrendClock::decayed(k, 15.0, 0.01), TrendClock::linear(k));
        }
        assert!(TrendClock::decayed(1.5, 15.0, 0.01).sloped_years < 1.5);
        assert_eq!(
            TrendClock::decayed(-4.0, 15.0, 0.01),
            TrendClock::linear(-4.0)
        );
        // A very long half-life gives back the linear trend.
        let slow = TrendClock::decayed(10.0, 1e9, 0.01);
        assert!((slow.sloped_years - 10.0).abs() < 1e-6);
        assert!((slow.growth_change(0.05) - 0.5).abs() < 1e-6);
    }

    /// One lane's re-placing as a lone path does it: the definition that [`replace`]'s lanes
    /// must match bit for bit.
    fn replace_one(cells: &mut [[f64; SETTINGS]; AGE_BANDS], targets: &[f64; SETTINGS]) {
        let mut column = [0.0; SETTINGS];
        for band in cells.iter() {
            for (s, cell) in band.iter().enumerate() {
                column[s] += cell;
            }
        }
        let mut keep = [1.0; SETTINGS];
        let mut shortfall = [0.0; SETTINGS];
        for s in 0..SETTINGS {
            if column[s] > targets[s] {
                keep[s] = targets[s] / column[s];
            } else {
                shortfall[s] = targets[s] - column[s];
            }
        }
        let total_shortfall: f64 = shortfall.iter().sum();
        if total_shortfall <= 0.0 {
            return;
        }
        let gets = shortfall.map(|v| v / total_shortfall);
        for band in cells.iter_mut() {
            let mut released = 0.0;
            for (s, cell) in band.iter_mut().enumerate() {
                released += *cell * (1.0 - keep[s]);
                *cell *= keep[s];
            }
            for (s, cell) in band.iter_mut().enumerate() {
                *cell += released * gets[s];
            }
        }
    }

    #[test]
    fn lanes_are_replaced_as_lone_paths_bit_for_bit() {
        let mut next = crate::fixtures::xorshift_uniform(0x9E37_79B9_7F4A_7C15);
        for round in 0..500 {
            let mut cells = [[[0.0; 4]; SETTINGS]; AGE_BANDS];
            for band in cells.iter_mut() {
                for cell in band.iter_mut() {
                    for v in cell.iter_mut() {
                        // Some empty cells, and some signed zeros.
                        let u = next();
                        *v = if u < 0.1 {
                            0.0
                        } else if u < 0.15 {
                            -0.0
                        } else {
                            100.0 * u
                        };
                    }
                }
            }
            let mut targets = [[0.0; 4]; SETTINGS];
            for l in 0..4 {
                let plans: f64 = cells.iter().flatten().map(|v| v[l]).sum();
                let weights: [f64; SETTINGS] = std::array::from_fn(|_| next());
                let sum: f64 = weights.iter().sum();
                for s in 0..SETTINGS {
                    targets[s][l] = plans * weights[s] / sum;
                }
                // Lanes without a shortfall: their own totals, or every setting below them.
                if round % 7 == l {
                    for s in 0..SETTINGS {
                        targets[s][l] = cells.iter().map(|band| band[s][l]).sum();
                    }
                } else if round % 11 == l {
                    for by_lane in targets.iter_mut() {
                        by_lane[l] *= 0.5;
                    }
                }
            }
            let mut lanes = cells;
            replace(&mut lanes, &targets);
            for l in 0..4 {
                let mut one: [[f64; SETTINGS]; AGE_BANDS] =
                    std::array::from_fn(|a| std::array::from_fn(|s| cells[a][s][l]));
                replace_one(&mut one, &std::array::from_fn(|s| targets[s][l]));
                for a in 0..AGE_BANDS {
                    for s in 0..SETTINGS {
                        assert_eq!(
                            lanes[a][s][l].to_bits(),
                            one[a][s].to_bits(),
                            "round {round}, lane {l}, band {a}, setting {s}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lanes_get_their_targets_and_places_as_lone_paths_bit_for_bit() {
        let mut next = crate::fixtures::xorshift_uniform(0x2545_F491_4F6C_DD1D);
        let t = trend();
        // How often each branch was taken: an overflow, mainstream emptied by the induced
        // placements, the places below zero.
        let (mut overflows, mut emptied, mut negative) = (0, 0, 0);
        for round in 0..2000 {
            // Wide spreads and long horizons, so that the groups' shares are sometimes scaled to
            // their room, the induced placements sometimes exceed mainstream, the specialist
            // trend sometimes meets its cap, and the places are sometimes negative.
            let spread = PlacementSpread {
                level_sd: [0.3 + next(), 0.5 + 2.0 * next(), 0.5 + 2.0 * next()],
                slope_sd: [0.1 * next(), 0.2 * next(), 0.2 * next()],
                capacity_level_sd: next(),
                capacity_growth_sd: 0.1 * next(),
            };
            let mut paths = [t.draw(&spread, &[0.0; NORMALS]); 4];
            let mut clocks = [TrendClock::linear(0.0); 4];
            let mut stock = [0.0; 4];
            let mut capacity = [0.0; 4];
            let mut shift = [[0.0; 4]; GROUPS];
            let mut capacity_shift = [0.0; 4];
            for l in 0..4 {
                let z: [f64; NORMALS] = std::array::from_fn(|_| 6.0 * next() - 3.0);
                paths[l] = t.draw(&spread, &z);
                let years = (30.0 * next()).floor() - 4.0;
                clocks[l] = if round % 3 == 0 {
                    TrendClock::linear(years)
                } else {
                    TrendClock::decayed(years, 5.0 + 20.0 * next(), 0.03 * next() - 0.01)
                };
                stock[l] = match (round + l) % 13 {
                    0 => 0.0,
                    1 => 0.5 * next(),
                    _ => 2000.0 * next(),
                };
                capacity[l] = 600.0 * next() - 100.0;
                for by_lane in shift.iter_mut() {
                    by_lane[l] = next() - 0.5;
                }
                capacity_shift[l] = next() - 0.5;
            }
            let induced = 300.0 * next();
            let lanes = PlacementLanes::new(&paths);
            let mut clock = ClockLanes::splat(clocks[0]);
            for (l, c) in clocks.iter().enumerate() {
                clock.set(l, *c);
            }
            let places = t.trend_capacities(&lanes, &clock, &capacity_shift);
            let (targets, overflow) =
                t.lane_targets(&lanes, &clock, &stock, &capacity, induced, &shift);
            for l in 0..4 {
                let one = t.trend_capacity(&paths[l], &clocks[l], capacity_shift[l]);
                assert_eq!(
                    places[l].to_bits(),
                    one.to_bits(),
                    "round {round}, lane {l}"
                );
                let (out, over) = t.targets(
                    &paths[l],
                    &clocks[l],
                    stock[l],
                    capacity[l],
                    induced,
                    shift.map(|by_lane| by_lane[l]),
                );
                assert_eq!(
                    overflow[l].to_bits(),
                    over.to_bits(),
                    "round {round}, lane {l}"
                );
                overflows += usize::from(over > 0.0);
                emptied += usize::from(out[MAINSTREAM] == 0.0 && induced > 0.0);
                negative += usize::from(capacity[l] < 0.0);
                for s in 0..SETTINGS {
                    assert_eq!(
                        targets[s][l].to_bits(),
                        out[s].to_bits(),
                        "round {round}, lane {l}, setting {s}"
                    );
                }
            }
        }
        for count in [overflows, emptied, negative] {
            assert!(
                count > 100 && count < 7900,
                "{overflows} {emptied} {negative}"
            );
        }
    }

    #[test]
    fn replacement_hits_the_targets_and_keeps_the_plans() {
        let mut cells = [[[0.0; 2]; SETTINGS]; AGE_BANDS];
        for a in 0..AGE_BANDS {
            for s in 0..SETTINGS {
                cells[a][s][0] = (1 + a * s) as f64;
                cells[a][s][1] = 7.0;
            }
        }
        cells[0][POST16][0] = 0.0;
        let before: f64 = cells.iter().flatten().map(|v| v[0]).sum();
        let mut targets = [0.0; SETTINGS];
        targets[MAINSTREAM] = 0.3 * before;
        targets[SPECIAL_STATE] = 0.3 * before;
        targets[SPECIAL_INDEPENDENT] = 0.1 * before;
        targets[POST16] = 0.2 * before;
        targets[AP_OTHER] = 0.1 * before;
        // Lane 1's targets are its own totals: it has no shortfall and keeps its plans.
        let lanes: [[f64; 2]; SETTINGS] = std::array::from_fn(|s| [targets[s], 7.0 * 5.0]);
        replace(&mut cells, &lanes);
        for s in 0..SETTINGS {
            let col: f64 = cells.iter().map(|r| r[s][0]).sum();
            assert!((col - targets[s]).abs() < 1e-9, "setting {s}: {col}");
        }
        // Every age band keeps its plans; lane 1 is untouched.
        for (a, band) in cells.iter().enumerate() {
            let sum: f64 = band.iter().map(|v| v[0]).sum();
            let was: f64 = (0..SETTINGS)
                .map(|s| {
                    if a == 0 && s == POST16 {
                        0.0
                    } else {
                        (1 + a * s) as f64
                    }
                })
                .sum();
            assert!((sum - was).abs() < 1e-9, "band {a}: {sum} vs {was}");
        }
        assert!(cells.iter().flatten().all(|v| v[1] == 7.0));
    }
}
