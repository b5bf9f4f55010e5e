//! Scenario files (TOML). Each file of an `extends` chain is parsed into an all-optional
//! [`file::ScenarioFile`] (unknown keys refused), the files are laid over each other key by key
//! remembering which file and line set each key, and the result is validated once into
//! [`Scenario`], the only form calibration and the engine see.

mod file;
pub mod ranges;
mod sensitivity;
mod validate;

pub use sensitivity::{value_label, value_text, SensitivityInput};

use crate::caseload::{AGE_BANDS, SETTINGS};
use crate::error::InputError;
use crate::FinancialYear;
use file::{key_at, line_at, line_of_key, ScenarioFile, SetBy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Per-setting values, named by setting.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PerSetting {
    pub mainstream: f64,
    pub special_state: f64,
    pub special_independent: f64,
    pub post16: f64,
    pub ap_other: f64,
}

impl PerSetting {
    pub fn to_array(self) -> [f64; SETTINGS] {
        [
            self.mainstream,
            self.special_state,
            self.special_independent,
            self.post16,
            self.ap_other,
        ]
    }
}

/// Per-age-band values, named by age band (`caseload::AGE_BAND_NAMES`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PerAgeBand {
    pub under_5: f64,
    pub age_5_10: f64,
    pub age_11_15: f64,
    pub age_16_19: f64,
    pub age_20_25: f64,
}

impl PerAgeBand {
    pub fn to_array(self) -> [f64; AGE_BANDS] {
        [
            self.under_5,
            self.age_5_10,
            self.age_11_15,
            self.age_16_19,
            self.age_20_25,
        ]
    }
}

/// A validated scenario: every key present and inside its allowed range, dates resolved to
/// financial years.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub horizon: Horizon,
    pub run: RunDefaults,
    pub demand: Demand,
    pub placement: Placement,
    pub costs: Costs,
    pub funding: Funding,
    pub shocks: Shocks,
    pub mitigation: Mitigation,
    pub reserves: Reserves,
    /// The financial year whose 31 March is the last day of the statutory override
    /// (inside the horizon).
    pub override_end: FinancialYear,
    /// The High Needs Stability Grant, when the scenario has one.
    pub hnsg: Option<Hnsg>,
    pub interim_support: InterimSupport,
    pub after_override: AfterOverride,
    pub safety_valve: SafetyValve,
    pub reform: Reform,
    pub decay: Decay,
    pub ceiling: Ceiling,
    pub population: Population,
}

/// The projected financial years, `first_fy` to `last_fy`.
#[derive(Debug, Clone, Serialize)]
pub struct Horizon {
    pub first_fy: FinancialYear,
    pub last_fy: FinancialYear,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunDefaults {
    pub paths: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Demand {
    pub history_years: usize,
    pub shrinkage_plans: f64,
    pub min_growth: f64,
    pub max_growth: f64,
    pub trend_mean: f64,
    pub trend_sd: f64,
    pub level_sd: f64,
    pub council_level_sd: f64,
    pub national_shock_sd: f64,
    pub council_shock_sd: f64,
    pub persistence: f64,
}

/// Growth that slows (README "The model", step 1): the new-plan rate's growth part decays
/// toward a long-run growth with a half-life, both drawn once per path (uniform between the
/// bounds).
#[derive(Debug, Clone, Serialize)]
pub struct Decay {
    pub enabled: bool,
    pub long_run_growth_low: f64,
    pub long_run_growth_high: f64,
    pub half_life_low: f64,
    pub half_life_high: f64,
}

/// A ceiling on prevalence (plans per head of each age band's population), approached by a
/// generalised-logistic saturation of new plans with exponent `shape`.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub enabled: bool,
    pub shape: f64,
    pub prevalence: PerAgeBand,
}

/// Yearly change in the log population of each age band after the latest census, shifted once
/// per path by a common normal draw with sd `change_sd`.
#[derive(Debug, Clone, Serialize)]
pub struct Population {
    pub change: PerAgeBand,
    pub change_sd: f64,
}

/// National new state special places opening in a financial year.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlaces {
    pub fy: FinancialYear,
    pub places: f64,
}

/// Values per placement group modelled against mainstream (see `placement::GROUP_NAMES`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PerGroup {
    pub specialist: f64,
    pub post16: f64,
    pub ap_other: f64,
}

