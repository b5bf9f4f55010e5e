//! The baseline data in seeds/: coverage, national check figures and internal consistency.
//! Read with the csv crate directly (independently of the loader) and through the loader.

use crate::util::{self, col, read_csv};
use std::collections::{BTreeMap, BTreeSet};

fn seeds_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    read_csv(&util::seeds_dir().join(name))
}

fn f(s: &str) -> f64 {
    s.parse().unwrap_or_else(|e| panic!("`{s}`: {e}"))
}

#[test]
fn there_are_153_unique_councils() {
    let (h, rows) = seeds_csv("councils.csv");
    let codes: BTreeSet<&str> = rows
        .iter()
        .map(|r| r[col(&h, "la_code")].as_str())
        .collect();
    assert_eq!(rows.len(), 153);
    assert_eq!(codes.len(), 153, "duplicate la_code in councils.csv");
    let b = util::baseline();
    assert_eq!(b.councils.len(), 153);
    let loaded: BTreeSet<String> = b.councils.iter().map(|c| c.la_code.to_string()).collect();
    assert_eq!(loaded, codes.iter().map(|s| s.to_string()).collect());
}

#[test]
fn england_ehcps_january_2025_matches_published_total() {
    let (h, rows) = seeds_csv("ehcps.csv");
    let (j, e) = (col(&h, "january"), col(&h, "ehcps"));
    let total: f64 = rows
        .iter()
        .filter(|r| r[j] == "2025")
        .map(|r| f(&r[e]))
        .sum();
    let published = 638_745.0;
    assert!(
        (total / published - 1.0).abs() < 0.005,
        "England EHCPs Jan 2025 = {total}, published {published}"
    );
    // 153 councils in that January.
    assert_eq!(rows.iter().filter(|r| r[j] == "2025").count(), 153);
    // The loader agrees with the file.
    let loaded: f64 = util::baseline()
        .councils
        .iter()
        .map(|c| c.ehcps[&2025])
        .sum();
    assert!((loaded - total).abs() < 1e-6);
}

#[test]
fn january_2026_census_is_seeded_with_the_isle_of_wight_flagged() {
    let (h, rows) = seeds_csv("ehcps.csv");
    let (j, e, st) = (col(&h, "january"), col(&h, "ehcps"), col(&h, "status"));
    let jan26: Vec<_> = rows.iter().filter(|r| r[j] == "2026").collect();
    assert_eq!(jan26.len(), 153);
    // England 718,838 (SOURCES section 6): the region rows, with the Isle of Wight implied.
    let total: f64 = jan26.iter().map(|r| f(&r[e])).sum();
    assert!(
        (total - 718_838.0).abs() < 1e-6,
        "England Jan 2026 = {total}"
    );
    let estimated: Vec<&str> = jan26
        .iter()
        .filter(|r| r[st] == "estimated")
        .map(|r| r[col(&h, "la_code")].as_str())
        .collect();
    assert_eq!(estimated, ["921"], "only the Isle of Wight is estimated");
    // Placements: state special 171,219 and independent special 40,223 in England (the 152
    // published councils hold 170,825 and 40,126).
    let b = util::baseline();
    let by = |s: usize| -> f64 {
        b.councils
            .iter()
            .map(|c| highneeds::caseload::by_setting(&c.caseload[&2026])[s])
            .sum()
    };
    assert!((by(highneeds::caseload::SPECIAL_STATE) - 171_219.0).abs() < 1e-6);
    assert!((by(highneeds::caseload::SPECIAL_INDEPENDENT) - 40_223.0).abs() < 1e-6);
}

#[test]
fn england_hnb_before_deductions_2023_24_matches_published_total() {
    let (h, rows) = seeds_csv("hnb.csv");
    let (fy, v) = (col(&h, "fy"), col(&h, "hnb_before_deductions"));
    let rows_fy: Vec<_> = rows.iter().filter(|r| r[fy] == "2023-24").collect();
    assert_eq!(rows_fy.len(), 153);
    let total: f64 = rows_fy.iter().map(|r| f(&r[v])).sum();
    let published = 9_953_984_391.0;
    assert!(
        (total / published - 1.0).abs() < 0.01,
        "England HNB 2023-24 = {total}, published {published}"
    );
    let after = col(&h, "hnb_after_deductions");
    for r in &rows {
        assert!(
            f(&r[after]) <= f(&r[v]),
            "after deductions exceeds before: {r:?}"
        );
    }
}

