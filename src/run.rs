//! One projection run: scenario + seeds -> calibrated model -> simulated and summarised results.
//! No printing: progress goes through a callback.

use crate::calibration::{calibrate, Model, Vintage};
use crate::engine::{simulate, NationalPaths, RunConfig};
use crate::error::InputError;
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;
use crate::summary::{summarise_council, summarise_national, CouncilSummary, Stats};

pub struct RunResult {
    pub model: Model,
    pub councils: Vec<CouncilSummary>,
    pub national: Vec<Stats>,
    pub national_paths: NationalPaths,
    pub config: RunConfig,
}

/// Calibrates and runs on the current rayon pool.
pub fn run(
    baseline: &Baseline,
    scenario: &LoadedScenario,
    vintage: Vintage,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, InputError> {
    let model = calibrate(baseline, scenario, vintage)?;
    Ok(run_model(model, config, progress))
}

pub fn run_model(model: Model, config: RunConfig, progress: &(dyn Fn() + Sync)) -> RunResult {
    let override_t = model.timeline.override_end;
    let (councils, national_paths) = simulate(
        &model,
        config,
        |cp| summarise_council(cp, override_t),
        progress,
    );
    let national = summarise_national(&national_paths);
    RunResult {
        model,
        councils,
        national,
        national_paths,
        config,
    }
}
