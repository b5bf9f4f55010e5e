//! The body of each command: prepare its inputs, call the library, write the exports, print
//! what the terminal shows. `main.rs` parses the arguments and picks one of these.

use crate::args::{self, Common, Keeps, RunFlags};
use crate::terminal;
use anyhow::Result;
use highneeds::backtest::Policy;
use highneeds::calibration::Vintage;
use highneeds::export;
use highneeds::sweep::Shard;
use highneeds::{scenario, seeds::Baseline, FinancialYear};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(
    common: Common,
    local: Option<PathBuf>,
    out: Option<PathBuf>,
    councils: &[String],
) -> Result<()> {
    let mut p = common.prepare(Keeps::Summaries)?;
    if let Some(path) = local {
        p.baseline = p.baseline.with_local(&path)?;
    }
    export::check_run(&p.scenario, &p.baseline, councils)?;
    let out = args::out_dir(out, p.name());
    let councils_n = p.baseline.councils.len();
    let steps = highneeds::run::progress_steps(p.config.paths, councils_n, p.percentiles);
    let (result, clock) = p.with_progress(p.name(), steps, |progress| {
        highneeds::run::project_with(p.inputs(), Vintage::latest(), p.percentiles, progress)
    });
    let report = result?.report(p.name());
    // On the command's threads: the files are made side by side where they can be.
    let provenance = p.provenance(&clock);
    p.pool
        .install(|| export::write_run(&out, &report, &provenance, councils))?;
    let w = &mut std::io::stdout().lock();
    terminal::print_headline(w, &report.headline(), clock.wall_seconds, &out)?;
    Ok(())
}

pub fn compare(
    a: &Path,
    b: &Path,
    flags: RunFlags,
    seed_b: Option<u64>,
    out: Option<PathBuf>,
) -> Result<()> {
    let p = flags.prepare(a, Keeps::Paired)?;
    let seed_b = seed_b.unwrap_or(p.config.seed);
    let b = scenario::load(b)?;
    let name = format!("compare-{}-{}", p.name(), b.scenario.name);
    let out = args::out_dir(out, &name);
    let steps = 2 * p.baseline.councils.len() as u64;
    let (comparison, _) = p.with_progress(&name, steps, |progress| {
        highneeds::compare::compare(&p.baseline, &p.scenario, &b, p.config, seed_b, progress)
    });
    let comparison = comparison?;
    export::write_compare(&out, &comparison)?;
    terminal::print_comparison(&mut std::io::stdout().lock(), &comparison, &out)?;
    Ok(())
}

pub fn sweep(
    common: Common,
    sets: &[String],
    shard: Option<Shard>,
    local: Option<PathBuf>,
    out: Option<PathBuf>,
) -> Result<()> {
    let mut p = common.prepare(Keeps::Summaries)?;
    if let Some(path) = local {
        p.baseline = p.baseline.with_local(&path)?;
    }
    let plan = highneeds::sweep::plan(&p.scenario, &p.baseline, sets, p.config, shard)?;
    p.check_memory(plan.max_years())?;
    let out = out.unwrap_or_else(|| highneeds::sweep::default_folder(&plan.manifest, shard));
    let per_variant =
        highneeds::run::progress_steps(p.config.paths, p.baseline.councils.len(), p.percentiles);
    let steps = plan.variants.len() as u64 * per_variant;
    let (done, clock) = p.with_progress("sweep", steps, |progress| {
        highneeds::sweep::run(&plan, &p.baseline, p.threads, p.percentiles, &out, progress)
    });
    terminal::print_sweep(
        &mut std::io::stdout().lock(),
        &plan,
        &done?,
        clock.wall_seconds,
        &out,
    )
}

pub fn merge(shards: &[PathBuf], out: &Path) -> Result<()> {
    let manifest = highneeds::sweep::merge(shards, out)?;
    let (n, variants) = (shards.len(), manifest.variants.len());
    writeln!(
        std::io::stdout(),
        "merged {n} shards ({variants} variants); wrote {}",
        out.display()
    )?;
    Ok(())
}

pub fn sensitivity(common: Common, out: Option<PathBuf>) -> Result<()> {
    let p = common.prepare(Keeps::EveryPath)?;
    let name = format!("sensitivity-{}", p.name());
    let out = args::out_dir(out, &name);
    let steps = highneeds::sensitivity::progress_steps(&p.scenario, p.baseline.councils.len());
    let (s, clock) = p.with_progress(&name, steps, |progress| {
        highneeds::sensitivity::sensitivity(&p.baseline, &p.scenario, p.config, progress)
    });
    let s = s?;
    export::write_sensitivity(&out, &s, &p.provenance(&clock))?;
    terminal::print_sensitivity(&mut std::io::stdout().lock(), &s, &out)?;
    Ok(())
}

pub fn check(path: &Path, seeds: &Option<PathBuf>) -> Result<()> {
    let scenario = scenario::load(path)?;
    let baseline = Baseline::load(&args::seeds_dir(seeds))?;
    let report = highneeds::run::check(&baseline, &scenario)?;
    let w = &mut std::io::stdout().lock();
    terminal::print_check(w, &report)?;
    terminal::print_warnings(&report.warnings)?;
    write!(w, "{}", scenario.resolved_toml())?;
    Ok(())
}

pub fn backtest(
    common: Common,
    origin: FinancialYear,
    policy: Policy,
    out: Option<PathBuf>,
) -> Result<()> {
    let p = common.prepare(Keeps::EveryPath)?;
    export::size::check_backtest(&p.scenario, &p.baseline)?;
    let out = args::out_dir(
        out,
        &highneeds::backtest::folder_name(p.name(), origin, policy),
    );
    let steps = p.baseline.councils.len() as u64;
    let (bt, clock) = p.with_progress(&format!("backtest {origin}"), steps, |progress| {
        highneeds::backtest::backtest_with(p.inputs(), origin, policy, progress)
    });
    let bt = bt?;
    export::write_backtest(&out, &bt, &p.provenance(&clock))?;
    let w = &mut std::io::stdout().lock();
    write!(w, "{}", highneeds::backtest::table(&bt))?;
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}
