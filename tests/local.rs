//! Local figures (`run --local`): validation with clear errors, a council started from its own
//! 31 March 2025 balance, other councils untouched, and the file's hash in the manifest.

use crate::util::{self, bin, fy, sim, t_of, SEED};
use highneeds::calibration::{calibrate, Vintage};
use highneeds::local::LocalFigures;
use highneeds::metric::Metric;
use sha2::Digest;
use std::path::Path;

const KENT: u16 = 886;

fn codes() -> Vec<u16> {
    util::baseline()
        .councils
        .iter()
        .map(|c| c.la_code)
        .collect()
}

fn parse(text: &str) -> Result<LocalFigures, String> {
    LocalFigures::parse(Path::new("local.csv"), text, &codes()).map_err(|e| e.to_string())
}

#[test]
fn bad_local_figures_are_named_with_file_line_and_what_is_allowed() {
    let head = "la_code,figure,value,date\n";
    let cases = [
        (
            "999,dsg_balance,1,2025-03-31",
            "la_code` `999` is not a council",
        ),
        (
            "886,deficit,1,2025-03-31",
            "use one of dsg_balance, forecast_overspend, ehcps",
        ),
        (
            "886,usable_reserves,-5,2025-03-31",
            "must be a number at least 0",
        ),
        ("886,dsg_balance,£1m,2025-03-31", "must be a number"),
        ("886,dsg_balance,1,2025-04-01", "must be a 31 March date"),
        (
            "886,ehcps,20000,2025-03-31",
            "must be a January census date",
        ),
    ];
    for (row, want) in cases {
        let e = parse(&format!("{head}{row}\n")).expect_err(row);
        assert!(e.contains("local.csv") && e.contains("line 2"), "{e}");
        assert!(e.contains(want), "{row}: {e}");
    }
    let e = parse("code,figure,value,date\n").unwrap_err();
    assert!(
        e.contains("the header must be `la_code,figure,value,date`"),
        "{e}"
    );
    let e = parse(&format!(
        "{head}886,hnb,1,2025-03-31\n886,hnb,2,2025-03-31\n"
    ))
    .unwrap_err();
    assert!(e.contains("line 3") && e.contains("a second hnb"), "{e}");
    // Dated outside the run: an error at calibration, naming the line and the allowed range.
    let mut b = util::baseline().clone();
    b.local = parse(&format!("{head}886,dsg_balance,1,2019-03-31\n")).unwrap();
    let e = calibrate(&b, &util::scenario(), Vintage::latest())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2") && e.contains("allowed from 2023-24"),
        "{e}"
    );
}

/// Kent given its own 31 March 2025 balance and 2025-26 HNB starts from them in every path;
/// every other council's paths are the same bits as without the file.
#[test]
fn a_council_starts_from_its_own_balance_and_others_are_untouched() {
    let balance = 123_456_789.0;
    let hnb = 350_000_000.0;
    let mut b = util::baseline().clone();
    b.local = parse(&format!(
        "la_code,figure,value,date\n# Kent's own figures\n{KENT},dsg_balance,{balance},2025-03-31\n{KENT},hnb,{hnb},2026-03-31\n"
    ))
    .unwrap();
    let ls = util::scenario();
    let with = calibrate(&b, &ls, Vintage::latest()).unwrap();
    let without = util::model(&ls);
    let (cw, _) = sim(&with, 8, SEED);
    let (co, _) = sim(&without, 8, SEED);
    let (t24, t25) = (t_of(&with, "2024-25"), t_of(&with, "2025-26"));
    let ki = with
        .councils
        .iter()
        .position(|c| c.la_code == KENT)
        .unwrap();
    for p in 0..8 {
        assert_eq!(cw[ki].get(p, t24, Metric::CumulativeDeficit), balance);
        assert_eq!(cw[ki].get(p, t25, Metric::Funding), hnb);
        // The next year starts from the local balance.
        let d25 = cw[ki].get(p, t25, Metric::CumulativeDeficit);
        let flows = cw[ki].get(p, t25, Metric::Spend)
            - cw[ki].get(p, t25, Metric::Funding)
            - cw[ki].get(p, t25, Metric::SvPayment)
            - cw[ki].get(p, t25, Metric::HnsgPayment)
            - cw[ki].get(p, t25, Metric::InterimSupport);
        assert!(
            util::close(d25, balance + flows, 1e-9, 1.0),
            "{d25} vs {}",
            balance + flows
        );
    }
    assert_ne!(
        co[ki].get(0, t24, Metric::CumulativeDeficit),
        balance,
        "the seeds do not already say this"
    );
    for (ci, (a, o)) in cw.iter().zip(&co).enumerate() {
        if ci != ki {
            assert_eq!(a.values, o.values, "council {ci} changed");
        }
    }
    assert_eq!(fy("2024-25"), with.schedule.years[t24]);
}

#[test]
fn run_records_the_local_file_and_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("kent.csv");
    std::fs::write(
        &local,
        format!("la_code,figure,value,date\n{KENT},dsg_balance,100000000,2025-03-31\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    run_with_local(&local, &out).success();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let want = format!("{:x}", sha2::Sha256::digest(std::fs::read(&local).unwrap()));
    let inputs = m["inputs"].as_array().unwrap();
    assert!(
        inputs
            .iter()
            .any(|i| i["file"].as_str().unwrap_or("").ends_with("kent.csv")
                && i["sha256"].as_str() == Some(want.as_str())),
        "{inputs:?}"
    );
    std::fs::write(
        &local,
        "la_code,figure,value,date\n886,ehcps,x,2026-01-15\n",
    )
    .unwrap();
    run_with_local(&local, &out)
        .code(2)
        .stderr(predicates::str::contains("kent.csv, line 2"));
}

/// `highneeds run` of the baseline at 4 paths with `--local LOCAL --out OUT`.
fn run_with_local(local: &std::path::Path, out: &std::path::Path) -> assert_cmd::assert::Assert {
    bin()
        .args([
            "run",
            "scenarios/baseline.toml",
            "--paths",
            "4",
            "--quiet",
            "--local",
        ])
        .arg(local)
        .arg("--out")
        .arg(out)
        .assert()
}