#[test]
fn every_council_has_caseload_2019_to_2025_adding_to_its_ehcps() {
    let (h, rows) = seeds_csv("ehcps.csv");
    let mut ehcps: BTreeMap<(String, i32), f64> = BTreeMap::new();
    for r in &rows {
        ehcps.insert(
            (
                r[col(&h, "la_code")].clone(),
                r[col(&h, "january")].parse().unwrap(),
            ),
            f(&r[col(&h, "ehcps")]),
        );
    }
    let (h, rows) = seeds_csv("caseload.csv");
    let mut sums: BTreeMap<(String, i32), (usize, f64)> = BTreeMap::new();
    for r in &rows {
        let plans = f(&r[col(&h, "plans")]);
        assert!(plans >= 0.0, "{r:?}");
        let e = sums
            .entry((
                r[col(&h, "la_code")].clone(),
                r[col(&h, "january")].parse().unwrap(),
            ))
            .or_default();
        e.0 += 1;
        e.1 += plans;
    }
    let (hc, councils) = seeds_csv("councils.csv");
    for c in &councils {
        let code = &c[col(&hc, "la_code")];
        for jan in 2019..=2025 {
            let key = (code.clone(), jan);
            let (cells, total) = sums
                .get(&key)
                .unwrap_or_else(|| panic!("no caseload for {code} January {jan}"));
            assert_eq!(*cells, 25, "{code} January {jan}: {cells} cells");
            let e = ehcps
                .get(&key)
                .unwrap_or_else(|| panic!("no ehcps for {code} January {jan}"));
            assert!(
                (total - e).abs() <= 0.01,
                "{code} January {jan}: cells add to {total}, ehcps {e}"
            );
        }
    }
}

#[test]
fn every_status_is_real_or_estimated() {
    let mut checked = 0;
    for entry in std::fs::read_dir(util::seeds_dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let (h, rows) = read_csv(&p);
        for (i, name) in h.iter().enumerate() {
            if name == "status" || name.ends_with("_status") {
                for (line, r) in rows.iter().enumerate() {
                    assert!(
                        r[i] == "real" || r[i] == "estimated",
                        "{}: line {}: {name} = `{}`",
                        p.display(),
                        line + 2,
                        r[i]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20_000, "only {checked} status cells found");
}

#[test]
fn safety_valve_instalments_add_to_each_dfe_total() {
    let (h, rows) = seeds_csv("safety_valve.csv");
    let totals: BTreeMap<String, f64> = rows
        .iter()
        .map(|r| (r[col(&h, "la_code")].clone(), f(&r[col(&h, "dfe_total")])))
        .collect();
    assert!(!totals.is_empty());
    let (h, rows) = seeds_csv("sv_instalments.csv");
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        let code = r[col(&h, "la_code")].clone();
        assert!(
            totals.contains_key(&code),
            "instalments for non-member {code}"
        );
        *sums.entry(code).or_default() += f(&r[col(&h, "amount")]);
    }
    for (code, total) in &totals {
        let s = sums.get(code).copied().unwrap_or(0.0);
        assert!(
            (s - total).abs() <= 1.0,
            "{code}: instalments {s} vs dfe_total {total}"
        );
    }
    // And through the loader.
    for c in &util::baseline().councils {
        if let Some(sv) = &c.safety_valve {
            let s: f64 = sv.instalments.values().sum();
            let total = totals[&c.la_code.to_string()];
            assert!((s - total).abs() <= 1.0, "{}", c.la_code);
        }
    }
}

#[test]
fn the_shipped_seeds_match_their_hashes_and_the_national_totals() {
    let b = util::baseline();
    assert_eq!(b.hash_warnings(), Vec::<String>::new());
    let checks = b.total_checks();
    assert!(checks.len() >= 10, "{} totals checked", checks.len());
    for c in &checks {
        assert!(
            c.agrees(),
            "{} {}: {:?} vs {}",
            c.metric,
            c.period,
            c.seeds,
            c.published
        );
    }
}
