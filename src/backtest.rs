//! Back-test: rebuild the start from what was known at the end of an origin FY, project, and
//! score the forecast distributions against what happened (real values in the seeds).
//! `export::backtest` writes the results; `table` is the terminal summary.

use crate::calibration::{calibrate, Model, Vintage};
use crate::engine::{simulate, CouncilPaths, EnglandPaths};
use crate::error::{ImplausibleFigure, InputError};
use crate::metric::{Metric, NationalMetric};
use crate::run::{Horizon, Inputs};
use crate::seeds::{Baseline, CouncilSeed};
use crate::summary::{is_plausible, stats, Band, Stats};
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
    /// Spend over the FYs between two published balances (the target's FY is the last), against
    /// the spend the data imply: HNB after deductions + safety-valve instalments received + the
    /// change in the DSG balance.
    Spend,
    /// EHCPs in one setting (placement) in the January census of the FY.
    EhcpsIn(usize),
}

impl Target {
    pub fn metric(self) -> Metric {
        match self {
            Target::Deficit => Metric::CumulativeDeficit,
            Target::Ehcps => Metric::Ehcps,
            Target::Spend => Metric::Spend,
            Target::EhcpsIn(s) => Metric::BY_SETTING[s],
        }
    }
    /// Money targets are also scored in % of the council's HNB and by group.
    pub fn is_money(self) -> bool {
        matches!(self, Target::Deficit | Target::Spend)
    }
    pub fn name(self) -> &'static str {
        self.metric().name()
    }
    pub fn decimals(self) -> usize {
        self.metric().decimals()
    }
    /// The period scored: `span` FYs ending with `fy` for spend.
    pub fn period(self, fy: FinancialYear, span: i32) -> String {
        match self {
            Target::Deficit => format!("balance 31 Mar {}", fy.end_year()),
            Target::Ehcps | Target::EhcpsIn(_) => format!("census Jan {}", fy.end_year()),
            Target::Spend if span > 1 => {
                format!("FY {} to {}", FinancialYear(fy.0 - span + 1), fy)
            }
            Target::Spend => format!("FY {fy}"),
        }
    }
    /// The smallest actual for which a percentage error means something.
    pub fn pct_error_floor(self) -> f64 {
        match self {
            Target::Deficit | Target::Spend => PCT_ERROR_FLOOR_POUNDS,
            Target::Ehcps | Target::EhcpsIn(_) => PCT_ERROR_FLOOR_PLANS,
        }
    }
    /// The seeds' value of an EHCP target for `seed` in `fy` (estimated or not).
    fn census_value(self, seed: &CouncilSeed, fy: FinancialYear) -> Option<f64> {
        match self {
            Target::EhcpsIn(s) => seed
                .caseload
                .get(&fy.end_year())
                .map(|cells| crate::caseload::by_setting(cells)[s]),
            _ => seed.ehcps.get(&fy.end_year()).copied(),
        }
    }
    /// The real value for `seed` over the `span` FYs ending with `fy`, if published and not
    /// an estimate (spend: both balances real).
    fn actual(self, seed: &CouncilSeed, fy: FinancialYear, span: i32) -> Option<f64> {
        let real_balance = |fy: FinancialYear| !seed.deficits_estimated.contains(&fy);
        match self {
            Target::Deficit if real_balance(fy) => seed.deficits.get(&fy).copied(),
            Target::Ehcps if !seed.ehcps_estimated.contains(&fy.end_year()) => {
                seed.ehcps.get(&fy.end_year()).copied()
            }
            Target::Spend if real_balance(fy) && real_balance(FinancialYear(fy.0 - span)) => {
                implied_spend(seed, fy, span)
            }
            Target::EhcpsIn(_) if !seed.placements_estimated.contains(&fy.end_year()) => {
                self.census_value(seed, fy)
            }
            _ => None,
        }
    }
}

/// The FYs of a target: `span` FYs ending with `fy`.
fn span_years(fy: FinancialYear, span: i32) -> impl Iterator<Item = FinancialYear> {
    (fy.0 - span + 1..=fy.0).map(FinancialYear)
}

/// HNB after deductions over the `span` FYs ending with `fy` (the scale of errors in % of HNB).
fn hnb_over(seed: &CouncilSeed, fy: FinancialYear, span: i32) -> f64 {
    span_years(fy, span)
        .filter_map(|f| seed.hnb.get(&f).map(|v| v.1))
        .sum()
}

/// Spend the data imply over the `span` FYs ending with `fy`: HNB after deductions +
/// safety-valve instalments received + the change in the DSG balance.
pub fn implied_spend(seed: &CouncilSeed, fy: FinancialYear, span: i32) -> Option<f64> {
    let change = seed.deficits.get(&fy)? - seed.deficits.get(&FinancialYear(fy.0 - span))?;
    let received: f64 = span_years(fy, span)
        .filter_map(|f| seed.safety_valve.as_ref()?.instalments.get(&f).copied())
        .sum();
    Some(hnb_over(seed, fy, span) + received + change)
}

