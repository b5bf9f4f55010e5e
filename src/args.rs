//! The binary's command line (not part of the library): the raw arguments as clap parses them,
//! then `Common::prepare`, which loads and validates them into what a command runs on.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use highneeds::engine::RunConfig;
use highneeds::export;
use highneeds::export::manifest::Provenance;
use highneeds::run::{Inputs, Summaries};
use highneeds::scenario::{self, LoadedScenario};
use highneeds::seeds::Baseline;
use highneeds::sketch::Percentiles;
use highneeds::sweep::Shard;
use highneeds::{FinancialYear, InputError};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

#[derive(Parser)]
#[command(
    name = "highneeds",
    version,
    about = "Projects English councils' high-needs (SEND) DSG deficits with a Monte Carlo model"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Project every council and England under a scenario and write CSVs, charts, a report and a manifest.
    Run {
        #[command(flatten)]
        common: Common,
        /// Local figures (CSV `la_code,figure,value,date`): councils' own balances, forecast
        /// overspends, EHCPs, reserves and HNB, pinned in their years (see README)
        #[arg(long)]
        local: Option<PathBuf>,
        /// Output folder [default: out/<scenario name>/]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also draw this council's fan chart (DfE code, e.g. 886); repeat for more.
        #[arg(long = "council", value_name = "CODE")]
        councils: Vec<String>,
    },
    /// Remake report.html, summary.md and the charts of a finished run folder.
    Report(ReportArgs),
    /// Write councils' projections as an Excel workbook shaped like DfE's DSG management plan.
    ExportPlan(ExportPlanArgs),
    /// Validate a scenario and the seeds, and print the resolved scenario.
    Check {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Folder holding the baseline data [default: ./seeds, else the crate's seeds/]
        #[arg(long)]
        seeds: Option<PathBuf>,
    },
    /// Run two scenarios on common random numbers and report B - A per council and for England.
    Compare {
        /// Scenario A, the reference (TOML); it sets the default paths and seed.
        a: PathBuf,
        /// Scenario B, compared with A (TOML).
        b: PathBuf,
        #[command(flatten)]
        flags: RunFlags,
        /// Seed for B [default: A's, so both share their random numbers]; another seed gives the
        /// difference of independent runs, for contrast.
        #[arg(long)]
        seed_b: Option<u64>,
        /// Output folder [default: out/compare-<A name>-<B name>/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a grid of variants of a scenario (--set) on common random numbers into one folder.
    Sweep {
        #[command(flatten)]
        common: Common,
        /// A scenario key and the values it takes, `KEY=V1,V2,...`, the key dotted as `highneeds
        /// check` prints it; each value is checked as the scenario file would be. Repeat for more
        /// keys: every combination runs
        #[arg(long = "set", value_name = "KEY=V1,V2,...", required = true)]
        sets: Vec<String>,
        /// Run only shard K of N (counted from 0): variant i runs in shard i mod N. Join the
        /// shards' folders with `highneeds merge`
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
        /// Local figures (CSV `la_code,figure,value,date`), as for `run`
        #[arg(long)]
        local: Option<PathBuf>,
        /// Output folder [default: out/sweep-<scenario name>/, a shard's
        /// out/sweep-<scenario name>-shard-K-of-N/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Join the folders of a sharded sweep into what one `highneeds sweep` would have written.
    Merge {
        /// The shards' folders, each written by `highneeds sweep --shard K/N` (in any order).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output folder (not one of the shards)
        #[arg(long)]
        out: PathBuf,
    },
    /// Move each `[[sensitivity]]` input to its low and high value on common random numbers;
    /// write a tornado chart and each drawn parameter's rank correlation with the headline.
    Sensitivity {
        #[command(flatten)]
        common: Common,
        /// Output folder [default: out/sensitivity-<scenario name>/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Project from an earlier year using only data known then, and score against what happened.
    Backtest {
        #[command(flatten)]
        common: Common,
        /// Last financial year whose data the back-test may use, e.g. 2021-22.
        #[arg(long)]
        origin: FinancialYear,
        /// Government decisions after the origin: `as-of` knows only the allocations announced
        /// and agreements signed by then; `as-happened` knows them as they happened (data stay
        /// at the origin).
        #[arg(long, value_enum, default_value = "as-of")]
        policy: PolicyArg,
        /// Output folder [default: out/backtest-<scenario name>-<origin>[-as-happened]/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `backtest --policy`: see `highneeds::backtest::Policy`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PolicyArg {
    AsOf,
    AsHappened,
}

impl From<PolicyArg> for highneeds::backtest::Policy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::AsOf => highneeds::backtest::Policy::AsOf,
            PolicyArg::AsHappened => highneeds::backtest::Policy::AsHappened,
        }
    }
}

#[derive(Args)]
pub struct ReportArgs {
    /// Output folder of a `highneeds run` (with its CSVs and manifest.json).
    pub run_dir: PathBuf,
    /// Also draw this council's fan chart (DfE code, e.g. 886); repeat for more.
    #[arg(long = "council", value_name = "CODE")]
    pub councils: Vec<String>,
    /// Folder to write into [default: RUN_DIR]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Accepted like run's; there is no progress bar to hide (the `wrote ...` line is printed).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct ExportPlanArgs {
    /// Output folder of a `highneeds run` (with its CSVs and manifest.json).
    pub run_dir: PathBuf,
    /// Council to export (DfE code, e.g. 886); repeat for more (a sheet each).
    #[arg(long = "council", value_name = "CODE", required_unless_present = "all")]
    pub councils: Vec<String>,
    /// Every council, a sheet each.
    #[arg(long, conflicts_with = "councils")]
    pub all: bool,
    /// Workbook to write [default: RUN_DIR/dsg_plan_<CODE>.xlsx, or dsg_plan_all.xlsx]; an
    /// existing folder gets one workbook per council.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Accepted like run's; there is no progress bar to hide (the `wrote ...` line is printed).
    #[arg(long)]
    pub quiet: bool,
}

impl ReportArgs {
    /// Remakes the briefing files (`--quiet` has no bar to hide); returns the `wrote` line.
    pub fn write(&self) -> Result<String> {
        export::write_briefing(&self.run_dir, self.out.as_deref(), &self.councils)
    }
}

impl ExportPlanArgs {
    /// Writes the workbooks (`--quiet` has no bar to hide); returns the `wrote` line.
    pub fn write(&self) -> Result<String> {
        export::write_plans(&self.run_dir, &self.councils, self.all, self.out.as_deref())
    }
}

#[derive(Args)]
pub struct Common {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    pub flags: RunFlags,
}

/// The flags of a run: size, seed, threads, progress and seeds.
#[derive(Args)]
pub struct RunFlags {
    /// Number of Monte Carlo paths [default: the scenario's run.paths]
    #[arg(long)]
    paths: Option<usize>,
    /// Master seed [default: the scenario's run.seed]
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores; at most 4 per logical CPU]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Hide the progress bar (the results summary is still printed).
    #[arg(long)]
    pub quiet: bool,
    /// Folder holding the baseline data [default: ./seeds, else the crate's seeds/]
    #[arg(long)]
    seeds: Option<PathBuf>,
}

