//! Sweeps: a grid of variants of one scenario, each a full run with the same paths and seed, so
//! the variants share their random numbers (like `compare`) and differ only by the keys they
//! set. `--set KEY=V1,V2,...` gives one axis of the grid; every combination of the axes is a
//! variant, numbered from 0 with the first axis varying slowest. A variant is the scenario with
//! its keys laid over it like a child file ([`scenario::load_with`]), validated exactly as the
//! file would be.
//!
//! A sweep writes each variant's run into `variants/vNN/` (a manifest without timings), then
//! `sweep.csv` and `sweep_summary.csv` (every variant's `national.csv` and `summary.csv` rows,
//! keyed by the variant and its values) and `manifest.json` ([`SweepManifest`]).
//!
//! Shards: `--shard K/N` runs variant `i` when `i mod N = K` (both counted from 0), and writes
//! its variants and its manifest (with a `shard` record) only; [`merge`] checks that the shards
//! are the N shards of one sweep and writes what one process would have written, byte for byte:
//! the variant folders copied, the combined CSVs built from them by the same code, and the same
//! manifest (it records no timing, thread count or command-line detail that does not change a
//! result).
//!
//! Variants run one after another, each on the whole thread pool: the engine already spreads a
//! run's paths over the threads, and running variants side by side would multiply the memory a
//! run holds without making it faster.

use crate::calibration::Vintage;
use crate::engine::RunConfig;
use crate::error::InputError;
use crate::export::{
    self,
    manifest::{InputHash, Provenance},
};
use crate::run::{Headline, Inputs};
use crate::scenario::{self, LoadedScenario, Setting};
use crate::seeds::Baseline;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// The most variants a grid may have.
pub const MAX_VARIANTS: usize = 10_000;

/// Keys a sweep may not vary, and why.
const FIXED_KEYS: [(&str, &str); 3] = [
    (
        "run",
        "every variant runs the sweep's paths and seed (common random numbers): use --paths and --seed",
    ),
    (
        "name",
        "every variant keeps the scenario's name; the variant column and the key columns tell them apart",
    ),
    (
        "extends",
        "a variant is this scenario with keys laid over it; sweep another scenario file separately",
    ),
];

/// One `--set KEY=V1,V2,...`: a scenario key and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<toml::Value>,
    /// The argument after `--set`, as typed.
    pub argument: String,
}

/// The grid of variants: every combination of its axes' values.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Parses the `--set` arguments (the text after each `--set`).
    pub fn parse(arguments: &[String]) -> Result<Grid, InputError> {
        let mut axes: Vec<Axis> = Vec::new();
        for argument in arguments {
            let axis = parse_axis(argument)?;
            if let Some(other) = axes.iter().find(|a| a.key == axis.key) {
                return Err(InputError::invalid(
                    set_label(argument),
                    format!(
                        "key `{}` is also set by --set {}: give each key once, with all its values",
                        axis.key, other.argument
                    ),
                ));
            }
            axes.push(axis);
        }
        if axes.is_empty() {
            return Err(InputError::invalid(
                "--set",
                "a sweep needs at least one --set KEY=V1,V2,...",
            ));
        }
        let grid = Grid { axes };
        let size = grid
            .axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
        if size.is_none_or(|n| n > MAX_VARIANTS) {
            return Err(InputError::invalid(
                "--set",
                format!("the grid has more than {MAX_VARIANTS} variants: sweep fewer values"),
            ));
        }
        Ok(grid)
    }

    /// Number of variants.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The settings of variant `index`: one per axis, the first axis varying slowest.
    pub fn settings(&self, index: usize) -> Vec<Setting> {
        let mut rest = index;
        let mut settings: Vec<Setting> = self
            .axes
            .iter()
            .rev()
            .map(|axis| {
                let n = axis.values.len();
                let value = axis.values[rest % n].clone();
                rest /= n;
                Setting {
                    key: axis.key.clone(),
                    value,
                    argument: set_label(&axis.argument),
                }
            })
            .collect();
        settings.reverse();
        settings
    }

    /// The name of variant `index`: `v` and its number, zero-padded to the grid's size.
    pub fn variant_name(&self, index: usize) -> String {
        let width = self.len().saturating_sub(1).to_string().len();
        format!("v{index:0width$}")
    }

    /// Variant `index` as the manifests record it.
    pub fn record(&self, index: usize) -> VariantRecord {
        VariantRecord {
            name: self.variant_name(index),
            settings: self
                .settings(index)
                .iter()
                .map(|s| SettingRecord {
                    key: s.key.clone(),
                    value: value_text(&s.value),
                })
                .collect(),
        }
    }
}

