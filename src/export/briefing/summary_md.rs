//! `summary.md`: a run's answer in plain English, each figure followed by the CSV cell it
//! comes from (file, line, column), so a reader can check it.

use super::folder::{Band, RunFolder, NATIONAL_CSV, SUMMARY_CSV};
use super::{bn, count, fy_end_date, fy_end_year, money, pct, whole};
use std::fmt::Write;

/// How many councils the "most at risk" table lists.
pub const MOST_AT_RISK: usize = 10;

/// The sensitivity table a `highneeds sensitivity` run leaves in the folder, if any.
pub const SENSITIVITY_CSV: &str = "sensitivity.csv";

fn cite(file: &str, b: &Band, columns: &str) -> String {
    format!("`{file}` line {}, {columns}", b.line)
}

pub fn render(f: &RunFolder) -> String {
    let mut s = String::new();
    heading(&mut s, f);
    england(&mut s, f);
    most_at_risk(&mut s, f);
    let _ = writeln!(s, "## What drives the answer");
    let _ = writeln!(s);
    s.push_str(&drivers(f));
    let _ = writeln!(s);
    key_assumptions(&mut s, f);
    s
}

/// The title, the run's scenario, paths, seed and version, and how to read the figures.
fn heading(s: &mut String, f: &RunFolder) {
    let info = &f.info;
    let _ = writeln!(s, "# {}: what this run says", info.scenario_name);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Scenario `{}`: {}. {} Monte Carlo paths, seed {}, `highneeds` {}{}.",
        info.scenario_name,
        f.term("description")
            .unwrap_or_default()
            .trim_end_matches('.'),
        info.paths,
        info.seed,
        info.program_version,
        info.when()
    );
    let _ = writeln!(
        s,
        "Money is in nominal pounds; a deficit is positive. Each figure is followed by the cell it comes from in this folder (file, line, column), so it can be checked. \"90% band\" means 90% of the simulated paths fall inside it (p05 to p95)."
    );
    let _ = writeln!(s);
}

/// One bullet on an England figure: `- {label}{median}{after} (median), 90% band {p05} to {p95}.
/// ({cell})`, the part up to "(median)" in bold where `bold`.
struct Figure<'a> {
    /// The words before the median, with their own `: ` or space.
    label: String,
    /// Words after the median (e.g. ` of 153`).
    after: String,
    bold: bool,
    /// The metric of `national.csv` the figure is read from.
    metric: &'a str,
    format: fn(f64) -> String,
}

impl Figure<'_> {
    fn line(&self, b: &Band) -> String {
        let bold = if self.bold { "**" } else { "" };
        let columns = format!("metric `{}`, columns `p50`, `p05`, `p95`", self.metric);
        format!(
            "- {bold}{}{}{} (median){bold}, 90% band {} to {}. ({})",
            self.label,
            (self.format)(b.p50),
            self.after,
            (self.format)(b.p05),
            (self.format)(b.p95),
            cite(NATIONAL_CSV, b, &columns)
        )
    }
}

/// A plain figure: label, metric and how its numbers are written.
fn figure<'a>(label: &str, metric: &'a str, format: fn(f64) -> String) -> Figure<'a> {
    Figure {
        label: label.to_string(),
        after: String::new(),
        bold: false,
        metric,
        format,
    }
}

