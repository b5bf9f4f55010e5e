//! Validation of the merged scenario file into [`Scenario`], one named step per table. Every
//! error names the key, its value and what is allowed.

use super::file::{
    AfterOverrideFile, CeilingFile, CostsFile, DecayFile, DemandFile, FundingFile, HnsgFile,
    HorizonFile, InterimSupportFile, MitigationFile, OverrideFile, PerAgeBandFile, PerGroupFile,
    PerSettingFile, PlacementFile, PopulationFile, ReformFile, ReservesFile, RunFile,
    SafetyValveFile, ScenarioFile, ShocksFile,
};
use super::key_error;
use super::ranges::{
    allowed, show, years, MAX_DESCRIPTION_CHARS, MAX_HORIZON_YEARS, MAX_NAME_CHARS,
};
use super::{
    AfterOverride, Ceiling, Correlation3, Costs, Decay, Demand, Funding, Hnsg, Horizon,
    InterimSupport, Mitigation, PerAgeBand, PerGroup, PerSetting, Placement, Population, Reform,
    Reserves, ResolvedKey, RunDefaults, SafetyValve, Scenario, Shocks,
};
use super::{NewPlaces, NonPlanDriver, PlacesRule, Regime};
use crate::error::InputError;
use crate::FinancialYear;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// The largest schools block transfer allowed without the Secretary of State's approval.
const TRANSFER_CAP_WITHOUT_APPROVAL: f64 = 0.005;
/// Tolerance for the unit diagonal and symmetry of a correlation matrix.
const CORRELATION_TOLERANCE: f64 = 1e-9;

/// The bundled `scenarios/baseline.toml` of this release, built into the program: a scenario
/// that leaves keys out is told the values this release's baseline gives them, wherever the
/// program is run from and whichever files sit beside the scenario.
const RELEASE_BASELINE: &str = include_str!("../../scenarios/baseline.toml");

/// The keys that no file of a scenario's chain sets, reported all at once with the files read
/// and the values the release's baseline gives them (so a file written for an earlier release
/// is mended in one go, not one key per attempt).
#[derive(Debug)]
pub(super) struct MissingKeys {
    /// Dotted keys, in the order `highneeds check` prints keys.
    keys: Vec<String>,
    /// The files read, child first.
    files: Vec<PathBuf>,
}

impl MissingKeys {
    pub(super) fn new(keys: Vec<String>, files: Vec<PathBuf>) -> Self {
        MissingKeys { keys, files }
    }

    /// One error at `top` (the file the user named) naming every missing key.
    fn error(&self, top: &Path) -> InputError {
        InputError::invalid(top, self.message())
    }

    /// `error` (found before the first missing key) followed by the missing keys.
    fn after(&self, error: InputError, top: &Path) -> InputError {
        let also = format!("{}: {}", top.display(), self.message());
        match error {
            InputError::Invalid { path, message } => InputError::Invalid {
                path,
                message: format!("{message}\n{also}"),
            },
            InputError::AtLine {
                path,
                line,
                message,
            } => InputError::AtLine {
                path,
                line,
                message: format!("{message}\n{also}"),
            },
            unreadable @ InputError::Unreadable { .. } => unreadable,
        }
    }

    /// What is missing, the files read, each key with the baseline's value (as `highneeds check`
    /// prints keys), and how to mend the file.
    fn message(&self) -> String {
        let head = match self.keys.as_slice() {
            [key] => format!("key `{key}` is missing: set it in this file or in a file it extends"),
            keys => format!(
                "{} keys are missing: set them in this file or in a file it extends",
                keys.len()
            ),
        };
        let read: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        // Read as a scenario file (numbers as their keys' types), so each value is shown as
        // `highneeds check` shows it.
        let baseline = toml::from_str::<ScenarioFile>(RELEASE_BASELINE)
            .ok()
            .and_then(|file| toml::Table::try_from(file).ok());
        let lines: Vec<String> = self
            .keys
            .iter()
            .map(|key| match baseline.as_ref().and_then(|b| dotted(b, key)) {
                Some(value) => format!("  {key} = {value}"),
                None => format!("  {key}"),
            })
            .collect();
        let read = if read.is_empty() {
            String::new()
        } else {
            format!(" (files read: {})", read.join(", which extends "))
        };
        format!(
            "{head}{read}; this release's scenarios/baseline.toml sets:\n{}\n{}",
            lines.join("\n"),
            self.mend()
        )
    }

