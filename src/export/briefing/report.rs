//! `report.html`: one self-contained page (no network: styles, data, script and charts inline)
//! with England's headline and fan charts, and a sortable, searchable table of every council;
//! selecting a council draws its fan chart and lists its numbers.
//!
//! The page reads its state from the address's fragment too (`#sort=la_name&dir=asc&q=kent&council=886`),
//! so a link can open it sorted, filtered or on one council.

use super::charts;
use super::folder::{Band, RunFolder};
use super::{bn, fy_end_date};
use anyhow::Result;
use serde_json::json;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Lets a chart scale to the page's width: plotters writes a fixed width and height.
fn responsive(svg: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg.to_string();
    };
    let end = svg[start..].find('>').map_or(svg.len(), |e| start + e);
    let head = &svg[start..end];
    let num = |attr: &str| -> Option<String> {
        let i = head.find(&format!("{attr}=\""))? + attr.len() + 2;
        let j = head[i..].find('"')? + i;
        Some(head[i..j].to_string())
    };
    let (Some(w), Some(h)) = (num("width"), num("height")) else {
        return svg.to_string();
    };
    let mut new_head = head
        .replacen(&format!("width=\"{w}\""), "width=\"100%\"", 1)
        .replacen(&format!("height=\"{h}\""), "", 1);
    if !new_head.contains("viewBox") {
        new_head.push_str(&format!(" viewBox=\"0 0 {w} {h}\""));
    }
    format!("{}{}{}", &svg[..start], new_head, &svg[end..])
}

fn band_json(b: &Band) -> serde_json::Value {
    json!([b.p05, b.p25, b.p50, b.p75, b.p95])
}

/// The data the page's script reads.
fn data(f: &RunFolder) -> serde_json::Value {
    let councils: Vec<serde_json::Value> = f
        .councils
        .iter()
        .map(|c| {
            let deficit: Vec<_> = f
                .council(&c.la_code, "cumulative_deficit")
                .unwrap_or(&[])
                .iter()
                .map(band_json)
                .collect();
            let reserves: Vec<f64> = f
                .council(&c.la_code, "reserves")
                .unwrap_or(&[])
                .iter()
                .map(|b| b.p50)
                .collect();
            let ehcps: Vec<f64> = f
                .council(&c.la_code, "ehcps")
                .unwrap_or(&[])
                .iter()
                .map(|b| b.p50)
                .collect();
            json!({
                "la_code": c.la_code,
                "la_name": c.la_name,
                "p": c.p_deficit_exceeds_reserves,
                "p_se": c.p_deficit_exceeds_reserves_se,
                "deficit_p50": c.deficit_p50,
                "deficit_p05": c.deficit_p05,
                "deficit_p95": c.deficit_p95,
                "reserves": c.reserves,
                "shortfall": c.expected_shortfall,
                "ratio": c.deficit_to_reserves_p50,
                "sv": c.safety_valve,
                "deficit": deficit,
                "reserves_by_year": reserves,
                "ehcps_by_year": ehcps,
            })
        })
        .collect();
    json!({
        "scenario": f.info.scenario_name,
        "years": f.years,
        "override_end": f.override_end(),
        "councils": councils,
    })
}

