//! The run's CSV files: `councils.csv`, `national.csv`, `summary.csv` and
//! `councils_over_reserves.csv` (columns documented in the README, "What a run writes").

use super::{write_csv, Fixed, StatsColumns};
use crate::metric::{Metric, NationalMetric};
use crate::run::RunReport;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Who and what a `councils.csv` row is about.
#[derive(Serialize)]
struct CouncilMetricKey<'a> {
    scenario: &'a str,
    la_code: u16,
    la_name: &'a str,
    fy: &'a str,
    metric: &'static str,
}

/// One row per council, FY and metric.
pub fn write_councils(w: &mut dyn Write, r: &RunReport) -> Result<()> {
    let years: Vec<String> = r.horizon.years.iter().map(|fy| fy.to_string()).collect();
    let years = &years;
    let rows = r.councils.iter().flat_map(|c| {
        years.iter().enumerate().flat_map(move |(t, fy)| {
            Metric::ALL.iter().map(move |&metric| {
                let key = CouncilMetricKey {
                    scenario: &r.scenario,
                    la_code: c.la_code,
                    la_name: &c.la_name,
                    fy,
                    metric: metric.name(),
                };
                let stats = StatsColumns::new(c.summary.get(t, metric), metric.decimals());
                (key, stats)
            })
        })
    });
    write_csv(w, rows)
}

/// What a `national.csv` row is about.
#[derive(Serialize)]
struct NationalMetricKey<'a> {
    scenario: &'a str,
    fy: String,
    metric: &'static str,
}

/// One row per FY and England metric.
pub fn write_national(w: &mut dyn Write, r: &RunReport) -> Result<()> {
    let rows = r.horizon.years.iter().enumerate().flat_map(|(t, fy)| {
        NationalMetric::ALL.iter().map(move |&metric| {
            let key = NationalMetricKey {
                scenario: &r.scenario,
                fy: fy.to_string(),
                metric: metric.name(),
            };
            (
                key,
                StatsColumns::new(r.national.get(t, metric), metric.decimals()),
            )
        })
    });
    write_csv(w, rows)
}

/// A `summary.csv` row: one council at the override end.
#[derive(Serialize)]
struct SummaryRow<'a> {
    scenario: &'a str,
    la_code: u16,
    la_name: &'a str,
    fy: String,
    deficit_p50: Fixed,
    deficit_p95: Fixed,
    reserves: Fixed,
    p_deficit_exceeds_reserves: Fixed,
    p_deficit_exceeds_reserves_se: Fixed,
    expected_shortfall: Fixed,
    expected_shortfall_se: Fixed,
    deficit_mean: Fixed,
    deficit_p05: Fixed,
    deficit_to_reserves_p50: Fixed,
    /// Empty for councils without a safety-valve agreement.
    p_sv_breach: Option<Fixed>,
    safety_valve: &'static str,
}

pub fn write_summary(w: &mut dyn Write, r: &RunReport) -> Result<()> {
    let fy = r.horizon.override_end_fy().to_string();
    let pounds = |v| Fixed::new(v, Metric::CumulativeDeficit.decimals());
    let probability = |v| Fixed::new(v, Metric::DeficitExceedsReserves.decimals());
    let rows = r.councils.iter().map(|c| {
        let o = &c.summary.at_override;
        SummaryRow {
            scenario: &r.scenario,
            la_code: c.la_code,
            la_name: &c.la_name,
            fy: fy.clone(),
            deficit_p50: pounds(o.deficit.p50),
            deficit_p95: pounds(o.deficit.p95),
            reserves: pounds(o.reserves.p50),
            p_deficit_exceeds_reserves: probability(o.p_exceeds.0),
            p_deficit_exceeds_reserves_se: probability(o.p_exceeds.1),
            expected_shortfall: pounds(o.expected_shortfall.0),
            expected_shortfall_se: pounds(o.expected_shortfall.1),
            deficit_mean: pounds(o.deficit.mean),
            deficit_p05: pounds(o.deficit.p05),
            deficit_to_reserves_p50: Fixed::new(o.ratio.p50, Metric::DeficitToReserves.decimals()),
            p_sv_breach: c.has_safety_valve.then(|| probability(o.p_sv_breach.0)),
            safety_valve: if c.has_safety_valve { "yes" } else { "no" },
        }
    });
    write_csv(w, rows)
}

/// A `councils_over_reserves.csv` row: how many paths end the override year with this many
/// councils over reserves.
#[derive(Serialize)]
struct CouncilsOverReservesRow<'a> {
    scenario: &'a str,
    fy: String,
    councils_over_reserves: usize,
    paths: usize,
    share_of_paths: Fixed,
}

pub fn write_councils_over_reserves(w: &mut dyn Write, r: &RunReport) -> Result<()> {
    let fy = r.horizon.override_end_fy().to_string();
    let rows = r
        .councils_over_reserves
        .iter()
        .map(|c| CouncilsOverReservesRow {
            scenario: &r.scenario,
            fy: fy.clone(),
            councils_over_reserves: c.councils,
            paths: c.paths,
            share_of_paths: Fixed::new(c.paths as f64 / r.paths as f64, 4),
        });
    write_csv(w, rows)
}