/// `--threads` may be at most this many times the machine's logical CPUs.
pub const THREADS_PER_CPU: usize = 4;

/// The seeds folder: as given, else ./seeds, else the crate's own.
pub fn seeds_dir(given: &Option<PathBuf>) -> PathBuf {
    match given {
        Some(p) => p.clone(),
        None if Path::new("seeds").is_dir() => PathBuf::from("seeds"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"),
    }
}

/// A command's validated inputs.
pub struct Prepared {
    pub scenario: LoadedScenario,
    pub baseline: Baseline,
    pub config: RunConfig,
    pub pool: rayon::ThreadPool,
    pub threads: usize,
    /// `--quiet`: hide the progress bar.
    pub quiet: bool,
    /// How `run` and `sweep` compute this run's percentiles (the other commands hold every
    /// path).
    pub percentiles: Percentiles,
}

/// What a command keeps of the paths it simulates, for the memory check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeps {
    /// Summaries only (`run`, `sweep`): above the sketch threshold the paths run in chunks.
    Summaries,
    /// Every path's results (`sensitivity`, `backtest`), exact at every size.
    EveryPath,
    /// Every path's results of two runs, paired path by path (`compare`).
    Paired,
}

/// The environment variable that lowers (or raises) the path count above which `run` and
/// `sweep` sketch their percentiles (for tests and checks of the sketch on small runs).
pub const SKETCH_ABOVE_VAR: &str = "HIGHNEEDS_SKETCH_ABOVE";

/// Paths above which percentiles are sketched: `HIGHNEEDS_SKETCH_ABOVE` if set, else
/// [`highneeds::sketch::SKETCH_ABOVE_PATHS`].
fn sketch_above() -> Result<usize> {
    match std::env::var(SKETCH_ABOVE_VAR) {
        Ok(v) => v.trim().parse().map_err(|_| {
            InputError::invalid(
                SKETCH_ABOVE_VAR,
                format!("`{v}` is not a whole number of paths (0 or more)"),
            )
            .into()
        }),
        Err(_) => Ok(highneeds::sketch::SKETCH_ABOVE_PATHS),
    }
}