/// England when the override ends (and the year after, and the horizon's end).
fn england(s: &mut String, f: &RunFolder) {
    let t = f.override_end();
    let end = &f.years[t];
    let last = f.years.len() - 1;
    let _ = writeln!(
        s,
        "## England when the override ends ({}, FY {end})",
        fy_end_date(end)
    );
    let _ = writeln!(s);
    let at = |metric: &str, year: usize| f.national(metric).map(|v| v[year]);
    let at_end = [
        Figure {
            bold: true,
            ..figure(
                "High-needs deficits of the councils in deficit: ",
                "cumulative_deficit",
                bn,
            )
        },
        Figure {
            bold: true,
            after: format!(" of {}", f.councils.len()),
            ..figure(
                "Councils whose deficit exceeds their usable reserves: ",
                "councils_over_reserves",
                count,
            )
        },
        figure("Councils in deficit: ", "councils_in_deficit", count),
        figure(
            &format!(
                "EHCPs in force at the January {} census: ",
                fy_end_year(end)
            ),
            "ehcps",
            whole,
        ),
        figure(
            "Deficits in excess of councils' usable reserves, summed over councils: ",
            "shortfall",
            bn,
        ),
    ];
    for fig in &at_end {
        if let Some(b) = at(fig.metric, t) {
            let _ = writeln!(s, "{}", fig.line(&b));
        }
    }
    if t + 1 < f.years.len() {
        if let Some(b) = at("central_pressure", t + 1).filter(|b| b.p95 > 0.0) {
            let label = format!(
                "In FY {}, the first year after the override, overspend absorbed centrally: ",
                f.years[t + 1]
            );
            let _ = writeln!(s, "{}", figure(&label, "central_pressure", bn).line(&b));
        }
    }
    if let Some(b) = at("cumulative_deficit", last) {
        let label = format!(
            "Later on, at the end of FY {}: deficits of councils in deficit ",
            f.years[last]
        );
        let _ = writeln!(s, "{}", figure(&label, "cumulative_deficit", bn).line(&b));
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "England's figures are summed over councils path by path and only then summarised, so they are not the sum of the councils' medians."
    );
    let _ = writeln!(s);
}

/// The table of the councils most likely to have a deficit over their reserves.
fn most_at_risk(s: &mut String, f: &RunFolder) {
    let _ = writeln!(s, "## The councils most at risk");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Ranked by the probability that the council's DSG deficit exceeds its usable reserves when the override ends. The probability's Monte Carlo standard error (from {} paths) is shown after the ±. Reserves are an estimate (see the README); where a council knows better, set `reserves.overrides` in the scenario.",
        f.info.paths
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| rank | council | P(deficit > reserves) | median deficit (90% band) | median reserves | `{SUMMARY_CSV}` line |"
    );
    let _ = writeln!(s, "|---:|---|---:|---:|---:|---:|");
    for (i, c) in f.ranked_by_risk().iter().take(MOST_AT_RISK).enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} ({}){} | {} ± {} | {} ({} to {}) | {} | {} |",
            i + 1,
            c.la_name,
            c.la_code,
            if c.safety_valve { ", safety valve" } else { "" },
            pct(c.p_deficit_exceeds_reserves),
            pct(c.p_deficit_exceeds_reserves_se),
            money(c.deficit_p50),
            money(c.deficit_p05),
            money(c.deficit_p95),
            money(c.reserves),
            c.line
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Columns of `{SUMMARY_CSV}`: `p_deficit_exceeds_reserves`, `p_deficit_exceeds_reserves_se`, `deficit_p50`, `deficit_p05`, `deficit_p95`, `reserves`. Every council is in `{SUMMARY_CSV}` and in `report.html`."
    );
    let _ = writeln!(s);
}

/// The scenario's key assumptions and the command that reproduces the folder.
fn key_assumptions(s: &mut String, f: &RunFolder) {
    let _ = writeln!(s, "## The scenario's key assumptions");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "From the resolved scenario recorded in `manifest.json` (key `scenario`); `highneeds check` prints it in full."
    );
    let _ = writeln!(s);
    for line in assumptions(f) {
        let _ = writeln!(s, "- {line}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "To reproduce this folder: `{}` with the inputs whose SHA-256 are listed in `manifest.json`.",
        if f.info.command.is_empty() {
            "highneeds run SCENARIO --seed SEED --paths PATHS".to_string()
        } else {
            f.info.command.clone()
        }
    );
}

