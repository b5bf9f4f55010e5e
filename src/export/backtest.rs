//! The back-test's CSV files: `backtest.csv` (one row per scored forecast),
//! `backtest_summary.csv` (one row per target and year) and `backtest_sv_track.csv` (each
//! safety-valve council against its agreed trajectory).

use super::{write_csv, Fixed, StatsColumns};
use crate::backtest::{scores, Backtest, OffTrack, Score, Scored, Target};
use crate::summary::Band;
use crate::FinancialYear;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// ONS code of England, written as `la_code` on England's rows.
pub const ENGLAND_CODE: &str = "E92000001";

/// Percentage errors and biases in % are written to 2 decimals, shares to 4.
const PERCENT_DECIMALS: usize = 2;
const SHARE_DECIMALS: usize = 4;

/// The columns that start both files: which back-test, target and period a row is about.
#[derive(Serialize)]
struct ForecastKey<'a> {
    scenario: &'a str,
    origin: String,
    policy: &'static str,
    target: &'static str,
    period: String,
    horizon_years: i32,
}

impl<'a> ForecastKey<'a> {
    fn new(bt: &'a Backtest, target: Target, fy: FinancialYear, span: i32, horizon: i32) -> Self {
        ForecastKey {
            scenario: &bt.scenario,
            origin: bt.origin.to_string(),
            policy: bt.policy.name(),
            target: target.name(),
            period: target.period(fy, span),
            horizon_years: horizon,
        }
    }
}

/// Whose forecast a `backtest.csv` row scores, and what happened.
#[derive(Serialize)]
struct AreaActual<'a> {
    la_code: String,
    la_name: &'a str,
    actual: Fixed,
}

/// How the forecast did.
#[derive(Serialize)]
struct ScoredFit {
    pit: Fixed,
    in_50: u8,
    in_90: u8,
    error_p50: Fixed,
    pct_error_p50: Option<Fixed>,
    /// HNB after deductions over the target's FYs (money targets on council rows).
    hnb: Option<Fixed>,
    pct_hnb_error_p50: Option<Fixed>,
    safety_valve: u8,
}

type ScoredRow<'a> = (ForecastKey<'a>, AreaActual<'a>, StatsColumns, ScoredFit);

fn scored_row<'a>(bt: &'a Backtest, r: &'a Scored) -> ScoredRow<'a> {
    let d = r.target.decimals();
    let key = ForecastKey::new(bt, r.target, r.fy, r.span, r.horizon);
    let area = AreaActual {
        la_code: r
            .la_code
            .map_or(ENGLAND_CODE.to_string(), |c| c.to_string()),
        la_name: &r.la_name,
        actual: Fixed::new(r.actual, d),
    };
    let fit = ScoredFit {
        pit: Fixed::new(r.pit, SHARE_DECIMALS),
        in_50: u8::from(r.in_band(Band::Central50)),
        in_90: u8::from(r.in_band(Band::Central90)),
        error_p50: Fixed::new(r.error(), d),
        pct_error_p50: r.pct_error().map(|p| Fixed::new(p, PERCENT_DECIMALS)),
        hnb: (r.target.is_money() && r.la_code.is_some()).then(|| Fixed::new(r.hnb, 0)),
        pct_hnb_error_p50: r.hnb_error().map(|p| Fixed::new(p, PERCENT_DECIMALS)),
        safety_valve: u8::from(r.safety_valve),
    };
    (key, area, StatsColumns::new(&r.forecast, d), fit)
}

pub fn write_rows(w: &mut dyn Write, bt: &Backtest) -> Result<()> {
    write_csv(w, bt.rows.iter().map(|r| scored_row(bt, r)))
}

/// A `backtest_summary.csv` row after its `ForecastKey`: the scores of one group of councils.
#[derive(Serialize)]
struct ScoreColumns {
    /// `all`, `safety_valve` or `other` councils.
    group: &'static str,
    councils: usize,
    bias_p50: Fixed,
    bias_p50_pct: Fixed,
    /// Empty for EHCPs.
    bias_p50_pct_hnb: Option<Fixed>,
    /// A 90% confidence interval for `bias_p50_pct_hnb` over which councils the group holds
    /// (distribution-free, from the order statistics); empty for EHCPs and groups under 5.
    bias_p50_pct_hnb_ci90_low: Option<Fixed>,
    bias_p50_pct_hnb_ci90_high: Option<Fixed>,
    mdape_pct: Fixed,
    coverage_50: Fixed,
    coverage_90: Fixed,
    /// What the model expects of the two coverages, `bias_p50_pct` and `bias_p50_pct_hnb` if it is right
    /// (5th and 95th percentiles over paths taken in turn as what happened; `Score`).
    coverage_50_model_p05: Option<Fixed>,
    coverage_50_model_p95: Option<Fixed>,
    coverage_90_model_p05: Option<Fixed>,
    coverage_90_model_p95: Option<Fixed>,
    bias_p50_pct_model_p05: Option<Fixed>,
    bias_p50_pct_model_p95: Option<Fixed>,
    bias_p50_pct_hnb_model_p05: Option<Fixed>,
    bias_p50_pct_hnb_model_p95: Option<Fixed>,
    pit_0_20: Fixed,
    pit_20_40: Fixed,
    pit_40_60: Fixed,
    pit_60_80: Fixed,
    pit_80_100: Fixed,
    /// England's columns are empty where England is not scored.
    england_actual: Option<Fixed>,
    england_p50: Option<Fixed>,
    england_in_90: Option<u8>,
}

