//! `[[sensitivity]]`: the inputs `highneeds sensitivity` moves one at a time, each a scenario key
//! with a low and a high value and where they come from. Validated when the scenario is loaded:
//! the key must be one a sensitivity can move, low must not exceed high, and both must be of the
//! key's kind and allowed for it (`ranges.rs`). That the scenario with either validates whole is
//! checked when the sensitivity runs ([`SensitivityInput::scenario_with`]).

use super::file::{line_at, SensitivityFile};
use super::ranges::allowed;
use super::{KeySource, LoadedScenario};
use crate::error::InputError;
use std::path::Path;

impl SensitivityInput {
    /// The scenario with this input at `value` (its low or its high), validated whole; an error
    /// (a rule between keys, such as `interim_support.share_high` below `share_low`) names the
    /// entry's file and line. Checked when the sensitivity runs rather than when the scenario
    /// loads, so a sweep or an `extends` child that moves another key is not refused for it.
    pub fn scenario_with(
        &self,
        scenario: &LoadedScenario,
        side: &str,
        value: &toml::Value,
    ) -> Result<LoadedScenario, InputError> {
        scenario.with_value(&self.key, value).map_err(|e| {
            let message = format!(
                "key `sensitivity` entry `{}`: {side} = {value} gives a scenario that does not validate: {e}",
                self.key
            );
            match self.at.line {
                Some(line) => InputError::at_line(&self.at.file, line, message),
                None => InputError::invalid(&self.at.file, message),
            }
        })
    }
}

/// One input of a sensitivity analysis, validated.
#[derive(Debug, Clone)]
pub struct SensitivityInput {
    /// The scenario key it moves (dotted, like `costs.inflation.special_independent`).
    pub key: String,
    /// What the chart calls it.
    pub label: String,
    pub low: toml::Value,
    pub high: toml::Value,
    /// The scenario's own value of the key.
    pub base: toml::Value,
    /// Where the low and high values come from (a source or a stated reason).
    pub source: String,
    /// Where the entry was written.
    pub at: KeySource,
}

/// Tables whose keys a sensitivity may not move: names, the run's size and years, the override
/// date (the figures are read at the override end), and the sensitivity table itself.
const FIXED_TABLES: [&str; 7] = [
    "extends",
    "name",
    "description",
    "horizon",
    "run",
    "override",
    "sensitivity",
];

/// Labels for the inputs the bundled scenarios move (other keys are labelled by the key, or by
/// the entry's own `label`).
const LABELS: &[(&str, &str)] = &[
    (
        "demand.history_years",
        "EHCP growth level (years of history)",
    ),
    ("demand.trend_mean", "EHCP growth trend"),
    ("demand.level_sd", "EHCP growth level uncertainty"),
    ("decay.enabled", "EHCP growth slows (decay on)"),
    (
        "decay.half_life_low",
        "Half-life of growth, bottom of range",
    ),
    ("decay.half_life_high", "Half-life of growth, top of range"),
    (
        "decay.long_run_growth_low",
        "Long-run growth, bottom of range",
    ),
    (
        "decay.long_run_growth_high",
        "Long-run growth, top of range",
    ),
    (
        "costs.inflation.special_independent",
        "Independent special fee inflation",
    ),
    ("costs.inflation.mainstream", "Mainstream unit-cost growth"),
    (
        "costs.inflation.special_state",
        "State special unit-cost growth",
    ),
    ("costs.inflation.post16", "Post-16 unit-cost growth"),
    ("costs.inflation.ap_other", "AP/other unit-cost growth"),
    ("costs.non_plan_share", "Non-plan spend share"),
    ("costs.non_plan_driver", "Non-plan spend grows with"),
    ("funding.growth_mean", "HNB growth after 2026-27"),
    (
        "funding.formula_uplift_low",
        "HNB 2025-26 uplift, bottom of range",
    ),
    (
        "funding.formula_uplift_high",
        "HNB 2025-26 uplift, top of range",
    ),
    ("hnsg.approval_probability", "HNSG approval probability"),
    ("interim_support.share_high", "Interim support (top share)"),
    (
        "mitigation.delivered_alpha",
        "Savings delivery (Beta alpha)",
    ),
    (
        "safety_valve.savings_mean",
        "Safety-valve savings delivered",
    ),
    ("placement.new_places", "New special places"),
    ("placement.induced_demand", "Induced demand per new place"),
];