/// `--set ARGUMENT`, the name errors give.
fn set_label(argument: &str) -> String {
    format!("--set {argument}")
}

fn parse_axis(argument: &str) -> Result<Axis, InputError> {
    let fail = |message: String| InputError::invalid(set_label(argument), message);
    let Some((key, values)) = argument.split_once('=') else {
        return Err(fail(
            "expected KEY=V1,V2,..., such as costs.inflation.special_independent=0.035,0.045"
                .into(),
        ));
    };
    let key = key.trim();
    let bare = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !key.split('.').all(bare) {
        return Err(fail(format!(
            "`{key}` is not a scenario key: write the dotted key as `highneeds check` prints it, \
             such as costs.inflation.special_independent"
        )));
    }
    let first = key.split('.').next().unwrap_or(key);
    if let Some((_, why)) = FIXED_KEYS.iter().find(|(fixed, _)| *fixed == first) {
        return Err(fail(format!("key `{key}` cannot be swept: {why}")));
    }
    let mut parsed: Vec<toml::Value> = Vec::new();
    for text in split_values(values).map_err(|m| fail(format!("key `{key}`: {m}")))? {
        let text = text.trim();
        if text.is_empty() {
            return Err(fail(format!(
                "key `{key}`: an empty value (two commas together, or one at either end)"
            )));
        }
        if text.contains(['\n', '\r']) {
            return Err(fail(format!("key `{key}`: a value may not span lines")));
        }
        let value = parse_value(text);
        if parsed.contains(&value) {
            return Err(fail(format!(
                "key `{key}`: the value {text} is given twice"
            )));
        }
        parsed.push(value);
    }
    Ok(Axis {
        key: key.to_string(),
        values: parsed,
        argument: argument.to_string(),
    })
}

/// Splits `V1,V2,...` at the commas outside brackets, braces and quotes (so an array or an
/// inline table can be one value).
fn split_values(text: &str) -> Result<Vec<&str>, String> {
    let (mut values, mut start, mut depth) = (Vec::new(), 0, 0i32);
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(format!("unbalanced `{c}` in {text}"));
        }
    }
    if quote.is_some() || depth != 0 {
        return Err(format!("an unclosed quote, bracket or brace in {text}"));
    }
    values.push(&text[start..]);
    Ok(values)
}

/// A value as the scenario file would hold it: a TOML number, boolean, array or inline table as
/// such, anything else (a word, a date, a financial year) as a string, with or without quotes.
fn parse_value(text: &str) -> toml::Value {
    let as_string = || toml::Value::String(text.to_string());
    match toml::from_str::<toml::Table>(&format!("value = {text}")) {
        Ok(table) if table.len() == 1 => match table.get("value") {
            Some(toml::Value::Datetime(_)) | None => as_string(),
            Some(value) => value.clone(),
        },
        _ => as_string(),
    }
}

/// A value as the combined CSVs and the manifests write it: a string without quotes, anything
/// else as TOML writes it.
pub fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A deterministic share of the grid: shard `index` of `count` runs variant `i` when
/// `i mod count = index` (both counted from 0, like Slurm's `--array=0-(N-1)` and Kubernetes'
/// `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// How variants are assigned to shards, as the shard manifests say it.
pub const ASSIGNMENT: &str = "variant i runs in shard i mod N (both counted from 0)";

