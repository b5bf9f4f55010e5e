//! Faulty seed folders: duplicate rows, missing rows, empty national tables, edited files and
//! council tables that do not add up to the published national totals.

use crate::util::{self, copy_seeds};
use highneeds::seeds::Baseline;
use std::path::Path;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("read seed")
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write seed")
}

/// Appends a row; returns its line number (1-based, header = line 1).
fn append(dir: &Path, file: &str, row: &str) -> usize {
    let mut text = read(dir, file);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(row);
    text.push('\n');
    write(dir, file, &text);
    text.lines().count()
}

/// The line number of the first row starting with `prefix`.
fn line_of(dir: &Path, file: &str, prefix: &str) -> usize {
    read(dir, file)
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no row {prefix} in {file}"))
        + 1
}

fn load_error(dir: &Path) -> String {
    match Baseline::load(dir) {
        Ok(_) => panic!("the seeds should be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_duplicate_row_is_an_error_naming_both_lines() {
    let cases = [
        (
            "reserves.csv",
            "201,2025-03-31,",
            "201,2025-03-31,1,estimated,R99,",
        ),
        ("hnb.csv", "201,2023-24,", "201,2023-24,1,1,estimated,R99"),
        ("ehcps.csv", "201,2025,", "201,2025,1,real,"),
        ("deficits.csv", "201,2024-03-31,", "201,2024-03-31,1,real,"),
        ("flows.csv", "201,2024,", "201,2024,1,1,0,real,"),
        (
            "caseload.csv",
            "201,2025,under_5,mainstream,",
            "201,2025,under_5,mainstream,1,real,",
        ),
        (
            "new_plans_mix.csv",
            "201,2024,under_5,mainstream,",
            "201,2024,under_5,mainstream,1,real,",
        ),
        (
            "national_caseload_by_age.csv",
            "2025,7,mainstream,",
            "2025,7,mainstream,1",
        ),
        (
            "national_ceased_by_age.csv",
            "2024,under_5,",
            "2024,under_5,1,0",
        ),
        (
            "national_new_plans_mix.csv",
            "2024,under_5,mainstream,",
            "2024,under_5,mainstream,1",
        ),
        (
            "sv_instalments.csv",
            "205,2021-22,",
            "205,2021-22,1,estimated,R99",
        ),
        (
            "safety_valve.csv",
            "205,",
            "205,Hammersmith and Fulham,2020-21,1,estimated,R21,2020-21,2024-25,2024-25",
        ),
        (
            "councils.csv",
            "201,",
            "201,E09000001,City of London,London,ILB,1,real,",
        ),
    ];
    for (file, key, row) in cases {
        let dir = copy_seeds();
        let first = line_of(dir.path(), file, key);
        let second = append(dir.path(), file, row);
        let e = load_error(dir.path());
        assert!(e.contains(file), "{file}: {e}");
        assert!(e.contains(&format!("line {second}")), "{file}: {e}");
        assert!(e.contains(&format!("line {first}")), "{file}: {e}");
    }
}

#[test]
fn a_council_missing_from_a_table_is_an_error() {
    // Without the rule, Solihull's reserves silently fell back to 2018.
    let cases = [
        ("reserves.csv", "334,2025-03-31,"),
        ("caseload.csv", "334,2025,age_5_10,post16,"),
        ("new_plans_mix.csv", "334,2024,age_5_10,post16,"),
    ];
    for (file, key) in cases {
        let dir = copy_seeds();
        let text: String = read(dir.path(), file)
            .lines()
            .filter(|l| !l.starts_with(key))
            .map(|l| format!("{l}\n"))
            .collect();
        write(dir.path(), file, &text);
        let e = load_error(dir.path());
        assert!(e.contains(file), "{file}: {e}");
        assert!(e.contains("334"), "{file}: {e}");
    }
}

#[test]
fn empty_national_tables_are_rejected() {
    for file in [
        "national_caseload_by_age.csv",
        "national_ceased_by_age.csv",
        "national_new_plans_mix.csv",
    ] {
        let dir = copy_seeds();
        let header = read(dir.path(), file).lines().next().unwrap().to_string();
        write(dir.path(), file, &format!("{header}\n"));
        let e = load_error(dir.path());
        assert!(e.contains(file), "{file}: {e}");
        assert!(e.contains("no rows"), "{file}: {e}");
    }
}

fn check_stderr(dir: &Path) -> String {
    let out = util::bin()
        .args(["check", "scenarios/baseline.toml", "--seeds"])
        .arg(dir)
        .output()
        .expect("run check");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn check_warns_when_the_seeds_differ_from_the_shipped_ones() {
    let dir = copy_seeds();
    let stderr = check_stderr(dir.path());
    assert!(!stderr.contains("warning"), "{stderr}");
    let text = read(dir.path(), "reserves.csv").replacen("121184000", "121184001", 1);
    write(dir.path(), "reserves.csv", &text);
    let stderr = check_stderr(dir.path());
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("reserves.csv"), "{stderr}");
    assert!(stderr.contains("SEEDS.sha256"), "{stderr}");
}

#[test]
fn check_warns_when_council_tables_do_not_add_up_to_national_totals() {
    let dir = copy_seeds();
    // Birmingham's 2023-24 HNB before deductions, raised by £200m.
    let file = "hnb.csv";
    let text: String = read(dir.path(), file)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f[0] == "330" && f[1] == "2023-24" {
                let v: f64 = f[2].parse().unwrap();
                let mut g: Vec<String> = f.iter().map(|s| s.to_string()).collect();
                g[2] = format!("{}", v + 2e8);
                g.join(",") + "\n"
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    write(dir.path(), file, &text);
    let stderr = check_stderr(dir.path());
    assert!(stderr.contains("national_totals.csv"), "{stderr}");
    assert!(stderr.contains("hnb_before_deductions"), "{stderr}");
    assert!(stderr.contains("2023-24"), "{stderr}");
}
