//! The DSG management plan workbook: one council's projection laid out like the forecast tables
//! of DfE's DSG management plan template (children and young people by placement category, and
//! the high needs block's income, spend and balances), each FY as median and 90% band columns.
//!
//! What is known of the template's shape is in the project's `DSG_PLAN.md`: the placement
//! categories were seen; the financial summary's rows were inferred. The workbook says which.

use super::folder::{Band, RunFolder};
use anyhow::{Context, Result};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

/// One line of a forecast table: its label, the metric it reads, and a note.
pub struct Line {
    pub label: &'static str,
    pub metric: String,
    pub note: &'static str,
}

/// Lines of a table from (label, metric, note) rows.
fn lines(rows: &[(&'static str, &str, &'static str)]) -> Vec<Line> {
    rows.iter()
        .map(|&(label, metric, note)| Line {
            label,
            metric: metric.to_string(),
            note,
        })
        .collect()
}

/// The plan's placement categories (seen in the template) and the `highneeds` setting that
/// fills each row (inferred mapping; two rows merge two categories each).
pub fn placement_lines() -> Vec<Line> {
    lines(&[
        (
            "Mainstream schools or academies; Resourced provision or SEN units (merged)",
            "ehcps_mainstream",
            "merged: SEN2 counts resourced provision and SEN units inside mainstream",
        ),
        ("Maintained special schools or special academies", "ehcps_special_state", ""),
        (
            "Non-maintained special schools or independent (NMSS or independent)",
            "ehcps_special_independent",
            "includes state special demand above capacity placed independently",
        ),
        (
            "Hospital schools or alternative provision; Other placements or direct payments (merged)",
            "ehcps_ap_other",
            "merged: highneeds has one setting for both",
        ),
        ("Post 16 and further education", "ehcps_post16", ""),
        ("Total EHCPs", "ehcps", ""),
    ])
}

/// EHCPs by the plan's age groups (all placements together: the model has no age x setting
/// output per council).
pub fn age_lines() -> Vec<Line> {
    lines(&[
        ("Under 5", "ehcps_under_5", ""),
        ("Age 5 to 10", "ehcps_age_5_10", ""),
        ("Age 11 to 15", "ehcps_age_11_15", ""),
        ("Age 16 to 19", "ehcps_age_16_19", ""),
        ("Age 20 to 25", "ehcps_age_20_25", ""),
        ("Total EHCPs", "ehcps", ""),
    ])
}

/// Spend by setting, if the run has it (`spend_<setting>`), then the finance lines.
pub fn finance_lines(f: &RunFolder, la_code: &str) -> Vec<Line> {
    let mut v = lines(&[(
        "High needs block income: HNB allocation after deductions, plus any schools-block transfer",
        "funding",
        "HNB income",
    )]);
    let spend = [
        (
            "mainstream",
            "High-needs spend: mainstream and resourced provision",
        ),
        (
            "special_state",
            "High-needs spend: maintained special and special academies",
        ),
        (
            "special_independent",
            "High-needs spend: NMSS or independent",
        ),
        ("ap_other", "High-needs spend: AP, hospital and other"),
        ("post16", "High-needs spend: post 16 and further education"),
    ];
    for (setting, label) in spend {
        let metric = format!("spend_{setting}");
        if f.council(la_code, &metric).is_some() {
            v.push(Line {
                label,
                metric,
                note: "",
            });
        }
    }
    v.extend(lines(&[
        (
            "High-needs expenditure, total (after savings)",
            "spend",
            "the model's spend on plans at unit costs plus non-plan spend",
        ),
        (
            "of which: savings delivered by management actions",
            "savings",
            "zero in an unmitigated scenario",
        ),
        (
            "In-year balance: income minus expenditure (negative = overspend)",
            "in_year_balance",
            "",
        ),
        ("Safety-valve payments received", "sv_payment", ""),
        ("High Needs Stability Grant received", "hnsg_payment", ""),
        (
            "Interim support for deficits accrued before the override ends",
            "interim_support",
            "",
        ),
        (
            "Overspend funded centrally after the override",
            "central_pressure",
            "",
        ),
        ("Deficit written off", "written_off", ""),
        (
            "Council's own contribution from its general fund",
            "council_contribution",
            "",
        ),
        (
            "Cumulative DSG balance carried forward at 31 March (positive = deficit)",
            "cumulative_deficit",
            "",
        ),
        ("Usable reserves at 31 March", "reserves", "estimated"),
    ]));
    v
}

/// Column of the first figure (A holds labels, B notes).
const FIRST: u16 = 2;

