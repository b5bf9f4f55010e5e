//! Briefing outputs made from a finished run folder: charts (SVG and PNG), `summary.md`,
//! `report.html`, and the DSG management plan workbook. They read only the CSVs and the
//! manifest that `highneeds run` writes, so they can be remade from any run folder.

pub mod charts;
pub mod folder;
pub mod plan;
pub mod report;
pub mod summary_md;
pub mod wide;

use crate::seeds::Baseline;
use crate::InputError;
use anyhow::Result;
use charts::{Fan, Unit};
use folder::RunFolder;

/// A file to write into the run folder: its name and contents.
pub type Output = (String, Vec<u8>);

/// The charts, `summary.md` and `report.html` of a run folder, with fan charts for the councils
/// named in `councils` (DfE codes). Each chart's SVG and PNG, `councils_wide.csv`, `summary.md`
/// and `report.html` are made side by side on rayon's pool (each from the folder alone), and
/// returned in the order of [`file_names`].
pub fn files(f: &RunFolder, councils: &[String]) -> Result<Vec<Output>> {
    let mut charts: Vec<(String, Chart)> = Vec::new();
    for (stem, metric) in [
        ("national_deficit", "cumulative_deficit"),
        ("national_ehcps", "ehcps"),
    ] {
        charts.push((stem.to_string(), Chart::Fan(national_fan(f, metric)?)));
    }
    let mut seen: Vec<&str> = Vec::new();
    for code in councils {
        let c = f.find_council(code)?;
        if seen.contains(&c.la_code.as_str()) {
            continue;
        }
        seen.push(&c.la_code);
        let fan = council_fan(f, &c.la_code)?;
        charts.push((format!("council_{}_deficit", c.la_code), Chart::Fan(fan)));
    }
    let (title, ranked) = ranked(f);
    charts.push(("risk_ranking".to_string(), Chart::Ranked(title, ranked)));
    let band = f
        .national("councils_over_reserves")
        .map(|v| v[f.override_end()]);
    let over = Chart::Distribution(distribution_title(f), band);
    charts.push(("councils_over_reserves".to_string(), over));
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for (stem, chart) in &charts {
        jobs.push((format!("{stem}.svg"), Job::Svg(chart)));
        jobs.push((format!("{stem}.png"), Job::Png(chart)));
    }
    jobs.push(("councils_wide.csv".to_string(), Job::Wide));
    jobs.push(("summary.md".to_string(), Job::SummaryMd));
    jobs.push(("report.html".to_string(), Job::Report));
    let bytes = in_parallel(&jobs, |(_, job)| job.make(f))?;
    Ok(jobs.into_iter().map(|(name, _)| name).zip(bytes).collect())
}

/// A chart of the briefing.
enum Chart<'a> {
    Fan(Fan<'a>),
    Ranked(String, Vec<&'a folder::CouncilRisk>),
    /// The title and England's band of councils over reserves at the override end.
    Distribution(String, Option<folder::Band>),
}

impl Chart<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Chart::Fan(_) => charts::FAN_SIZE,
            Chart::Ranked(_, ranked) => charts::ranked_size(ranked.len()),
            Chart::Distribution(..) => charts::DISTRIBUTION_SIZE,
        }
    }
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        f: &RunFolder,
        root: plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<()> {
        match self {
            Chart::Fan(fan) => charts::draw_fan(root, fan),
            Chart::Ranked(title, ranked) => charts::draw_ranked(root, title, ranked),
            Chart::Distribution(title, band) => {
                charts::draw_distribution(root, title, &f.over_reserves, band.as_ref())
            }
        }
    }
}

/// One file of the briefing, to be made.
enum Job<'c, 'a> {
    Svg(&'c Chart<'a>),
    Png(&'c Chart<'a>),
    Wide,
    SummaryMd,
    Report,
}

