//! What the binary shows on the terminal: the progress bar, the run's headline and the `check`
//! summary. The figures come from the library as named structs; this only formats them.

use anyhow::Result;
use highneeds::compare::{Comparison, ENGLAND_METRICS};
use highneeds::run::{CheckReport, Headline};
use highneeds::summary::Stats;
use highneeds::sweep::{Plan, VariantDone};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// A bar on stderr counting councils done, unless quiet or stderr is not a terminal.
pub fn progress_bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} councils ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(len).with_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar
}

pub fn print_headline(w: &mut impl Write, h: &Headline, wall: f64, out: &Path) -> Result<()> {
    let rate = h.council_years as f64 / wall.max(1e-9) / 1e6;
    let (paths, councils, years) = (h.paths, h.councils, h.years);
    writeln!(w, "{paths} paths x {councils} councils x {years} years in {wall:.2}s ({rate:.1}M council-years/s)")?;
    let d = h.england_deficit.scaled(1e9);
    writeln!(w, "England at the end of {} (override end): deficits of councils in deficit £{:.2}bn (median; 90% band £{:.2}bn to £{:.2}bn)", h.override_end, d.p50, d.p05, d.p95)?;
    let c = &h.councils_over_reserves;
    writeln!(
        w,
        "councils whose deficit exceeds usable reserves: median {:.0} (90% band {:.0} to {:.0})",
        c.p50, c.p05, c.p95
    )?;
    if h.sketched {
        writeln!(w, "percentiles sketched (more than 100,000 paths by default): each within 0.1% of the exact order statistic; means and probabilities exact")?;
    }
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}

pub fn print_check(w: &mut impl Write, r: &CheckReport) -> Result<()> {
    let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
    let spread = |s: &Stats| format!("p05 {:.3}, median {:.3}, p95 {:.3}", s.p05, s.p50, s.p95);
    let h = &r.horizon;
    writeln!(
        w,
        "# resolved scenario: {} (from {})",
        r.scenario_name,
        files.join(" <- ")
    )?;
    writeln!(
        w,
        "# seeds: {} councils from {}",
        r.councils_in_seeds,
        r.seeds_dir.display()
    )?;
    writeln!(w, "# horizon {} to {}; override ends in {}; {} councils calibrated ({} with the cost scale clamped)", h.first(), h.last(), h.override_end_fy(), r.councils_calibrated, r.cost_scale_clamped)?;
    writeln!(
        w,
        "# calibration across councils: cost scale {}",
        spread(&r.cost_scale)
    )?;
    writeln!(
        w,
        "# growth prior (log per year) {}",
        spread(&r.growth_prior)
    )?;
    writeln!(
        w,
        "# new-plan rate (per plan per year) {}",
        spread(&r.new_rate)
    )?;
    writeln!(
        w,
        "# entry mix: own new plans for {} councils, England's for {} (no own year in new_plans_mix.csv)",
        r.councils_calibrated - r.england_entry_mix,
        r.england_entry_mix
    )?;
    writeln!(
        w,
        "# national_totals.csv: {} of {} published totals match the sums of the council tables",
        r.totals_matching, r.totals_checked
    )?;
    Ok(())
}

/// Warnings on stderr, one a line.
pub fn print_warnings(warnings: &[String]) -> Result<()> {
    let w = &mut std::io::stderr().lock();
    for warning in warnings {
        writeln!(w, "warning: {warning}")?;
    }
    Ok(())
}

/// England's paired difference at the override end, and where the files went.
pub fn print_comparison(w: &mut impl Write, c: &Comparison, out: &Path) -> Result<()> {
    let t = c.horizon.override_end;
    let fy = c.horizon.override_end_fy();
    let pairing = if c.seed == c.seed_b {
        format!("on common random numbers (seed {})", c.seed)
    } else {
        format!("on independent runs (seeds {} and {})", c.seed, c.seed_b)
    };
    writeln!(w, "{} - {} {pairing}, {} paths", c.b, c.a, c.paths)?;
    for (k, metric) in ENGLAND_METRICS.iter().enumerate() {
        let d = &c.england[t][k];
        let s = d.difference;
        let (p, se) = d.p_b_lower;
        let money = metric.unit() == highneeds::metric::Unit::Pounds;
        let (by, unit, decimals) = if money { (1e9, "bn", 2) } else { (1.0, "", 1) };
        let f = |v: f64| format!("{:.decimals$}{unit}", v / by);
        writeln!(
            w,
            "England {metric} at the end of {fy}: difference median {} (90% band {} to {}), P(B < A) {p:.3} (s.e. {se:.3})",
            f(s.p50),
            f(s.p05),
            f(s.p95)
        )?;
    }
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}

/// A sweep's variants, one line each, then what ran and where it went.
pub fn print_sweep(
    w: &mut impl Write,
    plan: &Plan,
    done: &[VariantDone],
    wall: f64,
    out: &Path,
) -> Result<()> {
    for v in done {
        let h = &v.headline;
        let d = h.england_deficit.scaled(1e9);
        writeln!(
            w,
            "{} {}: England's deficit at the end of {} £{:.2}bn (median; 90% band £{:.2}bn to £{:.2}bn), councils over reserves median {:.0} ({:.1}s)",
            v.name,
            v.settings.join(" "),
            h.override_end,
            d.p50,
            d.p05,
            d.p95,
            h.councils_over_reserves.p50,
            v.wall_seconds
        )?;
    }
    let m = &plan.manifest;
    let (ran, total, paths) = (done.len(), m.variants.len(), m.paths);
    match &m.shard {
        Some(s) => writeln!(w, "shard {}/{}: {ran} of {total} variants x {paths} paths in {wall:.2}s (join the shards with `highneeds merge`)", s.index, s.count)?,
        None => writeln!(w, "{ran} variants x {paths} paths in {wall:.2}s")?,
    }
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}

/// The sensitivity's table on the terminal: each input by swing in the headline, its low and
/// high values and the median changes in every measure.
pub fn print_sensitivity(
    w: &mut impl Write,
    s: &highneeds::sensitivity::Sensitivity,
    out: &Path,
) -> Result<()> {
    use highneeds::scenario::value_label;
    writeln!(
        w,
        "{}: {} inputs at their low and high values on common random numbers (seed {}), {} paths",
        s.scenario,
        s.inputs.len(),
        s.seed,
        s.paths
    )?;
    for (k, (measure, fy)) in s.measures.iter().enumerate() {
        let money = measure.metric.unit() == highneeds::metric::Unit::Pounds;
        let f = |v: f64| {
            if money {
                format!("{:+.2}bn", v / 1e9)
            } else {
                format!("{v:+.1}")
            }
        };
        let base = s.base[k].p50;
        let base = if money {
            format!("{:.2}bn", base / 1e9)
        } else {
            format!("{base:.1}")
        };
        writeln!(
            w,
            "England {} in {fy} (base median {base}): change, low / high",
            measure.metric
        )?;
        for e in s.by_swing() {
            writeln!(
                w,
                "  {:<42} {:>14} / {:<14} {:>9} / {:<9}",
                e.input.label,
                value_label(&e.input.low),
                value_label(&e.input.high),
                f(e.low[k].difference.p50),
                f(e.high[k].difference.p50),
            )?;
        }
    }
    writeln!(w, "wrote {}", out.display())?;
    Ok(())
}

/// Prints one line to stdout (what a command wrote).
pub fn say(line: &str) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}
