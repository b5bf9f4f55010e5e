//! A scenario file as written: every key optional, unknown keys refused (`deny_unknown_fields`,
//! so toml itself reports the line of a misspelt key or a value of the wrong type), and the
//! files of an `extends` chain laid over each other key by key, remembering which file set
//! each key.

use super::NewPlaces;
use super::{NonPlanDriver, PlacesRule, Regime};
use crate::FinancialYear;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml_edit::TableLike;

/// Which file of the chain (an index into it, child first) set each key, in the order the
/// keys were first set.
#[derive(Debug, Default)]
pub(super) struct SetBy(pub Vec<(String, usize)>);

impl SetBy {
    fn record(&mut self, key: String, file: usize) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = file,
            None => self.0.push((key, file)),
        }
    }
}

/// `table.key`, or `key` at the top level. Raw identifiers (`r#override`) lose their prefix.
pub(super) fn key_path(table: &str, key: &str) -> String {
    let key = key.trim_start_matches("r#");
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

/// Declares a table of a scenario file: its keys (each optional) and its sub-tables, and how a
/// child file's table is laid over its parent's.
macro_rules! file_table {
    ($(#[$meta:meta])* $name:ident { $($key:ident: $ty:ty),* $(,)? }
     $(tables { $($table:ident: $table_ty:ty),* $(,)? })?) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(#[serde(skip_serializing_if = "Option::is_none")] pub $key: Option<$ty>,)*
            $($(#[serde(default)] pub $table: $table_ty,)*)?
        }

        impl $name {
            /// Lays `child` over `self` key by key; `file` set every key that `child` has.
            pub(super) fn overlay(&mut self, child: Self, table: &str, file: usize, set_by: &mut SetBy) {
                $(if child.$key.is_some() {
                    self.$key = child.$key;
                    set_by.record(key_path(table, stringify!($key)), file);
                })*
                $($(self.$table.overlay(child.$table, &key_path(table, stringify!($table)), file, set_by);)*)?
            }

            /// Pushes onto `unset` the dotted path of every key no file set, in the order the
            /// keys are declared (the order `highneeds check` prints them).
            fn unset_keys(&self, table: &str, unset: &mut Vec<String>) {
                $(if self.$key.is_none() {
                    unset.push(key_path(table, stringify!($key)));
                })*
                $($(self.$table.unset_keys(&key_path(table, stringify!($table)), unset);)*)?
            }
        }
    };
}

file_table! {
    /// A whole scenario file.
    ScenarioFile {
        extends: String,
        name: String,
        description: String,
        sensitivity: Vec<SensitivityFile>,
    }
    tables {
        // The run.
        horizon: HorizonFile, run: RunFile,
        // The model: demand, placement, costs and money in.
        demand: DemandFile, placement: PlacementFile, costs: CostsFile, funding: FundingFile,
        shocks: ShocksFile, mitigation: MitigationFile, reserves: ReservesFile,
        // Policy: the override, its end and the government's terms.
        r#override: OverrideFile, hnsg: HnsgFile, interim_support: InterimSupportFile,
        after_override: AfterOverrideFile, safety_valve: SafetyValveFile, reform: ReformFile,
        // The long run: growth that slows, the prevalence ceiling, population.
        decay: DecayFile, ceiling: CeilingFile, population: PopulationFile,
    }
}

/// The keys a scenario may leave out; every other key must be set, in the file or a file it
/// extends.
const OPTIONAL_KEYS: [&str; 2] = ["extends", "sensitivity"];

impl ScenarioFile {
    /// The keys that every scenario must set and that no file of the chain set, in the order
    /// `highneeds check` prints keys.
    pub(super) fn missing_keys(&self) -> Vec<String> {
        let mut unset = Vec::new();
        self.unset_keys("", &mut unset);
        unset.retain(|key| !OPTIONAL_KEYS.contains(&key.as_str()));
        unset
    }
}

/// One input of `[[sensitivity]]` as written: the scenario key it moves, its low and high values
/// (any value the key takes), where they come from, and an optional label. An `extends` child's
/// `[[sensitivity]]` replaces the parent's whole list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityFile {
    /// Spanned, so an error can name the entry's line.
    pub key: toml::Spanned<String>,
    pub low: Option<toml::Value>,
    pub high: Option<toml::Value>,
    pub source: Option<String>,
    pub label: Option<String>,
}

file_table! { HorizonFile { first_fy: FinancialYear, last_fy: FinancialYear } }

file_table! { RunFile { paths: usize, seed: u64 } }

file_table! {
    DemandFile {
        history_years: usize,
        shrinkage_plans: f64,
        min_growth: f64,
        max_growth: f64,
        trend_mean: f64,
        trend_sd: f64,
        level_sd: f64,
        council_level_sd: f64,
        national_shock_sd: f64,
        council_shock_sd: f64,
        persistence: f64,
    }
}

file_table! {
    PlacementFile {
        entry_mix_shrinkage_plans: f64,
        history_years: u32,
        share_break_january: u32,
        trend_shrinkage_plans: f64,
        capacity_headroom: f64,
        capacity_level_sd: f64,
        capacity_growth_sd: f64,
        capacity_national_level_sd: f64,
        capacity_national_growth_sd: f64,
        capacity_specialist_correlation: f64,
        group_correlation: [[f64; 3]; 3],
        wide_share: f64,
        wide_factor: f64,
        induced_demand: f64,
        capacity_plans_elasticity: f64,
        new_places: Vec<NewPlaces>,
        new_places_rule: PlacesRule,
    }
    tables {
        share_level_sd: PerGroupFile,
        share_slope_sd: PerGroupFile,
        national_level_sd: PerGroupFile,
        national_slope_sd: PerGroupFile,
        plans_elasticity: PerGroupFile,
    }
}

file_table! {
    /// Values per placement group; a child file may set some groups and inherit the others.
    PerGroupFile { specialist: f64, post16: f64, ap_other: f64 }
}

file_table! {
    /// Values by setting; a child file may set some settings and inherit the others.
    PerSettingFile {
        mainstream: f64,
        special_state: f64,
        special_independent: f64,
        post16: f64,
        ap_other: f64,
    }
}

file_table! {
    CostsFile {
        price_fy: FinancialYear,
        inflation_sd: f64,
        inflation_noise_sd: f64,
        council_level_sd: f64,
        council_noise_sd: f64,
        noise_persistence: f64,
        plans_response: f64,
        plans_response_years: u32,
        non_plan_share: f64,
        non_plan_driver: NonPlanDriver,
        scale_min: f64,
        scale_max: f64,
    }
    tables { unit_cost: PerSettingFile, inflation: PerSettingFile }
}

file_table! {
    FundingFile {
        formula_uplift_fy: FinancialYear,
        formula_uplift_low: f64,
        formula_uplift_high: f64,
        growth_mean: f64,
        growth_sd: f64,
        noise_sd: f64,
        schools_block_ratio: f64,
        schools_block_transfer: f64,
        allow_transfer_above_cap: bool,
    }
}

file_table! { ShocksFile { correlation: [[f64; 3]; 3] } }

file_table! {
    MitigationFile {
        savings_share: f64,
        start_fy: FinancialYear,
        ramp_years: u32,
        delivered_alpha: f64,
        delivered_beta: f64,
    }
}

file_table! {
    /// `overrides` is replaced whole by a child file, not merged council by council.
    ReservesFile { drawdown_rate: f64, interest_rate: f64, overrides: BTreeMap<String, f64> }
}

file_table! { OverrideFile { end: String } }

file_table! {
    HnsgFile {
        enabled: bool,
        share: f64,
        balance_date: String,
        haircut: f64,
        approval_probability: f64,
        delay_probability: f64,
        payment_fy: FinancialYear,
        net_safety_valve_due: bool,
    }
}

file_table! { InterimSupportFile { share_low: f64, share_high: f64 } }

file_table! { AfterOverrideFile { regime: Regime, from_fy: FinancialYear } }

file_table! {
    SafetyValveFile {
        last_payment_fy: FinancialYear,
        tolerance: f64,
        withhold: bool,
        withhold_share: f64,
        release_when_back_on_track: bool,
        council_contribution_share: f64,
        savings_mean: f64,
        savings_sd: f64,
        caseload_share: f64,
    }
}

file_table! {
    ReformFile {
        enabled: bool,
        start_fy: FinancialYear,
        new_plan_rate_change: f64,
        reassessment_cease_share: f64,
        independent_fee_cap: f64,
        surge: f64,
        surge_years: u32,
    }
}

file_table! {
    /// Values by age band; a child file may set some bands and inherit the others.
    PerAgeBandFile { under_5: f64, age_5_10: f64, age_11_15: f64, age_16_19: f64, age_20_25: f64 }
}

file_table! {
    DecayFile {
        enabled: bool,
        long_run_growth_low: f64,
        long_run_growth_high: f64,
        half_life_low: f64,
        half_life_high: f64,
    }
}

file_table! {
    CeilingFile { enabled: bool, shape: f64 }
    tables { prevalence: PerAgeBandFile }
}

file_table! {
    PopulationFile { change_sd: f64 }
    tables { change: PerAgeBandFile }
}

/// Line (from 1) of a byte offset in `text`.
pub(super) fn line_at(text: &str, offset: usize) -> u64 {
    text.get(..offset).unwrap_or(text).matches('\n').count() as u64 + 1
}

/// Line of the key at dotted `path` in a parsed file (the line of its last segment).
pub(super) fn line_of_key(doc: &toml_edit::ImDocument<&str>, path: &str) -> Option<u64> {
    let mut table: &dyn TableLike = doc.as_table();
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let (key, item) = table.get_key_value(segment)?;
        if segments.peek().is_none() {
            return key.span().map(|span| line_at(doc.raw(), span.start));
        }
        table = item.as_table_like()?;
    }
    None
}

/// Dotted path of the key whose name or value covers byte `offset` (where toml reported an
/// error), searching tables, inline tables and arrays of tables.
pub(super) fn key_at(table: &dyn TableLike, prefix: &str, offset: usize) -> Option<String> {
    for (name, _) in table.iter() {
        let (key, item) = table.get_key_value(name)?;
        let path = key_path(prefix, name);
        if key.span().is_some_and(|span| span.contains(&offset)) {
            return Some(path);
        }
        let inner = match (item.as_table_like(), item.as_array_of_tables()) {
            (Some(inner), _) => key_at(inner, &path, offset),
            (None, Some(tables)) => tables.iter().find_map(|t| key_at(t, &path, offset)),
            (None, None) => None,
        };
        if inner.is_some() {
            return inner;
        }
        if item.span().is_some_and(|span| span.contains(&offset)) {
            return Some(path);
        }
    }
    None
}