/// What drives the answer, from the folder's sensitivity table if it has one (the inputs with
/// the largest swings in England's deficit, in words, each citing its lines), else a plain
/// statement that sensitivity was not run.
fn drivers(f: &RunFolder) -> String {
    let path = f.dir.join(SENSITIVITY_CSV);
    let Ok(mut rdr) = csv::Reader::from_path(&path) else {
        return format!(
            "Not known from this run: no sensitivity analysis was run for it (there is no `{SENSITIVITY_CSV}` in this folder). The bands above mix every uncertain input at once; they do not say which one matters most.\n"
        );
    };
    let header = rdr.headers().cloned().unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(label), Some(value), Some(metric), Some(fy), Some(diff)) = (
        col("label"),
        col("input_value"),
        col("metric"),
        col("fy"),
        col("difference"),
    ) else {
        return format!("`{SENSITIVITY_CSV}` in this folder does not have the columns of a `highneeds sensitivity` table.\n");
    };
    // Each input's low and high rows for England's deficit: (label, fy, its sides).
    let mut inputs: Vec<(String, String, Vec<Side>)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let Ok(rec) = rec else { break };
        if rec.get(metric) != Some("cumulative_deficit") {
            continue;
        }
        let (name, change) = (
            rec[label].to_string(),
            rec[diff].parse::<f64>().unwrap_or(0.0),
        );
        let row = (i + 2, rec[value].to_string(), change);
        match inputs.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, _, rows)) => rows.push(row),
            None => inputs.push((name, rec[fy].to_string(), vec![row])),
        }
    }
    let swing = |rows: &[Side]| {
        let (lo, hi) = rows
            .iter()
            .fold((0.0f64, 0.0f64), |(lo, hi), r| (lo.min(r.2), hi.max(r.2)));
        hi - lo
    };
    inputs.sort_by(|a, b| swing(&b.2).total_cmp(&swing(&a.2)));
    let mut s = format!(
        "From `{SENSITIVITY_CSV}` in this folder (each input moved alone to its low and high value on the same random numbers; the change is the median over paths of the change in England's deficit, column `difference`). The inputs that move the answer most:\n\n"
    );
    for (name, fy, rows) in inputs.iter().take(5) {
        let sides: Vec<String> = rows
            .iter()
            .map(|(line, v, change)| format!("set to {v}: {} (line {line})", signed_bn(*change)))
            .collect();
        let _ = writeln!(
            s,
            "- **{name}**: England's deficit at the end of {fy} changes by {}.",
            sides.join("; ")
        );
    }
    let quiet = inputs
        .iter()
        .filter(|(_, _, rows)| swing(rows) == 0.0)
        .count();
    if quiet > 0 {
        let _ = writeln!(s, "\n{quiet} of the {} inputs do not move it in this scenario (the policy they change is not in use).", inputs.len());
    }
    s
}

/// One side of an input in the sensitivity table: its line, the input's value and the change.
type Side = (usize, String, f64);

/// `+£1.23bn` or `-£0.40bn`.
fn signed_bn(pounds: f64) -> String {
    let sign = if pounds < 0.0 { "-" } else { "+" };
    format!("{sign}£{:.2}bn", pounds.abs() / 1e9)
}

/// The key scenario terms in plain English.
fn assumptions(f: &RunFolder) -> Vec<String> {
    vec![
        format!(
            "The statutory override ends on {} (the end of FY {}, `override`): deficits are compared with usable reserves then.",
            fy_end_date(&f.info.override_end_fy),
            f.info.override_end_fy
        ),
        format!(
            "Projection from FY {} to FY {} (`horizon`), starting from the latest DSG balances and January census in the seeds.",
            f.info.first_fy, f.info.last_fy,
        ),
        hnsg_term(f),
        format!(
            "Support for deficits built up before the override ends: a share between {} and {} of the overspend, drawn once per path (`interim_support`).",
            share(f, "interim_support.share_low"),
            share(f, "interim_support.share_high")
        ),
        after_override_term(f),
        format!(
            "EHCP growth: each council's own recent growth, shrunk toward England's, drifting by {} a year on the log new-plan rate (`demand.trend_mean`).",
            term(f, "demand.trend_mean")
        ),
        format!(
            "High-needs block funding grows {} a year on average after the known allocations (`funding.growth_mean`); independent special school fees grow {} a year (`costs.inflation.special_independent`).",
            share(f, "funding.growth_mean"),
            share(f, "costs.inflation.special_independent")
        ),
        savings_term(f),
        reform_term(f),
    ]
}

