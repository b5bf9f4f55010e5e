//! Scenario files (TOML): raw serde structs with `deny_unknown_fields`, an `extends` chain merged
//! key by key, then validation into the types the engine sees.

use crate::caseload::SETTINGS;
use crate::error::InputError;
use crate::FinancialYear;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Per-setting values, named by setting.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(rename = "override")]
    pub override_rule: Override,
    pub hnsg: Hnsg,
    pub interim_support: InterimSupport,
    pub after_override: AfterOverride,
    pub safety_valve: SafetyValve,
    pub reform: Reform,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Horizon {
    pub first_fy: FinancialYear,
    pub last_fy: FinancialYear,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    pub paths: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlaces {
    pub fy: FinancialYear,
    pub places: f64,
}

/// Values per placement group modelled against mainstream (see `placement::GROUP_NAMES`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub entry_mix_shrinkage_plans: f64,
    pub history_years: u32,
    pub trend_shrinkage_plans: f64,
    pub share_level_sd: PerGroup,
    pub share_slope_sd: PerGroup,
    pub capacity_headroom: f64,
    pub capacity_level_sd: f64,
    pub capacity_growth_sd: f64,
    pub capacity_specialist_correlation: f64,
    pub induced_demand: f64,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    pub price_fy: FinancialYear,
    pub unit_cost: PerSetting,
    pub inflation: PerSetting,
    pub inflation_sd: f64,
    pub inflation_noise_sd: f64,
    pub council_level_sd: f64,
    pub council_noise_sd: f64,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shocks {
    /// Correlation of the yearly national shocks to (new-plan rate, cost inflation, funding growth).
    pub correlation: [[f64; 3]; 3],
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mitigation {
    pub savings_share: f64,
    pub start_fy: FinancialYear,
    pub ramp_years: u32,
    pub delivered_alpha: f64,
    pub delivered_beta: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reserves {
    pub drawdown_rate: f64,
    pub interest_rate: f64,
    /// Council reserves in pounds, keyed by DfE code as a string (`"330" = 5.0e7`).
    pub overrides: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Last day of the statutory override, `YYYY-MM-DD` (must be a 31 March).
    pub end: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Hnsg {
    pub enabled: bool,
    pub share: f64,
    pub balance_date: String,
    pub haircut: f64,
    pub approval_probability: f64,
    pub delay_probability: f64,
    pub payment_fy: FinancialYear,
    pub net_safety_valve_due: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterimSupport {
    pub share_low: f64,
    pub share_high: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    Council,
    Central,
    WriteOff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AfterOverride {
    pub regime: Regime,
    pub from_fy: FinancialYear,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reform {
    pub enabled: bool,
    pub start_fy: FinancialYear,
    pub new_plan_rate_change: f64,
    pub reassessment_cease_share: f64,
    pub independent_fee_cap: f64,
    pub surge: f64,
    pub surge_years: u32,
}

/// A loaded scenario with the files it came from (child first).
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    pub files: Vec<PathBuf>,
    /// Derived: the FY whose 31 March is the override end.
    pub override_end_fy: FinancialYear,
    pub hnsg_fy: FinancialYear,
}

fn read_table(path: &Path) -> Result<toml::Table, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    text.parse::<toml::Table>()
        .map_err(|e| InputError::invalid(path, format!("not valid TOML: {}", e.to_string().trim())))
}

/// Deep merge: keys of `over` replace those of `base`; tables merge recursively.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if k != "overrides" => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Dotted paths of the tables in `t` that hold `key` (arrays of tables count as their parent).
fn tables_with_key<'a>(
    t: &'a toml::Table,
    key: &str,
    prefix: &str,
    out: &mut Vec<(String, &'a toml::Table)>,
) {
    if t.contains_key(key) {
        out.push((prefix.to_string(), t));
    }
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => tables_with_key(inner, key, &path, out),
            toml::Value::Array(items) => {
                for i in items {
                    if let toml::Value::Table(inner) = i {
                        tables_with_key(inner, key, &path, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Line of `key = ...` inside the table `[section]` (empty section = top level), also
/// accepting dotted keys written from a parent table (`section.key = ...`).
fn line_of_key(path: &Path, section: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(h) = l.strip_prefix('[') {
            current = h
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            continue;
        }
        let Some((lhs, _)) = l.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim();
        let full = if current.is_empty() {
            lhs.to_string()
        } else {
            format!("{current}.{lhs}")
        };
        let want = if section.is_empty() {
            key.to_string()
        } else {
            format!("{section}.{key}")
        };
        if full == want {
            return Some(i as u64 + 1);
        }
    }
    None
}

/// Finds where an unknown key was written: the file (child first) and table whose other keys
/// are all among the fields serde expected there.
fn locate_unknown(
    chain: &[(PathBuf, toml::Table)],
    key: &str,
    expected: &[&str],
) -> Option<(PathBuf, String)> {
    let mut fallback = None;
    for (p, t) in chain {
        let mut found = Vec::new();
        tables_with_key(t, key, "", &mut found);
        for (section, table) in found {
            let fits = table
                .keys()
                .all(|k| k == key || expected.contains(&k.as_str()));
            if fits {
                return Some((p.clone(), section));
            }
            fallback.get_or_insert((p.clone(), section));
        }
    }
    fallback
}

/// Loads a scenario file, following `extends` (relative to the file), and validates it.
pub fn load(path: &Path) -> Result<LoadedScenario, InputError> {
    let mut chain: Vec<(PathBuf, toml::Table)> = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(p) = next.take() {
        if chain.iter().any(|(q, _)| q == &p) || chain.len() > 16 {
            return Err(InputError::invalid(&p, "`extends` forms a loop"));
        }
        let mut table = read_table(&p)?;
        if let Some(v) = table.remove("extends") {
            let parent = v.as_str().ok_or_else(|| {
                InputError::invalid(&p, "key `extends` must be a file name in quotes")
            })?;
            next = Some(p.parent().unwrap_or(Path::new(".")).join(parent));
        }
        chain.push((p, table));
    }
    let mut merged = toml::Table::new();
    for (_, t) in chain.iter().rev() {
        merge(&mut merged, t.clone());
    }
    let scenario: Scenario =
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let msg = e.message().trim().to_string();
                // Name the file that holds an unknown key, and its line.
                if let Some(key) = msg
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                {
                    let expected: Vec<&str> = msg
                        .split("expected")
                        .nth(1)
                        .map(|r| r.split('`').skip(1).step_by(2).collect())
                        .unwrap_or_default();
                    if let Some((p, section)) = locate_unknown(&chain, key, &expected) {
                        let name = if section.is_empty() {
                            key.to_string()
                        } else {
                            format!("{section}.{key}")
                        };
                        let text = format!("`{name}` is not a scenario key: {msg}");
                        return match line_of_key(&p, &section, key) {
                            Some(line) => InputError::at_line(&p, line, text),
                            None => InputError::invalid(&p, text),
                        };
                    }
                }
                InputError::invalid(path, msg)
            })?;
    let files = chain.into_iter().map(|(p, _)| p).collect();
    validate(path, scenario, files)
}

fn check(path: &Path, ok: bool, key: &str, allowed: &str) -> Result<(), InputError> {
    if ok {
        Ok(())
    } else {
        Err(InputError::invalid(path, format!("key `{key}`: {allowed}")))
    }
}

fn share(path: &Path, v: f64, key: &str) -> Result<(), InputError> {
    check(
        path,
        (0.0..=1.0).contains(&v),
        key,
        &format!("{v} is not a share; allowed 0 to 1"),
    )
}

fn non_negative(path: &Path, v: f64, key: &str) -> Result<(), InputError> {
    check(
        path,
        v.is_finite() && v >= 0.0,
        key,
        &format!("{v} must be a number >= 0"),
    )
}

fn march_31(path: &Path, date: &str, key: &str) -> Result<FinancialYear, InputError> {
    match crate::calendar::parse_date(date) {
        Some((y, 3, 31)) => Ok(FinancialYear::ending_in(y)),
        _ => Err(InputError::invalid(
            path,
            format!("key `{key}`: `{date}` must be a 31 March date written like `2028-03-31`"),
        )),
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

fn validate(path: &Path, s: Scenario, files: Vec<PathBuf>) -> Result<LoadedScenario, InputError> {
    check(
        path,
        !s.name.trim().is_empty()
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "name",
        "use letters, digits, '-' and '_' only",
    )?;
    let h = &s.horizon;
    check(
        path,
        h.first_fy >= FinancialYear(2020),
        "horizon.first_fy",
        "must be 2020-21 or later",
    )?;
    check(
        path,
        h.last_fy >= h.first_fy && h.last_fy.0 - h.first_fy.0 < 40,
        "horizon.last_fy",
        "must be on or after first_fy and within 40 years of it",
    )?;
    check(path, paths_allowed(s.run.paths), "run.paths", PATHS_ALLOWED)?;
    let d = &s.demand;
    check(
        path,
        d.history_years >= 1 && d.history_years <= 6,
        "demand.history_years",
        "allowed 1 to 6",
    )?;
    non_negative(path, d.shrinkage_plans, "demand.shrinkage_plans")?;
    check(
        path,
        d.min_growth < d.max_growth && d.min_growth > -0.5 && d.max_growth < 1.0,
        "demand.min_growth/max_growth",
        "need -0.5 < min_growth < max_growth < 1",
    )?;
    for (v, k) in [
        (d.trend_sd, "demand.trend_sd"),
        (d.level_sd, "demand.level_sd"),
        (d.council_level_sd, "demand.council_level_sd"),
        (d.national_shock_sd, "demand.national_shock_sd"),
        (d.council_shock_sd, "demand.council_shock_sd"),
    ] {
        check(
            path,
            v.is_finite() && (0.0..=1.0).contains(&v),
            k,
            "a standard deviation on the log scale, allowed 0 to 1",
        )?;
    }
    check(
        path,
        d.trend_mean.abs() <= 0.5,
        "demand.trend_mean",
        "allowed -0.5 to 0.5",
    )?;
    check(
        path,
        (0.0..1.0).contains(&d.persistence),
        "demand.persistence",
        "AR(1) coefficient, allowed 0 to below 1",
    )?;
    let p = &s.placement;
    non_negative(
        path,
        p.entry_mix_shrinkage_plans,
        "placement.entry_mix_shrinkage_plans",
    )?;
    check(
        path,
        (1..=7).contains(&p.history_years),
        "placement.history_years",
        "allowed 1 to 7",
    )?;
    non_negative(
        path,
        p.trend_shrinkage_plans,
        "placement.trend_shrinkage_plans",
    )?;
    for (v, k) in p
        .share_level_sd
        .to_array()
        .into_iter()
        .map(|v| (v, "placement.share_level_sd"))
        .chain(
            p.share_slope_sd
                .to_array()
                .into_iter()
                .map(|v| (v, "placement.share_slope_sd")),
        )
        .chain([
            (p.capacity_level_sd, "placement.capacity_level_sd"),
            (p.capacity_growth_sd, "placement.capacity_growth_sd"),
        ])
    {
        check(
            path,
            v.is_finite() && (0.0..=1.0).contains(&v),
            k,
            "a standard deviation on the log scale, allowed 0 to 1",
        )?;
    }
    check(
        path,
        (0.0..=0.99).contains(&p.capacity_specialist_correlation),
        "placement.capacity_specialist_correlation",
        "allowed 0 to 0.99",
    )?;
    check(
        path,
        (0.0..=1.0).contains(&p.capacity_headroom),
        "placement.capacity_headroom",
        "allowed 0 to 1",
    )?;
    check(
        path,
        (0.0..=2.0).contains(&p.induced_demand),
        "placement.induced_demand",
        "allowed 0 to 2",
    )?;
    for np in &p.new_places {
        non_negative(path, np.places, "placement.new_places.places")?;
    }
    let c = &s.costs;
    for v in c.unit_cost.to_array() {
        check(
            path,
            v.is_finite() && v > 0.0,
            "costs.unit_cost",
            "every setting needs a unit cost > 0 (pounds a year)",
        )?;
    }
    for v in c.inflation.to_array() {
        check(
            path,
            (-0.2..=0.5).contains(&v),
            "costs.inflation",
            "yearly rates allowed -0.2 to 0.5",
        )?;
    }
    check(
        path,
        (0.0..=0.2).contains(&c.inflation_sd),
        "costs.inflation_sd",
        "allowed 0 to 0.2",
    )?;
    check(
        path,
        (0.0..=0.2).contains(&c.inflation_noise_sd),
        "costs.inflation_noise_sd",
        "allowed 0 to 0.2",
    )?;
    check(
        path,
        (0.0..0.9).contains(&c.non_plan_share),
        "costs.non_plan_share",
        "allowed 0 to below 0.9",
    )?;
    check(
        path,
        c.scale_min > 0.0 && c.scale_min <= 1.0 && c.scale_max >= 1.0,
        "costs.scale_min/scale_max",
        "need 0 < scale_min <= 1 <= scale_max",
    )?;
    let f = &s.funding;
    check(
        path,
        (-0.2..=0.5).contains(&f.growth_mean),
        "funding.growth_mean",
        "allowed -0.2 to 0.5",
    )?;
    check(
        path,
        (0.0..=0.2).contains(&f.growth_sd),
        "funding.growth_sd",
        "allowed 0 to 0.2",
    )?;
    check(
        path,
        (0.0..=0.2).contains(&f.noise_sd),
        "funding.noise_sd",
        "allowed 0 to 0.2",
    )?;
    non_negative(path, f.schools_block_ratio, "funding.schools_block_ratio")?;
    check(
        path,
        (0.0..=0.2).contains(&f.formula_uplift_low)
            && (0.0..=0.2).contains(&f.formula_uplift_high)
            && f.formula_uplift_low <= f.formula_uplift_high,
        "funding.formula_uplift_low/formula_uplift_high",
        "allowed 0 to 0.2, with low <= high",
    )?;
    check(
        path,
        (0.0..=0.1).contains(&f.schools_block_transfer),
        "funding.schools_block_transfer",
        "allowed 0 to 0.1",
    )?;
    check(path, f.schools_block_transfer <= 0.005 || f.allow_transfer_above_cap, "funding.schools_block_transfer", "above 0.005 (0.5%) needs ministerial approval: set funding.allow_transfer_above_cap = true")?;
    // Correlation: symmetric, unit diagonal, positive definite (checked when factorised).
    let r = &s.shocks.correlation;
    for i in 0..3 {
        check(
            path,
            (r[i][i] - 1.0).abs() < 1e-9,
            "shocks.correlation",
            "the diagonal must be 1",
        )?;
        for j in 0..3 {
            check(
                path,
                (r[i][j] - r[j][i]).abs() < 1e-9 && r[i][j].abs() <= 1.0,
                "shocks.correlation",
                "must be symmetric with entries between -1 and 1",
            )?;
        }
    }
    check(
        path,
        cholesky(r).is_some(),
        "shocks.correlation",
        "must be positive definite",
    )?;
    let m = &s.mitigation;
    share(path, m.savings_share, "mitigation.savings_share")?;
    check(
        path,
        m.delivered_alpha > 0.0 && m.delivered_beta > 0.0,
        "mitigation.delivered_alpha/delivered_beta",
        "Beta parameters must be > 0",
    )?;
    share(path, s.reserves.drawdown_rate, "reserves.drawdown_rate")?;
    check(
        path,
        (0.0..=0.2).contains(&s.reserves.interest_rate),
        "reserves.interest_rate",
        "allowed 0 to 0.2",
    )?;
    for (k, v) in &s.reserves.overrides {
        check(
            path,
            k.parse::<u16>().is_ok(),
            "reserves.overrides",
            &format!("`{k}` is not a DfE 3-digit council code"),
        )?;
        non_negative(path, *v, "reserves.overrides")?;
    }
    let override_end_fy = march_31(path, &s.override_rule.end, "override.end")?;
    check(
        path,
        override_end_fy >= h.first_fy && override_end_fy <= h.last_fy,
        "override.end",
        "must fall inside the horizon (first_fy to last_fy)",
    )?;
    let hn = &s.hnsg;
    let hnsg_fy = march_31(path, &hn.balance_date, "hnsg.balance_date")?;
    share(path, hn.share, "hnsg.share")?;
    share(path, hn.haircut, "hnsg.haircut")?;
    share(path, hn.approval_probability, "hnsg.approval_probability")?;
    share(path, hn.delay_probability, "hnsg.delay_probability")?;
    check(
        path,
        hn.payment_fy > hnsg_fy,
        "hnsg.payment_fy",
        "must be after the FY that ends on hnsg.balance_date",
    )?;
    let is = &s.interim_support;
    share(path, is.share_low, "interim_support.share_low")?;
    share(path, is.share_high, "interim_support.share_high")?;
    check(
        path,
        is.share_low <= is.share_high,
        "interim_support.share_low",
        "must not exceed share_high",
    )?;
    check(
        path,
        s.after_override.from_fy > override_end_fy,
        "after_override.from_fy",
        "must be after the FY in which the override ends",
    )?;
    let sv = &s.safety_valve;
    share(path, sv.tolerance, "safety_valve.tolerance")?;
    share(path, sv.withhold_share, "safety_valve.withhold_share")?;
    share(
        path,
        sv.council_contribution_share,
        "safety_valve.council_contribution_share",
    )?;
    check(
        path,
        (-1.0..=2.0).contains(&sv.savings_mean) && (0.0..=1.0).contains(&sv.savings_sd),
        "safety_valve.savings_mean/savings_sd",
        "allowed: mean -1 to 2, sd 0 to 1",
    )?;
    let rf = &s.reform;
    check(
        path,
        (-1.0..=1.0).contains(&rf.new_plan_rate_change),
        "reform.new_plan_rate_change",
        "allowed -1 to 1",
    )?;
    share(
        path,
        rf.reassessment_cease_share,
        "reform.reassessment_cease_share",
    )?;
    check(
        path,
        (-0.2..=0.5).contains(&rf.independent_fee_cap),
        "reform.independent_fee_cap",
        "a yearly fee growth cap, allowed -0.2 to 0.5",
    )?;
    check(
        path,
        (0.0..=1.0).contains(&rf.surge),
        "reform.surge",
        "allowed 0 to 1",
    )?;
    Ok(LoadedScenario {
        scenario: s,
        files,
        override_end_fy,
        hnsg_fy,
    })
}

/// Lower Cholesky factor of a 3x3 correlation matrix (nalgebra), or None if not positive definite.
pub fn cholesky(r: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let m = nalgebra::Matrix3::from_fn(|i, j| r[i][j]);
    let l = nalgebra::Cholesky::new(m)?.l();
    Some([
        [l[(0, 0)], l[(0, 1)], l[(0, 2)]],
        [l[(1, 0)], l[(1, 1)], l[(1, 2)]],
        [l[(2, 0)], l[(2, 1)], l[(2, 2)]],
    ])
}