fn score_row<'a>(bt: &'a Backtest, s: &Score) -> (ForecastKey<'a>, ScoreColumns) {
    let d = s.target.decimals();
    let share = |v| Fixed::new(v, SHARE_DECIMALS);
    let [pit_0_20, pit_20_40, pit_40_60, pit_60_80, pit_80_100] = s.pit_fifths.map(share);
    let key = ForecastKey::new(bt, s.target, s.fy, s.span, s.horizon);
    let scores = ScoreColumns {
        group: s.group.name(),
        councils: s.councils,
        bias_p50: Fixed::new(s.bias, d),
        bias_p50_pct: Fixed::new(s.bias_pct, PERCENT_DECIMALS),
        bias_p50_pct_hnb: s
            .target
            .is_money()
            .then(|| Fixed::new(s.bias_hnb_pct, PERCENT_DECIMALS)),
        bias_p50_pct_hnb_ci90_low: ci_bound(s.bias_hnb_pct_ci90.0),
        bias_p50_pct_hnb_ci90_high: ci_bound(s.bias_hnb_pct_ci90.1),
        mdape_pct: Fixed::new(s.mdape, PERCENT_DECIMALS),
        coverage_50: share(s.coverage_50),
        coverage_90: share(s.coverage_90),
        coverage_50_model_p05: share_bound(s.coverage_50_model.0),
        coverage_50_model_p95: share_bound(s.coverage_50_model.1),
        coverage_90_model_p05: share_bound(s.coverage_90_model.0),
        coverage_90_model_p95: share_bound(s.coverage_90_model.1),
        bias_p50_pct_model_p05: ci_bound(s.bias_pct_model.0),
        bias_p50_pct_model_p95: ci_bound(s.bias_pct_model.1),
        bias_p50_pct_hnb_model_p05: ci_bound(s.bias_hnb_pct_model.0),
        bias_p50_pct_hnb_model_p95: ci_bound(s.bias_hnb_pct_model.1),
        pit_0_20,
        pit_20_40,
        pit_40_60,
        pit_60_80,
        pit_80_100,
        england_actual: s.england.map(|e| Fixed::new(e.actual, d)),
        england_p50: s.england.map(|e| Fixed::new(e.p50, d)),
        england_in_90: s.england.map(|e| u8::from(e.in_90)),
    };
    (key, scores)
}

/// A bound of a range or confidence interval in %, empty where there is none (NaN).
fn ci_bound(v: f64) -> Option<Fixed> {
    v.is_finite().then(|| Fixed::new(v, PERCENT_DECIMALS))
}

/// A bound of a share's range, empty where there is none (NaN).
fn share_bound(v: f64) -> Option<Fixed> {
    v.is_finite().then(|| Fixed::new(v, SHARE_DECIMALS))
}

pub fn write_summary(w: &mut dyn Write, bt: &Backtest) -> Result<()> {
    write_csv(w, scores(bt).iter().map(|s| score_row(bt, s)))
}

/// A `backtest_sv_track.csv` row: one safety-valve council over one spend target's FYs.
#[derive(Serialize)]
struct OffTrackRow<'a> {
    la_code: u16,
    la_name: &'a str,
    /// The agreed trajectory summed over the FYs (pounds of overspend allowed).
    trajectory: Fixed,
    /// The record: overspend beyond the tolerance, summed over the FYs.
    excess: Fixed,
    /// 1 when the record is off track (`excess > trajectory`).
    off_track: u8,
    /// Share of paths off track.
    p_off_track: Fixed,
}

fn off_track_row<'a>(bt: &'a Backtest, o: &'a OffTrack) -> (ForecastKey<'a>, OffTrackRow<'a>) {
    let key = ForecastKey {
        target: "sv_off_track",
        ..ForecastKey::new(bt, Target::Spend, o.fy, o.span, o.fy.0 - bt.origin.0)
    };
    let row = OffTrackRow {
        la_code: o.la_code,
        la_name: &o.la_name,
        trajectory: Fixed::new(o.trajectory, 0),
        excess: Fixed::new(o.excess, 0),
        off_track: u8::from(o.actual()),
        p_off_track: Fixed::new(o.p_off_track, SHARE_DECIMALS),
    };
    (key, row)
}

pub fn write_off_track(w: &mut dyn Write, bt: &Backtest) -> Result<()> {
    write_csv(w, bt.off_track.iter().map(|o| off_track_row(bt, o)))
}
