//! Back-test: rebuild the start from what was known at the end of an origin FY, project, and
//! score the forecast distributions against what happened (real values in the seeds).
//! `export::backtest` writes the results; `table` is the terminal summary.

use crate::calibration::{calibrate, Vintage};
use crate::engine::{simulate, CouncilPaths, EnglandPaths};
use crate::error::InputError;
use crate::metric::{Metric, NationalMetric};
use crate::run::{Horizon, Inputs};
use crate::scenario::LoadedScenario;
use crate::seeds::{Baseline, CouncilSeed};
use crate::summary::{stats, Band, Stats};
use crate::FinancialYear;

/// A percentage error is reported only where the actual deficit is at least this (pounds).
pub const PCT_ERROR_FLOOR_POUNDS: f64 = 1e6;
/// A percentage error is reported only where the actual count is at least this many plans.
pub const PCT_ERROR_FLOOR_PLANS: f64 = 100.0;

/// What is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Cumulative DSG deficit at 31 March (end of the FY).
    Deficit,
    /// EHCPs in the January census of the FY.
    Ehcps,
}

impl Target {
    pub fn metric(self) -> Metric {
        match self {
            Target::Deficit => Metric::CumulativeDeficit,
            Target::Ehcps => Metric::Ehcps,
        }
    }
    pub fn name(self) -> &'static str {
        self.metric().name()
    }
    pub fn decimals(self) -> usize {
        self.metric().decimals()
    }
    pub fn period(self, fy: FinancialYear) -> String {
        match self {
            Target::Deficit => format!("{}-03-31", fy.end_year()),
            Target::Ehcps => format!("January {}", fy.end_year()),
        }
    }
    /// The smallest actual for which a percentage error means something.
    pub fn pct_error_floor(self) -> f64 {
        match self {
            Target::Deficit => PCT_ERROR_FLOOR_POUNDS,
            Target::Ehcps => PCT_ERROR_FLOOR_PLANS,
        }
    }
    /// The real value for `seed` in `fy`, if published and not an estimate.
    fn actual(self, seed: &CouncilSeed, fy: FinancialYear) -> Option<f64> {
        match self {
            Target::Deficit if !seed.deficits_estimated.contains(&fy) => {
                seed.deficits.get(&fy).copied()
            }
            Target::Ehcps if !seed.ehcps_estimated.contains(&fy.end_year()) => {
                seed.ehcps.get(&fy.end_year()).copied()
            }
            _ => None,
        }
    }
}

/// One forecast scored against one actual value.
#[derive(Debug, Clone)]
pub struct Scored {
    pub target: Target,
    pub fy: FinancialYear,
    pub horizon: i32,
    /// `None` for England.
    pub la_code: Option<u16>,
    pub la_name: String,
    pub actual: f64,
    pub forecast: Stats,
    /// Probability integral transform: share of paths below the actual (ties count half).
    pub pit: f64,
}

impl Scored {
    /// The forecast `values` (one per path) of `target` in `fy` scored against `actual`; the
    /// caller names the area.
    fn new(
        target: Target,
        fy: FinancialYear,
        origin: FinancialYear,
        actual: f64,
        values: &[f64],
    ) -> Self {
        Scored {
            target,
            fy,
            horizon: fy.0 - origin.0,
            la_code: None,
            la_name: String::new(),
            actual,
            forecast: stats(&mut values.to_vec()),
            pit: pit(values, actual),
        }
    }
    pub fn in_band(&self, band: Band) -> bool {
        self.forecast.in_band(band, self.actual)
    }
    pub fn error(&self) -> f64 {
        self.forecast.p50 - self.actual
    }
    /// Percentage error of the median, where the actual is large enough for a percentage to
    /// mean something (see `PCT_ERROR_FLOOR_*`).
    pub fn pct_error(&self) -> Option<f64> {
        (self.actual.abs() >= self.target.pct_error_floor())
            .then(|| 100.0 * self.error() / self.actual.abs())
    }
}

/// A back-test's scored forecasts: the report view the exporters read.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub scenario: String,
    pub origin: FinancialYear,
    /// The projected years (from the FY after the origin to the last scored one).
    pub horizon: Horizon,
    pub councils: usize,
    pub rows: Vec<Scored>,
}

fn pit(values: &[f64], actual: f64) -> f64 {
    let below = values.iter().filter(|v| **v < actual).count() as f64;
    let equal = values.iter().filter(|v| **v == actual).count() as f64;
    (below + 0.5 * equal) / values.len().max(1) as f64
}

