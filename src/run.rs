//! One projection run: scenario + seeds -> calibrated model -> simulated and summarised results,
//! and the report view of them that the exporters and the headline read. No printing: progress
//! goes through a callback.

use crate::calibration::{calibrate, Model, Vintage};
use crate::engine::{simulate, simulate_chunks, RunConfig};
use crate::error::{ImplausibleFigure, InputError};
use crate::metric::{Metric, NationalMetric};
use crate::scenario::LoadedScenario;
use crate::seeds::Baseline;
use crate::sketch::{count_over_reserves, CouncilSketch, EnglandSketch, Percentiles, CHUNK_PATHS};
use crate::summary::{
    is_plausible, summarise_council, summarise_national, CouncilSummary, NationalSummary, Stats,
};
use crate::FinancialYear;

pub struct RunResult {
    pub model: Model,
    pub councils: Vec<CouncilSummary>,
    pub national: NationalSummary,
    /// `over_reserves[c]`: the paths on which `c` councils end the override year with a deficit
    /// above their reserves (exact in both modes).
    pub over_reserves: Vec<usize>,
    pub config: RunConfig,
    pub percentiles: Percentiles,
}

/// What a projection runs on: the seeds, the scenario, and the run's size and seed.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub baseline: &'a Baseline,
    pub scenario: &'a LoadedScenario,
    pub config: RunConfig,
}

/// Calibrates the scenario on the seeds at the vintage, then simulates and summarises it (on
/// the current rayon pool), exactly up to [`crate::sketch::SKETCH_ABOVE_PATHS`] paths and with
/// sketched percentiles above.
pub fn project(
    inputs: Inputs,
    vintage: Vintage,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, InputError> {
    let percentiles =
        Percentiles::for_paths(inputs.config.paths, crate::sketch::SKETCH_ABOVE_PATHS);
    project_with(inputs, vintage, percentiles, progress)
}

/// [`project`] with its percentiles computed as `percentiles` says.
pub fn project_with(
    inputs: Inputs,
    vintage: Vintage,
    percentiles: Percentiles,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, InputError> {
    let model = calibrate(inputs.baseline, inputs.scenario, vintage)?;
    Ok(match percentiles {
        Percentiles::Exact => simulate_and_summarise(model, inputs.config, progress),
        Percentiles::Sketched => {
            simulate_and_sketch_in(model, inputs.config, CHUNK_PATHS, progress)
        }
    })
}

/// How many times [`project_with`] calls `progress` for a run of `paths` paths over `councils`
/// councils: once per council, and per chunk of paths when sketched.
pub fn progress_steps(paths: usize, councils: usize, percentiles: Percentiles) -> u64 {
    match percentiles {
        Percentiles::Exact => councils as u64,
        Percentiles::Sketched => crate::engine::chunk_progress_steps(paths, CHUNK_PATHS, councils),
    }
}

/// Simulates a calibrated model and summarises every council (at the override end) and England,
/// exactly (every path held at once).
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
    let mut over_reserves = vec![0; model.councils.len() + 1];
    count_over_reserves(&national_paths, override_end, &mut over_reserves);
    RunResult {
        model,
        councils,
        national,
        over_reserves,
        config,
        percentiles: Percentiles::Exact,
    }
}

/// [`simulate_and_summarise`] in chunks of `chunk_paths` paths (a multiple of
/// [`crate::engine::PATHS_PER_BLOCK`]; runs use [`CHUNK_PATHS`]), each column's percentiles from
/// a sketch (see [`crate::sketch`]): the memory held does not grow with the paths beyond the
/// sketches' bins. The results do not depend on the chunk size (tested).
pub fn simulate_and_sketch_in(
    model: Model,
    config: RunConfig,
    chunk_paths: usize,
    progress: &(dyn Fn() + Sync),
) -> RunResult {
    let override_end = model.schedule.override_end;
    let (years, n) = (model.schedule.years.len(), model.councils.len());
    let mut councils: Vec<CouncilSketch> = (0..n).map(|c| CouncilSketch::new(c, years)).collect();
    let mut england = EnglandSketch::new(years, n);
    simulate_chunks(
        &model,
        config,
        chunk_paths,
        |chunk| councils[chunk.council].add(chunk, override_end),
        |chunk| england.add(chunk, override_end),
        progress,
    );
    RunResult {
        councils: councils.iter().map(|c| c.summary(override_end)).collect(),
        national: england.summary(),
        over_reserves: england.over_reserves().to_vec(),
        model,
        config,
        percentiles: Percentiles::Sketched,
    }
}

/// Refuses a run that would not fit in `available` bytes of memory, with a message that says
/// how much it needs and how many paths would fit. The estimate is
/// [`crate::engine::memory_estimate`] plus [`BASE_MEMORY`].
pub fn check_memory(
    paths: usize,
    years: usize,
    threads: usize,
    available: u64,
) -> Result<(), InputError> {
    check_memory_for(paths, years, threads, available, Summaries::Exact)
}

/// How a command keeps what it simulates, for the memory check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summaries {
    /// Every path's results held at once (the exact summaries of `run`, and `sensitivity`,
    /// `backtest`).
    Exact,
    /// A run in chunks of paths with sketched percentiles over `councils` councils.
    Sketched { councils: usize },
    /// Two runs paired path by path over `councils` councils (`compare`).
    Paired { councils: usize },
}