impl Shard {
    pub fn runs(&self, variant: usize) -> bool {
        variant % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "expected K/N with 0 <= K < N (shards are counted from 0), such as 0/4";
        let (k, n) = s.split_once('/').ok_or(usage)?;
        let (Ok(index), Ok(count)) = (k.trim().parse::<usize>(), n.trim().parse::<usize>()) else {
            return Err(usage.to_string());
        };
        if count == 0 || index >= count {
            return Err(format!("{s}: {usage}"));
        }
        Ok(Shard { index, count })
    }
}

/// One key a variant sets, its value written as in the combined CSVs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRecord {
    pub key: String,
    pub value: String,
}

/// A variant: its name (its folder is `variants/<name>`) and the keys it sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantRecord {
    pub name: String,
    pub settings: Vec<SettingRecord>,
}

impl VariantRecord {
    /// The variant's folder in the sweep's folder.
    pub fn folder(&self) -> PathBuf {
        Path::new(VARIANTS).join(&self.name)
    }
}

/// The folder that holds the variants' folders.
pub const VARIANTS: &str = "variants";

/// One axis as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisRecord {
    pub key: String,
    pub values: Vec<String>,
}

/// What a shard ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: usize,
    pub count: usize,
    pub assignment: String,
    /// The variants this shard ran, in grid order.
    pub variants: Vec<String>,
}

/// A sweep's `manifest.json`. It holds nothing that depends on how the sweep was split or run
/// (no threads, times or output folder), so a merge writes the same bytes as one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    pub program: String,
    pub version: String,
    /// The sweep as one command (without `--shard`, `--out`, `--threads` and `--quiet`, which
    /// change no result).
    pub command: String,
    pub scenario_name: String,
    /// The scenario file and the files it extends, child first.
    pub scenario_files: Vec<String>,
    pub seed: u64,
    pub paths: usize,
    pub grid: Vec<AxisRecord>,
    pub assignment: String,
    pub variants: Vec<VariantRecord>,
    /// SHA-256 of every input: scenario files, seeds files, local figures.
    pub inputs: Vec<InputHash>,
    /// The files and folders written beside the manifest.
    pub outputs: Vec<String>,
    /// Shards only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
}

impl SweepManifest {
    /// What this manifest's sweep writes (a shard: its variants' folders only).
    fn outputs(&self) -> Vec<String> {
        let folders = self
            .variants
            .iter()
            .filter(|v| {
                self.shard
                    .as_ref()
                    .is_none_or(|s| s.variants.contains(&v.name))
            })
            .map(|v| format!("{VARIANTS}/{}/", v.name));
        let combined = [export::sweep::SWEEP_CSV, export::sweep::SWEEP_SUMMARY_CSV];
        match self.shard {
            Some(_) => folders.collect(),
            None => combined
                .iter()
                .map(|f| f.to_string())
                .chain(folders)
                .collect(),
        }
    }
}

/// A variant this process runs.
pub struct PlannedVariant {
    pub record: VariantRecord,
    pub scenario: LoadedScenario,
}

/// A sweep ready to run: every variant of the grid validated, those of this shard loaded.
pub struct Plan {
    pub manifest: SweepManifest,
    pub variants: Vec<PlannedVariant>,
    pub config: RunConfig,
}

impl Plan {
    /// The most years any variant projects (for the memory check).
    pub fn max_years(&self) -> usize {
        self.variants
            .iter()
            .map(|v| {
                let h = &v.scenario.scenario.horizon;
                (h.last_fy.0 - h.first_fy.0 + 1).max(0) as usize
            })
            .max()
            .unwrap_or(0)
    }
}