/// Every later real value in the seeds: (target, FY).
fn targets(baseline: &Baseline, origin: FinancialYear) -> Vec<(Target, FinancialYear)> {
    let first = &baseline.councils[0];
    let deficits = first.deficits.keys().copied().filter(|fy| *fy > origin);
    let ehcps = first
        .ehcps
        .keys()
        .map(|jan| FinancialYear::of_january(*jan))
        .filter(|fy| *fy > origin);
    deficits
        .map(|fy| (Target::Deficit, fy))
        .chain(ehcps.map(|fy| (Target::Ehcps, fy)))
        .collect()
}

/// The scenario with its horizon and override date moved into the back-test window
/// (`origin` + 1 to `last`); every other term is used as written.
fn backtest_scenario(
    scenario: &LoadedScenario,
    origin: FinancialYear,
    last: FinancialYear,
) -> LoadedScenario {
    let mut ls = scenario.clone();
    let s = &mut ls.scenario;
    s.horizon.first_fy = origin.next();
    s.horizon.last_fy = last;
    if ls.override_end_fy > last {
        ls.override_end_fy = last;
        s.override_rule.end = format!("{}-03-31", last.end_year());
    }
    if s.after_override.from_fy <= ls.override_end_fy {
        s.after_override.from_fy = ls.override_end_fy.next();
    }
    ls
}

/// Runs the back-test. The scenario's horizon and override date are moved to the back-test
/// window; every other term is used as written.
pub fn backtest(
    inputs: Inputs,
    origin: FinancialYear,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, InputError> {
    let Inputs {
        baseline,
        scenario,
        config,
    } = inputs;
    let targets = targets(baseline, origin);
    let last = targets.iter().map(|t| t.1).max().ok_or_else(|| {
        InputError::invalid(
            &baseline.dir,
            format!("no data after {origin} to score a back-test against"),
        )
    })?;
    let model = calibrate(
        baseline,
        &backtest_scenario(scenario, origin, last),
        Vintage::as_of(origin),
    )?;
    let horizon = Horizon {
        years: model.schedule.years.clone(),
        override_end: model.schedule.override_end,
    };
    let t_of = |fy: FinancialYear| horizon.years.iter().position(|y| *y == fy);
    let wanted: Vec<(Target, usize)> = targets
        .iter()
        .filter_map(|(target, fy)| t_of(*fy).map(|t| (*target, t)))
        .collect();
    let (per_council, national) =
        simulate(&model, config, |cp| forecast_paths(cp, &wanted), progress);
    let scoring = Scoring {
        baseline,
        origin,
        years: &horizon.years,
        wanted: &wanted,
    };
    let mut rows = scoring.councils(&per_council);
    rows.extend(scoring.england(&national));
    Ok(Backtest {
        scenario: scenario.scenario.name.clone(),
        origin,
        councils: model.councils.len(),
        horizon,
        rows,
    })
}

/// One council's forecast paths of each wanted (target, year).
fn forecast_paths(cp: &CouncilPaths, wanted: &[(Target, usize)]) -> Vec<Vec<f64>> {
    wanted
        .iter()
        .map(|(target, t)| {
            (0..cp.paths)
                .map(|p| cp.get(p, *t, target.metric()))
                .collect()
        })
        .collect()
}

/// What scoring needs to turn forecast paths into scored rows.
struct Scoring<'a> {
    baseline: &'a Baseline,
    origin: FinancialYear,
    years: &'a [FinancialYear],
    wanted: &'a [(Target, usize)],
}

impl Scoring<'_> {
    /// Every council forecast that has a real (not estimated) actual.
    fn councils(&self, per_council: &[Vec<Vec<f64>>]) -> Vec<Scored> {
        let mut rows = Vec::new();
        for (seed, paths) in self.baseline.councils.iter().zip(per_council) {
            for ((target, t), values) in self.wanted.iter().zip(paths) {
                let fy = self.years[*t];
                if let Some(actual) = target.actual(seed, fy) {
                    rows.push(Scored {
                        la_code: Some(seed.la_code),
                        la_name: seed.la_name.clone(),
                        ..Scored::new(*target, fy, self.origin, actual, values)
                    });
                }
            }
        }
        rows
    }

    /// England EHCPs: national per-path sums against the published total (sum of councils).
    fn england(&self, national: &EnglandPaths) -> Vec<Scored> {
        let ehcps = NationalMetric::Council(Metric::Ehcps);
        let wanted = self
            .wanted
            .iter()
            .filter(|(target, _)| *target == Target::Ehcps);
        wanted
            .map(|(target, t)| {
                let fy = self.years[*t];
                let census = fy.end_year();
                let actual: f64 = self
                    .baseline
                    .councils
                    .iter()
                    .filter_map(|c| c.ehcps.get(&census))
                    .sum();
                let values: Vec<f64> = (0..national.paths)
                    .map(|p| national.get(p, *t, ehcps))
                    .collect();
                Scored {
                    la_name: "England".into(),
                    ..Scored::new(*target, fy, self.origin, actual, &values)
                }
            })
            .collect()
    }
}

