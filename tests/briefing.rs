//! Briefing outputs: the DSG plan workbook read back against councils.csv, summary.md's
//! citations, the charts, report.html (and in headless Chromium where it is installed).

use crate::util::{self, bin, col, read_csv};
use calamine::{Data, Reader, Xlsx};
use predicates::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Kent (886), a large council; Camden (202), a small one.
const KENT: &str = "886";
const CAMDEN: &str = "202";

/// One small run shared by the tests here (read only: tests that write copy it first).
fn run_dir() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("run");
        bin()
            .arg("run")
            .arg(util::baseline_toml())
            .args(["--paths", "40", "--council", KENT, "--out"])
            .arg(&out)
            .assert()
            .success();
        (dir, out)
    })
    .1
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// councils.csv as (la_code, metric, fy) -> (p50, p05, p95).
fn council_cells(dir: &Path) -> HashMap<(String, String, String), [f64; 3]> {
    let (h, rows) = read_csv(&dir.join("councils.csv"));
    let (code, metric, fy) = (col(&h, "la_code"), col(&h, "metric"), col(&h, "fy"));
    let (p50, p05, p95) = (col(&h, "p50"), col(&h, "p05"), col(&h, "p95"));
    rows.into_iter()
        .map(|r| {
            let n = |i: usize| r[i].parse::<f64>().unwrap();
            (
                (r[code].clone(), r[metric].clone(), r[fy].clone()),
                [n(p50), n(p05), n(p95)],
            )
        })
        .collect()
}