/// [`check_memory`] for a run kept as `summaries` says (the sketched estimate is
/// [`crate::sketch::memory_estimate`]).
pub fn check_memory_for(
    paths: usize,
    years: usize,
    threads: usize,
    available: u64,
    summaries: Summaries,
) -> Result<(), InputError> {
    let need = |paths| {
        BASE_MEMORY
            + match summaries {
                Summaries::Exact => crate::engine::memory_estimate(paths, years, threads),
                Summaries::Sketched { councils } => {
                    crate::sketch::memory_estimate(paths, years, threads, councils)
                }
                Summaries::Paired { councils } => {
                    crate::compare::memory_estimate(paths, years, threads, councils)
                }
            }
    };
    if need(paths) <= available {
        return Ok(());
    }
    let fits = (0..=paths)
        .rev()
        .step_by((paths / 1000).max(1))
        .find(|&p| need(p) <= available);
    let advice = match fits {
        Some(p) if p > 0 => format!("use at most about {} paths", thousands(p)),
        _ => "free some memory or use a machine with more".to_string(),
    };
    Err(InputError::invalid(
        "--paths (or run.paths)",
        format!(
            "a run of {} paths over {years} years needs about {:.1} GB of memory, and this machine has {:.1} GB available: {advice}",
            thousands(paths),
            need(paths) as f64 / 1e9,
            available as f64 / 1e9,
        ),
    ))
}

/// What a run holds besides its paths: the seeds, the model, the summaries, the program.
pub const BASE_MEMORY: u64 = 64 << 20;

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The projected years: the first, the last, and the override end.
#[derive(Debug, Clone)]
pub struct Horizon {
    pub years: Vec<FinancialYear>,
    /// Index in `years` of the FY that ends on the override end date.
    pub override_end: usize,
}

impl Horizon {
    pub fn first(&self) -> FinancialYear {
        self.years[0]
    }
    pub fn last(&self) -> FinancialYear {
        self.years[self.years.len() - 1]
    }
    pub fn override_end_fy(&self) -> FinancialYear {
        self.years[self.override_end]
    }
}

/// One council as the reports show it.
pub struct CouncilReport {
    pub la_code: u16,
    pub la_name: String,
    pub has_safety_valve: bool,
    pub summary: CouncilSummary,
}

/// Paths on which `councils` councils end the override year with a deficit above reserves.
pub struct PathsWithCount {
    pub councils: usize,
    pub paths: usize,
}

/// What the exporters and the headline read of a run: names, years and summaries.
pub struct RunReport {
    pub scenario: String,
    pub horizon: Horizon,
    pub paths: usize,
    pub councils: Vec<CouncilReport>,
    pub national: NationalSummary,
    /// The distribution over paths of the number of councils over reserves at the override end
    /// (counts with no path left out).
    pub councils_over_reserves: Vec<PathsWithCount>,
    /// Whether the percentiles are exact or sketched.
    pub percentiles: Percentiles,
}

/// The figures `run` prints when it finishes.
pub struct Headline {
    pub paths: usize,
    pub councils: usize,
    pub years: usize,
    /// paths x councils x years.
    pub council_years: u64,
    pub override_end: FinancialYear,
    /// England's cumulative deficit (councils in deficit) at the override end.
    pub england_deficit: Stats,
    pub councils_over_reserves: Stats,
    /// Whether the percentiles are sketched (a run above the sketch threshold).
    pub sketched: bool,
}

impl RunResult {
    /// The report view of this run, under the scenario's name.
    pub fn report(self, scenario: &str) -> RunReport {
        let horizon = Horizon {
            years: self.model.schedule.years.clone(),
            override_end: self.model.schedule.override_end,
        };
        let councils_over_reserves = self.councils_over_reserves();
        let councils = self
            .councils
            .into_iter()
            .map(|summary| {
                let c = &self.model.councils[summary.council];
                CouncilReport {
                    la_code: c.la_code,
                    la_name: c.la_name.clone(),
                    has_safety_valve: c.safety_valve.is_some(),
                    summary,
                }
            })
            .collect();
        RunReport {
            scenario: scenario.to_string(),
            horizon,
            paths: self.config.paths,
            councils,
            national: self.national,
            councils_over_reserves,
            percentiles: self.percentiles,
        }
    }

    fn councils_over_reserves(&self) -> Vec<PathsWithCount> {
        self.over_reserves
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, paths)| *paths > 0)
            .map(|(councils, paths)| PathsWithCount { councils, paths })
            .collect()
    }
}