struct Formats {
    title: Format,
    bold: Format,
    header: Format,
    wrap: Format,
    note: Format,
    plans: Format,
    money: Format,
}

fn formats() -> Formats {
    Formats {
        title: Format::new().set_bold().set_font_size(14),
        bold: Format::new().set_bold(),
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_background_color(0xDDEBF7)
            .set_border(FormatBorder::Thin),
        wrap: Format::new().set_text_wrap(),
        note: Format::new()
            .set_italic()
            .set_font_color(0x595959)
            .set_text_wrap(),
        plans: Format::new().set_num_format("#,##0"),
        money: Format::new().set_num_format("£#,##0;-£#,##0"),
    }
}

/// A worksheet name for a council: `202 Camden`, at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(la_code: &str, la_name: &str) -> String {
    let clean: String = format!("{la_code} {la_name}")
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c })
        .collect();
    clean
        .chars()
        .take(31)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Writes the FY header (merged FY cell over median, p05, p95) at `row`; returns the next row.
fn fy_header(ws: &mut Worksheet, row: u32, years: &[String], fm: &Formats) -> Result<u32> {
    ws.write_string_with_format(row, 0, "line", &fm.header)?;
    ws.write_string_with_format(row, 1, "note", &fm.header)?;
    ws.merge_range(row, 0, row + 1, 0, "line", &fm.header)?;
    ws.merge_range(row, 1, row + 1, 1, "note", &fm.header)?;
    for (i, fy) in years.iter().enumerate() {
        let c = FIRST + 3 * i as u16;
        ws.merge_range(row, c, row, c + 2, &format!("FY {fy}"), &fm.header)?;
        ws.write_string_with_format(row + 1, c, "median", &fm.header)?;
        ws.write_string_with_format(row + 1, c + 1, "90% band low (p05)", &fm.header)?;
        ws.write_string_with_format(row + 1, c + 2, "90% band high (p95)", &fm.header)?;
    }
    Ok(row + 2)
}

/// Writes a table's lines from row `row`; returns the next free row.
fn table(
    ws: &mut Worksheet,
    mut row: u32,
    f: &RunFolder,
    la_code: &str,
    lines: &[Line],
    number: &Format,
    fm: &Formats,
) -> Result<u32> {
    for l in lines {
        let Some(bands) = f.council(la_code, &l.metric) else {
            continue;
        };
        let fmt_label = if l.metric == "ehcps" || l.metric == "cumulative_deficit" {
            &fm.bold
        } else {
            &fm.wrap
        };
        ws.write_string_with_format(row, 0, l.label, fmt_label)?;
        let note = if l.note.is_empty() {
            format!("metric {}", l.metric)
        } else {
            format!("metric {}; {}", l.metric, l.note)
        };
        ws.write_string_with_format(row, 1, &note, &fm.note)?;
        for (i, b) in bands.iter().enumerate() {
            let c = FIRST + 3 * i as u16;
            write_band(ws, row, c, b, number)?;
        }
        row += 1;
    }
    Ok(row)
}

fn write_band(ws: &mut Worksheet, row: u32, col: u16, b: &Band, number: &Format) -> Result<()> {
    ws.write_number_with_format(row, col, b.p50, number)?;
    ws.write_number_with_format(row, col + 1, b.p05, number)?;
    ws.write_number_with_format(row, col + 2, b.p95, number)?;
    Ok(())
}

/// Row (0-based) of the first EHCP line in a council sheet: the layout is fixed so that tests
/// and users can find it.
pub const PLACEMENT_FIRST_ROW: u32 = 7;

