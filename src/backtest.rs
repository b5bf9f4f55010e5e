//! Back-test: rebuild the start from what was known at the end of an origin FY, project, and
//! score the forecast distributions against what happened (real values in the seeds).

use crate::calibration::{calibrate, Vintage};
use crate::engine::{m, simulate, RunConfig};
use crate::error::InputError;
use crate::output::fmt;
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;
use crate::summary::{stats, Stats};
use crate::FinancialYear;
use anyhow::Result;
use std::io::Write;

/// England's ONS code, written as the `la_code` of England's rows.
pub const ENGLAND_CODE: &str = "E92000001";

/// What is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Cumulative DSG deficit at 31 March (end of the FY).
    Deficit,
    /// EHCPs in the January census of the FY.
    Ehcps,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Deficit => "cumulative_deficit",
            Target::Ehcps => "ehcps",
        }
    }
    fn metric(self) -> usize {
        match self {
            Target::Deficit => m::CUMULATIVE_DEFICIT,
            Target::Ehcps => m::EHCPS,
        }
    }
    /// The smallest actual (in absolute value) whose percentage error is scored: £1m of
    /// deficit or 100 plans; deficits near zero make percentages meaningless.
    pub fn pct_error_floor(self) -> f64 {
        match self {
            Target::Deficit => 1e6,
            Target::Ehcps => 100.0,
        }
    }
    fn period(self, fy: FinancialYear) -> String {
        match self {
            Target::Deficit => format!("{}-03-31", fy.end_year()),
            Target::Ehcps => format!("January {}", fy.end_year()),
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
    pub fn in_band(&self, lo: usize, hi: usize) -> bool {
        self.actual >= self.forecast[lo] && self.actual <= self.forecast[hi]
    }
    pub fn error(&self) -> f64 {
        self.forecast[3] - self.actual
    }
    /// Percentage error of the median, where the actual is large enough for a percentage to
    /// mean something (see [`Target::pct_error_floor`]).
    pub fn pct_error(&self) -> Option<f64> {
        let floor = self.target.pct_error_floor();
        (self.actual.abs() >= floor).then(|| 100.0 * self.error() / self.actual.abs())
    }
}

#[derive(Debug, Clone)]
pub struct Backtest {
    pub origin: FinancialYear,
    pub rows: Vec<Scored>,
}

fn pit(values: &[f64], actual: f64) -> f64 {
    let below = values.iter().filter(|v| **v < actual).count() as f64;
    let equal = values.iter().filter(|v| **v == actual).count() as f64;
    (below + 0.5 * equal) / values.len().max(1) as f64
}

/// Runs the back-test. The scenario's horizon and override date are moved to the back-test
/// window; every other term is used as written.
pub fn backtest(
    baseline: &Baseline,
    scenario: &LoadedScenario,
    origin: FinancialYear,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, InputError> {
    // Targets: every later real value in the seeds.
    let mut targets: Vec<(Target, FinancialYear)> = Vec::new();
    let c0 = &baseline.councils[0];
    for fy in c0.deficits.keys().filter(|fy| **fy > origin) {
        targets.push((Target::Deficit, *fy));
    }
    for jan in c0
        .ehcps
        .keys()
        .filter(|j| FinancialYear::of_january(**j) > origin)
    {
        targets.push((Target::Ehcps, FinancialYear::of_january(*jan)));
    }
    let last = targets.iter().map(|t| t.1).max().ok_or_else(|| {
        InputError::invalid(
            &baseline.dir,
            format!("no data after {origin} to score a back-test against"),
        )
    })?;
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
    let model = calibrate(baseline, &ls, Vintage::as_of(origin))?;
    let years = model.schedule.years.clone();
    let t_of = |fy: FinancialYear| years.iter().position(|y| *y == fy);
    let wanted: Vec<(Target, usize)> = targets
        .iter()
        .filter_map(|(tg, fy)| t_of(*fy).map(|t| (*tg, t)))
        .collect();
    // Per council: the forecast paths of each target.
    let (per_council, national) = simulate(
        &model,
        config,
        |cp| {
            wanted
                .iter()
                .map(|(tg, t)| {
                    (0..cp.paths)
                        .map(|p| cp.get(p, *t, tg.metric()))
                        .collect::<Vec<f64>>()
                })
                .collect::<Vec<_>>()
        },
        progress,
    );
    let mut rows = Vec::new();
    for (ci, paths) in per_council.iter().enumerate() {
        let seed = &baseline.councils[ci];
        for ((tg, t), values) in wanted.iter().zip(paths) {
            let fy = years[*t];
            let actual = match tg {
                Target::Deficit if !seed.deficits_estimated.contains(&fy) => {
                    seed.deficits.get(&fy).copied()
                }
                Target::Ehcps if !seed.ehcps_estimated.contains(&fy.end_year()) => {
                    seed.ehcps.get(&fy.end_year()).copied()
                }
                _ => None,
            };
            if let Some(actual) = actual {
                let mut v = values.clone();
                rows.push(Scored {
                    target: *tg,
                    fy,
                    horizon: fy.0 - origin.0,
                    la_code: Some(seed.la_code),
                    la_name: seed.la_name.clone(),
                    actual,
                    pit: pit(values, actual),
                    forecast: stats(&mut v),
                });
            }
        }
    }
    // England EHCPs: national per-path sums against the published total (sum of councils).
    for (tg, t) in wanted.iter().filter(|(tg, _)| *tg == Target::Ehcps) {
        let fy = years[*t];
        let actual: f64 = baseline
            .councils
            .iter()
            .filter_map(|c| c.ehcps.get(&fy.end_year()))
            .sum();
        let values: Vec<f64> = (0..national.paths)
            .map(|p| national.get(p, *t, m::EHCPS))
            .collect();
        let mut v = values.clone();
        rows.push(Scored {
            target: *tg,
            fy,
            horizon: fy.0 - origin.0,
            la_code: None,
            la_name: "England".into(),
            actual,
            pit: pit(&values, actual),
            forecast: stats(&mut v),
        });
    }
    Ok(Backtest { origin, rows })
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
    pub england_actual: Option<f64>,
    pub england_p50: Option<f64>,
    pub england_in_90: Option<bool>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    stats(&mut v)[3]
}

pub fn scores(bt: &Backtest) -> Vec<Score> {
    let mut keys: Vec<(Target, FinancialYear)> = bt.rows.iter().map(|r| (r.target, r.fy)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(tg, fy)| {
            let rows: Vec<&Scored> = bt
                .rows
                .iter()
                .filter(|r| r.target == tg && r.fy == fy && r.la_code.is_some())
                .collect();
            let eng = bt
                .rows
                .iter()
                .find(|r| r.target == tg && r.fy == fy && r.la_code.is_none());
            let n = rows.len().max(1) as f64;
            let mut fifths = [0.0; 5];
            for r in &rows {
                fifths[((r.pit * 5.0) as usize).min(4)] += 1.0 / n;
            }
            Score {
                target: tg,
                fy,
                horizon: fy.0 - bt.origin.0,
                councils: rows.len(),
                bias: median(rows.iter().map(|r| r.error()).collect()),
                bias_pct: median(rows.iter().filter_map(|r| r.pct_error()).collect()),
                mdape: median(
                    rows.iter()
                        .filter_map(|r| r.pct_error().map(f64::abs))
                        .collect(),
                ),
                coverage_50: rows.iter().filter(|r| r.in_band(2, 4)).count() as f64 / n,
                coverage_90: rows.iter().filter(|r| r.in_band(1, 5)).count() as f64 / n,
                pit_fifths: fifths,
                england_actual: eng.map(|e| e.actual),
                england_p50: eng.map(|e| e.forecast[3]),
                england_in_90: eng.map(|e| e.in_band(1, 5)),
            }
        })
        .collect()
}

pub fn write_rows(w: &mut dyn Write, scenario: &str, bt: &Backtest) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "scenario",
        "origin",
        "target",
        "period",
        "horizon_years",
        "la_code",
        "la_name",
        "actual",
        "mean",
        "p05",
        "p25",
        "p50",
        "p75",
        "p95",
        "pit",
        "in_50",
        "in_90",
        "error_p50",
        "pct_error_p50",
    ])?;
    for r in &bt.rows {
        let d = if r.target == Target::Deficit { 0 } else { 1 };
        let mut row = vec![
            scenario.to_string(),
            bt.origin.to_string(),
            r.target.name().to_string(),
            r.target.period(r.fy),
            r.horizon.to_string(),
            r.la_code
                .map_or(ENGLAND_CODE.to_string(), |c| c.to_string()),
            r.la_name.clone(),
            fmt(r.actual, d),
        ];
        row.extend(r.forecast.iter().map(|v| fmt(*v, d)));
        row.push(fmt(r.pit, 4));
        row.push(u8::from(r.in_band(2, 4)).to_string());
        row.push(u8::from(r.in_band(1, 5)).to_string());
        row.push(fmt(r.error(), d));
        row.push(r.pct_error().map_or(String::new(), |p| fmt(p, 2)));
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

pub fn write_summary(w: &mut dyn Write, scenario: &str, bt: &Backtest) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "scenario",
        "origin",
        "target",
        "period",
        "horizon_years",
        "councils",
        "bias_p50",
        "bias_p50_pct",
        "mdape_pct",
        "coverage_50",
        "coverage_90",
        "pit_0_20",
        "pit_20_40",
        "pit_40_60",
        "pit_60_80",
        "pit_80_100",
        "england_actual",
        "england_p50",
        "england_in_90",
    ])?;
    for s in scores(bt) {
        let d = if s.target == Target::Deficit { 0 } else { 1 };
        let mut row = vec![
            scenario.to_string(),
            bt.origin.to_string(),
            s.target.name().to_string(),
            s.target.period(s.fy),
            s.horizon.to_string(),
            s.councils.to_string(),
            fmt(s.bias, d),
            fmt(s.bias_pct, 2),
            fmt(s.mdape, 2),
            fmt(s.coverage_50, 4),
            fmt(s.coverage_90, 4),
        ];
        row.extend(s.pit_fifths.iter().map(|v| fmt(*v, 4)));
        row.push(s.england_actual.map_or(String::new(), |v| fmt(v, d)));
        row.push(s.england_p50.map_or(String::new(), |v| fmt(v, d)));
        row.push(
            s.england_in_90
                .map_or(String::new(), |v| u8::from(v).to_string()),
        );
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
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
        if let (Some(a), Some(p), Some(inside)) =
            (sc.england_actual, sc.england_p50, sc.england_in_90)
        {
            s.push_str(&format!(
                "{:<20} {:<17} {:>3} {:>5} England: actual {:.0}, median forecast {:.0} ({}inside the 90% band)\n",
                "",
                "",
                "",
                "",
                a,
                p,
                if inside { "" } else { "not " }
            ));
        }
    }
    s
}