/// One forecast scored against one actual value.
#[derive(Debug, Clone)]
pub struct Scored {
    pub target: Target,
    pub fy: FinancialYear,
    /// FYs summed (spend; 1 otherwise).
    pub span: i32,
    pub horizon: i32,
    /// HNB after deductions over the target's FYs: the scale of `hnb_error` (0 for England).
    pub hnb: f64,
    /// The council has a safety-valve agreement in the seeds.
    pub safety_valve: bool,
    /// `None` for England.
    pub la_code: Option<u16>,
    pub la_name: String,
    pub actual: f64,
    pub forecast: Stats,
    /// Probability integral transform: share of paths below the actual (ties count half).
    pub pit: f64,
    /// The first `MODEL_TRUTHS` paths' values (councils only): each path in turn taken as what
    /// happened, for the ranges `Score` expects of its own statistics if the model is right.
    pub truths: Vec<f64>,
}

impl Scored {
    /// The forecast `values` (one per path) of `target` in `fy` scored against `actual`; the
    /// caller names the area.
    fn new(
        (target, fy, span): (Target, FinancialYear, i32),
        origin: FinancialYear,
        actual: f64,
        values: &[f64],
    ) -> Self {
        Scored {
            target,
            fy,
            span,
            horizon: fy.0 - origin.0,
            hnb: 0.0,
            safety_valve: false,
            la_code: None,
            la_name: String::new(),
            actual,
            forecast: stats(&mut values.to_vec()),
            pit: pit(values, actual),
            truths: Vec::new(),
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
    /// Error of the median in % of the council's HNB over the target's FYs (money targets).
    pub fn hnb_error(&self) -> Option<f64> {
        (self.target.is_money() && self.hnb > 0.0).then(|| 100.0 * self.error() / self.hnb)
    }
}

/// A back-test's scored forecasts: the report view the exporters read.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub scenario: String,
    pub origin: FinancialYear,
    pub policy: Policy,
    /// The projected years (from the FY after the origin to the last scored one).
    pub horizon: Horizon,
    pub councils: usize,
    pub rows: Vec<Scored>,
    /// England's spend per plan over each spend target's FYs.
    pub per_plan: Vec<SpendPerPlan>,
    /// Safety-valve councils against their agreed trajectory over each spend target's FYs.
    pub off_track: Vec<OffTrack>,
}

/// A safety-valve council against its agreed trajectory over a spend target's FYs, on the
/// model's own rule summed over them: off track when the overspend (spend before instalments
/// less HNB) exceeds the trajectory plus `safety_valve.tolerance` x HNB. The record is the spend
/// the data imply; the forecast is the share of paths off track (README "Back-test").
#[derive(Debug, Clone)]
pub struct OffTrack {
    pub fy: FinancialYear,
    pub span: i32,
    pub la_code: u16,
    pub la_name: String,
    /// The agreed trajectory summed over the FYs (pounds of overspend allowed).
    pub trajectory: f64,
    /// The record: overspend beyond the tolerance, summed over the FYs.
    pub excess: f64,
    /// Share of paths off track.
    pub p_off_track: f64,
}

impl OffTrack {
    pub fn actual(&self) -> bool {
        self.excess > self.trajectory
    }
}

/// How well the forecast probabilities of being off track matched the record, over councils.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OffTrackScore {
    pub fy: FinancialYear,
    pub span: i32,
    pub councils: usize,
    /// Councils off track in the record.
    pub off_track: usize,
    /// The mean forecast probability.
    pub mean_p: f64,
    /// Mean squared difference between probability and record (0 or 1): the Brier score.
    pub brier: f64,
}

/// One score per spend window with at least one safety-valve council.
pub fn off_track_scores(bt: &Backtest) -> Vec<OffTrackScore> {
    let mut windows: Vec<(FinancialYear, i32)> =
        bt.off_track.iter().map(|o| (o.fy, o.span)).collect();
    windows.dedup();
    windows
        .into_iter()
        .map(|(fy, span)| {
            let rows: Vec<&OffTrack> = bt
                .off_track
                .iter()
                .filter(|o| o.fy == fy && o.span == span)
                .collect();
            let n = rows.len() as f64;
            let record = |o: &OffTrack| f64::from(u8::from(o.actual()));
            OffTrackScore {
                fy,
                span,
                councils: rows.len(),
                off_track: rows.iter().filter(|o| o.actual()).count(),
                mean_p: rows.iter().map(|o| o.p_off_track).sum::<f64>() / n,
                brier: rows
                    .iter()
                    .map(|o| (o.p_off_track - record(o)).powi(2))
                    .sum::<f64>()
                    / n,
            }
        })
        .collect()
}

/// England's spend per plan over a spend target's FYs: implied by the data (every council), and
/// the model's per-path national sums.
#[derive(Debug, Clone)]
pub struct SpendPerPlan {
    pub fy: FinancialYear,
    pub span: i32,
    pub actual: f64,
    pub forecast: Stats,
}

/// What a back-test knows of government decisions made after its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Only allocations announced and agreements signed by the origin (a forecast made then).
    AsOf,
    /// HNB allocations and safety-valve agreements as they happened: judges the model's spend
    /// and demand given policy. Data (caseloads, flows, balances, reserves) stay at the origin.
    AsHappened,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::AsOf => "as-of",
            Policy::AsHappened => "as-happened",
        }
    }
}