/// Validates every variant of the grid `sets` (the text after each `--set`) over `base` (the
/// scenario as loaded from its file), and loads those that `shard` runs (all without one).
pub fn plan(
    base: &LoadedScenario,
    baseline: &Baseline,
    sets: &[String],
    config: RunConfig,
    shard: Option<Shard>,
) -> Result<Plan> {
    let grid = Grid::parse(sets)?;
    let path = base.files.first().cloned().unwrap_or_default();
    let mut variants = Vec::new();
    for index in 0..grid.len() {
        let settings = grid.settings(index);
        let scenario = scenario::load_with(&path, &settings)
            .map_err(|e| in_variant(e, &grid.variant_name(index), &settings))?;
        export::size::check_run(&scenario, baseline, 0)?;
        if shard.is_none_or(|s| s.runs(index)) {
            let record = grid.record(index);
            variants.push(PlannedVariant { record, scenario });
        }
    }
    let mut manifest = SweepManifest {
        program: "highneeds".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: command_line(base, baseline, sets, config),
        scenario_name: base.scenario.name.clone(),
        scenario_files: base.files.iter().map(|f| f.display().to_string()).collect(),
        seed: config.seed,
        paths: config.paths,
        grid: grid
            .axes
            .iter()
            .map(|a| AxisRecord {
                key: a.key.clone(),
                values: a.values.iter().map(value_text).collect(),
            })
            .collect(),
        assignment: ASSIGNMENT.into(),
        variants: (0..grid.len()).map(|i| grid.record(i)).collect(),
        inputs: export::manifest::inputs(base, baseline)?,
        outputs: Vec::new(),
        shard: shard.map(|s| ShardRecord {
            index: s.index,
            count: s.count,
            assignment: ASSIGNMENT.into(),
            variants: variants.iter().map(|v| v.record.name.clone()).collect(),
        }),
    };
    manifest.outputs = manifest.outputs();
    Ok(Plan {
        manifest,
        variants,
        config,
    })
}

/// An error found in a variant: as it is when it names a `--set` argument, else (a key of the
/// file that no longer fits with a swept one) prefixed with the variant and its settings.
fn in_variant(error: InputError, name: &str, settings: &[Setting]) -> InputError {
    let names_a_setting = match &error {
        InputError::Invalid { path, .. } | InputError::AtLine { path, .. } => {
            settings.iter().any(|s| Path::new(&s.argument) == path)
        }
        InputError::Unreadable { .. } => true,
    };
    if names_a_setting {
        return error;
    }
    let set: Vec<String> = settings
        .iter()
        .map(|s| format!("{}={}", s.key, value_text(&s.value)))
        .collect();
    InputError::invalid(
        format!("variant {name} ({})", set.join(", ")),
        error.to_string(),
    )
}