/// Checks every figure of a council sheet against councils.csv: each line names its metric in
/// column B, each FY heads three columns (median, p05, p95). Returns the number of cells checked.
fn check_sheet(
    range: &calamine::Range<Data>,
    code: &str,
    cells: &HashMap<(String, String, String), [f64; 3]>,
) -> usize {
    let text = |r: usize, c: usize| match range.get((r, c)) {
        Some(Data::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut fy_of_col: HashMap<usize, String> = HashMap::new();
    let mut checked = 0;
    for r in 0..range.height() {
        for c in 2..range.width() {
            if let Some(fy) = text(r, c).strip_prefix("FY ") {
                fy_of_col.insert(c, fy.to_string());
            }
        }
        let note = text(r, 1);
        let Some(metric) = note
            .strip_prefix("metric ")
            .map(|m| m.split(';').next().unwrap().trim().to_string())
        else {
            continue;
        };
        for (c, fy) in &fy_of_col {
            let expected = cells
                .get(&(code.to_string(), metric.clone(), fy.clone()))
                .unwrap_or_else(|| panic!("no councils.csv row for {code} {metric} {fy}"));
            for k in 0..3 {
                let got = match range.get((r, c + k)) {
                    Some(Data::Float(v)) => *v,
                    Some(Data::Int(v)) => *v as f64,
                    other => panic!("row {r} col {}: {other:?} is not a number", c + k),
                };
                assert_eq!(
                    got, expected[k],
                    "{code} {metric} {fy} column {k}: workbook {got}, councils.csv {}",
                    expected[k]
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn plan_workbook_reads_back_to_councils_csv() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("kent.xlsx");
    bin()
        .arg("export-plan")
        .arg(run_dir())
        .args(["--council", KENT, "--council", CAMDEN, "--out"])
        .arg(&xlsx)
        .assert()
        .success();
    let cells = council_cells(run_dir());
    let mut wb: Xlsx<_> = calamine::open_workbook(&xlsx).expect("workbook opens");
    let names = wb.sheet_names().to_vec();
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], "886 Kent");
    assert!(names.contains(&"Assumptions".to_string()), "{names:?}");
    for (sheet, code) in [("886 Kent", KENT), ("202 Camden", CAMDEN)] {
        let range = wb.worksheet_range(sheet).expect("sheet");
        let years = cells
            .keys()
            .filter(|k| k.0 == code && k.1 == "ehcps")
            .count();
        let checked = check_sheet(&range, code, &cells);
        // 6 placement lines, 6 age lines and at least 12 money lines, 3 cells per FY.
        assert!(
            checked >= 24 * 3 * years,
            "{sheet}: only {checked} cells checked"
        );
        // The EHCP table starts where the module says, with the merged mainstream row.
        let first = highneeds::export::briefing::plan::PLACEMENT_FIRST_ROW as usize;
        match range.get((first, 0)) {
            Some(Data::String(s)) => assert!(s.contains("(merged)"), "{s}"),
            other => panic!("{other:?}"),
        }
    }
    let assumptions = wb.worksheet_range("Assumptions").unwrap();
    let pairs: HashMap<String, String> = (0..assumptions.height())
        .map(|r| {
            let s = |c| {
                assumptions
                    .get((r, c))
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            };
            (s(0), s(1))
        })
        .collect();
    assert_eq!(pairs["paths"], "40");
    assert_eq!(pairs["scenario"], "baseline");
    assert_eq!(pairs["seed"], "20260331");
    assert_eq!(pairs["highneeds version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn plan_for_every_council_has_a_sheet_each() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("all.xlsx");
    bin()
        .arg("export-plan")
        .arg(run_dir())
        .args(["--all", "--out"])
        .arg(&xlsx)
        .assert()
        .success();
    let mut wb: Xlsx<_> = calamine::open_workbook(&xlsx).expect("workbook opens");
    assert_eq!(wb.sheet_names().len(), 153 + 2);
    // Spot-check the last council's sheet too.
    let (h, rows) = read_csv(&run_dir().join("summary.csv"));
    let last = rows.last().unwrap();
    let name = highneeds::export::briefing::plan::sheet_name(
        &last[col(&h, "la_code")],
        &last[col(&h, "la_name")],
    );
    let range = wb.worksheet_range(&name).expect("last council's sheet");
    assert!(check_sheet(&range, &last[col(&h, "la_code")], &council_cells(run_dir())) > 0);

    // An existing folder as --out gets one workbook per council.
    let folder = dir.path().join("each");
    std::fs::create_dir(&folder).unwrap();
    bin()
        .arg("export-plan")
        .arg(run_dir())
        .args(["--council", KENT, "--council", CAMDEN, "--out"])
        .arg(&folder)
        .assert()
        .success();
    assert!(folder.join("dsg_plan_886.xlsx").is_file());
    assert!(folder.join("dsg_plan_202.xlsx").is_file());
}

#[test]
fn plan_and_report_reject_bad_input_with_exit_code_2() {
    bin()
        .arg("export-plan")
        .arg(run_dir())
        .args(["--council", "999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no council with la_code 999"));
    let dir = tempfile::tempdir().unwrap();
    // A council not in the seeds is refused before the run, and nothing is written.
    util::run_baseline("2")
        .args(["--council", "999", "--out"])
        .arg(dir.path().join("run"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--council: `999` is not the DfE code",
        ));
    assert!(!dir.path().join("run").exists());
    bin()
        .arg("report")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json"));
    bin()
        .arg("report")
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a folder"));
    // A damaged CSV names the file and line.
    let copy = dir.path().join("copy");
    copy_dir(run_dir(), &copy);
    let csv = copy.join("national.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen(",", ",x", 3);
    std::fs::write(&csv, lines.join("\n")).unwrap();
    bin()
        .arg("report")
        .arg(&copy)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("national.csv, line 4"));
}

fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn run_writes_charts_summary_and_report() {
    let out = run_dir();
    for stem in [
        "national_deficit",
        "national_ehcps",
        "council_886_deficit",
        "risk_ranking",
        "councils_over_reserves",
    ] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}.svg");
        let (w, h) = png_size(&out.join(format!("{stem}.png")));
        assert!(w >= 600 && h >= 300, "{stem}.png is {w}x{h}");
    }
    let svg = std::fs::read_to_string(out.join("council_886_deficit.svg")).unwrap();
    assert!(svg.contains("Kent (886)"));
    assert!(svg.contains("override ends 31 March 2028"));
    assert!(svg.contains("£"), "money axis has a unit");
    // The manifest lists every file written, and every file it lists exists.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for name in [
        "report.html",
        "summary.md",
        "risk_ranking.png",
        "council_886_deficit.svg",
    ] {
        assert!(listed.contains(&name), "{name} not in {listed:?}");
    }
    for name in &listed {
        assert!(out.join(name).is_file(), "{name} listed but not written");
    }
}

#[test]
fn summary_md_cites_the_cells_it_quotes() {
    let text = std::fs::read_to_string(run_dir().join("summary.md")).unwrap();
    let national: Vec<String> = std::fs::read_to_string(run_dir().join("national.csv"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (h, _) = read_csv(&run_dir().join("national.csv"));
    let (metric, p50, fy) = (col(&h, "metric"), col(&h, "p50"), col(&h, "fy"));
    let mut checked = 0;
    for line in text.lines().filter(|l| l.contains("`national.csv` line ")) {
        let n: usize = line
            .split("`national.csv` line ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("no line number in: {line}"));
        let cells: Vec<&str> = national[n - 1].split(',').collect();
        assert!(
            line.contains(&format!("metric `{}`", cells[metric])),
            "{line}\ncites line {n}: {}",
            national[n - 1]
        );
        assert!(
            ["2027-28", "2028-29", "2035-36"].contains(&cells[fy]),
            "{line} cites FY {}",
            cells[fy]
        );
        let v: f64 = cells[p50].parse().unwrap();
        let shown =
            if ["cumulative_deficit", "shortfall", "central_pressure"].contains(&cells[metric]) {
                highneeds::export::briefing::bn(v)
            } else if cells[metric] == "ehcps" {
                highneeds::export::briefing::whole(v)
            } else {
                highneeds::export::briefing::count(v)
            };
        assert!(line.contains(&shown), "{line}\nshould show p50 {shown}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} national figures cited");
    // The risk table cites summary.csv lines whose council it names.
    let summary: Vec<String> = std::fs::read_to_string(run_dir().join("summary.csv"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut rows = 0;
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Ok(n) = cells.last().unwrap().parse::<usize>() else {
            continue;
        };
        let row = &summary[n - 1];
        let code = row.split(',').nth(1).unwrap();
        assert!(
            cells[1].contains(&format!("({code})")),
            "{line} cites {row}"
        );
        rows += 1;
    }
    assert_eq!(rows, highneeds::export::briefing::summary_md::MOST_AT_RISK);
    assert!(text.contains("no sensitivity analysis was run"));
    assert!(
        text.contains("The statutory override ends on 31 March 2028"),
        "override end assumption"
    );
    assert!(
        text.contains("High Needs Stability Grant: 90.0%"),
        "the baseline's HNSG is on"
    );
}

#[test]
fn report_is_self_contained_and_lists_every_council() {
    let html = std::fs::read_to_string(run_dir().join("report.html")).unwrap();
    for banned in [
        "<link",
        "src=\"http",
        "src='http",
        "@import",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !html.contains(banned),
            "report.html uses the network: {banned}"
        );
    }
    let start = html
        .find("<script type=\"application/json\" id=\"data\">")
        .unwrap();
    let json = &html[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    let data: serde_json::Value = serde_json::from_str(&json.replace("<\\/", "</")).unwrap();
    assert_eq!(data["councils"].as_array().unwrap().len(), 153);
    assert!(html.matches("<svg").count() >= 3, "national charts inline");
}

#[test]
fn report_command_remakes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    copy_dir(run_dir(), &copy);
    for f in ["report.html", "summary.md", "risk_ranking.png"] {
        std::fs::remove_file(copy.join(f)).unwrap();
    }
    bin()
        .arg("report")
        .arg(&copy)
        .args(["--council", CAMDEN])
        .assert()
        .success();
    for f in [
        "report.html",
        "summary.md",
        "risk_ranking.png",
        "council_202_deficit.png",
    ] {
        assert!(copy.join(f).is_file(), "{f}");
    }
    // Same folder, same files: the report of a run is remade byte for byte.
    assert_eq!(
        std::fs::read(copy.join("report.html")).unwrap(),
        std::fs::read(run_dir().join("report.html")).unwrap()
    );
    assert_eq!(
        std::fs::read(copy.join("summary.md")).unwrap(),
        std::fs::read(run_dir().join("summary.md")).unwrap()
    );
}

/// Chromium's binary, if installed.
fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("HIGHNEEDS_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The page's DOM after its script ran, with `fragment` after the `#`.
fn dump_dom(chrome: &Path, page: &Path, fragment: &str) -> String {
    let url = format!("file://{}#{fragment}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("timeout")
        .arg("60")
        .arg(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium starts");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The council codes of the table's rows, in order.
fn table_codes(dom: &str) -> Vec<String> {
    let body = &dom[dom.find("<tbody>").expect("tbody")..];
    let body = &body[..body.find("</tbody>").unwrap()];
    body.split("<tr data-code=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        if std::env::var("CI").is_ok() && std::env::var("HIGHNEEDS_NO_BROWSER").is_err() {
            panic!("CI without Chromium: .ci/run installs it, or sets HIGHNEEDS_NO_BROWSER when apt is unavailable");
        }
        eprintln!("SKIPPED report_renders_in_headless_chromium: no chromium on PATH (install Debian's chromium)");
        return;
    };
    let page = run_dir().join("report.html");
    let dom = dump_dom(&chrome, &page, "");
    let codes = table_codes(&dom);
    assert_eq!(codes.len(), 153, "the table has a row per council");
    // By default ranked by risk: the first row is summary.md's rank 1.
    let (h, rows) = read_csv(&run_dir().join("summary.csv"));
    let (code, p) = (col(&h, "la_code"), col(&h, "p_deficit_exceeds_reserves"));
    let top = rows
        .iter()
        .map(|r| r[p].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let first = rows.iter().find(|r| r[code] == codes[0]).unwrap();
    assert_eq!(first[p].parse::<f64>().unwrap(), top);
    // Sorting by name changes the first row and puts the names in order.
    let by_name = table_codes(&dump_dom(&chrome, &page, "sort=la_name&dir=asc"));
    assert_eq!(by_name.len(), 153);
    assert_ne!(by_name[0], codes[0], "sorting did not change the first row");
    let name_of = |c: &str| rows.iter().find(|r| r[code] == c).unwrap()[col(&h, "la_name")].clone();
    assert!(name_of(&by_name[0]) <= name_of(&by_name[1]));
    // Searching filters; choosing a council draws its chart and numbers.
    let dom = dump_dom(&chrome, &page, &format!("q=kent&council={KENT}"));
    assert_eq!(table_codes(&dom), vec![KENT.to_string()]);
    let detail = &dom[dom.find("id=\"detail\"").unwrap()..];
    assert!(detail.contains("Kent (886)"), "council heading");
    let chart = &detail[detail.find("id=\"council-chart\"").unwrap()..];
    assert!(chart.contains("<svg"), "the council's chart appears");
    assert_eq!(
        chart.matches("class=\"band\"").count(),
        2,
        "two bands drawn"
    );
    assert!(chart.contains("class=\"median\""));
}

#[test]
fn wide_table_has_a_column_per_fy_with_councils_csv_values() {
    let (h, rows) = read_csv(&run_dir().join("councils_wide.csv"));
    let cells = council_cells(run_dir());
    let years: Vec<String> = h[6..].to_vec();
    assert_eq!(
        &h[..6],
        [
            "scenario",
            "la_code",
            "la_name",
            "metric",
            "statistic",
            "unit"
        ]
    );
    assert_eq!(years.len(), 12);
    assert_eq!(
        rows.len(),
        153 * highneeds::export::briefing::wide::ROWS.len()
    );
    // The cells are councils.csv's own text, not just the same numbers.
    let (ch, crows) = read_csv(&run_dir().join("councils.csv"));
    let text: HashMap<(String, String, String, String), String> = crows
        .iter()
        .flat_map(|r| {
            ["mean", "p05", "p50", "p95"].map(|stat| {
                let key = (
                    r[col(&ch, "la_code")].clone(),
                    r[col(&ch, "metric")].clone(),
                    r[col(&ch, "fy")].clone(),
                    stat.to_string(),
                );
                (key, r[col(&ch, stat)].clone())
            })
        })
        .collect();
    let mut checked = 0;
    for r in &rows {
        for (i, fy) in years.iter().enumerate() {
            let key = (r[1].clone(), r[3].clone(), fy.clone(), r[4].clone());
            assert_eq!(r[6 + i], text[&key], "{r:?} {fy}");
            if r[4] != "mean" {
                let stat = ["p50", "p05", "p95"]
                    .iter()
                    .position(|s| *s == r[4])
                    .unwrap();
                let want = cells[&(r[1].clone(), r[3].clone(), fy.clone())][stat];
                assert_eq!(r[6 + i].parse::<f64>().unwrap(), want, "{r:?} {fy}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len() * years.len());
}

/// The README's table of `summary.csv` columns lists them in the file's order.
#[test]
fn readme_lists_summary_columns_in_file_order() {
    let readme = std::fs::read_to_string(util::root().join("README.md")).unwrap();
    let start = readme
        .find("**`summary.csv`**")
        .expect("summary.csv in README");
    let table: Vec<&str> = readme[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    let mut listed = Vec::new();
    for line in table {
        let first = line.split('|').nth(1).unwrap();
        listed.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
    }
    let (h, _) = read_csv(&run_dir().join("summary.csv"));
    assert_eq!(listed, h);
}

/// Counts are whole numbers, and the manifest says what every metric is measured in.
#[test]
fn counts_are_whole_and_the_manifest_has_units() {
    let (h, rows) = read_csv(&run_dir().join("national.csv"));
    let (metric, p50, mean) = (col(&h, "metric"), col(&h, "p50"), col(&h, "mean"));
    let mut counts = 0;
    for r in &rows {
        if r[metric].starts_with("ehcps") || r[metric].starts_with("councils_") {
            for v in [&r[p50], &r[mean]] {
                assert!(!v.contains('.'), "{} written as {v}", r[metric]);
            }
            counts += 1;
        }
    }
    assert!(counts > 12 * 10, "{counts}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir().join("manifest.json")).unwrap())
            .unwrap();
    assert!(m["units"]["money"].as_str().unwrap().contains("pounds"));
    assert!(m["units"]["metrics"]["spend"]
        .as_str()
        .unwrap()
        .starts_with("pounds"));
    assert!(m["units"]["metrics"]["ehcps"]
        .as_str()
        .unwrap()
        .starts_with("plans"));
    assert!(m["units"]["metrics"]["councils_over_reserves"]
        .as_str()
        .unwrap()
        .starts_with("councils"));
}

/// With a sensitivity table in the run folder, `summary.md` names the input with the largest
/// swing in England's deficit first, citing the table's lines; without one it says so.
#[test]
fn summary_md_says_what_drives_the_answer_from_a_sensitivity_table() {
    let before = std::fs::read_to_string(run_dir().join("summary.md")).unwrap();
    assert!(before.contains("no sensitivity analysis was run"));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    copy_dir(run_dir(), &copy);
    bin()
        .arg("sensitivity")
        .arg(util::baseline_toml())
        .args(["--paths", "40", "--quiet", "--out"])
        .arg(&copy)
        .assert()
        .success();
    bin().arg("report").arg(&copy).assert().success();
    // The largest swing in the table itself.
    let (h, rows) = read_csv(&copy.join("sensitivity.csv"));
    let (label, metric, diff) = (col(&h, "label"), col(&h, "metric"), col(&h, "difference"));
    let mut swings: HashMap<String, (f64, f64)> = HashMap::new();
    for r in rows.iter().filter(|r| r[metric] == "cumulative_deficit") {
        let d: f64 = r[diff].parse().unwrap();
        let e = swings.entry(r[label].clone()).or_insert((0.0, 0.0));
        *e = (e.0.min(d), e.1.max(d));
    }
    let top = swings
        .iter()
        .max_by(|a, b| (a.1 .1 - a.1 .0).total_cmp(&(b.1 .1 - b.1 .0)))
        .map(|(k, _)| k.clone())
        .unwrap();
    let md = std::fs::read_to_string(copy.join("summary.md")).unwrap();
    let section = md.split("## What drives the answer").nth(1).unwrap();
    let first = section.lines().find(|l| l.starts_with("- **")).unwrap();
    assert!(first.contains(&format!("**{top}**")), "{first}");
    assert!(first.contains("(line "), "{first}");
}