/// The default output folder's name: `backtest-NAME-ORIGIN`, with `-as-happened` when so.
pub fn folder_name(scenario: &str, origin: FinancialYear, policy: Policy) -> String {
    match policy {
        Policy::AsOf => format!("backtest-{scenario}-{origin}"),
        other => format!("backtest-{scenario}-{origin}-{}", other.name()),
    }
}

impl Backtest {
    /// Every figure the exporters write is finite and plausible, or the first that is not (by
    /// year, then council with England last, then target) is the error.
    pub fn check_figures(&self) -> Result<(), ImplausibleFigure> {
        let first_implausible = |forecast: &Stats, actual: f64| {
            let actual = std::iter::once(("actual", actual));
            forecast
                .named()
                .into_iter()
                .chain(actual)
                .find(|(_, v)| !is_plausible(*v))
        };
        let scored = self.rows.iter().filter_map(|r| {
            let (statistic, value) = first_implausible(&r.forecast, r.actual)?;
            let area = r
                .la_code
                .map_or("England".to_string(), |c| format!("{} ({c})", r.la_name));
            let metric = r.target.name();
            Some(ImplausibleFigure {
                metric,
                statistic,
                area,
                fy: r.fy,
                value,
            })
        });
        let per_plan = self.per_plan.iter().filter_map(|pp| {
            let (statistic, value) = first_implausible(&pp.forecast, pp.actual)?;
            Some(ImplausibleFigure {
                metric: "spend_per_plan",
                statistic,
                area: "England".to_string(),
                fy: pp.fy,
                value,
            })
        });
        // Rows come council by council (England last): the earliest year wins, then row order.
        match scored.chain(per_plan).min_by_key(|e| e.fy) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn pit(values: &[f64], actual: f64) -> f64 {
    let below = values.iter().filter(|v| **v < actual).count() as f64;
    let equal = values.iter().filter(|v| **v == actual).count() as f64;
    (below + 0.5 * equal) / values.len().max(1) as f64
}

/// The last balance published by the end of the origin: where the origin's own balance is
/// missing (31 March 2023), money starts a year earlier and the origin FY is simulated too, with
/// what was known at its end (its January census, flows and allocations) and the model's full
/// uncertainty, rather than filled in.
fn money_origin(baseline: &Baseline, origin: FinancialYear) -> FinancialYear {
    baseline.councils[0]
        .deficits
        .keys()
        .rev()
        .copied()
        .find(|fy| *fy <= origin)
        .unwrap_or(origin)
}

/// Every later real value in the seeds: (target, last FY, FYs summed). Spend is scored between
/// consecutive published balances from the money origin on.
fn targets(baseline: &Baseline, origin: FinancialYear) -> Vec<(Target, FinancialYear, i32)> {
    let first = &baseline.councils[0];
    let deficits = first.deficits.keys().copied().filter(|fy| *fy > origin);
    let ehcps = first
        .ehcps
        .keys()
        .map(|jan| FinancialYear::of_january(*jan))
        .filter(|fy| *fy > origin);
    let dates: Vec<FinancialYear> = first.deficits.keys().copied().collect();
    let start = money_origin(baseline, origin);
    let spend = dates
        .windows(2)
        .filter(|w| w[0] >= start)
        .map(|w| (Target::Spend, w[1], w[1].0 - w[0].0));
    deficits
        .map(|fy| (Target::Deficit, fy, 1))
        .chain(ehcps.flat_map(|fy| {
            std::iter::once(Target::Ehcps)
                .chain((0..crate::caseload::SETTINGS).map(Target::EhcpsIn))
                .map(move |target| (target, fy, 1))
        }))
        .chain(spend)
        .collect()
}

/// The origins a back-test on these seeds can start from: from the first year at whose end
/// every council has a published DSG balance and a January census, to the last year with data
/// after it to score.
pub fn origins(baseline: &Baseline) -> Option<(FinancialYear, FinancialYear)> {
    let first_balance = baseline
        .councils
        .iter()
        .map(|c| c.deficits.keys().next().copied())
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()?;
    let first_census = FinancialYear::of_january(*baseline.councils.first()?.ehcps.keys().next()?);
    let earliest = first_balance.max(first_census);
    let latest = (earliest.0..)
        .map(FinancialYear)
        .take_while(|origin| !targets(baseline, *origin).is_empty())
        .last()?;
    Some((earliest, latest))
}

/// Runs the back-test with policy as known at the origin (see [`backtest_with`]).
pub fn backtest(
    inputs: Inputs,
    origin: FinancialYear,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, InputError> {
    backtest_with(inputs, origin, Policy::AsOf, progress)
}

/// Runs the back-test. The scenario's horizon and override date are moved to the back-test
/// window; every other term is used as written.
pub fn backtest_with(
    inputs: Inputs,
    origin: FinancialYear,
    policy: Policy,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, InputError> {
    let Inputs {
        baseline,
        scenario,
        config,
    } = inputs;
    check_origin(baseline, origin)?;
    let targets = targets(baseline, origin);
    let last = targets.iter().map(|t| t.1).max().ok_or_else(|| {
        InputError::invalid(
            &baseline.dir,
            format!("no data after {origin} to score a back-test against"),
        )
    })?;
    let vintage = match policy {
        Policy::AsOf => Vintage::as_of(origin),
        Policy::AsHappened => Vintage::as_of_with_policy(origin),
    };
    let model = calibrate(
        baseline,
        &scenario.moved_to_window(money_origin(baseline, origin).next(), last)?,
        vintage,
    )?;
    let horizon = Horizon {
        years: model.schedule.years.clone(),
        override_end: model.schedule.override_end,
    };
    let wanted = Wanted::in_years(&targets, &horizon.years);
    let tolerance = model.scenario.safety_valve.tolerance;
    let (per_council, national) = simulate(
        &model,
        config,
        |cp| {
            // Only safety-valve councils are scored against a trajectory.
            let has_agreement = model.councils[cp.council].safety_valve.is_some();
            let excess = if has_agreement {
                excess_paths(cp, &wanted, tolerance)
            } else {
                Vec::new()
            };
            (forecast_paths(cp, &wanted), excess)
        },
        progress,
    );
    let (per_council, excess): (Vec<_>, Vec<_>) = per_council.into_iter().unzip();
    let scoring = Scoring {
        baseline,
        origin,
        years: &horizon.years,
        wanted: &wanted,
    };
    let mut rows = scoring.councils(&per_council);
    rows.extend(scoring.england(&national));
    let per_plan = scoring.spend_per_plan(&national);
    let off_track = scoring.off_track(&model, &excess, tolerance);
    Ok(Backtest {
        scenario: scenario.scenario.name.clone(),
        origin,
        policy,
        per_plan,
        off_track,
        councils: model.councils.len(),
        horizon,
        rows,
    })
}

/// The seeds allow a back-test from `origin`, or the error says from which origins they do.
fn check_origin(baseline: &Baseline, origin: FinancialYear) -> Result<(), InputError> {
    let (earliest, latest) = origins(baseline).ok_or_else(|| {
        InputError::invalid(
            &baseline.dir,
            "the seeds hold no year a back-test can start from",
        )
    })?;
    if !(earliest..=latest).contains(&origin) {
        return Err(InputError::invalid(
            "--origin",
            format!(
                "{origin} is not allowed: on these seeds a back-test can start from the end of \
                 {earliest} (the first year with every council's DSG balance and census) to the \
                 end of {latest} (the last with data after it to score)"
            ),
        ));
    }
    Ok(())
}

/// A scored target in the model's years: the last year's index and the years summed.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    target: Target,
    t: usize,
    span: i32,
}

impl Wanted {
    /// The targets whose years all lie in the model's `years`.
    fn in_years(targets: &[(Target, FinancialYear, i32)], years: &[FinancialYear]) -> Vec<Self> {
        targets
            .iter()
            .filter_map(|(target, fy, span)| {
                let t = years.iter().position(|y| y == fy)?;
                Some(Wanted {
                    target: *target,
                    t,
                    span: *span,
                })
            })
            .filter(|w| w.t + 1 >= w.span as usize)
            .collect()
    }

    /// The years summed, as indices.
    fn years(&self) -> std::ops::RangeInclusive<usize> {
        self.t + 1 - self.span as usize..=self.t
    }
}

/// One council's forecast paths of each wanted target (spend summed over its years).
fn forecast_paths(cp: &CouncilPaths, wanted: &[Wanted]) -> Vec<Vec<f64>> {
    wanted
        .iter()
        .map(|w| {
            (0..cp.paths)
                .map(|p| w.years().map(|t| cp.get(p, t, w.target.metric())).sum())
                .collect()
        })
        .collect()
}

/// One council's overspend beyond the safety-valve tolerance over each spend target's FYs, per
/// path: the sum of `spend - (1 + tolerance) x funding` (empty for other targets).
fn excess_paths(cp: &CouncilPaths, wanted: &[Wanted], tolerance: f64) -> Vec<Vec<f64>> {
    wanted
        .iter()
        .map(|w| {
            if w.target != Target::Spend {
                return Vec::new();
            }
            (0..cp.paths)
                .map(|p| {
                    w.years()
                        .map(|t| {
                            let funding = cp.get(p, t, Metric::Funding);
                            cp.get(p, t, Metric::Spend) - (1.0 + tolerance) * funding
                        })
                        .sum()
                })
                .collect()
        })
        .collect()
}

/// What scoring needs to turn forecast paths into scored rows.
struct Scoring<'a> {
    baseline: &'a Baseline,
    origin: FinancialYear,
    years: &'a [FinancialYear],
    wanted: &'a [Wanted],
}

impl Scoring<'_> {
    /// Every council forecast that has a real (not estimated) actual.
    fn councils(&self, per_council: &[Vec<Vec<f64>>]) -> Vec<Scored> {
        let mut rows = Vec::new();
        for (seed, paths) in self.baseline.councils.iter().zip(per_council) {
            for (w, values) in self.wanted.iter().zip(paths) {
                let fy = self.years[w.t];
                if let Some(actual) = w.target.actual(seed, fy, w.span) {
                    rows.push(Scored {
                        la_code: Some(seed.la_code),
                        la_name: seed.la_name.clone(),
                        hnb: hnb_over(seed, fy, w.span),
                        safety_valve: seed.safety_valve.is_some(),
                        truths: values[..values.len().min(MODEL_TRUTHS)].to_vec(),
                        ..Scored::new((w.target, fy, w.span), self.origin, actual, values)
                    });
                }
            }
        }
        rows
    }

    /// Every safety-valve council whose agreement is live in all of a spend target's FYs and
    /// whose spend the data imply there: its record and forecast against its trajectory.
    fn off_track(&self, model: &Model, excess: &[Vec<Vec<f64>>], tolerance: f64) -> Vec<OffTrack> {
        let mut rows = Vec::new();
        for (w_index, w) in self.wanted.iter().enumerate() {
            if w.target != Target::Spend {
                continue;
            }
            let fy = self.years[w.t];
            for ((seed, council), paths) in self
                .baseline
                .councils
                .iter()
                .zip(&model.councils)
                .zip(excess)
            {
                let Some(terms) = &council.safety_valve else {
                    continue;
                };
                if !w.years().all(|t| terms.live[t]) {
                    continue;
                }
                let Some(spend) = implied_spend(seed, fy, w.span) else {
                    continue;
                };
                let hnb = hnb_over(seed, fy, w.span);
                let trajectory: f64 = w.years().map(|t| terms.trajectory[t]).sum();
                let values = &paths[w_index];
                let off = values.iter().filter(|v| **v > trajectory).count();
                rows.push(OffTrack {
                    fy,
                    span: w.span,
                    la_code: seed.la_code,
                    la_name: seed.la_name.clone(),
                    trajectory,
                    excess: spend - (1.0 + tolerance) * hnb,
                    p_off_track: off as f64 / values.len().max(1) as f64,
                });
            }
        }
        rows
    }

    /// England's spend per plan over each spend target's FYs: the spend the data imply for every
    /// council (estimated balances included) over the plans of each FY's January census, against
    /// the model's per-path national spend over its plans.
    fn spend_per_plan(&self, national: &EnglandPaths) -> Vec<SpendPerPlan> {
        let spend = NationalMetric::Council(Metric::Spend);
        let ehcps = NationalMetric::Council(Metric::Ehcps);
        self.wanted
            .iter()
            .filter(|w| w.target == Target::Spend)
            .map(|w| {
                let fy = self.years[w.t];
                let councils = &self.baseline.councils;
                let implied: f64 = councils
                    .iter()
                    .filter_map(|c| implied_spend(c, fy, w.span))
                    .sum();
                let plans: f64 = span_years(fy, w.span)
                    .map(|f| {
                        let census = f.end_year();
                        councils
                            .iter()
                            .filter_map(|c| c.ehcps.get(&census))
                            .sum::<f64>()
                    })
                    .sum();
                let mut model: Vec<f64> = (0..national.paths)
                    .map(|p| {
                        let sum = |m| w.years().map(|t| national.get(p, t, m)).sum::<f64>();
                        sum(spend) / sum(ehcps)
                    })
                    .collect();
                SpendPerPlan {
                    fy,
                    span: w.span,
                    actual: implied / plans,
                    forecast: stats(&mut model),
                }
            })
            .collect()
    }

    /// England EHCPs, in total and by setting: national per-path sums against the sum of the
    /// councils' seeds (the published total).
    fn england(&self, national: &EnglandPaths) -> Vec<Scored> {
        let wanted = self
            .wanted
            .iter()
            .filter(|w| matches!(w.target, Target::Ehcps | Target::EhcpsIn(_)));
        wanted
            .map(|w| {
                let (target, fy) = (w.target, self.years[w.t]);
                let actual: f64 = self
                    .baseline
                    .councils
                    .iter()
                    .filter_map(|c| target.census_value(c, fy))
                    .sum();
                let metric = NationalMetric::Council(target.metric());
                let values: Vec<f64> = (0..national.paths)
                    .map(|p| national.get(p, w.t, metric))
                    .collect();
                Scored {
                    la_name: "England".into(),
                    ..Scored::new((w.target, fy, 1), self.origin, actual, &values)
                }
            })
            .collect()
    }
}

/// Which councils a score covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    All,
    SafetyValve,
    Other,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::All => "all",
            Group::SafetyValve => "safety_valve",
            Group::Other => "other",
        }
    }
    fn holds(self, r: &Scored) -> bool {
        match self {
            Group::All => true,
            Group::SafetyValve => r.safety_valve,
            Group::Other => !r.safety_valve,
        }
    }
}

