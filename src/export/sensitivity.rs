//! `sensitivity.csv` (each input, side and measure: the base, the moved median and the change)
//! and `sensitivity_global.csv` (each path parameter's rank correlation with the headline).

use super::{write_csv, Fixed};
use crate::scenario::value_text;
use crate::sensitivity::{Effect, Sensitivity, HEADLINE};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Decimals of a correlation.
const CORRELATION_DECIMALS: usize = 4;

#[derive(Serialize)]
struct InputRow<'a> {
    scenario: &'a str,
    input: &'a str,
    label: &'a str,
    side: &'static str,
    input_value: String,
    base_input_value: String,
    metric: &'static str,
    fy: String,
    base: Fixed,
    value: Fixed,
    difference: Fixed,
    difference_p05: Fixed,
    difference_p95: Fixed,
    source: &'a str,
}

/// Writes `sensitivity.csv`: one row per input, side (`low`, `high`) and measure, in the
/// scenario's table order.
pub fn write_inputs(w: &mut dyn Write, s: &Sensitivity) -> Result<()> {
    let rows = s.inputs.iter().flat_map(|e| {
        let sides = [
            ("low", &e.input.low, &e.low),
            ("high", &e.input.high, &e.high),
        ];
        sides.into_iter().flat_map(move |(side, value, effects)| {
            s.measures.iter().zip(effects.iter()).map(
                move |(&(measure, fy), effect): (_, &Effect)| {
                    let d = measure.metric.decimals();
                    let f = |v| Fixed::new(v, d);
                    InputRow {
                        scenario: &s.scenario,
                        input: &e.input.key,
                        label: &e.input.label,
                        side,
                        input_value: value_text(value),
                        base_input_value: value_text(&e.input.base),
                        metric: measure.metric.name(),
                        fy: fy.to_string(),
                        base: f(effect.base),
                        value: f(effect.value),
                        difference: f(effect.difference.p50),
                        difference_p05: f(effect.difference.p05),
                        difference_p95: f(effect.difference.p95),
                        source: &e.input.source,
                    }
                },
            )
        })
    });
    write_csv(w, rows)
}

#[derive(Serialize)]
struct GlobalRow<'a> {
    scenario: &'a str,
    parameter: String,
    description: String,
    metric: &'static str,
    fy: String,
    spearman: Option<Fixed>,
    spearman_p05: Option<Fixed>,
    spearman_p95: Option<Fixed>,
}

/// Writes `sensitivity_global.csv`: each path parameter's Spearman correlation with England's
/// deficit at the override end, with its 90% interval (empty when the parameter is the same on
/// every path).
pub fn write_global(w: &mut dyn Write, s: &Sensitivity) -> Result<()> {
    let fy = s.horizon.override_end_fy().to_string();
    let f = |v| Fixed::new(v, CORRELATION_DECIMALS);
    let rows = s.global.iter().map(|g| GlobalRow {
        scenario: &s.scenario,
        parameter: g.parameter.name(),
        description: g.parameter.description(),
        metric: HEADLINE.metric.name(),
        fy: fy.clone(),
        spearman: g.spearman.map(f),
        spearman_p05: g.interval.map(|i| f(i.0)),
        spearman_p95: g.interval.map(|i| f(i.1)),
    });
    write_csv(w, rows)
}