impl PerGroup {
    pub fn to_array(self) -> [f64; crate::placement::GROUPS] {
        [self.specialist, self.post16, self.ap_other]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    pub entry_mix_shrinkage_plans: f64,
    pub history_years: u32,
    /// The first January census on the current recording basis of post-16 and AP/other
    /// placements (the person-level SEN2 return, January 2023): share slopes are fitted on
    /// one side of it.
    pub share_break_january: u32,
    pub trend_shrinkage_plans: f64,
    pub share_level_sd: PerGroup,
    pub share_slope_sd: PerGroup,
    pub capacity_headroom: f64,
    pub capacity_level_sd: f64,
    pub capacity_growth_sd: f64,
    /// The national part of the placement trends' uncertainty: drawn once per path and shared
    /// by every council (README "Placement uncertainty"); the sds above are each council's own.
    pub national_level_sd: PerGroup,
    pub national_slope_sd: PerGroup,
    pub capacity_national_level_sd: f64,
    pub capacity_national_growth_sd: f64,
    pub capacity_specialist_correlation: f64,
    /// Correlation of a council-path's own placement level draws, in the order specialist,
    /// post-16, AP/other (README "Placement uncertainty").
    pub group_correlation: Correlation3,
    /// Share of council-paths whose placement draws are `wide_factor` times as spread: placement
    /// errors have heavier tails than a normal (README "Placement uncertainty").
    pub wide_share: f64,
    pub wide_factor: f64,
    pub induced_demand: f64,
    /// How far each group follows the council's own plans beyond its expected plans: the log
    /// change of specialist placements (and of the post-16 and AP/other shares) per log change
    /// of the plans its own demand draws add (README "Placements that follow the plans").
    pub plans_elasticity: PerGroup,
    /// The same for the state special places (the places in use follow the plans too).
    pub capacity_plans_elasticity: f64,
    pub new_places: Vec<NewPlaces>,
    pub new_places_rule: PlacesRule,
}

/// How national new special places are shared between councils.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PlacesRule {
    /// Pro rata to each council's state special caseload.
    SpecialState,
    /// Pro rata to each council's independent special caseload (where places are bought in).
    SpecialIndependent,
}

#[derive(Debug, Clone, Serialize)]
pub struct Costs {
    pub price_fy: FinancialYear,
    pub unit_cost: PerSetting,
    pub inflation: PerSetting,
    pub inflation_sd: f64,
    pub inflation_noise_sd: f64,
    pub council_level_sd: f64,
    pub council_noise_sd: f64,
    /// AR(1) coefficient of the council's yearly spend shock (1: a random walk, whose spread grows
    /// with the years ahead).
    pub noise_persistence: f64,
    /// How far a council's spend follows the plans its own demand draws add: 1 = one for one
    /// (spend = caseload x unit costs), 0 = not at all; see `engine::OwnPlans`.
    pub plans_response: f64,
    /// The years over which spend follows a plan surprise at `plans_response`; an excess made
    /// earlier is followed one for one.
    pub plans_response_years: u32,
    pub non_plan_share: f64,
    /// What non-plan spend grows with after the origin (besides mainstream cost inflation).
    pub non_plan_driver: NonPlanDriver,
    pub scale_min: f64,
    pub scale_max: f64,
}

/// What a council's non-plan high-needs spend grows with, besides mainstream cost inflation.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NonPlanDriver {
    /// In proportion to the council's plans in force (non-plan spend per plan held in real terms).
    Plans,
    /// Prices only (non-plan spend held in real terms whatever the caseload).
    Prices,
}

#[derive(Debug, Clone, Serialize)]
pub struct Funding {
    /// First FY whose seeded allocation is the formula floor; from it on, known allocations are
    /// raised by an uplift drawn once per path, uniform between `formula_uplift_low` and
    /// `formula_uplift_high` (cap / floor - 1), and carried into later years.
    pub formula_uplift_fy: FinancialYear,
    pub formula_uplift_low: f64,
    pub formula_uplift_high: f64,
    pub growth_mean: f64,
    pub growth_sd: f64,
    pub noise_sd: f64,
    pub schools_block_ratio: f64,
    pub schools_block_transfer: f64,
    pub allow_transfer_above_cap: bool,
}