/// Scores for one target and horizon over councils.
#[derive(Debug, Clone)]
pub struct Score {
    pub target: Target,
    pub fy: FinancialYear,
    pub horizon: i32,
    pub councils: usize,
    pub bias: f64,
    pub bias_pct: f64,
    pub mdape: f64,
    pub coverage_50: f64,
    pub coverage_90: f64,
    /// Share of PIT values in each fifth (0-0.2, ..., 0.8-1): flat means calibrated.
    pub pit_fifths: [f64; 5],
    pub england: Option<EnglandScore>,
}

/// England's forecast for one target and year.
#[derive(Debug, Clone, Copy)]
pub struct EnglandScore {
    pub actual: f64,
    pub p50: f64,
    pub in_90: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    stats(&mut v).p50
}

impl Score {
    /// Scores the council rows of one target and year, and England's row if there is one.
    fn of(
        target: Target,
        fy: FinancialYear,
        origin: FinancialYear,
        councils: &[&Scored],
        england: Option<&Scored>,
    ) -> Score {
        let n = councils.len().max(1) as f64;
        let share_in = |band| councils.iter().filter(|r| r.in_band(band)).count() as f64 / n;
        let mut fifths = [0.0; 5];
        for r in councils {
            fifths[((r.pit * 5.0) as usize).min(4)] += 1.0 / n;
        }
        Score {
            target,
            fy,
            horizon: fy.0 - origin.0,
            councils: councils.len(),
            bias: median(councils.iter().map(|r| r.error()).collect()),
            bias_pct: median(councils.iter().filter_map(|r| r.pct_error()).collect()),
            mdape: median(
                councils
                    .iter()
                    .filter_map(|r| r.pct_error().map(f64::abs))
                    .collect(),
            ),
            coverage_50: share_in(Band::Central50),
            coverage_90: share_in(Band::Central90),
            pit_fifths: fifths,
            england: england.map(|e| EnglandScore {
                actual: e.actual,
                p50: e.forecast.p50,
                in_90: e.in_band(Band::Central90),
            }),
        }
    }
}

/// Scores per target and year, in that order.
pub fn scores(bt: &Backtest) -> Vec<Score> {
    let mut keys: Vec<(Target, FinancialYear)> = bt.rows.iter().map(|r| (r.target, r.fy)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(target, fy)| {
            let of_key = |r: &&Scored| r.target == target && r.fy == fy;
            let councils: Vec<&Scored> = bt
                .rows
                .iter()
                .filter(of_key)
                .filter(|r| r.la_code.is_some())
                .collect();
            let england = bt.rows.iter().filter(of_key).find(|r| r.la_code.is_none());
            Score::of(target, fy, bt.origin, &councils, england)
        })
        .collect()
}

/// A short plain-text table for the terminal and the README.
pub fn table(bt: &Backtest) -> String {
    let mut s = format!(
        "back-test from the end of {} ({} scored forecasts)\n{:<20} {:<17} {:>3} {:>5} {:>14} {:>8} {:>7} {:>7} {:>7}\n",
        bt.origin,
        bt.rows.len(),
        "target",
        "period",
        "h",
        "n",
        "bias(p50)",
        "bias%",
        "MdAPE%",
        "cov50",
        "cov90"
    );
    for sc in scores(bt) {
        let bias = if sc.target == Target::Deficit {
            format!("£{:.1}m", sc.bias / 1e6)
        } else {
            format!("{:.0} plans", sc.bias)
        };
        s.push_str(&format!(
            "{:<20} {:<17} {:>3} {:>5} {:>14} {:>8.1} {:>7.1} {:>6.0}% {:>6.0}%\n",
            sc.target.name(),
            sc.target.period(sc.fy),
            sc.horizon,
            sc.councils,
            bias,
            sc.bias_pct,
            sc.mdape,
            100.0 * sc.coverage_50,
            100.0 * sc.coverage_90
        ));
        if let Some(e) = sc.england {
            s.push_str(&format!(
                "{:<20} {:<17} {:>3} {:>5} England: actual {:.0}, median forecast {:.0} ({}inside the 90% band)\n",
                "",
                "",
                "",
                "",
                e.actual,
                e.p50,
                if e.in_90 { "" } else { "not " }
            ));
        }
    }
    s
}
