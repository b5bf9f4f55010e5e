//! The allowed range of every numeric scenario key, declared once. Validation reads this
//! table; the README's table of scenario keys repeats it for readers.

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

/// Every numeric key and its allowed range. `table.*` covers every key of that table.
pub const RANGES: &[(&str, Allowed)] = &[
    (
        "run.paths",
        closed(1.0, super::MAX_PATHS as f64, "Monte Carlo paths"),
    ),
    ("demand.history_years", closed(1.0, 6.0, "years of history")),
    ("demand.shrinkage_plans", closed(0.0, FINITE, "plans")),
    ("demand.min_growth", open(-0.5, 1.0, "log growth per year")),
    ("demand.max_growth", open(-0.5, 1.0, "log growth per year")),
    (
        "demand.trend_mean",
        closed(-0.5, 0.5, "log change per year"),
    ),
    ("demand.trend_sd", closed(0.0, 1.0, LOG_SD)),
    ("demand.level_sd", closed(0.0, 1.0, LOG_SD)),
    ("demand.council_level_sd", closed(0.0, 1.0, LOG_SD)),
    ("demand.national_shock_sd", closed(0.0, 1.0, LOG_SD)),
    ("demand.council_shock_sd", closed(0.0, 1.0, LOG_SD)),
    (
        "demand.persistence",
        below(0.0, 1.0, "an AR(1) coefficient"),
    ),
    (
        "placement.entry_mix_shrinkage_plans",
        closed(0.0, FINITE, "plans"),
    ),
    (
        "placement.history_years",
        closed(1.0, 7.0, "years of history"),
    ),
    (
        "placement.trend_shrinkage_plans",
        closed(0.0, FINITE, "plans"),
    ),
    ("placement.share_level_sd.*", closed(0.0, 1.0, LOG_SD)),
    ("placement.share_slope_sd.*", closed(0.0, 1.0, LOG_SD)),
    ("placement.capacity_headroom", closed(0.0, 1.0, SHARE)),
    ("placement.capacity_level_sd", closed(0.0, 1.0, LOG_SD)),
    ("placement.capacity_growth_sd", closed(0.0, 1.0, LOG_SD)),
    (
        "placement.capacity_specialist_correlation",
        closed(0.0, 0.99, "a correlation"),
    ),
    (
        "placement.induced_demand",
        closed(0.0, 2.0, "placements per new place"),
    ),
    ("placement.new_places.places", closed(0.0, FINITE, "places")),
    (
        "costs.unit_cost.*",
        above(0.0, FINITE, "pounds per plan per year"),
    ),
    ("costs.inflation.*", closed(-0.2, 0.5, YEARLY_RATE)),
    ("costs.inflation_sd", closed(0.0, 0.2, SMALL_SD)),
    ("costs.inflation_noise_sd", closed(0.0, 0.2, SMALL_SD)),
    ("costs.non_plan_share", below(0.0, 0.9, SHARE)),
    ("costs.scale_min", above(0.0, 1.0, "a cost scale")),
    (
        "costs.scale_max",
        closed(1.0, f64::INFINITY, "a cost scale"),
    ),
    ("funding.formula_uplift_low", closed(0.0, 0.2, SHARE)),
    ("funding.formula_uplift_high", closed(0.0, 0.2, SHARE)),
    ("funding.growth_mean", closed(-0.2, 0.5, YEARLY_RATE)),
    ("funding.growth_sd", closed(0.0, 0.2, SMALL_SD)),
    ("funding.noise_sd", closed(0.0, 0.2, SMALL_SD)),
    (
        "funding.schools_block_ratio",
        closed(0.0, FINITE, "a ratio"),
    ),
    ("funding.schools_block_transfer", closed(0.0, 0.1, SHARE)),
    ("shocks.correlation", closed(-1.0, 1.0, "a correlation")),
    ("mitigation.savings_share", closed(0.0, 1.0, SHARE)),
    (
        "mitigation.delivered_alpha",
        above(0.0, f64::INFINITY, "a Beta parameter"),
    ),
    (
        "mitigation.delivered_beta",
        above(0.0, f64::INFINITY, "a Beta parameter"),
    ),
    ("reserves.drawdown_rate", closed(0.0, 1.0, SHARE)),
    ("reserves.interest_rate", closed(0.0, 0.2, YEARLY_RATE)),
    ("reserves.overrides.*", closed(0.0, FINITE, "pounds")),
    ("hnsg.share", closed(0.0, 1.0, SHARE)),
    ("hnsg.haircut", closed(0.0, 1.0, SHARE)),
    (
        "hnsg.approval_probability",
        closed(0.0, 1.0, "a probability"),
    ),
    ("hnsg.delay_probability", closed(0.0, 1.0, "a probability")),
    ("interim_support.share_low", closed(0.0, 1.0, SHARE)),
    ("interim_support.share_high", closed(0.0, 1.0, SHARE)),
    ("safety_valve.tolerance", closed(0.0, 1.0, SHARE)),
    ("safety_valve.withhold_share", closed(0.0, 1.0, SHARE)),
    (
        "safety_valve.council_contribution_share",
        closed(0.0, 1.0, SHARE),
    ),
    (
        "safety_valve.savings_mean",
        closed(-1.0, 2.0, "a share of the overspend"),
    ),
    (
        "safety_valve.savings_sd",
        closed(0.0, 1.0, "a standard deviation of that share"),
    ),
    (
        "reform.new_plan_rate_change",
        closed(-1.0, 1.0, "a relative change"),
    ),
    ("reform.reassessment_cease_share", closed(0.0, 1.0, SHARE)),
    ("reform.independent_fee_cap", closed(-0.2, 0.5, YEARLY_RATE)),
    ("reform.surge", closed(0.0, 1.0, "a relative increase")),
    (
        "decay.long_run_growth_low",
        closed(-0.1, 0.2, "a yearly growth rate of plans"),
    ),
    (
        "decay.long_run_growth_high",
        closed(-0.1, 0.2, "a yearly growth rate of plans"),
    ),
    ("decay.half_life_low", closed(1.0, 100.0, "years")),
    ("decay.half_life_high", closed(1.0, 100.0, "years")),
    (
        "ceiling.prevalence.*",
        above(0.0, 1.0, "plans per head of the age band's population"),
    ),
    ("ceiling.shape", closed(0.5, 20.0, "a saturation exponent")),
    (
        "population.change.*",
        closed(-0.1, 0.1, "a yearly change in log population"),
    ),
    ("population.change_sd", closed(0.0, 0.05, SMALL_SD)),
];

/// The allowed range of `key` (a dotted path), if the table declares one.
pub fn allowed(key: &str) -> Option<&'static Allowed> {
    RANGES.iter().find_map(|(pattern, range)| {
        let matches = match pattern.strip_suffix(".*") {
            Some(table) => key
                .strip_prefix(table)
                .is_some_and(|rest| rest.starts_with('.')),
            None => *pattern == key,
        };
        matches.then_some(range)
    })
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
                self.low,
                if self.low_open { "" } else { " or more" }
            );
        }
        let high = if self.high_open { "below " } else { "" };
        write!(
            f,
            "{}, {low}{} to {high}{}",
            self.meaning, self.low, self.high
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
        assert_eq!(unit_cost.to_string(), "pounds per plan per year, above 0");
        assert!(allowed("costs.unit_cost").is_none());
        assert!(allowed("costs.unit_costs.x").is_none());
    }
}