/// A 3x3 correlation matrix with its lower Cholesky factor (nalgebra; worked out once, when
/// validated). It is written out as the matrix alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation3 {
    matrix: [[f64; 3]; 3],
    cholesky: [[f64; 3]; 3],
}

impl Correlation3 {
    /// The matrix and its factor, or None if it is not positive definite. (Symmetry, the unit
    /// diagonal and the entries' range are the scenario validation's to check, with the key.)
    pub fn new(matrix: [[f64; 3]; 3]) -> Option<Correlation3> {
        let lower = nalgebra::Cholesky::new(nalgebra::Matrix3::from_fn(|i, j| matrix[i][j]))?.l();
        Some(Correlation3 {
            matrix,
            cholesky: std::array::from_fn(|i| std::array::from_fn(|j| lower[(i, j)])),
        })
    }

    /// No correlation.
    pub fn identity() -> Correlation3 {
        let matrix = std::array::from_fn(|i| std::array::from_fn(|j| f64::from(u8::from(i == j))));
        Correlation3 {
            matrix,
            cholesky: matrix,
        }
    }

    pub fn matrix(&self) -> &[[f64; 3]; 3] {
        &self.matrix
    }

    /// Lower Cholesky factor `L` of the matrix (`L Lᵀ = matrix`).
    pub fn cholesky(&self) -> &[[f64; 3]; 3] {
        &self.cholesky
    }
}

impl Serialize for Correlation3 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.matrix.serialize(serializer)
    }
}

/// Correlation of the yearly national shocks to (new-plan rate, cost inflation, funding
/// growth), with its lower Cholesky factor (computed once, when validated).
#[derive(Debug, Clone, Serialize)]
pub struct Shocks {
    correlation: Correlation3,
}

impl Shocks {
    pub fn correlation(&self) -> &[[f64; 3]; 3] {
        self.correlation.matrix()
    }
    /// Lower Cholesky factor `L` of the correlation (`L Lᵀ = correlation`).
    pub fn cholesky(&self) -> &[[f64; 3]; 3] {
        self.correlation.cholesky()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Mitigation {
    pub savings_share: f64,
    pub start_fy: FinancialYear,
    pub ramp_years: u32,
    pub delivered_alpha: f64,
    pub delivered_beta: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reserves {
    pub drawdown_rate: f64,
    pub interest_rate: f64,
    /// Council reserves in pounds, keyed by DfE code as a string (`"330" = 5.0e7`).
    pub overrides: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hnsg {
    pub share: f64,
    /// The financial year ending on the balance date at which the eligible deficit is measured.
    pub balance_fy: FinancialYear,
    pub haircut: f64,
    pub approval_probability: f64,
    pub delay_probability: f64,
    pub payment_fy: FinancialYear,
    pub net_safety_valve_due: bool,
}

/// "Proportionate" support for overspends of the financial years from `from_fy` (the year
/// after the HNSG balance date) to the override end.
#[derive(Debug, Clone, Serialize)]
pub struct InterimSupport {
    pub share_low: f64,
    pub share_high: f64,
    pub from_fy: FinancialYear,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    Council,
    Central,
    WriteOff,
}

/// The regime for overspends after the override, and the financial year it starts
/// (after the override end).
#[derive(Debug, Clone, Serialize)]
pub struct AfterOverride {
    pub regime: Regime,
    pub from_fy: FinancialYear,
}

#[derive(Debug, Clone, Serialize)]
pub struct SafetyValve {
    pub last_payment_fy: FinancialYear,
    pub tolerance: f64,
    pub withhold: bool,
    pub withhold_share: f64,
    pub release_when_back_on_track: bool,
    pub council_contribution_share: f64,
    /// After an agreement signed later than the calibration window, spend falls by this share of
    /// the council's pre-agreement overspend (drawn once per council and path, Normal(mean, sd)).
    pub savings_mean: f64,
    pub savings_sd: f64,
    /// The share of that cut which is the council's slower caseload: left out of the cut where
    /// the latest census is at or after the agreement's first January (the census already shows
    /// it). 0 leaves the cut whole.
    pub caseload_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reform {
    pub enabled: bool,
    pub start_fy: FinancialYear,
    pub new_plan_rate_change: f64,
    pub reassessment_cease_share: f64,
    pub independent_fee_cap: f64,
    pub surge: f64,
    pub surge_years: u32,
}

/// Where a key's value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySource {
    pub file: PathBuf,
    pub line: Option<u64>,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One key of the resolved scenario: its value and the file and line that set it.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    /// Dotted path, such as `demand.persistence`.
    pub key: String,
    pub value: toml::Value,
    pub source: KeySource,
}

/// A validated scenario with the files it came from (child first) and where each key was set.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    pub files: Vec<PathBuf>,
    pub keys: Vec<ResolvedKey>,
    /// The inputs `highneeds sensitivity` moves (`[[sensitivity]]`), validated.
    pub sensitivity: Vec<SensitivityInput>,
    /// The files laid over each other, as written: [`LoadedScenario::with_value`] starts from
    /// it (not from edits to `scenario`).
    merged: ScenarioFile,
}

/// Where `key` was set: the key itself, or the table or array that holds it
/// (`reserves.overrides` for `reserves.overrides.330`).
fn source_of<'a>(keys: &'a [ResolvedKey], key: &str) -> Option<&'a KeySource> {
    let mut path = key;
    loop {
        if let Some(found) = keys.iter().find(|k| k.key == path) {
            return Some(&found.source);
        }
        path = &path[..path.rfind('.')?];
    }
}

/// An error about `key`, at the file and line that set it (or `top`, the file the user named,
/// when no file set it).
fn key_error(top: &Path, keys: &[ResolvedKey], key: &str, message: &str) -> InputError {
    let message = format!("key `{key}`: {message}");
    match source_of(keys, key) {
        Some(KeySource {
            file,
            line: Some(line),
        }) => InputError::at_line(file, *line, message),
        Some(KeySource { file, line: None }) => InputError::invalid(file, message),
        None => InputError::invalid(top, message),
    }
}

impl LoadedScenario {
    /// An error about `key`, naming the file and line that set it.
    pub fn key_error(&self, key: &str, message: &str) -> InputError {
        key_error(&self.files[0], &self.keys, key, message)
    }