/// A scenario term as recorded, or "not recorded".
fn term(f: &RunFolder, key: &str) -> String {
    f.term(key).unwrap_or_else(|| "not recorded".to_string())
}

/// A scenario term that is a share, as a percentage, or "not recorded".
fn share(f: &RunFolder, key: &str) -> String {
    f.term(key)
        .and_then(|v| v.parse::<f64>().ok())
        .map_or_else(|| "not recorded".to_string(), pct)
}

/// The High Needs Stability Grant, or that there is none.
fn hnsg_term(f: &RunFolder) -> String {
    // Older manifests say `hnsg.enabled`; newer ones leave the grant out when it is off.
    let hnsg_on = match f.term("hnsg.enabled") {
        Some(v) => v == "true",
        None => f.term("hnsg").is_some_and(|v| v != "null"),
    };
    if !hnsg_on {
        return "No High Needs Stability Grant (`hnsg` off).".to_string();
    }
    let hnsg_date = f
        .term("hnsg.balance_date")
        .or_else(|| f.term("hnsg.balance_fy").map(|fy| fy_end_date(&fy)))
        .unwrap_or_else(|| "not recorded".to_string());
    format!(
        "High Needs Stability Grant: {} of each council's eligible deficit at {} is written off, paid in FY {}, if DfE approves the council's SEND reform plan (probability {}); a {} haircut (`hnsg`).",
        share(f, "hnsg.share"),
        hnsg_date,
        term(f, "hnsg.payment_fy"),
        share(f, "hnsg.approval_probability"),
        share(f, "hnsg.haircut"),
    )
}

/// Who carries overspends after the override.
fn after_override_term(f: &RunFolder) -> String {
    let regime = term(f, "after_override.regime");
    let what = match regime.as_str() {
        "central" => {
            "new overspend is funded centrally; the historic deficit stays with the council"
        }
        "write_off" => "the remaining deficit is written off, later overspends fall on the council",
        "council" => "overspends keep adding to the council's deficit",
        _ => "see the scenario",
    };
    format!(
        "After the override, from FY {}: `{regime}`: {what} (`after_override`).",
        term(f, "after_override.from_fy")
    )
}

/// The local savings plan, or that the forecast is unmitigated.
fn savings_term(f: &RunFolder) -> String {
    let savings = f
        .term("mitigation.savings_share")
        .and_then(|x| x.parse::<f64>().ok())
        .unwrap_or(0.0);
    if savings > 0.0 {
        format!(
            "A local savings plan removes up to {} of spend from FY {}, partly delivered (`mitigation`).",
            pct(savings),
            term(f, "mitigation.start_fy")
        )
    } else {
        "No local savings plan (`mitigation.savings_share = 0`): the unmitigated forecast."
            .to_string()
    }
}

/// The SEND reform's effect, or that none is modelled.
fn reform_term(f: &RunFolder) -> String {
    if f.term("reform.enabled").as_deref() == Some("true") {
        format!(
            "SEND reform from FY {}: the new-plan rate changes by {} (`reform`).",
            term(f, "reform.start_fy"),
            share(f, "reform.new_plan_rate_change")
        )
    } else {
        "No SEND reform effect modelled (`reform.enabled = false`).".to_string()
    }
}