/// Scores for one target and horizon over a group of councils.
#[derive(Debug, Clone)]
pub struct Score {
    pub target: Target,
    pub fy: FinancialYear,
    pub span: i32,
    pub horizon: i32,
    pub group: Group,
    pub councils: usize,
    pub bias: f64,
    pub bias_pct: f64,
    /// Median over councils of the median's error in % of the council's HNB (money targets;
    /// NaN otherwise).
    pub bias_hnb_pct: f64,
    /// A 90% confidence interval for `bias_hnb_pct` over which councils the group holds
    /// (`median_interval`; NaN where the group is too small or the target is not money).
    pub bias_hnb_pct_ci90: (f64, f64),
    pub mdape: f64,
    pub coverage_50: f64,
    pub coverage_90: f64,
    /// What the model expects of `coverage_50`, `coverage_90` and `bias_hnb_pct` if it is
    /// right: the 5th and 95th percentiles of each over the paths taken in turn as what
    /// happened (`Scored::truths`), so with the model's own national draws shared by the
    /// councils, not as if councils were independent.
    pub coverage_50_model: (f64, f64),
    pub coverage_90_model: (f64, f64),
    pub bias_pct_model: (f64, f64),
    pub bias_hnb_pct_model: (f64, f64),
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

/// Paths taken in turn as what happened for a score's model ranges (the first ones; paths are
/// independent draws, so any of them would do).
pub const MODEL_TRUTHS: usize = 1000;

/// The 5th and 95th percentiles of `values` (NaN where there are none).
fn range_90(mut values: Vec<f64>) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let s = stats(&mut values);
    (s.p05, s.p95)
}