    /// The scenario with `key` (a dotted scenario key) set to `value`, validated again whole (so
    /// every range and every rule between keys holds). It starts from the files as written.
    pub fn with_value(&self, key: &str, value: &toml::Value) -> Result<LoadedScenario, InputError> {
        let mut nested = value.clone();
        for segment in key.rsplit('.') {
            let mut table = toml::Table::new();
            table.insert(segment.to_string(), nested);
            nested = toml::Value::Table(table);
        }
        let child: ScenarioFile = nested.try_into().map_err(|e: toml::de::Error| {
            self.key_error(
                key,
                &format!("{value} is not allowed: {}", e.message().trim()),
            )
        })?;
        let mut merged = self.merged.clone();
        merged.overlay(child, "", 0, &mut SetBy::default());
        let mut keys = self.keys.clone();
        if let Some(resolved) = keys.iter_mut().find(|k| k.key == key) {
            resolved.value = value.clone();
        }
        let checked = validate::ScenarioKeys::new(&self.files[0], &keys);
        let scenario = validate::validate(&checked, merged.clone())?;
        Ok(LoadedScenario {
            scenario,
            files: self.files.clone(),
            keys,
            sensitivity: self.sensitivity.clone(),
            merged,
        })
    }

    /// The resolved scenario as TOML, one dotted key a line, each followed by the file and line
    /// that set it.
    /// The `[[sensitivity]]` inputs come last, as one array with an input a line.
    pub fn resolved_toml(&self) -> String {
        let lines: Vec<(String, String)> = self
            .keys
            .iter()
            .filter(|k| k.key != "sensitivity")
            .map(|k| (format!("{} = {}", k.key, k.value), k.source.to_string()))
            .collect();
        let width = lines
            .iter()
            .map(|(l, _)| l.len())
            .max()
            .unwrap_or(0)
            .min(60);
        let mut out: String = lines
            .iter()
            .map(|(line, source)| format!("{line:width$}  # {source}\n"))
            .collect();
        if !self.sensitivity.is_empty() {
            out.push_str("sensitivity = [\n");
            for input in &self.sensitivity {
                let mut entry = toml::map::Map::new();
                entry.insert("key".into(), input.key.clone().into());
                entry.insert("low".into(), input.low.clone());
                entry.insert("high".into(), input.high.clone());
                entry.insert("source".into(), input.source.clone().into());
                let entry = toml::Value::Table(entry);
                out.push_str(&format!("    {entry},  # {}\n", input.at));
            }
            out.push_str("]\n");
        }
        out
    }

