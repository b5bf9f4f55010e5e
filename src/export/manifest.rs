//! `manifest.json`: what any command ran on (version, command, resolved scenario, seed, paths,
//! threads, horizon, the SHA-256 of every input) and how long it took.

use crate::run::{Horizon, Inputs};
use crate::scenario::{LoadedScenario, Scenario};
use crate::seeds::Baseline;
use crate::sweep::VariantRecord;
use crate::FinancialYear;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputHash {
    pub file: String,
    pub sha256: String,
}

/// How a command was run: everything the manifest records that is not a result.
pub struct Provenance<'a> {
    pub inputs: Inputs<'a>,
    pub threads: usize,
    /// The command line as typed.
    pub command: String,
    pub started: SystemTime,
    pub wall_seconds: f64,
}

/// The units of the figures a command writes: money, years, and each metric by name.
#[derive(Serialize)]
pub struct Units {
    pub money: &'static str,
    pub fy: &'static str,
    /// The unit of each metric of `councils.csv` and `national.csv`.
    pub metrics: std::collections::BTreeMap<&'static str, &'static str>,
}

impl Units {
    pub fn new() -> Self {
        let mut metrics = std::collections::BTreeMap::new();
        for m in crate::metric::Metric::ALL {
            metrics.insert(m.name(), m.unit().name());
        }
        for m in crate::metric::NationalMetric::ALL {
            metrics.insert(m.name(), m.unit().name());
        }
        Units {
            money: "pounds sterling (GBP), nominal (cash) prices, in whole pounds: every money column of every CSV (deficits positive)",
            fy: "financial year 1 April to 31 March, written 2027-28; balances at 31 March, EHCPs at the January census",
            metrics,
        }
    }
}

impl Default for Units {
    fn default() -> Self {
        Self::new()
    }
}

/// The manifest of every command that writes files. A sweep's variant has no timings (see
/// [`Manifest::for_variant`]).
#[derive(Serialize)]
pub struct Manifest<'a> {
    pub program: &'static str,
    pub version: &'static str,
    pub command: String,
    /// Sweeps only: the variant's name and the keys it sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<&'a VariantRecord>,
    pub scenario_name: &'a str,
    pub scenario: &'a Scenario,
    /// Back-tests only: the last FY whose data the projection used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub seed: u64,
    pub paths: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    pub first_fy: String,
    pub last_fy: String,
    pub override_end_fy: String,
    /// What the figures are measured in.
    pub units: Units,
    pub inputs: Vec<InputHash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
    pub council_years: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub council_years_per_second: Option<f64>,
    /// Runs above [`crate::sketch::SKETCH_ABOVE_PATHS`] paths only: how the percentiles were
    /// sketched and how close they are (absent where they are exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentiles: Option<crate::sketch::SketchRecord>,
    pub outputs: Vec<String>,
}

impl<'a> Manifest<'a> {
    /// `outputs` are the files written beside the manifest.
    pub fn new(
        run: &Provenance<'a>,
        horizon: &Horizon,
        origin: Option<FinancialYear>,
        councils: usize,
        outputs: Vec<String>,
    ) -> Result<Self> {
        let (scenario, config) = (run.inputs.scenario, run.inputs.config);
        let council_years = (config.paths * councils * horizon.years.len()) as u64;
        Ok(Manifest {
            program: "highneeds",
            version: env!("CARGO_PKG_VERSION"),
            command: run.command.clone(),
            variant: None,
            scenario_name: &scenario.scenario.name,
            scenario: &scenario.scenario,
            origin: origin.map(|fy| fy.to_string()),
            seed: config.seed,
            paths: config.paths,
            threads: Some(run.threads),
            first_fy: horizon.first().to_string(),
            last_fy: horizon.last().to_string(),
            override_end_fy: horizon.override_end_fy().to_string(),
            units: Units::new(),
            inputs: inputs(scenario, run.inputs.baseline)?,
            started_utc: Some(humantime::format_rfc3339_seconds(run.started).to_string()),
            wall_seconds: Some(run.wall_seconds),
            council_years,
            council_years_per_second: Some(council_years as f64 / run.wall_seconds.max(1e-9)),
            percentiles: None,
            outputs,
        })
    }

    /// The manifest of a sweep's variant: it names the variant and records nothing that
    /// depends on how or when it ran (threads, start, wall time), so a sweep's folder is the same
    /// bytes whether one process wrote it or `highneeds merge` joined its shards.
    pub fn for_variant(self, variant: &'a VariantRecord) -> Self {
        Manifest {
            variant: Some(variant),
            threads: None,
            started_utc: None,
            wall_seconds: None,
            council_years_per_second: None,
            ..self
        }
    }
}

/// The scenario files, then every seeds file, then the local figures (if any), with their
/// SHA-256.
pub fn inputs(scenario: &LoadedScenario, baseline: &Baseline) -> Result<Vec<InputHash>> {
    let mut v = Vec::new();
    for f in &scenario.files {
        v.push(InputHash {
            file: f.display().to_string(),
            sha256: sha256_file(f)?,
        });
    }
    for (name, hash) in &baseline.hashes {
        v.push(InputHash {
            file: baseline.dir.join(name).display().to_string(),
            sha256: hash.clone(),
        });
    }
    if !baseline.local.sha256.is_empty() {
        v.push(InputHash {
            file: baseline.local.path.display().to_string(),
            sha256: baseline.local.sha256.clone(),
        });
    }
    Ok(v)
}

pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("{:x}", sha2::Sha256::digest(&bytes)))
}