/// A distribution-free confidence interval for the median of the population `values` are an
/// independent sample of: the order statistics `x(k)` and `x(n + 1 - k)` (1-based), with `k`
/// the largest for which `P(Binomial(n, 1/2) < k) <= (1 - level) / 2`, so the interval holds
/// the median with probability at least `level` whatever the distribution (Hollander, Wolfe
/// and Chicken, *Nonparametric statistical methods*, section 3.6). NaN where `n` is too small
/// for the level (fewer than 5 values at 90%) or a value is not finite.
pub fn median_interval(values: &[f64], level: f64) -> (f64, f64) {
    let n = values.len();
    if n == 0 || values.iter().any(|v| !v.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    let tail = (1.0 - level) / 2.0;
    // P(B = i) for B ~ Binomial(n, 1/2), from P(B = 0) = 2^-n (no underflow below n = 1,000).
    let mut p = 0.5f64.powi(n as i32);
    let (mut below, mut k) = (0.0, 0);
    for i in 0..n {
        if below + p > tail {
            break;
        }
        below += p;
        k = i + 1;
        p *= (n - i) as f64 / (i + 1) as f64;
    }
    if k == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[k - 1], sorted[n - k])
}

impl Score {
    /// Scores the council rows of one target and year, and England's row if there is one.
    fn of(
        (target, fy, group): (Target, FinancialYear, Group),
        origin: FinancialYear,
        councils: &[&Scored],
        england: Option<&Scored>,
    ) -> Score {
        let n = councils.len().max(1) as f64;
        let share_in = |band| councils.iter().filter(|r| r.in_band(band)).count() as f64 / n;
        // Each path taken as what happened: the coverages and the median's error it gives.
        let truths = councils.iter().map(|r| r.truths.len()).min().unwrap_or(0);
        let model_coverage = |band| {
            range_90(
                (0..truths)
                    .map(|j| {
                        let held = councils
                            .iter()
                            .filter(|r| r.forecast.in_band(band, r.truths[j]));
                        held.count() as f64 / n
                    })
                    .collect(),
            )
        };
        let floor = target.pct_error_floor();
        let model_pct_error = range_90(
            (0..truths)
                .filter(|_| !councils.is_empty())
                .map(|j| {
                    let errors = councils.iter().map(|r| r.truths[j]).zip(councils.iter());
                    let errors = errors
                        .filter(|(v, _)| v.abs() >= floor)
                        .map(|(v, r)| 100.0 * (r.forecast.p50 - v) / v.abs());
                    median(errors.collect())
                })
                .filter(|m| !m.is_nan())
                .collect(),
        );
        let with_hnb: Vec<&&Scored> = councils
            .iter()
            .filter(|r| r.hnb_error().is_some())
            .collect();
        let model_hnb_error = range_90(
            (0..truths)
                .filter(|_| !with_hnb.is_empty())
                .map(|j| {
                    let errors = with_hnb
                        .iter()
                        .map(|r| 100.0 * (r.forecast.p50 - r.truths[j]) / r.hnb);
                    median(errors.collect())
                })
                .collect(),
        );
        let mut fifths = [0.0; 5];
        for r in councils {
            fifths[((r.pit * 5.0) as usize).min(4)] += 1.0 / n;
        }
        let hnb_errors: Vec<f64> = councils.iter().filter_map(|r| r.hnb_error()).collect();
        Score {
            target,
            fy,
            span: councils.first().map_or(1, |r| r.span),
            horizon: fy.0 - origin.0,
            group,
            councils: councils.len(),
            bias: median(councils.iter().map(|r| r.error()).collect()),
            bias_pct: median(councils.iter().filter_map(|r| r.pct_error()).collect()),
            bias_hnb_pct_ci90: median_interval(&hnb_errors, 0.9),
            bias_hnb_pct: median(hnb_errors),
            mdape: median(
                councils
                    .iter()
                    .filter_map(|r| r.pct_error().map(f64::abs))
                    .collect(),
            ),
            coverage_50: share_in(Band::Central50),
            coverage_90: share_in(Band::Central90),
            coverage_50_model: model_coverage(Band::Central50),
            coverage_90_model: model_coverage(Band::Central90),
            bias_pct_model: model_pct_error,
            bias_hnb_pct_model: model_hnb_error,
            pit_fifths: fifths,
            england: england.map(|e| EnglandScore {
                actual: e.actual,
                p50: e.forecast.p50,
                in_90: e.in_band(Band::Central90),
            }),
        }
    }
}