    /// The scenario moved to a back-test window of projected years `first_fy` to `last_fy`:
    /// the override ends no later than `last_fy` (so the regime after it, which starts after
    /// the validated end, still does). Every other term is used as written.
    pub fn moved_to_window(
        &self,
        first_fy: FinancialYear,
        last_fy: FinancialYear,
    ) -> Result<LoadedScenario, InputError> {
        let mut moved = self.clone();
        let scenario = &mut moved.scenario;
        scenario.horizon = Horizon { first_fy, last_fy };
        scenario.override_end = scenario.override_end.min(last_fy);
        if scenario.override_end < first_fy {
            return Err(self.key_error(
                "override.end",
                &format!("the override ends before {first_fy}, the first year of this back-test"),
            ));
        }
        Ok(moved)
    }
}

/// One file of an `extends` chain, or a value set on the command line (laid over the files
/// like one more child file).
struct ChainFile {
    path: PathBuf,
    text: String,
    contents: ScenarioFile,
    /// A `--set` value: named by its argument, without a line.
    on_command_line: bool,
}

/// A scenario key set on the command line (`highneeds sweep --set KEY=VALUE`): laid over the
/// scenario's files like a child file that sets one key, and validated with them exactly as if
/// the file had set it. Errors about the key name `argument` instead of a file and line.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted key, such as `costs.inflation.special_independent`.
    pub key: String,
    pub value: toml::Value,
    /// The argument that set it, as typed (`--set costs.inflation.special_independent=0.03,0.05`).
    pub argument: String,
}

impl Setting {
    /// The one-key file this setting stands for.
    fn layer(&self) -> Result<ChainFile, InputError> {
        let path = PathBuf::from(&self.argument);
        let text = format!("{} = {}", self.key, self.value);
        let contents = parse_file(&path, &text).map_err(|e| match e {
            InputError::AtLine { path, message, .. } => InputError::Invalid { path, message },
            other => other,
        })?;
        if contents.extends.is_some() {
            return Err(InputError::invalid(
                &path,
                "`extends` cannot be set on the command line",
            ));
        }
        Ok(ChainFile {
            path,
            text,
            contents,
            on_command_line: true,
        })
    }
}

/// The most paths a run may have, from the scenario's `run.paths` or from `--paths`.
pub const MAX_PATHS: usize = 1_000_000;
/// What [`paths_allowed`] allows, for error messages.
pub const PATHS_ALLOWED: &str = "allowed 1 to 1,000,000";

/// Whether a run may have `paths` paths (one check for the scenario file and the command line).
pub fn paths_allowed(paths: usize) -> bool {
    (1..=MAX_PATHS).contains(&paths)
}

/// The most files an `extends` chain may have: the file named and the files it extends,
/// directly or not.
pub const MAX_CHAIN: usize = 16;

/// Loads a scenario file, following `extends` (relative to the file), and validates it.
pub fn load(path: &Path) -> Result<LoadedScenario, InputError> {
    load_with(path, &[])
}

/// Loads a scenario file with `settings` laid over it (a later setting over an earlier one), and
/// validates the result. The scenario's `files` are the files alone.
pub fn load_with(path: &Path, settings: &[Setting]) -> Result<LoadedScenario, InputError> {
    let mut chain = settings
        .iter()
        .rev()
        .map(Setting::layer)
        .collect::<Result<Vec<_>, _>>()?;
    chain.extend(read_chain(path)?);
    let mut merged = ScenarioFile::default();
    let mut set_by = SetBy::default();
    for (index, file) in chain.iter().enumerate().rev() {
        merged.overlay(file.contents.clone(), "", index, &mut set_by);
    }
    let sensitivity_file = set_by
        .0
        .iter()
        .find(|(key, _)| key == "sensitivity")
        .map(|&(_, index)| &chain[index]);
    let sensitivity_entries = merged.sensitivity.clone().unwrap_or_default();
    let keys = resolve_keys(path, &chain, &merged, set_by)?;
    let files: Vec<PathBuf> = chain
        .iter()
        .filter(|file| !file.on_command_line)
        .map(|file| file.path.clone())
        .collect();
    let missing = validate::MissingKeys::new(merged.missing_keys(), files.clone());
    let checked = validate::ScenarioKeys::new(path, &keys).with_missing(&missing);
    let scenario = validate::validate(&checked, merged.clone())?;
    let mut loaded = LoadedScenario {
        scenario,
        files,
        keys,
        sensitivity: Vec::new(),
        merged,
    };
    if let Some(file) = sensitivity_file {
        loaded.sensitivity =
            sensitivity::validate(&loaded, sensitivity_entries, &file.path, &file.text)?;
    }
    Ok(loaded)
}