impl RunReport {
    /// Every figure the exporters write is finite and plausible, or the first that is not (by
    /// year, then council with England last, then metric) is the error.
    pub fn check_figures(&self) -> Result<(), ImplausibleFigure> {
        for (t, &fy) in self.horizon.years.iter().enumerate() {
            for c in &self.councils {
                let area = || format!("{} ({})", c.la_name, c.la_code);
                for metric in Metric::ALL {
                    if let Some((statistic, value)) = c.summary.get(t, metric).first_implausible() {
                        let (metric, area) = (metric.name(), area());
                        return Err(ImplausibleFigure {
                            metric,
                            statistic,
                            area,
                            fy,
                            value,
                        });
                    }
                }
                if t == self.horizon.override_end {
                    let (mean, se) = c.summary.at_override.expected_shortfall;
                    let bad = [("mean", mean), ("standard error", se)]
                        .into_iter()
                        .find(|(_, v)| !is_plausible(*v));
                    if let Some((statistic, value)) = bad {
                        return Err(ImplausibleFigure {
                            metric: "expected_shortfall",
                            statistic,
                            area: area(),
                            fy,
                            value,
                        });
                    }
                }
            }
            for metric in NationalMetric::ALL {
                if let Some((statistic, value)) = self.national.get(t, metric).first_implausible() {
                    return Err(ImplausibleFigure {
                        metric: metric.name(),
                        statistic,
                        area: "England".to_string(),
                        fy,
                        value,
                    });
                }
            }
        }
        Ok(())
    }

    /// Council-years simulated: paths x councils x years.
    pub fn council_years(&self) -> u64 {
        (self.paths * self.councils.len() * self.horizon.years.len()) as u64
    }

    pub fn headline(&self) -> Headline {
        let t = self.horizon.override_end;
        Headline {
            paths: self.paths,
            councils: self.councils.len(),
            years: self.horizon.years.len(),
            council_years: self.council_years(),
            override_end: self.horizon.override_end_fy(),
            england_deficit: *self
                .national
                .get(t, NationalMetric::Council(Metric::CumulativeDeficit)),
            councils_over_reserves: *self
                .national
                .get(t, NationalMetric::Council(Metric::DeficitExceedsReserves)),
            sketched: self.percentiles == Percentiles::Sketched,
        }
    }
}

/// What `check` reports: the resolved scenario and how calibration came out across councils.
pub struct CheckReport {
    pub scenario_name: String,
    /// The scenario file and the files it extends, child first.
    pub files: Vec<std::path::PathBuf>,
    pub seeds_dir: std::path::PathBuf,
    pub councils_in_seeds: usize,
    pub horizon: Horizon,
    pub councils_calibrated: usize,
    pub cost_scale_clamped: usize,
    pub cost_scale: Stats,
    /// Log growth per year.
    pub growth_prior: Stats,
    /// New plans per plan per year.
    pub new_rate: Stats,
    /// Councils with no own year of new-plan mix known, which use England's entry mix.
    pub england_entry_mix: usize,
    /// Published national totals that are sums of council tables, and how many the seeds match.
    pub totals_checked: usize,
    pub totals_matching: usize,
    /// Problems with the seeds that do not stop a run (for stderr).
    pub warnings: Vec<String>,
}

/// Warnings for seed files that differ from the shipped ones and for council tables that do not
/// add up to a published national total.
fn seed_warnings(baseline: &Baseline) -> Vec<String> {
    let mut warnings = baseline.hash_warnings();
    for check in baseline.total_checks().iter().filter(|c| !c.agrees()) {
        let seeds = match (check.seeds, check.difference()) {
            (Some(v), Some(d)) => format!("{v:.0} ({:+.2}%)", 100.0 * d),
            _ => "nothing for that period".into(),
        };
        warnings.push(format!(
            "national_totals.csv: {} {}: published {:.0}, the council tables give {seeds}; more than {}% apart",
            check.metric,
            check.period,
            check.published,
            100.0 * check.tolerance
        ));
    }
    warnings
}

/// Calibrates a scenario on all the seeds' data and reports the spread across councils and
/// the checks of the seeds.
pub fn check(baseline: &Baseline, scenario: &LoadedScenario) -> Result<CheckReport, InputError> {
    let model = calibrate(baseline, scenario, Vintage::latest())?;
    let totals = baseline.total_checks();
    let spread = |f: fn(&crate::calibration::CouncilModel) -> f64| {
        let mut v: Vec<f64> = model.councils.iter().map(f).collect();
        crate::summary::stats(&mut v)
    };
    Ok(CheckReport {
        scenario_name: scenario.scenario.name.clone(),
        files: scenario.files.clone(),
        seeds_dir: baseline.dir.clone(),
        councils_in_seeds: baseline.councils.len(),
        horizon: Horizon {
            years: model.schedule.years.clone(),
            override_end: model.schedule.override_end,
        },
        councils_calibrated: model.councils.len(),
        cost_scale_clamped: model
            .councils
            .iter()
            .filter(|c| c.cost_scale_clamped)
            .count(),
        cost_scale: spread(|c| c.cost_scale),
        growth_prior: spread(|c| c.growth_prior),
        new_rate: spread(|c| c.new_rate),
        england_entry_mix: model
            .councils
            .iter()
            .filter(|c| c.entry_mix_year.is_none())
            .count(),
        totals_checked: totals.len(),
        totals_matching: totals.iter().filter(|c| c.agrees()).count(),
        warnings: seed_warnings(baseline),
    })
}