/// Scores per target, year and group (money targets: all, safety-valve and other councils;
/// EHCPs: all), in that order.
pub fn scores(bt: &Backtest) -> Vec<Score> {
    let mut keys: Vec<(Target, FinancialYear, Group)> = bt
        .rows
        .iter()
        .flat_map(|r| {
            let groups: &[Group] = if r.target.is_money() {
                &[Group::All, Group::SafetyValve, Group::Other]
            } else {
                &[Group::All]
            };
            groups.iter().map(move |g| (r.target, r.fy, *g))
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(target, fy, group)| {
            let of_key = |r: &&Scored| r.target == target && r.fy == fy;
            let councils: Vec<&Scored> = bt
                .rows
                .iter()
                .filter(of_key)
                .filter(|r| r.la_code.is_some() && group.holds(r))
                .collect();
            // A group with no councils (seeds without safety-valve agreements) has no scores.
            if group != Group::All && councils.is_empty() {
                return None;
            }
            let england = bt
                .rows
                .iter()
                .filter(of_key)
                .find(|r| group == Group::All && r.la_code.is_none());
            Some(Score::of(
                (target, fy, group),
                bt.origin,
                &councils,
                england,
            ))
        })
        .collect()
}

/// A short plain-text table for the terminal and the README.
pub fn table(bt: &Backtest) -> String {
    let mut s = format!(
        "back-test from the end of {} (policy {}; {} scored forecasts)\n{:<19} {:<21} {:>2} {:<6} {:>4} {:>12} {:>7} {:>6} {:>13} {:>7} {:>6} {:>6}\n",
        bt.origin,
        bt.policy.name(),
        bt.rows.len(),
        "target",
        "period",
        "h",
        "group",
        "n",
        "bias(p50)",
        "bias%",
        "%HNB",
        "%HNB 90% CI",
        "MdAPE%",
        "cov50",
        "cov90"
    );
    let off_track = off_track_scores(bt);
    for sc in scores(bt) {
        let bias = if sc.target.is_money() {
            format!("£{:.1}m", sc.bias / 1e6)
        } else {
            format!("{:.0} plans", sc.bias)
        };
        let hnb = if sc.target.is_money() {
            format!("{:.1}", sc.bias_hnb_pct)
        } else {
            String::new()
        };
        let (lo, hi) = sc.bias_hnb_pct_ci90;
        let hnb_ci = if sc.target.is_money() && lo.is_finite() && hi.is_finite() {
            format!("{lo:.1} to {hi:.1}")
        } else {
            String::new()
        };
        let group = match sc.group {
            Group::All => "all",
            Group::SafetyValve => "SV",
            Group::Other => "others",
        };
        s.push_str(&format!(
            "{:<19} {:<21} {:>2} {:<6} {:>4} {:>12} {:>7.1} {:>6} {:>13} {:>7.1} {:>5.0}% {:>5.0}%\n",
            sc.target.name(),
            sc.target.period(sc.fy, sc.span),
            sc.horizon,
            group,
            sc.councils,
            bias,
            sc.bias_pct,
            hnb,
            hnb_ci,
            sc.mdape,
            100.0 * sc.coverage_50,
            100.0 * sc.coverage_90
        ));
        s.push_str(&notes_under(bt, &sc, &off_track));
    }
    s
}

/// The lines printed under a score's row: England's figure, England's spend per plan, and the
/// safety-valve councils against their trajectory.
fn notes_under(bt: &Backtest, sc: &Score, off_track: &[OffTrackScore]) -> String {
    let mut s = String::new();
    if let Some(e) = sc.england {
        s.push_str(&format!(
            "{:<19} England: actual {:.0}, median forecast {:.0} ({}inside the 90% band)\n",
            "",
            e.actual,
            e.p50,
            if e.in_90 { "" } else { "not " }
        ));
    }
    if sc.target == Target::Spend && sc.group == Group::All {
        if let Some(pp) = bt.per_plan.iter().find(|p| p.fy == sc.fy) {
            s.push_str(&format!(
                "{:<19} England spend per plan: implied £{:.0}, model median £{:.0} (90% band £{:.0}-£{:.0})\n",
                "", pp.actual, pp.forecast.p50, pp.forecast.p05, pp.forecast.p95
            ));
        }
    }
    if sc.target == Target::Spend && sc.group == Group::SafetyValve {
        if let Some(o) = off_track
            .iter()
            .find(|o| o.fy == sc.fy && o.span == sc.span)
        {
            s.push_str(&format!(
                "{:<19} Safety valve off trajectory: record {} of {} councils ({:.0}%), model mean probability {:.0}%, Brier score {:.3}\n",
                "",
                o.off_track,
                o.councils,
                100.0 * o.off_track as f64 / o.councils as f64,
                100.0 * o.mean_p,
                o.brier
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    /// 100 councils' forecasts of a deficit over 1,000 paths, each path's values from `draw`
    /// (path, council), the actual at each council's own 85th percentile.
    fn scored_councils(draw: impl Fn(usize, usize) -> f64) -> Vec<Scored> {
        let fy = FinancialYear(2023);
        (0..100)
            .map(|c| {
                let values: Vec<f64> = (0..1000).map(|p| draw(p, c)).collect();
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let target = (Target::Deficit, fy, 1);
                Scored {
                    la_code: Some(c as u16),
                    hnb: 1.0,
                    truths: values[..MODEL_TRUTHS].to_vec(),
                    ..Scored::new(target, FinancialYear(2021), sorted[850], &values)
                }
            })
            .collect()
    }

    #[test]
    fn model_ranges_widen_with_what_councils_share() {
        let key = (Target::Deficit, FinancialYear(2023), Group::All);
        let score = |rows: &[Scored]| {
            let refs: Vec<&Scored> = rows.iter().collect();
            Score::of(key, FinancialYear(2021), &refs, None)
        };
        // Independent councils: about 90 of 100 inside their 90% bands whatever path happens.
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let table: Vec<Vec<f64>> = (0..1000)
            .map(|_| (0..100).map(|_| rng.gen::<f64>()).collect())
            .collect();
        let independent = score(&scored_councils(|p, c| table[p][c]));
        let (lo, hi) = independent.coverage_90_model;
        assert!(
            (0.82..0.9).contains(&lo) && (0.9..=0.97).contains(&hi) && hi > 0.9,
            "{lo} {hi}"
        );
        // Every council the same path (a national draw and nothing else): all in or all out.
        let shared = score(&scored_councils(|p, _| table[p][0]));
        assert_eq!(shared.coverage_90_model, (0.0, 1.0));
        assert_eq!(shared.coverage_50_model, (0.0, 1.0));
        // The median council's error: narrow when councils are independent, as wide as one
        // council's band when they share everything (deficits uniform on 0-1, HNB 1: the
        // median's error in % of HNB is (p50 - truth), -45 to +45 at the band's ends).
        let (lo, hi) = independent.bias_hnb_pct_model;
        assert!(
            (-12.0..0.0).contains(&lo) && hi > 0.0 && hi < 12.0,
            "{lo} {hi}"
        );
        let (lo, hi) = shared.bias_hnb_pct_model;
        assert!(lo < -40.0 && hi > 40.0, "{lo} {hi}");
        // The actual at each council's 85th percentile: all in the 90% bands, none in the 50%.
        assert_eq!(
            (independent.coverage_90, independent.coverage_50),
            (1.0, 0.0)
        );
    }

    #[test]
    fn median_interval_is_the_order_statistics_the_binomial_gives() {
        // P(Binomial(35, 1/2) <= 11) = 0.0448 <= 0.05 < P(<= 12) = 0.0877: x(13) to x(23).
        let v: Vec<f64> = (1..=35).rev().map(f64::from).collect();
        assert_eq!(median_interval(&v, 0.9), (13.0, 23.0));
        // Five values: P(B = 0) = 1/32 <= 0.05, so the whole range (93.75%).
        assert_eq!(median_interval(&[3.0, 1.0, 2.0, 5.0, 4.0], 0.9), (1.0, 5.0));
        // Four values cannot give 90% (the widest interval holds the median 87.5% of the time).
        assert!(median_interval(&[1.0, 2.0, 3.0, 4.0], 0.9).0.is_nan());
        assert!(median_interval(&[], 0.9).0.is_nan());
        assert!(median_interval(&[1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0], 0.9)
            .1
            .is_nan());
        // A higher level never gives a narrower interval.
        let (lo90, hi90) = median_interval(&v, 0.9);
        let (lo99, hi99) = median_interval(&v, 0.99);
        assert!(lo99 <= lo90 && hi90 <= hi99 && (lo99, hi99) != (lo90, hi90));
    }

    #[test]
    fn median_interval_holds_the_median_at_its_level() {
        // Samples of 35 from an exponential distribution (median ln 2): the 90% interval holds
        // the median in 91.05% of samples in theory; 4,000 samples put it within 1.5 points.
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let trials = 4000;
        let held = (0..trials)
            .filter(|_| {
                let v: Vec<f64> = (0..35).map(|_| -(1.0 - rng.gen::<f64>()).ln()).collect();
                let (lo, hi) = median_interval(&v, 0.9);
                lo <= std::f64::consts::LN_2 && std::f64::consts::LN_2 <= hi
            })
            .count();
        let share = held as f64 / trials as f64;
        assert!((0.895..=0.925).contains(&share), "{share}");
    }
}