/// Reads `path` and the files it extends, child first: each a regular file of at most
/// [`crate::input::MAX_SCENARIO_BYTES`], no file twice, at most [`MAX_CHAIN`] files.
fn read_chain(path: &Path) -> Result<Vec<ChainFile>, InputError> {
    let mut chain: Vec<ChainFile> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        // The same file under another spelling (`./a.toml`, `dir/../a.toml`) is the same file.
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(child) = chain.last() {
            let extends_error = |message: String| match extends_line(child) {
                Some(line) => InputError::at_line(&child.path, line, message),
                None => InputError::invalid(&child.path, message),
            };
            if seen.contains(&canonical) {
                return Err(extends_error(format!(
                    "`extends` forms a loop: {} is already in the chain",
                    path.display()
                )));
            }
            if chain.len() == MAX_CHAIN {
                return Err(extends_error(format!(
                    "`extends` goes deeper than {MAX_CHAIN} files, the most a chain may have \
                     (the file named and the files it extends): merge some of them"
                )));
            }
        }
        let text =
            crate::input::read_text(&path, crate::input::MAX_SCENARIO_BYTES).map_err(|error| {
                match chain.last() {
                    // Named by the file that extends it, at its `extends` line.
                    Some(child) => {
                        let message = format!("key `extends`: {error}");
                        match extends_line(child) {
                            Some(line) => InputError::at_line(&child.path, line, message),
                            None => InputError::invalid(&child.path, message),
                        }
                    }
                    None => error,
                }
            })?;
        let mut contents = parse_file(&path, &text)?;
        if let Some(parent) = contents.extends.take() {
            next = Some(path.parent().unwrap_or(Path::new(".")).join(parent));
        }
        seen.push(canonical);
        chain.push(ChainFile {
            path,
            text,
            contents,
            on_command_line: false,
        });
    }
    Ok(chain)
}

/// Line of the `extends` key of a file.
fn extends_line(file: &ChainFile) -> Option<u64> {
    let doc = toml_edit::ImDocument::parse(file.text.as_str()).ok()?;
    line_of_key(&doc, "extends")
}

/// Parses one file; toml's errors (unknown keys, wrong types, bad syntax) are reported at
/// their line, naming the key and what it allows.
fn parse_file(path: &Path, text: &str) -> Result<ScenarioFile, InputError> {
    toml::from_str(text).map_err(|error| {
        let message = shorten_quoted(error.message().trim());
        let Some(span) = error.span() else {
            return InputError::invalid(path, message);
        };
        let key = toml_edit::ImDocument::parse(text)
            .ok()
            .and_then(|doc| key_at(doc.as_table(), "", span.start))
            .or_else(|| key_on_line(text, span.start));
        let message = match key {
            Some(key) if message.starts_with("unknown field") => {
                format!("`{key}` is not a scenario key: {message}")
            }
            Some(key) => match ranges::rule(&key) {
                // A financial year's own message says what is allowed.
                Some(_) if message.contains("is not a financial year") => {
                    format!("key `{key}`: {message}")
                }
                Some(rule) => {
                    let found = message
                        .split_once(", expected")
                        .map_or(message.as_str(), |(found, _)| found)
                        .replace("wanted string or table", "not a string")
                        .replace(
                            "number too large to fit in target type",
                            "the number is too large",
                        );
                    format!("key `{key}`: {found}; allowed: {rule}")
                }
                // A section: its keys are listed in the README.
                None => match message.split_once(", expected struct") {
                    Some((found, _)) => format!("key `{key}`: {found}; allowed: a table"),
                    None => format!("key `{key}`: {message}"),
                },
            },
            None => message,
        };
        InputError::at_line(path, line_at(text, span.start), message)
    })
}

