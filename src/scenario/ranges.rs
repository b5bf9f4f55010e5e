//! What every scenario key allows, declared once: the interval of each number, the span of
//! each financial year, and in words what the other keys (switches, choices, dates, text, and
//! values checked against other keys) allow. Validation reads the intervals and spans; type
//! errors and the README's table of scenario keys (`tests/scenario_keys.rs` keeps it in step)
//! quote [`KEYS`].

use crate::calendar::{FIRST, LAST};
use crate::FinancialYear;
use std::fmt;

/// An allowed interval for a numeric key, with what the number means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowed {
    pub low: f64,
    pub high: f64,
    /// The bound itself is not allowed.
    pub low_open: bool,
    pub high_open: bool,
    pub meaning: &'static str,
}

/// No upper bound other than being a finite number.
const FINITE: f64 = f64::MAX;

const fn closed(low: f64, high: f64, meaning: &'static str) -> Allowed {
    Allowed {
        low,
        high,
        low_open: false,
        high_open: false,
        meaning,
    }
}

const fn below(low: f64, high: f64, meaning: &'static str) -> Allowed {
    Allowed {
        high_open: true,
        ..closed(low, high, meaning)
    }
}

const fn above(low: f64, high: f64, meaning: &'static str) -> Allowed {
    Allowed {
        low_open: true,
        ..closed(low, high, meaning)
    }
}

const fn open(low: f64, high: f64, meaning: &'static str) -> Allowed {
    Allowed {
        low_open: true,
        high_open: true,
        ..closed(low, high, meaning)
    }
}

const SHARE: &str = "a share";
const LOG_SD: &str = "a standard deviation on the log scale";
const YEARLY_RATE: &str = "a yearly rate";
const SMALL_SD: &str = "a standard deviation of a yearly rate";
const SWITCH: &str = "`true` or `false`";
const BY_SETTING: &str =
    "a table by setting: `mainstream`, `special_state`, `special_independent`, `post16`, `ap_other`";
const BY_GROUP: &str = "a table by placement group: `specialist`, `post16`, `ap_other`";
const BY_AGE_BAND: &str =
    "a table by age band: `under_5`, `age_5_10`, `age_11_15`, `age_16_19`, `age_20_25`";
/// A financial year anywhere in the span the program knows.
const ANY_YEAR: Rule = Rule::Years(FIRST, LAST, "a financial year");

/// The longest scenario `name`, in characters (it is written on every CSV row).
pub const MAX_NAME_CHARS: usize = 64;
/// The longest scenario `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The first financial year a horizon may start in.
pub const EARLIEST_FIRST_FY: FinancialYear = FinancialYear(2020);
/// The longest horizon, in years after its first.
pub const MAX_HORIZON_YEARS: i32 = 40;