/// The sweep as one command line: what reproduces every variant (no shard, output folder,
/// threads or progress bar, which change no result).
fn command_line(
    base: &LoadedScenario,
    baseline: &Baseline,
    sets: &[String],
    config: RunConfig,
) -> String {
    let mut words = vec!["highneeds".to_string(), "sweep".to_string()];
    words.push(
        base.files
            .first()
            .map_or(String::new(), |f| f.display().to_string()),
    );
    for set in sets {
        words.extend(["--set".to_string(), set.clone()]);
    }
    words.extend(["--paths".into(), config.paths.to_string()]);
    words.extend(["--seed".into(), config.seed.to_string()]);
    words.extend(["--seeds".into(), baseline.dir.display().to_string()]);
    if !baseline.local.sha256.is_empty() {
        words.extend(["--local".into(), baseline.local.path.display().to_string()]);
    }
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word as a POSIX shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=,:+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The default output folder: `out/sweep-<scenario name>`, and for a shard
/// `out/sweep-<scenario name>-shard-K-of-N`.
pub fn default_folder(manifest: &SweepManifest, shard: Option<Shard>) -> PathBuf {
    let name = &manifest.scenario_name;
    let folder = match shard {
        Some(s) => format!("sweep-{name}-shard-{}-of-{}", s.index, s.count),
        None => format!("sweep-{name}"),
    };
    Path::new("out").join(folder)
}

/// A variant written, for the caller to report.
pub struct VariantDone {
    pub name: String,
    /// `key=value` for each swept key.
    pub settings: Vec<String>,
    pub headline: Headline,
    pub wall_seconds: f64,
}

/// Runs the plan's variants one after another (each on the current rayon pool) into `dir`, then
/// writes the combined CSVs (not for a shard) and the manifest, and returns each variant's
/// headline. The folder is locked against other commands while the sweep runs. `progress` is
/// called once per finished council (and chunk of paths, when sketched) of any variant. Each
/// variant's percentiles are computed as `percentiles` says.
pub fn run(
    plan: &Plan,
    baseline: &Baseline,
    threads: usize,
    percentiles: crate::sketch::Percentiles,
    dir: &Path,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<VariantDone>> {
    let top = export::Staged::new(dir)?;
    let mut done = Vec::new();
    for variant in &plan.variants {
        let (started, clock) = (SystemTime::now(), Instant::now());
        let inputs = Inputs {
            baseline,
            scenario: &variant.scenario,
            config: plan.config,
        };
        let result = crate::run::project_with(inputs, Vintage::latest(), percentiles, progress)?;
        let report = result.report(&variant.scenario.scenario.name);
        let wall_seconds = clock.elapsed().as_secs_f64();
        let provenance = Provenance {
            inputs,
            threads,
            command: plan.manifest.command.clone(),
            started,
            wall_seconds,
        };
        let folder = dir.join(variant.record.folder());
        export::write_variant(&folder, &report, &provenance, &variant.record)?;
        let settings = variant.record.settings.iter();
        done.push(VariantDone {
            name: variant.record.name.clone(),
            settings: settings.map(|s| format!("{}={}", s.key, s.value)).collect(),
            headline: report.headline(),
            wall_seconds,
        });
    }
    export::sweep::write_sweep(top, dir, &plan.manifest)?;
    Ok(done)
}

/// A shard's folder and its manifest.
struct ShardDir {
    dir: PathBuf,
    manifest: SweepManifest,
    shard: ShardRecord,
}

fn read_shard(dir: &Path) -> Result<ShardDir, InputError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|_| {
        InputError::invalid(
            dir,
            "not a sweep shard: it has no manifest.json (give the folders that \
             `highneeds sweep --shard K/N` wrote)",
        )
    })?;
    let manifest: SweepManifest = serde_json::from_str(&text).map_err(|e| {
        InputError::invalid(
            &path,
            format!("not the manifest of a sweep shard ({e}); give the folders that `highneeds sweep --shard K/N` wrote"),
        )
    })?;
    let Some(shard) = manifest.shard.clone() else {
        return Err(InputError::invalid(
            &path,
            "this is a whole sweep (written without --shard): there is nothing to merge",
        ));
    };
    Ok(ShardDir {
        dir: dir.to_owned(),
        manifest,
        shard,
    })
}

/// The first field in which shard `b`'s manifest differs from shard `a`'s (ignoring what
/// differs between the shards of one sweep), as `its FIELD is B where A's is A`; the fields
/// that say why come first (version, seed, paths, grid, files, inputs), the command last.
fn first_difference(a: &ShardDir, b: &ShardDir) -> Option<String> {
    let common = |m: &SweepManifest| {
        let m = SweepManifest {
            shard: None,
            outputs: Vec::new(),
            ..m.clone()
        };
        serde_json::to_value(m).unwrap_or_default()
    };
    let (va, vb) = (common(&a.manifest), common(&b.manifest));
    let (serde_json::Value::Object(fa), serde_json::Value::Object(fb)) = (&va, &vb) else {
        return None;
    };
    let first = [
        "version",
        "seed",
        "paths",
        "grid",
        "scenario_files",
        "inputs",
    ];
    let fields = first
        .iter()
        .map(|f| f.to_string())
        .chain(fa.keys().filter(|k| !first.contains(&k.as_str())).cloned());
    let null = serde_json::Value::Null;
    fields.into_iter().find_map(|field| {
        let (x, y) = (
            fa.get(&field).unwrap_or(&null),
            fb.get(&field).unwrap_or(&null),
        );
        if x == y {
            return None;
        }
        let (x, y) = match (x, y) {
            (serde_json::Value::Array(xs), serde_json::Value::Array(ys)) => {
                let i = (0..xs.len().max(ys.len()))
                    .find(|&i| xs.get(i) != ys.get(i))
                    .unwrap_or(0);
                (xs.get(i).unwrap_or(&null), ys.get(i).unwrap_or(&null))
            }
            _ => (x, y),
        };
        Some(format!(
            "its {field} is {} where {}'s is {}",
            short(y),
            a.dir.display(),
            short(x)
        ))
    })
}