/// The dotted key written on the line holding byte `offset`, read from the text itself (for
/// errors where the file is not valid TOML, such as an integer too large for TOML): the table
/// of the last `[header]` or `[[header]]` above it and the name before the line's `=`.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line = text[line_start..].lines().next()?;
    let name = line.split_once('=')?.0.trim();
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if !bare(name) {
        return None;
    }
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|header| header.trim_matches(|c| c == '[' || c == ']').trim())
        .filter(|table| bare(table))
        .unwrap_or("");
    Some(file::key_path(table, name))
}

/// `message` with every quoted text (in `"` or backticks) longer than 40 characters cut: toml
/// quotes the value it refused, which may be a 200,000-character string or a 300-digit number.
fn shorten_quoted(message: &str) -> String {
    const KEEP: usize = 40;
    let mut out = String::with_capacity(message.len().min(400));
    let (mut open, mut run): (Option<char>, usize) = (None, 0);
    for ch in message.chars() {
        match open {
            Some(quote) if ch == quote => {
                if run > KEEP {
                    out.push_str("...");
                }
                open = None;
                out.push(ch);
            }
            Some(_) => {
                run += 1;
                if run <= KEEP {
                    out.push(ch);
                }
            }
            None => {
                if ch == '"' || ch == '`' {
                    open = Some(ch);
                    run = 0;
                }
                out.push(ch);
            }
        }
    }
    out
}

/// Every key of the merged scenario with its value and the file and line that set it.
fn resolve_keys(
    top: &Path,
    chain: &[ChainFile],
    merged: &ScenarioFile,
    set_by: SetBy,
) -> Result<Vec<ResolvedKey>, InputError> {
    let table = toml::Table::try_from(merged)
        .map_err(|e| InputError::invalid(top, format!("cannot resolve the scenario: {e}")))?;
    let docs: Vec<Option<toml_edit::ImDocument<&str>>> = chain
        .iter()
        .map(|file| {
            let doc = toml_edit::ImDocument::parse(file.text.as_str()).ok();
            doc.filter(|_| !file.on_command_line)
        })
        .collect();
    let mut keys = Vec::with_capacity(set_by.0.len());
    for (key, index) in set_by.0 {
        let mut segments = key.split('.');
        let mut value = segments.next().and_then(|first| table.get(first));
        for segment in segments {
            value = value.and_then(|inner| inner.get(segment));
        }
        let Some(value) = value.cloned() else {
            continue;
        };
        let line = docs[index].as_ref().and_then(|doc| line_of_key(doc, &key));
        keys.push(ResolvedKey {
            key,
            value,
            source: KeySource {
                file: chain[index].path.clone(),
                line,
            },
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys reported missing together are exactly those validation requires: the keys the
    /// baseline sets, less the optional `sensitivity`.
    #[test]
    fn the_missing_keys_of_an_empty_file_are_the_keys_the_baseline_sets() {
        let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let set: Vec<String> = load(&baseline)
            .expect("the baseline loads")
            .keys
            .into_iter()
            .map(|k| k.key)
            .filter(|k| k != "sensitivity")
            .collect();
        assert_eq!(ScenarioFile::default().missing_keys(), set);
    }

    #[test]
    fn long_quoted_values_are_cut() {
        let long = "x".repeat(200_000);
        let message = shorten_quoted(&format!("invalid type: string \"{long}\", expected f64"));
        assert_eq!(
            message,
            format!(
                "invalid type: string \"{}...\", expected f64",
                "x".repeat(40)
            )
        );
        let number = format!("`1{}`", "0".repeat(300));
        assert_eq!(shorten_quoted(&number), format!("`1{}...`", "0".repeat(39)));
        assert_eq!(shorten_quoted("`abc` and \"d\""), "`abc` and \"d\"");
    }

    #[test]
    fn the_key_of_a_line_is_read_from_the_text() {
        let text = "name = \"a\"\n[run]\npaths = 18446744073709551615\n";
        let offset = text.find("1844").unwrap();
        assert_eq!(key_on_line(text, offset).as_deref(), Some("run.paths"));
        assert_eq!(key_on_line("x = 1\n", 4).as_deref(), Some("x"));
        assert_eq!(key_on_line("[[a]]\n\"q x\" = 1\n", 10), None);
        let text = "[placement]\n[[placement.new_places]]\nfy = 18446744073709551615\n";
        let offset = text.find("1844").unwrap();
        assert_eq!(
            key_on_line(text, offset).as_deref(),
            Some("placement.new_places.fy")
        );
    }
}