/// What `key` allows as a sensitivity input, for error messages.
const KEYS_ALLOWED: &str = "a scenario key (as `highneeds check` lists them) outside `name`, \
    `description`, `horizon`, `run`, `override` and `sensitivity`, such as `demand.trend_mean`";

/// A number's value (TOML integers and floats alike).
fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The size of a value that has one, to check that low does not exceed high: a number, or the
/// places of a list of new places.
fn magnitude(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.get("places").and_then(number))
            .sum(),
        other => number(other),
    }
}

/// A value as written in `sensitivity.csv`: text without its quotes, anything else as TOML.
pub fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A value as a chart labels it: a number as written, a list of new places by its total, text
/// without its quotes.
pub fn value_label(value: &toml::Value) -> String {
    match value {
        toml::Value::Array(items) if items.is_empty() => "none".into(),
        toml::Value::Array(_) => match magnitude(value) {
            Some(places) => {
                use num_format::{Locale, ToFormattedString};
                format!(
                    "{} places",
                    (places.round() as i64).to_formatted_string(&Locale::en)
                )
            }
            None => value.to_string(),
        },
        other => value_text(other),
    }
}

/// Validates the entries of `[[sensitivity]]` (written in `path`, whose text is `text`) against
/// the loaded scenario.
pub(super) fn validate(
    loaded: &LoadedScenario,
    entries: Vec<SensitivityFile>,
    path: &Path,
    text: &str,
) -> Result<Vec<SensitivityInput>, InputError> {
    let mut inputs: Vec<SensitivityInput> = Vec::with_capacity(entries.len());
    for entry in entries {
        let line = line_at(text, entry.key.span().start);
        let key = entry.key.into_inner();
        let fail = |message: String| {
            InputError::at_line(
                path,
                line,
                format!("key `sensitivity` entry `{key}`: {message}"),
            )
        };
        let table = key.split('.').next().unwrap_or_default();
        let base = match loaded.keys.iter().find(|k| k.key == key) {
            Some(resolved) if !FIXED_TABLES.contains(&table) => resolved.value.clone(),
            _ => {
                return Err(fail(format!(
                    "not an input a sensitivity can move: use {KEYS_ALLOWED}"
                )))
            }
        };
        if inputs.iter().any(|input| input.key == key) {
            return Err(fail("is listed twice: give each input once".into()));
        }
        let missing = |what: &str| {
            fail(format!(
                "`{what}` is missing: each input needs `low`, `high` and `source`"
            ))
        };
        let low = entry.low.ok_or_else(|| missing("low"))?;
        let high = entry.high.ok_or_else(|| missing("high"))?;
        let source = entry.source.ok_or_else(|| missing("source"))?;
        if source.trim().is_empty() {
            return Err(fail(
                "`source` is empty: say where the low and high values come from, or why they were chosen".into(),
            ));
        }
        for (side, value) in [("low", &low), ("high", &high)] {
            check_side(&key, &base, side, value).map_err(&fail)?;
        }
        if let (Some(l), Some(h)) = (magnitude(&low), magnitude(&high)) {
            if l > h {
                return Err(fail(format!(
                    "low = {low} is above high = {high}: low must not exceed high"
                )));
            }
        }
        let label = entry.label.unwrap_or_else(|| {
            LABELS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| key.clone(), |(_, label)| (*label).to_string())
        });
        inputs.push(SensitivityInput {
            key: key.clone(),
            label,
            low,
            high,
            base,
            source,
            at: KeySource {
                file: path.to_path_buf(),
                line: Some(line),
            },
        });
    }
    Ok(inputs)
}

/// A side's value must be of the key's type and, for a number, inside the key's range.
fn check_side(
    key: &str,
    base: &toml::Value,
    side: &str,
    value: &toml::Value,
) -> Result<(), String> {
    if number(base).is_some() {
        let Some(v) = number(value) else {
            return Err(format!(
                "{side} = {value} is not allowed: a number, like the key's value {base}"
            ));
        };
        if let Some(range) = allowed(key) {
            if !range.contains(v) {
                return Err(format!("{side} = {value} is not allowed: {range}"));
            }
        }
        return Ok(());
    }
    if base.type_str() != value.type_str() {
        return Err(format!(
            "{side} = {value} is not allowed: a {}, like the key's value {base}",
            base.type_str()
        ));
    }
    Ok(())
}
