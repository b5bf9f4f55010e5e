//! `compare.csv` (per council, FY and metric) and `compare_summary.csv` (England per FY and
//! metric): the paired difference B - A with its distribution and P(B < A).

use super::{write_csv, Fixed};
use crate::compare::{Comparison, Difference, COUNCIL_METRICS, ENGLAND_METRICS};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Decimals of a probability and its standard error.
const PROBABILITY_DECIMALS: usize = 4;

/// The columns of one paired difference.
#[derive(Serialize)]
struct DifferenceColumns {
    mean_a: Fixed,
    mean_b: Fixed,
    difference_mean: Fixed,
    difference_p05: Fixed,
    difference_p50: Fixed,
    difference_p95: Fixed,
    p_b_lower: Fixed,
    p_b_lower_se: Fixed,
}

impl DifferenceColumns {
    fn new(d: &Difference, decimals: usize) -> Self {
        let f = |v| Fixed::new(v, decimals);
        let p = |v| Fixed::new(v, PROBABILITY_DECIMALS);
        DifferenceColumns {
            mean_a: f(d.mean_a),
            mean_b: f(d.mean_b),
            difference_mean: f(d.difference.mean),
            difference_p05: f(d.difference.p05),
            difference_p50: f(d.difference.p50),
            difference_p95: f(d.difference.p95),
            p_b_lower: p(d.p_b_lower.0),
            p_b_lower_se: p(d.p_b_lower.1),
        }
    }
}

#[derive(Serialize)]
struct CouncilKey<'a> {
    a: &'a str,
    b: &'a str,
    la_code: u16,
    la_name: &'a str,
    fy: String,
    metric: &'static str,
}

#[derive(Serialize)]
struct EnglandKey<'a> {
    a: &'a str,
    b: &'a str,
    fy: String,
    /// Whether this FY ends on the override end date.
    override_end: bool,
    metric: &'static str,
}

/// Writes `compare.csv`: every council, FY and compared metric.
pub fn write_councils(w: &mut dyn Write, c: &Comparison) -> Result<()> {
    let years = &c.horizon.years;
    let rows = c.councils.iter().flat_map(|council| {
        years.iter().enumerate().flat_map(move |(t, fy)| {
            COUNCIL_METRICS.iter().enumerate().map(move |(k, &metric)| {
                let key = CouncilKey {
                    a: &c.a,
                    b: &c.b,
                    la_code: council.la_code,
                    la_name: &council.la_name,
                    fy: fy.to_string(),
                    metric: metric.name(),
                };
                let d = &council.by_year[t][k];
                (key, DifferenceColumns::new(d, metric.decimals()))
            })
        })
    });
    write_csv(w, rows)
}

/// Writes `compare_summary.csv`: England, every FY and compared metric.
pub fn write_summary(w: &mut dyn Write, c: &Comparison) -> Result<()> {
    let h = &c.horizon;
    let rows = h.years.iter().enumerate().flat_map(|(t, fy)| {
        ENGLAND_METRICS.iter().enumerate().map(move |(k, &metric)| {
            let key = EnglandKey {
                a: &c.a,
                b: &c.b,
                fy: fy.to_string(),
                override_end: t == h.override_end,
                metric: metric.name(),
            };
            (
                key,
                DifferenceColumns::new(&c.england[t][k], metric.decimals()),
            )
        })
    });
    write_csv(w, rows)
}