fn council_sheet(ws: &mut Worksheet, f: &RunFolder, la_code: &str, fm: &Formats) -> Result<()> {
    let c = f.find_council(la_code)?;
    ws.set_name(sheet_name(&c.la_code, &c.la_name))?;
    ws.set_column_width(0, 62)?;
    ws.set_column_width(1, 34)?;
    for i in 0..f.years.len() as u16 * 3 {
        ws.set_column_width(FIRST + i, 13)?;
    }
    let mitigated = f
        .term("mitigation.savings_share")
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(|s| s > 0.0);
    ws.write_string_with_format(
        0,
        0,
        format!(
            "DSG management plan forecast: {} ({}), scenario {}",
            c.la_name, c.la_code, f.info.scenario_name
        ),
        &fm.title,
    )?;
    ws.write_string_with_format(
        1,
        0,
        format!(
            "{} forecast (savings plan {}). Projected by highneeds {} from {} Monte Carlo paths, seed {}. See the sheets 'About this workbook' and 'Assumptions'.",
            if mitigated { "Mitigated" } else { "Unmitigated" },
            if mitigated { "on" } else { "off" },
            f.info.program_version,
            f.info.paths,
            f.info.seed
        ),
        &fm.note,
    )?;
    ws.write_string_with_format(
        2,
        0,
        "Each line's median and 90% band are of that line alone: medians of different lines do not add up.",
        &fm.note,
    )?;
    ws.write_string_with_format(
        3,
        0,
        "Children and young people: EHCPs by placement category (January census of each FY), whole numbers",
        &fm.bold,
    )?;
    let mut row = fy_header(ws, 5, &f.years, fm)?;
    debug_assert_eq!(row, PLACEMENT_FIRST_ROW);
    row = table(ws, row, f, &c.la_code, &placement_lines(), &fm.plans, fm)?;
    row += 1;
    ws.write_string_with_format(
        row,
        0,
        "Children and young people: EHCPs by age group (age at 31 August; all placements together)",
        &fm.bold,
    )?;
    row = fy_header(ws, row + 1, &f.years, fm)?;
    row = table(ws, row, f, &c.la_code, &age_lines(), &fm.plans, fm)?;
    row += 1;
    ws.write_string_with_format(
        row,
        0,
        "Financial summary: high needs block, £ nominal (rows inferred from councils' use of the plan)",
        &fm.bold,
    )?;
    row = fy_header(ws, row + 1, &f.years, fm)?;
    let finance = finance_lines(f, &c.la_code);
    row = table(ws, row, f, &c.la_code, &finance, &fm.money, fm)?;
    if !finance.iter().any(|l| l.metric.starts_with("spend_")) {
        ws.write_string_with_format(
            row,
            0,
            "High-needs spend by setting: not in this run (the run's councils.csv has spend as one total).",
            &fm.note,
        )?;
    }
    ws.set_freeze_panes(PLACEMENT_FIRST_ROW, FIRST)?;
    Ok(())
}

fn about_sheet(ws: &mut Worksheet, fm: &Formats) -> Result<()> {
    ws.set_name("About this workbook")?;
    ws.set_column_width(0, 70)?;
    ws.set_column_width(1, 34)?;
    ws.set_column_width(2, 60)?;
    let mut row = 0;
    let mut put = |ws: &mut Worksheet, a: &str, b: &str, c: &str, format: &Format| -> Result<()> {
        ws.write_string_with_format(row, 0, a, format)?;
        ws.write_string_with_format(row, 1, b, format)?;
        ws.write_string_with_format(row, 2, c, format)?;
        row += 1;
        Ok(())
    };
    put(
        ws,
        "How this workbook follows DfE's DSG management plan template",
        "",
        "",
        &fm.title,
    )?;
    put(ws, "Only parts of the template could be read. What is seen follows it; what is inferred is labelled.", "", "", &fm.note)?;
    put(ws, "", "", "", &fm.wrap)?;
    put(
        ws,
        "Plan placement category (seen in the template)",
        "highneeds setting (metric)",
        "status",
        &fm.header,
    )?;
    for (cat, metric, status) in [
        ("Mainstream schools or academies", "ehcps_mainstream", "merged with the next row: SEN2 counts resourced provision and SEN units inside mainstream (inferred mapping)"),
        ("Resourced provision or SEN units", "ehcps_mainstream", "merged with the row above"),
        ("Maintained special schools or special academies", "ehcps_special_state", "one to one (inferred mapping)"),
        ("Non-maintained special schools or independent (NMSS or independent)", "ehcps_special_independent", "one to one (inferred mapping)"),
        ("Hospital schools or alternative provision", "ehcps_ap_other", "merged with 'Other placements or direct payments' (inferred mapping)"),
        ("Post 16 and further education", "ehcps_post16", "one to one (inferred mapping)"),
        ("Other placements or direct payments", "ehcps_ap_other", "merged with 'Hospital schools or alternative provision'"),
    ] {
        put(ws, cat, metric, status, &fm.wrap)?;
    }
    put(ws, "", "", "", &fm.wrap)?;
    put(ws, "Table", "", "status", &fm.header)?;
    for (what, status) in [
        ("EHCPs by placement category, one column per January census year, whole numbers", "seen (template version 5); the template has age rows within each category, which highneeds does not output per council"),
        ("EHCPs by age group (Under 5, 5 to 10, 11 to 15, 16 to 19, 20 to 25)", "seen; here for all placements together"),
        ("EHCPs by primary need (13 needs)", "left out: highneeds does not model need"),
        ("Financial summary rows (income, spend, in-year and cumulative balance)", "inferred from councils' own use of the plan; the template's rows and columns were not seen"),
        ("Outturn years (s251) and other DSG blocks", "left out: this workbook has the projection of the high needs block only"),
        ("Columns: median, p05 and p95 per FY", "highneeds' own: the template has one figure per year; the band shows the projection's uncertainty"),
        ("Unmitigated and mitigated forecasts", "a scenario without a savings plan gives the unmitigated forecast, one with it the mitigated one; export each run"),
    ] {
        put(ws, what, "", status, &fm.wrap)?;
    }
    put(ws, "", "", "", &fm.wrap)?;
    put(ws, "Signs and units: money in nominal pounds; a positive cumulative balance is a deficit (DfE's sign for s251 line 1.9.3); the in-year balance is income minus spend, so an overspend is negative.", "", "", &fm.note)?;
    Ok(())
}