impl Job<'_, '_> {
    fn make(&self, f: &RunFolder) -> Result<Vec<u8>> {
        Ok(match self {
            Job::Svg(c) => charts::svg(c.size(), |r| c.draw(f, r))?.into_bytes(),
            Job::Png(c) => charts::png(c.size(), |r| c.draw(f, r))?,
            Job::Wide => wide::render(f)?,
            Job::SummaryMd => summary_md::render(f).into_bytes(),
            Job::Report => report::render(f)?.into_bytes(),
        })
    }
}

/// `job` of each item, made on rayon's pool; the results in the items' order, or the error of
/// the first item (in order) that failed.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    job: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use rayon::prelude::*;
    let results: Vec<Result<R>> = items.par_iter().map(&job).collect();
    results.into_iter().collect()
}

/// The names `files` writes for these councils, in order (for the manifest).
pub fn file_names(councils: &[String]) -> Vec<String> {
    let mut stems = vec!["national_deficit".to_string(), "national_ehcps".to_string()];
    for code in councils {
        let stem = format!("council_{}_deficit", code.trim());
        if !stems.contains(&stem) {
            stems.push(stem);
        }
    }
    stems.push("risk_ranking".into());
    stems.push("councils_over_reserves".into());
    let mut names: Vec<String> = stems
        .iter()
        .flat_map(|s| [format!("{s}.svg"), format!("{s}.png")])
        .collect();
    names.push("councils_wide.csv".into());
    names.push("summary.md".into());
    names.push("report.html".into());
    names
}