    /// How to mend the chain: copy the values, or make its last file extend a baseline.
    fn mend(&self) -> String {
        let example = self
            .keys
            .iter()
            .find_map(|key| key.rsplit_once('.'))
            .map(|(table, name)| {
                format!(" (`{table}.{name} = ...` is `{name} = ...` under `[{table}]`)")
            })
            .unwrap_or_default();
        let copy = format!("Copy these values{example}");
        let Some(root) = self.files.last() else {
            return format!("{copy}.");
        };
        if root.file_name() == Some("baseline.toml".as_ref()) {
            return format!("{copy}.");
        }
        // A baseline.toml beside it, unless it is in the chain already (extending it would loop).
        let beside = root.with_file_name("baseline.toml");
        let canonical = |path: &Path| std::fs::canonicalize(path).ok();
        let in_chain = self
            .files
            .iter()
            .any(|file| canonical(file).is_some_and(|f| Some(f) == canonical(&beside)));
        let extends = if beside.is_file() && !in_chain {
            "\"baseline.toml\"".to_string()
        } else {
            format!(
                "\"<path to scenarios/baseline.toml, relative to {}>\"",
                root.display()
            )
        };
        format!(
            "{copy}, or add `extends = {extends}` to {} to take every key it leaves out from the baseline.",
            root.display()
        )
    }
}

/// The value at dotted `key` in a parsed file.
fn dotted<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut segments = key.split('.');
    let mut value = table.get(segments.next()?)?;
    for segment in segments {
        value = value.get(segment)?;
    }
    Some(value)
}

/// Reads keys of the merged file, checking presence and ranges, and reports errors at the
/// file and line that set each key.
pub(super) struct ScenarioKeys<'a> {
    top: &'a Path,
    resolved: &'a [ResolvedKey],
    /// The keys no file sets: reported together by the first of them that validation reads, and
    /// after any other error found before it.
    missing: Option<&'a MissingKeys>,
}

impl<'a> ScenarioKeys<'a> {
    pub(super) fn new(top: &'a Path, resolved: &'a [ResolvedKey]) -> Self {
        ScenarioKeys {
            top,
            resolved,
            missing: None,
        }
    }

    /// The same, reporting `missing` together.
    pub(super) fn with_missing(self, missing: &'a MissingKeys) -> Self {
        ScenarioKeys {
            missing: (!missing.keys.is_empty()).then_some(missing),
            ..self
        }
    }

    /// An error about `key`, at the file and line that set it (followed by the missing keys).
    fn fail(&self, key: &str, message: impl Display) -> InputError {
        let error = key_error(self.top, self.resolved, key, &message.to_string());
        match self.missing {
            Some(missing) => missing.after(error, self.top),
            None => error,
        }
    }

    /// The value of a key that every scenario must set (in its file or a file it extends).
    fn get<T>(&self, key: &str, value: Option<T>) -> Result<T, InputError> {
        value.ok_or_else(|| match self.missing {
            Some(missing) if missing.keys.iter().any(|k| k == key) => missing.error(self.top),
            _ => MissingKeys::new(vec![key.to_string()], Vec::new()).error(self.top),
        })
    }

    /// Checks `value` against the range that `ranges::KEYS` declares for `key`.
    fn in_range(&self, key: &str, value: f64) -> Result<(), InputError> {
        match allowed(key) {
            Some(range) if !range.contains(value) => {
                Err(self.fail(key, format!("{} is not allowed: {range}", show(value))))
            }
            _ => Ok(()),
        }
    }