/// A JSON value on one line, cut at 200 characters.
fn short(value: &serde_json::Value) -> String {
    let s = value.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// Checks that `dirs` are the N shards of one sweep (same program version, scenario, inputs,
/// grid, paths and seed; each shard once; none missing) and writes into `out` what one
/// `highneeds sweep` without `--shard` would have written, byte for byte.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepManifest> {
    let shards = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>, _>>()?;
    let by_index = shards_in_order(&shards)?;
    let first = &shards[0];
    let count = first.shard.count;
    refuse_shard_as_output(dirs, out)?;
    let mut manifest = SweepManifest {
        shard: None,
        ..first.manifest.clone()
    };
    manifest.outputs = manifest.outputs();
    let top = export::Staged::new(out)?;
    for (i, variant) in manifest.variants.iter().enumerate() {
        export::sweep::copy_variant(&by_index[i % count].dir, out, variant)?;
    }
    export::sweep::write_sweep(top, out, &manifest)?;
    Ok(manifest)
}

/// The shards by index, each checked against the first: one sweep, one split, each shard
/// once with the variants the assignment gives it, none missing.
fn shards_in_order(shards: &[ShardDir]) -> Result<Vec<&ShardDir>, InputError> {
    let Some(first) = shards.first() else {
        return Err(InputError::invalid(
            "highneeds merge",
            "give the shards' folders",
        ));
    };
    let count = first.shard.count;
    let mut by_index: Vec<Option<&ShardDir>> = vec![None; count];
    for s in shards {
        check_shard(first, s)?;
        let slot = by_index.get_mut(s.shard.index).ok_or_else(|| {
            InputError::invalid(
                &s.dir,
                format!("shard {}/{count} does not exist", s.shard.index),
            )
        })?;
        if let Some(other) = slot {
            return Err(InputError::invalid(
                &s.dir,
                format!(
                    "shard {}/{count} is given twice: here and in {}",
                    s.shard.index,
                    other.dir.display()
                ),
            ));
        }
        *slot = Some(s);
        check_variants(first, s)?;
    }
    let missing: Vec<String> = (0..count)
        .filter(|&k| by_index[k].is_none())
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(InputError::invalid(
            "highneeds merge",
            format!(
                "shard {} is missing: give the folder of every shard of the sweep",
                missing.join(", ")
            ),
        ));
    }
    Ok(by_index.into_iter().flatten().collect())
}

/// `s` is a shard of the same sweep and split as `first`.
fn check_shard(first: &ShardDir, s: &ShardDir) -> Result<(), InputError> {
    let count = first.shard.count;
    if let Some(difference) = first_difference(first, s) {
        return Err(InputError::invalid(
            &s.dir,
            format!(
                "a shard of another sweep than {}: {difference}; merge only the shards of \
                 one sweep (the same version, scenario, seeds, --set, --paths and --seed)",
                first.dir.display()
            ),
        ));
    }
    if s.shard.count != count {
        return Err(InputError::invalid(
            &s.dir,
            format!(
                "shard {}/{} of a sweep split {} ways, but {} is shard {}/{count}: merge \
                 the shards of one split",
                s.shard.index,
                s.shard.count,
                s.shard.count,
                first.dir.display(),
                first.shard.index
            ),
        ));
    }
    Ok(())
}

/// Shard `s` holds the variants the assignment gives its index.
fn check_variants(first: &ShardDir, s: &ShardDir) -> Result<(), InputError> {
    let count = first.shard.count;
    let expected: Vec<String> = (0..first.manifest.variants.len())
        .filter(|i| i % count == s.shard.index)
        .map(|i| first.manifest.variants[i].name.clone())
        .collect();
    if s.shard.variants != expected {
        return Err(InputError::invalid(
            &s.dir,
            format!(
                "shard {}/{count} lists variants {:?}, but it should hold {expected:?} ({ASSIGNMENT})",
                s.shard.index, s.shard.variants
            ),
        ));
    }
    Ok(())
}

