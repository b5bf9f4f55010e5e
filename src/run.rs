//! One projection run: scenario + seeds -> calibrated model -> simulated and summarised results.
//! No printing: progress goes through a callback.

use crate::calibration::{calibrate, Model, Vintage};
use crate::engine::{simulate, EnglandPaths, RunConfig};
use crate::error::InputError;
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;
use crate::summary::{summarise_council, summarise_national, CouncilSummary, Stats};

pub struct RunResult {
    pub model: Model,
    pub councils: Vec<CouncilSummary>,
    pub national: Vec<Stats>,
    pub national_paths: EnglandPaths,
    pub config: RunConfig,
}

/// Calibrates the scenario on the seeds at the vintage, then simulates and summarises it (on
/// the current rayon pool).
pub fn project(
    baseline: &Baseline,
    scenario: &LoadedScenario,
    vintage: Vintage,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, InputError> {
    let model = calibrate(baseline, scenario, vintage)?;
    Ok(simulate_and_summarise(model, config, progress))
}

/// Simulates a calibrated model and summarises every council (at the override end) and England.
pub fn simulate_and_summarise(
    model: Model,
    config: RunConfig,
    progress: &(dyn Fn() + Sync),
) -> RunResult {
    let override_end = model.schedule.override_end;
    let (councils, national_paths) = simulate(
        &model,
        config,
        |council_paths| summarise_council(council_paths, override_end),
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