    /// A value that must be set and pass its own check (numbers: their declared range).
    fn value<T: KeyValue>(&self, key: &str, value: Option<T>) -> Result<T, InputError> {
        let value = self.get(key, value)?;
        value.check(self, key)?;
        Ok(value)
    }

    /// A number that must be set and inside its declared range.
    fn number(&self, key: &str, value: Option<f64>) -> Result<f64, InputError> {
        self.value(key, value)
    }

    /// Fails with `allowed` unless `ok`.
    fn require(&self, ok: bool, key: &str, allowed: impl Display) -> Result<(), InputError> {
        if ok {
            Ok(())
        } else {
            Err(self.fail(key, allowed))
        }
    }

    /// A `YYYY-MM-DD` date that must be a 31 March: the financial year it ends.
    fn march_31(&self, key: &str, value: Option<String>) -> Result<FinancialYear, InputError> {
        let date = self.get(key, value)?;
        match crate::calendar::parse_date(&date) {
            Some((year, 3, 31)) => Ok(FinancialYear::ending_in(year)),
            _ => Err(self.fail(
                key,
                format!("`{date}` must be a 31 March date written like `2028-03-31`"),
            )),
        }
    }
}

/// What a scenario value is checked for once it is set: numbers against the range that
/// `ranges::KEYS` declares for their key; other values are checked by their type.
trait KeyValue: Sized {
    fn check(&self, _keys: &ScenarioKeys, _key: &str) -> Result<(), InputError> {
        Ok(())
    }
}

impl KeyValue for f64 {
    fn check(&self, keys: &ScenarioKeys, key: &str) -> Result<(), InputError> {
        keys.in_range(key, *self)
    }
}

macro_rules! whole_numbers {
    ($($ty:ty),*) => {$(
        impl KeyValue for $ty {
            fn check(&self, keys: &ScenarioKeys, key: &str) -> Result<(), InputError> {
                keys.in_range(key, *self as f64)
            }
        }
    )*};
}
whole_numbers!(u32, u64, usize);

impl KeyValue for bool {}
impl KeyValue for String {}
impl KeyValue for FinancialYear {
    /// Against the span `ranges::KEYS` declares for the key, where it declares one.
    fn check(&self, keys: &ScenarioKeys, key: &str) -> Result<(), InputError> {
        match years(key) {
            Some((first, last)) if !(first..=last).contains(self) => Err(keys.fail(
                key,
                format!("{self} is not allowed: from {first} to {last}"),
            )),
            _ => Ok(()),
        }
    }
}
impl KeyValue for NonPlanDriver {}
impl KeyValue for PlacesRule {}
impl KeyValue for Regime {}
impl KeyValue for Vec<NewPlaces> {}
impl KeyValue for BTreeMap<String, f64> {}
impl KeyValue for [[f64; 3]; 3] {}

/// `Struct { field: keys.value("table.field", file.field)?, .. }`: each listed field read from
/// the key of its own name, then the fields given `with` their values. The table is a name
/// (`"costs"`) or, for a table of values by group, setting or age band, its key
/// (`"costs.unit_cost"`).
macro_rules! read_table {
    ($keys:ident, $file:ident, $table:expr => $Struct:ident { $($field:ident),* $(,)? }
     $(with { $($name:ident: $value:expr),* $(,)? })?) => {
        $Struct {
            $($field: $keys.value(&format!("{}.{}", $table, stringify!($field)), $file.$field)?,)*
            $($($name: $value,)*)?
        }
    };
}