/// A merge may not write into one of its shards.
fn refuse_shard_as_output(dirs: &[PathBuf], out: &Path) -> Result<(), InputError> {
    let Ok(out_full) = out.canonicalize() else {
        return Ok(());
    };
    for dir in dirs {
        if dir.canonicalize().is_ok_and(|d| d == out_full) {
            return Err(InputError::invalid(
                out,
                "is one of the shards: merge into another folder (--out)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(sets: &[&str]) -> Result<Grid, InputError> {
        Grid::parse(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_first_axis_varies_slowest() {
        let g = grid(&["a.x=1,2", "b.y=true,false,maybe"]).unwrap();
        assert_eq!(g.len(), 6);
        let values = |i| {
            g.settings(i)
                .iter()
                .map(|s| value_text(&s.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(values(0), ["1", "true"]);
        assert_eq!(values(2), ["1", "maybe"]);
        assert_eq!(values(3), ["2", "true"]);
        assert_eq!(values(5), ["2", "maybe"]);
        assert_eq!(g.variant_name(5), "v5");
        let big = grid(&["a.x=1,2,3,4,5,6,7,8,9,10,11"]).unwrap();
        assert_eq!(
            (big.variant_name(0), big.variant_name(10)),
            ("v00".into(), "v10".into())
        );
    }

    #[test]
    fn values_are_toml_numbers_booleans_and_arrays_else_strings() {
        let g = grid(&["k.a=0.05,1,true,[1, 2],2027-28,\"central\",2028-03-31,{ fy = \"2027-28\", places = 5 }"])
            .unwrap();
        let v = &g.axes[0].values;
        assert_eq!(v[0], toml::Value::Float(0.05));
        assert_eq!(v[1], toml::Value::Integer(1));
        assert_eq!(v[2], toml::Value::Boolean(true));
        assert!(matches!(v[3], toml::Value::Array(_)));
        assert_eq!(v[4], toml::Value::String("2027-28".into()));
        assert_eq!(v[5], toml::Value::String("central".into()));
        assert_eq!(v[6], toml::Value::String("2028-03-31".into()));
        assert!(matches!(v[7], toml::Value::Table(_)));
        assert_eq!(v.len(), 8);
    }

    #[test]
    fn bad_set_arguments_name_themselves() {
        let message = |sets: &[&str]| grid(sets).unwrap_err().to_string();
        assert!(message(&["costs"]).starts_with("--set costs: expected KEY="));
        assert!(message(&["a b=1"]).contains("`a b` is not a scenario key"));
        assert!(message(&["run.seed=1,2"]).contains("use --paths and --seed"));
        assert!(message(&["a.x=1,,2"]).contains("an empty value"));
        assert!(message(&["a.x=1,1.0,1"]).contains("the value 1 is given twice"));
        assert!(message(&["a.x=[1,2"]).contains("unclosed"));
        assert!(message(&["a.x=1", "a.x=2"]).contains("also set by --set a.x=1"));
        assert!(message(&[]).contains("at least one --set"));
    }

    #[test]
    fn shards_count_from_zero_and_share_the_grid() {
        let s: Shard = "1/3".parse().unwrap();
        assert_eq!(s, Shard { index: 1, count: 3 });
        let ran: Vec<usize> = (0..8).filter(|&i| s.runs(i)).collect();
        assert_eq!(ran, [1, 4, 7]);
        for bad in ["3/3", "0/0", "1", "-1/2", "a/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let every: Vec<usize> = (0..10)
            .flat_map(|i| (0..4).filter(move |&k| Shard { index: k, count: 4 }.runs(i)))
            .collect();
        assert_eq!(every.len(), 10, "each variant runs in exactly one shard");
    }

    #[test]
    fn command_words_are_quoted_for_the_shell() {
        assert_eq!(shell_word("costs.x=0.1,0.2"), "costs.x=0.1,0.2");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