pub fn render(f: &RunFolder) -> Result<String> {
    let end = esc(&fy_end_date(&f.years[f.override_end()]));
    let info = &f.info;
    let deficit_chart = fan_chart(f, "cumulative_deficit")?;
    let ehcps_chart = fan_chart(f, "ehcps")?;
    let dist_chart = distribution_chart(f)?;
    let data = serde_json::to_string(&data(f))?.replace("</", "<\\/");
    let description = f.term("description").unwrap_or_default();
    let mut html = String::with_capacity(400_000);
    html.push_str(HEAD);
    html.push_str(&format!("<style>\n{STYLE}</style>\n"));
    html.push_str(&format!(
        "<title>highneeds: {name}</title>\n</head>\n<body>\n<header><h1>High-needs deficits: {name}</h1>\n<p class=\"meta\">{desc}<br>{paths} Monte Carlo paths, seed {seed}, highneeds {version}{started}. Money in nominal pounds; deficits are positive. Bands: 90% of paths fall inside (p05 to p95).</p></header>\n",
        name = esc(&info.scenario_name),
        desc = esc(&description),
        paths = info.paths,
        seed = info.seed,
        version = esc(&info.program_version),
        started = esc(&info.when()),
    ));
    html.push_str(&format!(
        "<section id=\"headline\"><h2>England when the override ends ({end})</h2>\n<div class=\"figs\">{}</div></section>\n",
        headline(f).join("")
    ));
    html.push_str(&format!(
        "<section id=\"national\"><h2>England, year by year</h2>\n<div class=\"charts\"><figure id=\"national-deficit\">{deficit_chart}</figure><figure id=\"national-ehcps\">{ehcps_chart}</figure></div>\n<figure id=\"over-reserves\">{dist_chart}</figure></section>\n"
    ));
    html.push_str(&councils_section(&end));
    html.push_str(&format!(
        "<footer><p>Made by <code>highneeds report</code> from the CSVs in this folder (<code>councils.csv</code>, <code>national.csv</code>, <code>summary.csv</code>, <code>councils_over_reserves.csv</code>) and <code>manifest.json</code>. Command: <code>{}</code></p></footer>\n",
        esc(&info.command)
    ));
    html.push_str(&format!(
        "<script type=\"application/json\" id=\"data\">{data}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    ));
    Ok(html)
}

/// England's fan chart of one metric, scaled to the page.
fn fan_chart(f: &RunFolder, metric: &str) -> Result<String> {
    let fan = super::national_fan(f, metric)?;
    Ok(responsive(&charts::svg(charts::FAN_SIZE, |r| {
        charts::draw_fan(r, &fan)
    })?))
}

/// The distribution of councils over their reserves when the override ends, scaled to the page.
fn distribution_chart(f: &RunFolder) -> Result<String> {
    let band = f
        .national("councils_over_reserves")
        .map(|v| v[f.override_end()]);
    Ok(responsive(&charts::svg(charts::DISTRIBUTION_SIZE, |r| {
        charts::draw_distribution(
            r,
            &super::distribution_title(f),
            &f.over_reserves,
            band.as_ref(),
        )
    })?))
}

/// England's headline figures when the override ends, one `<div class="fig">` each.
fn headline(f: &RunFolder) -> Vec<String> {
    let t = f.override_end();
    let end = fy_end_date(&f.years[t]);
    let mut headline = Vec::new();
    if let Some(d) = f.national("cumulative_deficit").map(|v| v[t]) {
        headline.push(format!(
            "<div class=\"fig\"><div class=\"big\">{}</div><div>deficits of councils in deficit at {} (median)</div><div class=\"band\">90% band {} to {}</div></div>",
            bn(d.p50), esc(&end), bn(d.p05), bn(d.p95)
        ));
    }
    if let Some(c) = f.national("councils_over_reserves").map(|v| v[t]) {
        headline.push(format!(
            "<div class=\"fig\"><div class=\"big\">{} of {}</div><div>councils whose deficit exceeds usable reserves (median)</div><div class=\"band\">90% band {} to {}</div></div>",
            super::count(c.p50), f.councils.len(), super::count(c.p05), super::count(c.p95)
        ));
    }
    if let Some(e) = f.national("ehcps").map(|v| v[t]) {
        headline.push(format!(
            "<div class=\"fig\"><div class=\"big\">{:.0}k</div><div>EHCPs in force in January {} (median)</div><div class=\"band\">90% band {:.0}k to {:.0}k</div></div>",
            e.p50 / 1e3, super::fy_end_year(&f.years[t]), e.p05 / 1e3, e.p95 / 1e3
        ));
    }
    headline
}

/// The councils' section: search box, detail pane and the table's head (the script fills it).
fn councils_section(end: &str) -> String {
    format!(
        "<section id=\"councils\"><h2>Every council at {end}</h2>\n<p>Click a column to sort, a council to see its projection. P(deficit &gt; reserves) is shown with its Monte Carlo standard error.</p>\n<input id=\"search\" type=\"search\" placeholder=\"Search by council name or code\" aria-label=\"Search councils\"> <span id=\"count\"></span>\n<div id=\"detail\" hidden><h3 id=\"council-name\"></h3><div class=\"body\"><div id=\"council-chart\"></div><table id=\"council-numbers\"></table></div></div>\n<table id=\"table\"><thead><tr>{}</tr></thead><tbody></tbody></table></section>\n",
        COLUMNS
            .iter()
            .map(|(key, label, _)| format!("<th data-key=\"{key}\" tabindex=\"0\">{label}</th>"))
            .collect::<String>(),
    )
}

/// Table columns: data key, heading, format.
const COLUMNS: [(&str, &str, &str); 9] = [
    ("rank", "rank", "int"),
    ("la_name", "council", "text"),
    ("la_code", "code", "text"),
    ("p", "P(deficit &gt; reserves)", "p"),
    ("deficit_p50", "median deficit", "m"),
    ("deficit_p95", "deficit p95", "m"),
    ("reserves", "median reserves", "m"),
    ("shortfall", "expected shortfall", "m"),
    ("sv", "safety valve", "sv"),
];

/// The page's styles.
const STYLE: &str = include_str!("report.css");

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

/// The page's script (vanilla JS, no libraries).
const SCRIPT: &str = include_str!("report.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_made_responsive() {
        let s = responsive("<?xml?><svg width=\"900\" height=\"520\" xmlns=\"x\"><rect/></svg>");
        assert!(s.contains("width=\"100%\""), "{s}");
        assert!(s.contains("viewBox=\"0 0 900 520\""), "{s}");
        assert!(!s.contains("height=\"520\""), "{s}");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
