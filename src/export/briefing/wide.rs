//! `councils_wide.csv`: the headline metrics laid out for a spreadsheet, one row per council,
//! metric and statistic, one column per FY (the long `councils.csv` needs a pivot table).

use super::folder::{Band, RunFolder};
use anyhow::Result;

/// (metric, statistic, unit) of each row, in order.
pub const ROWS: [(&str, &str, &str); 9] = [
    ("ehcps", "p50", "plans"),
    ("funding", "p50", "£ nominal"),
    ("spend", "p50", "£ nominal"),
    ("in_year_balance", "p50", "£ nominal"),
    ("cumulative_deficit", "p05", "£ nominal"),
    ("cumulative_deficit", "p50", "£ nominal"),
    ("cumulative_deficit", "p95", "£ nominal"),
    ("reserves", "p50", "£ nominal"),
    ("deficit_exceeds_reserves", "mean", "probability"),
];

fn pick(b: &Band, statistic: &str) -> f64 {
    match statistic {
        "mean" => b.mean,
        "p05" => b.p05,
        "p25" => b.p25,
        "p75" => b.p75,
        "p95" => b.p95,
        _ => b.p50,
    }
}

/// The table as CSV bytes. Figures are the cells of `councils.csv`, unchanged.
pub fn render(f: &RunFolder) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "scenario",
        "la_code",
        "la_name",
        "metric",
        "statistic",
        "unit",
    ];
    header.extend(f.years.iter().map(String::as_str));
    w.write_record(&header)?;
    for c in &f.councils {
        for (metric, statistic, unit) in ROWS {
            let Some(bands) = f.council(&c.la_code, metric) else {
                continue;
            };
            let mut row = vec![
                f.info.scenario_name.clone(),
                c.la_code.clone(),
                c.la_name.clone(),
                metric.to_string(),
                statistic.to_string(),
                unit.to_string(),
            ];
            // As councils.csv writes it: a probability to 4 decimals, the rest whole.
            let decimals = if unit == "probability" { 4 } else { 0 };
            row.extend(
                bands
                    .iter()
                    .map(|b| crate::export::Fixed::new(pick(b, statistic), decimals).to_string()),
            );
            w.write_record(&row)?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}
