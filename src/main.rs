//! The `highneeds` command line: parse, call the library, map errors to exit codes
//! (0 ok, 2 bad input, 1 other failure).

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use highneeds::calibration::Vintage;
use highneeds::engine::RunConfig;
use highneeds::output::{self, InputHash, Manifest, Staged};
use highneeds::scenario::{self, LoadedScenario};
use highneeds::seeds::Baseline;
use highneeds::{FinancialYear, InputError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "highneeds",
    version,
    about = "Projects English councils' high-needs (SEND) DSG deficits with a Monte Carlo model"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Project every council and England under a scenario and write CSVs, charts and a manifest.
    Run {
        #[command(flatten)]
        common: Common,
        /// Output folder [default: out/<scenario name>/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate a scenario and the seeds, and print the resolved scenario.
    Check {
        scenario: PathBuf,
        /// Folder holding the baseline data [default: ./seeds, else the crate's seeds/]
        #[arg(long)]
        seeds: Option<PathBuf>,
    },
    /// Project from an earlier year using only data known then, and score against what happened.
    Backtest {
        #[command(flatten)]
        common: Common,
        /// Last financial year whose data the back-test may use, e.g. 2021-22.
        #[arg(long)]
        origin: FinancialYear,
        /// Output folder [default: out/backtest-<scenario name>-<origin>/]
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct Common {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Number of Monte Carlo paths [default: the scenario's run.paths]
    #[arg(long)]
    paths: Option<usize>,
    /// Master seed [default: the scenario's run.seed]
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Folder holding the baseline data [default: ./seeds, else the crate's seeds/]
    #[arg(long)]
    seeds: Option<PathBuf>,
}

fn seeds_dir(given: &Option<PathBuf>) -> PathBuf {
    match given {
        Some(p) => p.clone(),
        None if Path::new("seeds").is_dir() => PathBuf::from("seeds"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"),
    }
}

fn main() {
    let cli = Cli::parse();
    let code = match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            // A reader that closed early (`| head`) is not a failure.
            if is_broken_pipe(&e) {
                std::process::exit(0);
            }
            eprintln!("error: {e:#}");
            if e.chain().any(|c| c.is::<InputError>()) {
                2
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run { common, out } => run(common, out),
        Command::Check { scenario, seeds } => check(&scenario, &seeds),
        Command::Backtest {
            common,
            origin,
            out,
        } => backtest(common, origin, out),
    }
}

struct Prepared {
    scenario: LoadedScenario,
    baseline: Baseline,
    config: RunConfig,
    pool: rayon::ThreadPool,
    threads: usize,
}

fn prepare(common: &Common) -> Result<Prepared> {
    let scenario = scenario::load(&common.scenario)?;
    let baseline = Baseline::load(&seeds_dir(&common.seeds))?;
    let paths = common.paths.unwrap_or(scenario.scenario.run.paths);
    if paths == 0 {
        return Err(InputError::invalid("--paths", "must be at least 1").into());
    }
    let config = RunConfig {
        paths,
        seed: common.seed.unwrap_or(scenario.scenario.run.seed),
    };
    let threads = common
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(InputError::invalid("--threads", "must be at least 1").into());
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
    })
}

fn progress_bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} councils ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn inputs(p: &Prepared) -> Result<Vec<InputHash>> {
    let mut v = Vec::new();
    for f in &p.scenario.files {
        v.push(InputHash {
            file: f.display().to_string(),
            sha256: output::sha256_file(f)?,
        });
    }
    for (name, hash) in &p.baseline.hashes {
        v.push(InputHash {
            file: p.baseline.dir.join(name).display().to_string(),
            sha256: hash.clone(),
        });
    }
    Ok(v)
}

fn run(common: Common, out: Option<PathBuf>) -> Result<()> {
    let p = prepare(&common)?;
    let name = p.scenario.scenario.name.clone();
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&name));
    let started = std::time::SystemTime::now();
    let clock = Instant::now();
    let bar = progress_bar(common.quiet, p.baseline.councils.len() as u64, &name);
    let result = p.pool.install(|| {
        highneeds::run::project(
            &p.baseline,
            &p.scenario,
            Vintage::latest(),
            p.config,
            &|| bar.inc(1),
        )
    })?;
    bar.finish_and_clear();
    let wall = clock.elapsed().as_secs_f64();
    let council_years =
        (p.config.paths * result.model.councils.len() * result.model.schedule.years.len()) as u64;

    let mut staged = Staged::new(&out)?;
    staged.file("councils.csv", |w| {
        output::write_councils_csv(w, &name, &result)
    })?;
    staged.file("national.csv", |w| {
        output::write_national_csv(w, &name, &result)
    })?;
    staged.file("summary.csv", |w| {
        output::write_summary_csv(w, &name, &result)
    })?;
    staged.file("councils_over_reserves.csv", |w| {
        output::write_councils_over_reserves_csv(w, &name, &result)
    })?;
    staged.file("national_deficit.svg", |w| {
        output::write_fan_chart(
            w,
            &format!("England: cumulative high-needs deficit, councils in deficit ({name})"),
            1e9,
            "£ billion (nominal)",
            &result,
            "cumulative_deficit",
        )
    })?;
    staged.file("national_ehcps.svg", |w| {
        output::write_fan_chart(
            w,
            &format!("England: EHCPs in force each January ({name})"),
            1e3,
            "thousand plans",
            &result,
            "ehcps",
        )
    })?;
    let tl = &result.model.schedule;
    let manifest = Manifest {
        program: "highneeds",
        version: env!("CARGO_PKG_VERSION"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        scenario_name: name.clone(),
        scenario: &p.scenario.scenario,
        seed: p.config.seed,
        paths: p.config.paths,
        threads: p.threads,
        data_cutoff: None,
        first_fy: tl.years[0].to_string(),
        last_fy: tl.years[tl.years.len() - 1].to_string(),
        override_end_fy: tl.years[tl.override_end].to_string(),
        inputs: inputs(&p)?,
        started_utc: humantime::format_rfc3339_seconds(started).to_string(),
        wall_seconds: wall,
        council_years,
        council_years_per_second: council_years as f64 / wall.max(1e-9),
        outputs: staged.names(),
    };
    staged.json("manifest.json", &manifest)?;
    staged.commit()?;
    if !common.quiet {
        print_headline(
            &mut std::io::stdout().lock(),
            &result,
            &out,
            wall,
            council_years,
        )?;
    }
    Ok(())
}

fn print_headline(
    w: &mut impl Write,
    r: &highneeds::run::RunResult,
    out: &Path,
    wall: f64,
    council_years: u64,
) -> Result<()> {
    let tl = &r.model.schedule;
    let k = |name: &str| {
        highneeds::engine::NATIONAL_METRICS
            .iter()
            .position(|n| *n == name)
            .unwrap_or(0)
    };
    let n = highneeds::engine::NATIONAL_METRICS.len();
    let t = tl.override_end;
    let d = r.national[t * n + k("cumulative_deficit")];
    let c = r.national[t * n + k("councils_over_reserves")];
    writeln!(
        w,
        "{} paths x {} councils x {} years in {:.2}s ({:.1}M council-years/s)",
        r.config.paths,
        r.model.councils.len(),
        tl.years.len(),
        wall,
        council_years as f64 / wall.max(1e-9) / 1e6
    )?;
    writeln!(
        w,
        "England at the end of {} (override end): deficits of councils in deficit £{:.2}bn (median; 90% band £{:.2}bn to £{:.2}bn)",
        tl.years[t],
        d[3] / 1e9,
        d[1] / 1e9,
        d[5] / 1e9
    )?;
    writeln!(
        w,
        "councils whose deficit exceeds usable reserves: median {:.0} (90% band {:.0} to {:.0})",
        c[3], c[1], c[5]
    )?;
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}

fn check(path: &Path, seeds: &Option<PathBuf>) -> Result<()> {
    let s = scenario::load(path)?;
    let baseline = Baseline::load(&seeds_dir(seeds))?;
    let model = highneeds::calibration::calibrate(&baseline, &s, Vintage::latest())?;
    let w = &mut std::io::stdout().lock();
    let text = toml::to_string_pretty(&s.scenario).context("cannot print the scenario")?;
    let spread = |f: &dyn Fn(&highneeds::calibration::CouncilModel) -> f64| {
        let mut v: Vec<f64> = model.councils.iter().map(f).collect();
        let st = highneeds::summary::stats(&mut v);
        format!("p05 {:.3}, median {:.3}, p95 {:.3}", st[1], st[3], st[5])
    };
    writeln!(
        w,
        "# resolved scenario: {} (from {})",
        s.scenario.name,
        s.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" <- ")
    )?;
    writeln!(
        w,
        "# seeds: {} councils from {}",
        baseline.councils.len(),
        baseline.dir.display()
    )?;
    writeln!(
        w,
        "# horizon {} to {}; override ends in {}; {} councils calibrated ({} with the cost scale clamped)",
        model.schedule.years[0],
        model.schedule.years[model.schedule.years.len() - 1],
        model.schedule.years[model.schedule.override_end],
        model.councils.len(),
        model.councils.iter().filter(|c| c.cost_scale_clamped).count()
    )?;
    writeln!(
        w,
        "# calibration across councils: cost scale {}",
        spread(&|c| c.cost_scale)
    )?;
    writeln!(
        w,
        "# growth prior (log per year) {}",
        spread(&|c| c.growth_prior)
    )?;
    writeln!(
        w,
        "# new-plan rate (per plan per year) {}",
        spread(&|c| c.new_rate)
    )?;
    write!(w, "{text}")?;
    Ok(())
}

fn backtest(common: Common, origin: FinancialYear, out: Option<PathBuf>) -> Result<()> {
    let p = prepare(&common)?;
    let name = p.scenario.scenario.name.clone();
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(format!("backtest-{name}-{origin}")));
    let bar = progress_bar(
        common.quiet,
        p.baseline.councils.len() as u64,
        &format!("backtest {origin}"),
    );
    let clock = Instant::now();
    let bt = p.pool.install(|| {
        highneeds::backtest::backtest(&p.baseline, &p.scenario, origin, p.config, &|| bar.inc(1))
    })?;
    bar.finish_and_clear();
    let wall = clock.elapsed().as_secs_f64();
    let mut staged = Staged::new(&out)?;
    staged.file("backtest.csv", |w| {
        highneeds::backtest::write_rows(w, &name, &bt)
    })?;
    staged.file("backtest_summary.csv", |w| {
        highneeds::backtest::write_summary(w, &name, &bt)
    })?;
    let manifest = serde_json::json!({
        "program": "highneeds",
        "version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "scenario_name": name,
        "scenario": &p.scenario.scenario,
        "origin": origin.to_string(),
        "seed": p.config.seed,
        "paths": p.config.paths,
        "threads": p.threads,
        "inputs": inputs(&p)?,
        "wall_seconds": wall,
    });
    staged.json("manifest.json", &manifest)?;
    staged.commit()?;
    let w = &mut std::io::stdout().lock();
    write!(w, "{}", highneeds::backtest::table(&bt))?;
    if !common.quiet {
        writeln!(w, "wrote {}", out.display())?;
    }
    Ok(())
}