/// Checks before a run that each council given for a fan chart (`--council`) is in the seeds.
pub fn check_councils(codes: &[String], baseline: &Baseline) -> Result<(), InputError> {
    for code in codes {
        let known = code
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|c| baseline.council(c))
            .is_some();
        if !known {
            let examples: Vec<String> = baseline
                .councils
                .iter()
                .take(3)
                .map(|c| format!("{} {}", c.la_code, c.la_name))
                .collect();
            return Err(InputError::invalid(
                "--council",
                format!(
                    "`{code}` is not the DfE code of a council in the seeds: use a code from \
                     the la_code column of seeds/councils.csv (e.g. {})",
                    examples.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// England's fan chart of a national metric.
pub fn national_fan<'a>(f: &'a RunFolder, metric: &str) -> Result<Fan<'a>> {
    let bands = f.national(metric).ok_or_else(|| {
        InputError::invalid(
            f.dir.join(folder::NATIONAL_CSV),
            format!("no rows for metric `{metric}`"),
        )
    })?;
    let max = bands
        .iter()
        .map(|b| b.p95.abs().max(b.p05.abs()))
        .fold(0.0, f64::max);
    let (title, unit) = if metric == "ehcps" {
        (
            format!(
                "England: EHCPs in force each January ({})",
                f.info.scenario_name
            ),
            Unit::plans(),
        )
    } else {
        (
            format!(
                "England: cumulative high-needs deficit of councils in deficit ({})",
                f.info.scenario_name
            ),
            Unit::money(max),
        )
    };
    // EHCPs are drawn beside the prevalence ceiling (the median of England's summed ceiling),
    // where the run has it.
    let reference = match metric {
        "ehcps" => f.national("ehcp_ceiling").map(|ceiling| {
            let line = ceiling.iter().map(|b| b.p50).collect();
            ("prevalence ceiling (median)", line)
        }),
        _ => None,
    };
    Ok(Fan {
        title,
        years: &f.years,
        bands,
        unit,
        override_end: Some(f.override_end()),
        reference,
    })
}

/// A council's fan chart of its cumulative deficit, with its median reserves.
pub fn council_fan<'a>(f: &'a RunFolder, la_code: &str) -> Result<Fan<'a>> {
    let c = f.find_council(la_code)?;
    let missing = |metric: &str| {
        InputError::invalid(
            f.dir.join(folder::COUNCILS_CSV),
            format!("no `{metric}` rows for council {la_code}"),
        )
    };
    let bands = f
        .council(&c.la_code, "cumulative_deficit")
        .ok_or_else(|| missing("cumulative_deficit"))?;
    let reserves: Vec<f64> = f
        .council(&c.la_code, "reserves")
        .ok_or_else(|| missing("reserves"))?
        .iter()
        .map(|b| b.p50)
        .collect();
    let max = bands
        .iter()
        .map(|b| b.p95.abs().max(b.p05.abs()))
        .chain(reserves.iter().map(|r| r.abs()))
        .fold(0.0, f64::max);
    Ok(Fan {
        title: format!(
            "{} ({}): cumulative DSG deficit ({})",
            c.la_name, c.la_code, f.info.scenario_name
        ),
        years: &f.years,
        bands,
        unit: Unit::money(max),
        override_end: Some(f.override_end()),
        reference: Some(("usable reserves (median)", reserves)),
    })
}

/// How many councils the ranked chart shows at most.
pub const RANKED_MAX: usize = 40;

/// The councils for the ranked chart (the riskiest, up to `RANKED_MAX`) and its title.
pub fn ranked(f: &RunFolder) -> (String, Vec<&folder::CouncilRisk>) {
    let all = f.ranked_by_risk();
    let shown: Vec<_> = all.iter().copied().take(RANKED_MAX).collect();
    let title = format!(
        "Councils most likely to have a deficit above reserves at 31 March {}: top {} of {} ({})",
        fy_end_year(&f.info.override_end_fy),
        shown.len(),
        all.len(),
        f.info.scenario_name
    );
    (title, shown)
}

fn distribution_title(f: &RunFolder) -> String {
    format!(
        "How many councils have a deficit above their reserves at 31 March {}? ({}, {} paths)",
        fy_end_year(&f.info.override_end_fy),
        f.info.scenario_name,
        f.info.paths
    )
}

/// The calendar year in which a FY label like `2027-28` ends.
pub fn fy_end_year(fy: &str) -> String {
    match (fy.get(..2), fy.get(5..7)) {
        (Some(c), Some(y)) => format!("{c}{y}"),
        _ => fy.to_string(),
    }
}

/// "31 March 2028" for FY `2027-28`.
pub fn fy_end_date(fy: &str) -> String {
    format!("31 March {}", fy_end_year(fy))
}

/// Money in £bn with two decimals (negative as -£x).
pub fn bn(v: f64) -> String {
    let sign = if v < -0.5e7 { "-" } else { "" };
    format!("{sign}£{:.2}bn", v.abs() / 1e9)
}

/// Money in £m with one decimal (negative as -£x).
pub fn money(v: f64) -> String {
    let sign = if v < -0.05e6 { "-" } else { "" };
    format!("{sign}£{:.1}m", v.abs() / 1e6)
}

/// A whole number with thousands separators: `871,635` (rounded; the `num-format` crate).
pub fn whole(v: f64) -> String {
    use num_format::{Locale, ToFormattedString};
    (v.round() as i64).to_formatted_string(&Locale::en)
}

/// A count of councils: whole, or with one decimal where a median falls between two counts
/// (`126.5`), so that it matches its CSV cell.
pub fn count(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        whole(v)
    } else {
        format!("{v:.1}")
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(fy_end_date("2027-28"), "31 March 2028");
        assert_eq!(bn(3_456_000_000.0), "£3.46bn");
        assert_eq!(bn(-1e9), "-£1.00bn");
        assert_eq!(money(12_340_000.0), "£12.3m");
        assert_eq!(money(-1.0), "£0.0m");
        assert_eq!(pct(0.1234), "12.3%");
        assert_eq!(whole(871_635.4), "871,635");
        assert_eq!(whole(-1234.0), "-1,234");
        assert_eq!(whole(999.0), "999");
        assert_eq!(count(126.5), "126.5");
        assert_eq!(count(10.0), "10");
    }

    #[test]
    fn names_list_each_council_once() {
        let n = file_names(&["202".into(), "202".into(), "850".into()]);
        assert_eq!(n.iter().filter(|x| x.starts_with("council_202")).count(), 2);
        assert!(n.contains(&"council_850_deficit.png".to_string()));
        assert_eq!(n.last().map(String::as_str), Some("report.html"));
    }
}