/// Validates the merged scenario file, table by table.
pub(super) fn validate(keys: &ScenarioKeys, file: ScenarioFile) -> Result<Scenario, InputError> {
    let horizon = horizon(keys, file.horizon)?;
    let override_end = override_end(keys, file.r#override, &horizon)?;
    let hnsg_balance_fy = keys.march_31("hnsg.balance_date", file.hnsg.balance_date.clone())?;
    Ok(Scenario {
        name: name(keys, file.name)?,
        description: description(keys, file.description)?,
        run: run_defaults(keys, file.run)?,
        demand: demand(keys, file.demand)?,
        placement: placement(keys, file.placement, &horizon)?,
        costs: costs(keys, file.costs)?,
        funding: funding(keys, file.funding)?,
        shocks: shocks(keys, file.shocks)?,
        mitigation: mitigation(keys, file.mitigation)?,
        reserves: reserves(keys, file.reserves)?,
        hnsg: hnsg(keys, file.hnsg, hnsg_balance_fy)?,
        interim_support: interim_support(keys, file.interim_support, hnsg_balance_fy)?,
        after_override: after_override(keys, file.after_override, override_end)?,
        safety_valve: safety_valve(keys, file.safety_valve)?,
        reform: reform(keys, file.reform)?,
        decay: decay(keys, file.decay)?,
        ceiling: ceiling(keys, file.ceiling)?,
        population: population(keys, file.population)?,
        horizon,
        override_end,
    })
}

/// The name is written on every CSV row and names the output folder: short, and safe in a path.
fn name(keys: &ScenarioKeys, name: Option<String>) -> Result<String, InputError> {
    let name = keys.get("name", name)?;
    let ok = !name.trim().is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    let chars = name.chars().count();
    let shown: String = name.chars().take(40).collect();
    let more = if chars > 40 { "..." } else { "" };
    keys.require(
        ok,
        "name",
        format!("`{shown}{more}` is not allowed: use letters, digits, '-' and '_' only"),
    )?;
    keys.require(
        chars <= MAX_NAME_CHARS,
        "name",
        format!("{chars} characters is too long: at most {MAX_NAME_CHARS}"),
    )?;
    Ok(name)
}

fn description(keys: &ScenarioKeys, description: Option<String>) -> Result<String, InputError> {
    let description = keys.get("description", description)?;
    let chars = description.chars().count();
    keys.require(
        chars <= MAX_DESCRIPTION_CHARS,
        "description",
        format!("{chars} characters is too long: at most {MAX_DESCRIPTION_CHARS}"),
    )?;
    Ok(description)
}

fn horizon(keys: &ScenarioKeys, file: HorizonFile) -> Result<Horizon, InputError> {
    let first_fy = keys.value("horizon.first_fy", file.first_fy)?;
    let last_fy = keys.get("horizon.last_fy", file.last_fy)?;
    keys.require(
        last_fy >= first_fy && last_fy.0 - first_fy.0 < MAX_HORIZON_YEARS,
        "horizon.last_fy",
        format!("{last_fy} is not allowed: must be on or after horizon.first_fy ({first_fy}) and within {MAX_HORIZON_YEARS} years of it"),
    )?;
    Ok(Horizon { first_fy, last_fy })
}

fn run_defaults(keys: &ScenarioKeys, file: RunFile) -> Result<RunDefaults, InputError> {
    Ok(read_table!(keys, file, "run" => RunDefaults { paths, seed }))
}

fn demand(keys: &ScenarioKeys, file: DemandFile) -> Result<Demand, InputError> {
    let min_growth = keys.number("demand.min_growth", file.min_growth)?;
    let max_growth = keys.number("demand.max_growth", file.max_growth)?;
    keys.require(
        min_growth < max_growth,
        "demand.max_growth",
        format!("{max_growth} is not allowed: must be above demand.min_growth ({min_growth})"),
    )?;
    Ok(read_table!(keys, file, "demand" => Demand {
        history_years, shrinkage_plans, trend_mean, trend_sd, level_sd, council_level_sd,
        national_shock_sd, council_shock_sd, persistence,
    } with { min_growth: min_growth, max_growth: max_growth }))
}

fn placement(
    keys: &ScenarioKeys,
    file: PlacementFile,
    horizon: &Horizon,
) -> Result<Placement, InputError> {
    let new_places = keys.get("placement.new_places", file.new_places)?;
    for entry in &new_places {
        keys.in_range("placement.new_places.places", entry.places)?;
        keys.require(
            entry.fy >= horizon.first_fy && entry.fy <= horizon.last_fy,
            "placement.new_places",
            format!(
                "fy = {} is not allowed: it must be inside the horizon ({} to {}); places \
                 outside it would be ignored",
                entry.fy, horizon.first_fy, horizon.last_fy
            ),
        )?;
    }
    Ok(read_table!(keys, file, "placement" => Placement {
        entry_mix_shrinkage_plans, history_years, share_break_january, trend_shrinkage_plans,
        capacity_headroom,
        capacity_level_sd, capacity_growth_sd, capacity_national_level_sd,
        capacity_national_growth_sd, capacity_specialist_correlation, wide_share,
        wide_factor, induced_demand, capacity_plans_elasticity,
        new_places_rule,
    } with {
        group_correlation: correlation3(
            keys,
            "placement.group_correlation",
            file.group_correlation,
        )?,
        share_level_sd: per_group(keys, "placement.share_level_sd", file.share_level_sd)?,
        share_slope_sd: per_group(keys, "placement.share_slope_sd", file.share_slope_sd)?,
        national_level_sd: per_group(keys, "placement.national_level_sd", file.national_level_sd)?,
        national_slope_sd: per_group(keys, "placement.national_slope_sd", file.national_slope_sd)?,
        plans_elasticity: per_group(keys, "placement.plans_elasticity", file.plans_elasticity)?,
        new_places: new_places,
    }))
}

/// Values by placement group, each checked against the range of `table.*`.
fn per_group(keys: &ScenarioKeys, table: &str, file: PerGroupFile) -> Result<PerGroup, InputError> {
    Ok(read_table!(keys, file, table => PerGroup { specialist, post16, ap_other }))
}

/// Values by setting, each checked against the range of `table.*`.
fn per_setting(
    keys: &ScenarioKeys,
    table: &str,
    file: PerSettingFile,
) -> Result<PerSetting, InputError> {
    Ok(read_table!(keys, file, table => PerSetting {
        mainstream, special_state, special_independent, post16, ap_other,
    }))
}

fn costs(keys: &ScenarioKeys, file: CostsFile) -> Result<Costs, InputError> {
    Ok(read_table!(keys, file, "costs" => Costs {
        price_fy, inflation_sd, inflation_noise_sd, council_level_sd, council_noise_sd,
        noise_persistence, plans_response, plans_response_years, non_plan_share, non_plan_driver, scale_min, scale_max,
    } with {
        unit_cost: per_setting(keys, "costs.unit_cost", file.unit_cost)?,
        inflation: per_setting(keys, "costs.inflation", file.inflation)?,
    }))
}

fn funding(keys: &ScenarioKeys, file: FundingFile) -> Result<Funding, InputError> {
    let transfer = keys.number(
        "funding.schools_block_transfer",
        file.schools_block_transfer,
    )?;
    let above_cap = keys.get(
        "funding.allow_transfer_above_cap",
        file.allow_transfer_above_cap,
    )?;
    keys.require(
        transfer <= TRANSFER_CAP_WITHOUT_APPROVAL || above_cap,
        "funding.schools_block_transfer",
        format!("{transfer} is not allowed without ministerial approval: a transfer above {TRANSFER_CAP_WITHOUT_APPROVAL} (0.5%) needs funding.allow_transfer_above_cap = true"),
    )?;
    let uplift_low = keys.number("funding.formula_uplift_low", file.formula_uplift_low)?;
    let uplift_high = keys.number("funding.formula_uplift_high", file.formula_uplift_high)?;
    keys.require(
        uplift_low <= uplift_high,
        "funding.formula_uplift_low",
        format!("{uplift_low} is not allowed: must not exceed funding.formula_uplift_high ({uplift_high})"),
    )?;
    Ok(read_table!(keys, file, "funding" => Funding {
        formula_uplift_fy, growth_mean, growth_sd, noise_sd, schools_block_ratio,
    } with {
        formula_uplift_low: uplift_low,
        formula_uplift_high: uplift_high,
        schools_block_transfer: transfer,
        allow_transfer_above_cap: above_cap,
    }))
}

/// The shock correlation, checked by [`correlation3`]; its Cholesky factor is kept.
fn shocks(keys: &ScenarioKeys, file: ShocksFile) -> Result<Shocks, InputError> {
    Ok(Shocks {
        correlation: correlation3(keys, "shocks.correlation", file.correlation)?,
    })
}

/// A 3x3 correlation matrix set by `key`: symmetric with a unit diagonal, entries in the key's
/// range and positive definite. Its Cholesky factor is worked out here, once.
fn correlation3(
    keys: &ScenarioKeys,
    key: &str,
    value: Option<[[f64; 3]; 3]>,
) -> Result<Correlation3, InputError> {
    let correlation = keys.get(key, value)?;
    for i in 0..3 {
        keys.require(
            (correlation[i][i] - 1.0).abs() < CORRELATION_TOLERANCE,
            key,
            "the diagonal must be 1",
        )?;
        for j in 0..3 {
            keys.in_range(key, correlation[i][j])?;
            keys.require(
                (correlation[i][j] - correlation[j][i]).abs() < CORRELATION_TOLERANCE,
                key,
                "must be symmetric with entries between -1 and 1",
            )?;
        }
    }
    Correlation3::new(correlation).ok_or_else(|| keys.fail(key, "must be positive definite"))
}

fn mitigation(keys: &ScenarioKeys, file: MitigationFile) -> Result<Mitigation, InputError> {
    Ok(read_table!(keys, file, "mitigation" => Mitigation {
        savings_share, start_fy, ramp_years, delivered_alpha, delivered_beta,
    }))
}

fn reserves(keys: &ScenarioKeys, file: ReservesFile) -> Result<Reserves, InputError> {
    let overrides = keys.get("reserves.overrides", file.overrides)?;
    for (code, pounds) in &overrides {
        keys.require(
            code.parse::<u16>().is_ok(),
            "reserves.overrides",
            format!("`{code}` is not a DfE 3-digit council code"),
        )?;
        keys.in_range(&format!("reserves.overrides.{code}"), *pounds)?;
    }
    Ok(
        read_table!(keys, file, "reserves" => Reserves { drawdown_rate, interest_rate }
        with { overrides: overrides }),
    )
}

/// The override's last day, a 31 March inside the horizon.
fn override_end(
    keys: &ScenarioKeys,
    file: OverrideFile,
    horizon: &Horizon,
) -> Result<FinancialYear, InputError> {
    let end = keys.march_31("override.end", file.end)?;
    keys.require(
        end >= horizon.first_fy && end <= horizon.last_fy,
        "override.end",
        format!(
            "{}-03-31 must fall inside the horizon ({} to {})",
            end.end_year(),
            horizon.first_fy,
            horizon.last_fy
        ),
    )?;
    Ok(end)
}

/// The HNSG terms (checked even when it is off, so switching it on cannot reveal an error).
fn hnsg(
    keys: &ScenarioKeys,
    file: HnsgFile,
    balance_fy: FinancialYear,
) -> Result<Option<Hnsg>, InputError> {
    let payment_fy = keys.value("hnsg.payment_fy", file.payment_fy)?;
    keys.require(
        payment_fy > balance_fy,
        "hnsg.payment_fy",
        format!("{payment_fy} is not allowed: must be after the FY that ends on hnsg.balance_date ({balance_fy})"),
    )?;
    let terms = read_table!(keys, file, "hnsg" => Hnsg {
        share, haircut, approval_probability, delay_probability, net_safety_valve_due,
    } with { balance_fy: balance_fy, payment_fy: payment_fy });
    Ok(keys.get("hnsg.enabled", file.enabled)?.then_some(terms))
}

fn interim_support(
    keys: &ScenarioKeys,
    file: InterimSupportFile,
    hnsg_balance_fy: FinancialYear,
) -> Result<InterimSupport, InputError> {
    let share_low = keys.number("interim_support.share_low", file.share_low)?;
    let share_high = keys.number("interim_support.share_high", file.share_high)?;
    keys.require(
        share_low <= share_high,
        "interim_support.share_low",
        format!(
            "{share_low} is not allowed: must not exceed interim_support.share_high ({share_high})"
        ),
    )?;
    Ok(InterimSupport {
        share_low,
        share_high,
        from_fy: hnsg_balance_fy.next(),
    })
}

fn after_override(
    keys: &ScenarioKeys,
    file: AfterOverrideFile,
    override_end: FinancialYear,
) -> Result<AfterOverride, InputError> {
    let from_fy = keys.value("after_override.from_fy", file.from_fy)?;
    keys.require(
        from_fy > override_end,
        "after_override.from_fy",
        format!("{from_fy} is not allowed: must be after {override_end}, the FY in which the override ends"),
    )?;
    Ok(AfterOverride {
        regime: keys.get("after_override.regime", file.regime)?,
        from_fy,
    })
}

fn safety_valve(keys: &ScenarioKeys, file: SafetyValveFile) -> Result<SafetyValve, InputError> {
    Ok(read_table!(keys, file, "safety_valve" => SafetyValve {
        last_payment_fy, tolerance, withhold, withhold_share, release_when_back_on_track,
        council_contribution_share, savings_mean, savings_sd, caseload_share,
    }))
}

fn reform(keys: &ScenarioKeys, file: ReformFile) -> Result<Reform, InputError> {
    Ok(read_table!(keys, file, "reform" => Reform {
        enabled, start_fy, new_plan_rate_change, reassessment_cease_share, independent_fee_cap,
        surge, surge_years,
    }))
}

/// Values by age band, each checked against the range of `table.*`.
fn per_age_band(
    keys: &ScenarioKeys,
    table: &str,
    file: PerAgeBandFile,
) -> Result<PerAgeBand, InputError> {
    Ok(read_table!(keys, file, table => PerAgeBand {
        under_5, age_5_10, age_11_15, age_16_19, age_20_25,
    }))
}

/// A pair of bounds of a uniform draw: each in its range, the low not above the high.
fn bounds(
    keys: &ScenarioKeys,
    low_key: &str,
    low: Option<f64>,
    high_key: &str,
    high: Option<f64>,
) -> Result<(f64, f64), InputError> {
    let low = keys.number(low_key, low)?;
    let high = keys.number(high_key, high)?;
    keys.require(
        low <= high,
        high_key,
        format!("{high} is not allowed: must be at least {low_key} ({low})"),
    )?;
    Ok((low, high))
}

fn decay(keys: &ScenarioKeys, file: DecayFile) -> Result<Decay, InputError> {
    let (long_run_growth_low, long_run_growth_high) = bounds(
        keys,
        "decay.long_run_growth_low",
        file.long_run_growth_low,
        "decay.long_run_growth_high",
        file.long_run_growth_high,
    )?;
    let (half_life_low, half_life_high) = bounds(
        keys,
        "decay.half_life_low",
        file.half_life_low,
        "decay.half_life_high",
        file.half_life_high,
    )?;
    Ok(read_table!(keys, file, "decay" => Decay { enabled } with {
        long_run_growth_low: long_run_growth_low,
        long_run_growth_high: long_run_growth_high,
        half_life_low: half_life_low,
        half_life_high: half_life_high,
    }))
}

fn ceiling(keys: &ScenarioKeys, file: CeilingFile) -> Result<Ceiling, InputError> {
    Ok(
        read_table!(keys, file, "ceiling" => Ceiling { enabled, shape } with {
            prevalence: per_age_band(keys, "ceiling.prevalence", file.prevalence)?,
        }),
    )
}

fn population(keys: &ScenarioKeys, file: PopulationFile) -> Result<Population, InputError> {
    Ok(
        read_table!(keys, file, "population" => Population { change_sd } with {
            change: per_age_band(keys, "population.change", file.change)?,
        }),
    )
}