fn assumptions_sheet(ws: &mut Worksheet, f: &RunFolder, fm: &Formats) -> Result<()> {
    ws.set_name("Assumptions")?;
    ws.set_column_width(0, 36)?;
    ws.set_column_width(1, 90)?;
    let i = &f.info;
    let mut rows: Vec<(String, String)> = vec![
        ("scenario".into(), i.scenario_name.clone()),
        (
            "description".into(),
            f.term("description").unwrap_or_default(),
        ),
        ("seed".into(), i.seed.to_string()),
        ("paths".into(), i.paths.to_string()),
        ("highneeds version".into(), i.program_version.clone()),
        ("command".into(), i.command.clone()),
        ("run started (UTC)".into(), i.started_utc.clone()),
        ("run folder".into(), f.dir.display().to_string()),
        (
            "first FY, last FY".into(),
            format!("{}, {}", i.first_fy, i.last_fy),
        ),
        (
            "override ends".into(),
            super::fy_end_date(&f.info.override_end_fy),
        ),
    ];
    for key in [
        "hnsg.enabled",
        "hnsg.balance_fy",
        "hnsg.share",
        "hnsg.approval_probability",
        "interim_support.share_low",
        "interim_support.share_high",
        "after_override.regime",
        "after_override.from_fy",
        "mitigation.savings_share",
        "demand.trend_mean",
        "funding.growth_mean",
        "reform.enabled",
    ] {
        if let Some(v) = f.term(key) {
            rows.push((format!("scenario: {key}"), v));
        }
    }
    for (file, sha) in &i.inputs {
        rows.push((format!("input SHA-256: {file}"), sha.clone()));
    }
    ws.write_string_with_format(0, 0, "item", &fm.header)?;
    ws.write_string_with_format(0, 1, "value", &fm.header)?;
    for (r, (k, v)) in rows.iter().enumerate() {
        ws.write_string(r as u32 + 1, 0, k)?;
        ws.write_string_with_format(r as u32 + 1, 1, v, &fm.wrap)?;
    }
    Ok(())
}

/// A workbook with one sheet per council in `la_codes`, then the notes and assumptions.
pub fn workbook(f: &RunFolder, la_codes: &[String]) -> Result<Vec<u8>> {
    let fm = formats();
    let mut wb = Workbook::new();
    let created = ExcelDateTime::parse_from_str(f.info.started_utc.trim_end_matches('Z'))
        .or_else(|_| ExcelDateTime::from_ymd(2026, 1, 1))?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("DSG management plan forecast (highneeds)")
            .set_creation_datetime(&created),
    );
    for code in la_codes {
        council_sheet(wb.add_worksheet(), f, code, &fm)?;
    }
    about_sheet(wb.add_worksheet(), &fm)?;
    assumptions_sheet(wb.add_worksheet(), f, &fm)?;
    wb.save_to_buffer().context("cannot build the workbook")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid() {
        assert_eq!(sheet_name("202", "Camden"), "202 Camden");
        let long = sheet_name("941", "West Northamptonshire: a very long name [x]");
        assert!(long.chars().count() <= 31);
        assert!(!long.contains(':') && !long.contains('['));
    }

    #[test]
    fn every_setting_has_a_placement_row() {
        let lines = placement_lines();
        for s in [
            "mainstream",
            "special_state",
            "special_independent",
            "post16",
            "ap_other",
        ] {
            assert!(
                lines.iter().any(|l| l.metric == format!("ehcps_{s}")),
                "{s}"
            );
        }
    }
}