/// What a key allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A number in this interval.
    Number(Allowed),
    /// A whole number in this interval.
    Whole(Allowed),
    /// A financial year (`"2027-28"`) from the first to the last, with what it is.
    Years(FinancialYear, FinancialYear, &'static str),
    /// In words: switches, choices, dates, text, and values checked against other keys.
    Text(&'static str),
}

/// Every scenario key and what it allows, in the order of `scenarios/baseline.toml`.
/// `table.*` covers every key of that table (or map), `array.key` a key of each entry.
pub const KEYS: &[(&str, Rule)] = &[
    ("extends", Rule::Text("the path of another scenario file, relative to this one; at most 16 files deep")),
    ("name", Rule::Text("1 to 64 letters, digits, `-` and `_` (it names the output folder and is written on every CSV row)")),
    ("description", Rule::Text("any text up to 1,000 characters")),
    ("horizon.first_fy", Rule::Years(EARLIEST_FIRST_FY, LAST, "the first projected year")),
    ("horizon.last_fy", Rule::Text("a financial year from `horizon.first_fy` to 39 years after it")),
    ("run.paths", Rule::Whole(closed(1.0, super::MAX_PATHS as f64, "Monte Carlo paths"))),
    ("run.seed", Rule::Text("a whole number from 0 to 18446744073709551615")),
    ("demand.history_years", Rule::Whole(closed(1.0, 6.0, "years of history"))),
    ("demand.shrinkage_plans", Rule::Number(closed(0.0, 1e7, "plans"))),
    ("demand.min_growth", Rule::Number(open(-0.5, 1.0, "log growth per year"))),
    ("demand.max_growth", Rule::Number(open(-0.5, 1.0, "log growth per year (above `demand.min_growth`)"))),
    ("demand.trend_mean", Rule::Number(closed(-0.1, 0.1, "log change per year"))),
    ("demand.trend_sd", Rule::Number(closed(0.0, 0.2, LOG_SD))),
    ("demand.level_sd", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("demand.council_level_sd", Rule::Number(closed(0.0, 0.5, LOG_SD))),
    ("demand.national_shock_sd", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("demand.council_shock_sd", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("demand.persistence", Rule::Number(below(0.0, 1.0, "an AR(1) coefficient"))),
    ("placement.entry_mix_shrinkage_plans", Rule::Number(closed(0.0, 1e7, "plans"))),
    ("placement.history_years", Rule::Whole(closed(1.0, 7.0, "years of history"))),
    ("placement.share_break_january", Rule::Whole(closed(2019.0, 2100.0, "a January: the first census on the current recording basis of post-16 and AP/other (2019, the first in the seeds, means no break)"))),
    ("placement.trend_shrinkage_plans", Rule::Number(closed(0.0, 1e7, "plans"))),
    ("placement.share_level_sd", Rule::Text(BY_GROUP)),
    ("placement.share_level_sd.*", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("placement.share_slope_sd", Rule::Text(BY_GROUP)),
    ("placement.share_slope_sd.*", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("placement.capacity_level_sd", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("placement.capacity_growth_sd", Rule::Number(closed(0.0, 0.2, LOG_SD))),
    ("placement.national_level_sd", Rule::Text(BY_GROUP)),
    ("placement.national_level_sd.*", Rule::Number(closed(0.0, 0.5, LOG_SD))),
    ("placement.national_slope_sd", Rule::Text(BY_GROUP)),
    ("placement.national_slope_sd.*", Rule::Number(closed(0.0, 0.5, LOG_SD))),
    ("placement.capacity_national_level_sd", Rule::Number(closed(0.0, 0.5, LOG_SD))),
    ("placement.capacity_national_growth_sd", Rule::Number(closed(0.0, 0.1, LOG_SD))),
    ("placement.capacity_specialist_correlation", Rule::Number(closed(0.0, 0.99, "a correlation"))),
    ("placement.group_correlation", Rule::Number(closed(-1.0, 1.0, "a correlation of the councils' own placement level draws (3 rows of 3 in the order specialist, post16, ap_other: symmetric, positive definite, 1 on the diagonal)"))),
    ("placement.wide_share", Rule::Number(closed(0.0, 1.0, "a share of council-paths"))),
    ("placement.wide_factor", Rule::Number(closed(1.0, 10.0, "a multiple of the placement sds"))),
    ("placement.capacity_headroom", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("placement.induced_demand", Rule::Number(closed(0.0, 2.0, "placements per new place"))),
    ("placement.capacity_plans_elasticity", Rule::Number(closed(0.0, 2.0, "an elasticity: the log change of the state special places per log change of the council's plans beyond its expected plans"))),
    ("placement.plans_elasticity", Rule::Text(BY_GROUP)),
    ("placement.plans_elasticity.*", Rule::Number(closed(0.0, 2.0, "an elasticity: the log change of the group (specialist placements; the post-16 and AP/other shares) per log change of the council's plans beyond its expected plans"))),
    ("placement.new_places", Rule::Text("a list of `{ fy = \"2027-28\", places = 1000 }`, each `fy` inside the horizon")),
    ("placement.new_places.fy", Rule::Text("a financial year inside the horizon")),
    ("placement.new_places.places", Rule::Number(closed(0.0, 1e6, "new state special places in England that year"))),
    ("placement.new_places_rule", Rule::Text("`special_state` or `special_independent`")),
    ("costs.price_fy", Rule::Years(FinancialYear(2015), FinancialYear(2040), "the year whose prices the unit costs are in")),
    ("costs.unit_cost", Rule::Text(BY_SETTING)),
    ("costs.unit_cost.*", Rule::Number(above(0.0, 1e6, "pounds per plan per year"))),
    ("costs.inflation", Rule::Text(BY_SETTING)),
    ("costs.inflation.*", Rule::Number(closed(-0.1, 0.2, YEARLY_RATE))),
    ("costs.inflation_sd", Rule::Number(closed(0.0, 0.2, SMALL_SD))),
    ("costs.inflation_noise_sd", Rule::Number(closed(0.0, 0.2, SMALL_SD))),
    ("costs.council_level_sd", Rule::Number(closed(0.0, 1.0, LOG_SD))),
    ("costs.council_noise_sd", Rule::Number(closed(0.0, 0.5, LOG_SD))),
    ("costs.noise_persistence", Rule::Number(closed(0.0, 1.0, "an AR(1) coefficient (1 = a random walk)"))),
    ("costs.plans_response", Rule::Number(closed(0.0, 1.0, "the share of its own plans' change that a council's spend follows (1 = one for one)"))),
    ("costs.plans_response_years", Rule::Whole(closed(1.0, crate::engine::MAX_RESPONSE_YEARS as f64, "years (a plan surprise older than this is followed one for one)"))),
    ("costs.non_plan_share", Rule::Number(below(0.0, 0.9, SHARE))),
    ("costs.non_plan_driver", Rule::Text("`plans` or `prices`")),
    ("costs.scale_min", Rule::Number(above(0.0, 1.0, "a cost scale"))),
    ("costs.scale_max", Rule::Number(closed(1.0, 10.0, "a cost scale"))),
    ("funding.formula_uplift_fy", ANY_YEAR),
    ("funding.formula_uplift_low", Rule::Number(closed(0.0, 0.2, "a share (at most `funding.formula_uplift_high`)"))),
    ("funding.formula_uplift_high", Rule::Number(closed(0.0, 0.2, SHARE))),
    ("funding.growth_mean", Rule::Number(closed(-0.1, 0.2, YEARLY_RATE))),
    ("funding.growth_sd", Rule::Number(closed(0.0, 0.2, SMALL_SD))),
    ("funding.noise_sd", Rule::Number(closed(0.0, 0.2, SMALL_SD))),
    ("funding.schools_block_ratio", Rule::Number(closed(0.0, 20.0, "the schools block as a multiple of HNB"))),
    ("funding.schools_block_transfer", Rule::Number(closed(0.0, 0.1, "a share (above 0.005 only with `funding.allow_transfer_above_cap`)"))),
    ("funding.allow_transfer_above_cap", Rule::Text(SWITCH)),
    ("shocks.correlation", Rule::Number(closed(-1.0, 1.0, "a correlation (3 rows of 3, symmetric, positive definite, 1 on the diagonal)"))),
    ("mitigation.savings_share", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("mitigation.start_fy", ANY_YEAR),
    ("mitigation.ramp_years", Rule::Whole(closed(1.0, 40.0, "years"))),
    ("mitigation.delivered_alpha", Rule::Number(above(0.0, 1000.0, "a Beta parameter"))),
    ("mitigation.delivered_beta", Rule::Number(above(0.0, 1000.0, "a Beta parameter"))),
    ("reserves.drawdown_rate", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("reserves.interest_rate", Rule::Number(closed(0.0, 0.2, YEARLY_RATE))),
    ("reserves.overrides", Rule::Text("councils' reserves in pounds by DfE code, like `{ \"330\" = 5.0e7 }`")),
    ("reserves.overrides.*", Rule::Number(closed(0.0, 1e11, "a council's reserves in pounds"))),
    ("override.end", Rule::Text("a 31 March inside the horizon, like `\"2028-03-31\"`")),
    ("hnsg.enabled", Rule::Text(SWITCH)),
    ("hnsg.share", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("hnsg.balance_date", Rule::Text("a 31 March, like `\"2026-03-31\"`, from 2001 to 2101")),
    ("hnsg.haircut", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("hnsg.approval_probability", Rule::Number(closed(0.0, 1.0, "a probability"))),
    ("hnsg.delay_probability", Rule::Number(closed(0.0, 1.0, "a probability"))),
    ("hnsg.payment_fy", Rule::Text("a financial year after the one ending on `hnsg.balance_date`")),
    ("hnsg.net_safety_valve_due", Rule::Text(SWITCH)),
    ("interim_support.share_low", Rule::Number(closed(0.0, 1.0, "a share (at most `interim_support.share_high`)"))),
    ("interim_support.share_high", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("after_override.regime", Rule::Text("`council`, `central` or `write_off`")),
    ("after_override.from_fy", Rule::Text("a financial year after the one in which the override ends")),
    ("safety_valve.last_payment_fy", ANY_YEAR),
    ("safety_valve.tolerance", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("safety_valve.withhold", Rule::Text(SWITCH)),
    ("safety_valve.withhold_share", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("safety_valve.release_when_back_on_track", Rule::Text(SWITCH)),
    ("safety_valve.council_contribution_share", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("safety_valve.savings_mean", Rule::Number(closed(-1.0, 2.0, "a share of the overspend"))),
    ("safety_valve.savings_sd", Rule::Number(closed(0.0, 1.0, "a standard deviation of that share"))),
    ("safety_valve.caseload_share", Rule::Number(closed(0.0, 1.0, "a share of the cut"))),
    ("reform.enabled", Rule::Text(SWITCH)),
    ("reform.start_fy", ANY_YEAR),
    ("reform.new_plan_rate_change", Rule::Number(closed(-1.0, 1.0, "a relative change"))),
    ("reform.reassessment_cease_share", Rule::Number(closed(0.0, 1.0, SHARE))),
    ("reform.independent_fee_cap", Rule::Number(closed(-0.1, 0.2, YEARLY_RATE))),
    ("reform.surge", Rule::Number(closed(0.0, 1.0, "a relative increase"))),
    ("reform.surge_years", Rule::Whole(closed(0.0, 40.0, "years"))),
    ("decay.enabled", Rule::Text(SWITCH)),
    ("decay.long_run_growth_low", Rule::Number(closed(-0.1, 0.2, "a yearly growth rate of plans"))),
    ("decay.long_run_growth_high", Rule::Number(closed(-0.1, 0.2, "a yearly growth rate of plans"))),
    ("decay.half_life_low", Rule::Number(closed(1.0, 100.0, "years"))),
    ("decay.half_life_high", Rule::Number(closed(1.0, 100.0, "years"))),
    ("ceiling.enabled", Rule::Text(SWITCH)),
    ("ceiling.prevalence", Rule::Text(BY_AGE_BAND)),
    ("ceiling.prevalence.*", Rule::Number(above(0.0, 1.0, "plans per head of the age band's population"))),
    ("ceiling.shape", Rule::Number(closed(0.5, 20.0, "a saturation exponent"))),
    ("population.change", Rule::Text(BY_AGE_BAND)),
    ("population.change.*", Rule::Number(closed(-0.1, 0.1, "a yearly change in log population"))),
    ("population.change_sd", Rule::Number(closed(0.0, 0.05, SMALL_SD))),
    ("sensitivity", Rule::Text("a list of `[[sensitivity]]` inputs, each moved alone to its `low` and `high` (README \"Sensitivity\")")),
    ("sensitivity.key", Rule::Text("a scenario key outside `name`, `description`, `horizon`, `run` and `override`")),
    ("sensitivity.low", Rule::Text("a value of the key's own kind, allowed for that key")),
    ("sensitivity.high", Rule::Text("a value of the key's own kind, allowed for that key")),
    ("sensitivity.source", Rule::Text("any text: where the values come from")),
    ("sensitivity.label", Rule::Text("any text: the input's name in the outputs")),
];

/// What `key` (a dotted path) allows, if [`KEYS`] declares it.
pub fn rule(key: &str) -> Option<&'static Rule> {
    KEYS.iter().find_map(|(pattern, rule)| {
        let matches = match pattern.strip_suffix(".*") {
            Some(table) => key
                .strip_prefix(table)
                .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.')),
            None => *pattern == key,
        };
        matches.then_some(rule)
    })
}

/// The allowed interval of a numeric `key`, if it has one.
pub fn allowed(key: &str) -> Option<&'static Allowed> {
    match rule(key)? {
        Rule::Number(range) | Rule::Whole(range) => Some(range),
        Rule::Years(..) | Rule::Text(_) => None,
    }
}

/// The allowed span of a financial-year `key`, if it has one.
pub fn years(key: &str) -> Option<(FinancialYear, FinancialYear)> {
    match rule(key)? {
        Rule::Years(first, last, _) => Some((*first, *last)),
        _ => None,
    }
}

/// A number as an error message shows it: in full when short, else in scientific notation
/// (so `1e300` is not three hundred digits).
pub fn show(value: f64) -> String {
    let plain = value.to_string();
    if plain.len() <= 16 {
        plain
    } else {
        format!("{value:e}")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Number(range) => write!(f, "a number: {range}"),
            Rule::Whole(range) => write!(f, "a whole number: {range}"),
            Rule::Years(first, last, what) => {
                write!(
                    f,
                    "{what}, written like `\"2027-28\"`, from {first} to {last}"
                )
            }
            Rule::Text(text) => write!(f, "{text}"),
        }
    }
}

impl Allowed {
    pub fn contains(&self, value: f64) -> bool {
        let above_low = if self.low_open {
            value > self.low
        } else {
            value >= self.low
        };
        let below_high = if self.high_open {
            value < self.high
        } else {
            value <= self.high
        };
        above_low && below_high
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let low = if self.low_open { "above " } else { "" };
        if self.high >= FINITE {
            return write!(
                f,
                "{}, {low}{}{}",
                self.meaning,
                show(self.low),
                if self.low_open { "" } else { " or more" }
            );
        }
        let high = if self.high_open { "below " } else { "" };
        write!(
            f,
            "{}, {low}{} to {high}{}",
            self.meaning,
            show(self.low),
            show(self.high)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_their_bounds_and_refuse_nan() {
        let persistence = allowed("demand.persistence").unwrap();
        assert!(persistence.contains(0.0) && persistence.contains(0.99));
        assert!(!persistence.contains(1.0) && !persistence.contains(f64::NAN));
        assert_eq!(
            persistence.to_string(),
            "an AR(1) coefficient, 0 to below 1"
        );
        let unit_cost = allowed("costs.unit_cost.post16").unwrap();
        assert!(!unit_cost.contains(0.0) && !unit_cost.contains(f64::INFINITY));
        assert!(unit_cost.contains(1e6) && !unit_cost.contains(1.0000001e6));
        assert_eq!(
            unit_cost.to_string(),
            "pounds per plan per year, above 0 to 1000000"
        );
        assert!(allowed("costs.unit_cost").is_none());
        assert!(allowed("costs.unit_costs.x").is_none());
        assert!(allowed("costs.unit_cost.post16.x").is_none());
    }

    /// Every number has a finite interval: no key accepts infinity (issue 11, item 1).
    #[test]
    fn every_interval_is_finite() {
        for (key, rule) in KEYS {
            if let Rule::Number(range) | Rule::Whole(range) = rule {
                assert!(range.low.is_finite() && range.high.is_finite(), "{key}");
                assert!(range.high < FINITE, "{key} has no upper bound");
                assert!(!range.contains(f64::INFINITY) && !range.contains(f64::NAN));
            }
        }
    }

    #[test]
    fn long_numbers_are_shown_short() {
        assert_eq!(show(0.25), "0.25");
        assert_eq!(show(1e6), "1000000");
        assert_eq!(show(4.4960803695828606e243), "4.4960803695828606e243");
        assert_eq!(show(-1e300), "-1e300");
    }
}