/// When a command's work started and how long it took.
pub struct Clock {
    pub started: SystemTime,
    pub wall_seconds: f64,
}

impl Prepared {
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            baseline: &self.baseline,
            scenario: &self.scenario,
            config: self.config,
        }
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.scenario.scenario.name
    }

    /// Runs `work` on the command's threads behind a progress bar of `steps` ticks (hidden under
    /// `--quiet`); returns its result and the clock.
    pub fn with_progress<T: Send>(
        &self,
        what: &str,
        steps: u64,
        work: impl FnOnce(&(dyn Fn() + Sync)) -> T + Send,
    ) -> (T, Clock) {
        let (started, clock) = (SystemTime::now(), Instant::now());
        let bar = crate::terminal::progress_bar(self.quiet, steps, what);
        let value = self.pool.install(|| work(&|| bar.inc(1)));
        bar.finish_and_clear();
        let wall_seconds = clock.elapsed().as_secs_f64();
        (
            value,
            Clock {
                started,
                wall_seconds,
            },
        )
    }

    /// The manifest's record of this command.
    pub fn provenance(&self, clock: &Clock) -> Provenance<'_> {
        Provenance {
            inputs: self.inputs(),
            threads: self.threads,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            started: clock.started,
            wall_seconds: clock.wall_seconds,
        }
    }

    /// Refuses runs of `years` years kept as `run` keeps them that would not fit in memory
    /// (`prepare` checks the scenario's own horizon).
    pub fn check_memory(&self, years: usize) -> Result<()> {
        let summaries = summaries(self.percentiles, self.baseline.councils.len());
        if let Some(available) = available_memory() {
            highneeds::run::check_memory_for(
                self.config.paths,
                years,
                self.threads,
                available,
                summaries,
            )?;
        }
        Ok(())
    }
}

/// The output folder: as given, else `out/NAME`.
pub fn out_dir(given: Option<PathBuf>, name: &str) -> PathBuf {
    given.unwrap_or_else(|| PathBuf::from("out").join(name))
}

/// The memory check's view of a run with `percentiles` over `councils` councils.
fn summaries(percentiles: Percentiles, councils: usize) -> Summaries {
    match percentiles {
        Percentiles::Exact => Summaries::Exact,
        Percentiles::Sketched => Summaries::Sketched { councils },
    }
}

impl Common {
    pub fn prepare(&self, keeps: Keeps) -> Result<Prepared> {
        self.flags.prepare(&self.scenario, keeps)
    }
}

impl RunFlags {
    /// Loads `scenario` and the seeds; the run's paths and seed default to the scenario's.
    pub fn prepare(&self, scenario: &Path, keeps: Keeps) -> Result<Prepared> {
        let scenario = scenario::load(scenario)?;
        let baseline = Baseline::load(&seeds_dir(&self.seeds))?;
        let paths = self.paths.unwrap_or(scenario.scenario.run.paths);
        if !scenario::paths_allowed(paths) {
            return Err(InputError::invalid("--paths", scenario::PATHS_ALLOWED).into());
        }
        let config = RunConfig {
            paths,
            seed: self.seed.unwrap_or(scenario.scenario.run.seed),
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let max_threads = THREADS_PER_CPU * cpus;
        let threads = self.threads.unwrap_or(cpus);
        if threads == 0 {
            return Err(InputError::invalid("--threads", "must be at least 1").into());
        }
        if threads > max_threads {
            let message = format!(
                "{threads} is too many: at most {max_threads} ({THREADS_PER_CPU} per logical CPU; \
                 this machine has {cpus}); more threads only slow a run down"
            );
            return Err(InputError::invalid("--threads", message).into());
        }
        let percentiles = match keeps {
            Keeps::Summaries => Percentiles::for_paths(paths, sketch_above()?),
            Keeps::EveryPath | Keeps::Paired => Percentiles::Exact,
        };
        if let Some(available) = available_memory() {
            let h = &scenario.scenario.horizon;
            let years = (h.last_fy.0 - h.first_fy.0 + 1) as usize;
            let summaries = match keeps {
                Keeps::Paired => Summaries::Paired {
                    councils: baseline.councils.len(),
                },
                _ => summaries(percentiles, baseline.councils.len()),
            };
            highneeds::run::check_memory_for(paths, years, threads, available, summaries)?;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("cannot start worker threads")?;
        Ok(Prepared {
            scenario,
            baseline,
            config,
            pool,
            threads,
            quiet: self.quiet,
            percentiles,
        })
    }
}

/// Memory the system can give a new process now (Linux `MemAvailable`), if known.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
