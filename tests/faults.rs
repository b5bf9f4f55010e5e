//! Faults (issue 11): results that are not finite or plausible are refused, the output size and
//! the thread count are bounded, interrupts and killed runs leave no temporary files, output
//! files follow the umask, and `--quiet` only hides the progress bar.

use crate::util::{baseline, bin, model, run_baseline, scenario, seeds_dir};
use highneeds::engine::RunConfig;
use highneeds::export::{self, manifest::Provenance, size};
use highneeds::run::{simulate_and_summarise, Inputs, RunReport};
use highneeds::scenario::LoadedScenario;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

fn report(ls: &LoadedScenario, paths: usize) -> RunReport {
    let config = RunConfig { paths, seed: 5 };
    simulate_and_summarise(model(ls), config, &|| {}).report(&ls.scenario.name)
}

fn provenance(ls: &LoadedScenario) -> Provenance<'_> {
    Provenance {
        inputs: Inputs {
            baseline: baseline(),
            scenario: ls,
            config: RunConfig { paths: 8, seed: 5 },
        },
        threads: 1,
        command: "test".to_string(),
        started: SystemTime::now(),
        wall_seconds: 0.0,
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Scenario values that validation might let through but the model cannot represent: the run
/// refuses to write, naming the metric, the council and the year, and writes nothing.
#[test]
fn a_non_finite_result_is_refused_naming_metric_council_and_year() {
    let mut ls = scenario();
    ls.scenario.costs.council_level_sd = f64::INFINITY;
    let r = report(&ls, 8);
    let e = r
        .check_figures()
        .expect_err("an infinite spread gives NaN figures");
    let first = r.horizon.first();
    assert_eq!(e.fy, first, "NaN spend shows in the first projected year");
    assert!(e.value.is_nan(), "{e}");
    let c = &r.councils[0];
    assert_eq!(e.area, format!("{} ({})", c.la_name, c.la_code));
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let err = export::write_run(&dir, &r, &provenance(&ls), &[]).expect_err("refused");
    let msg = format!("{err:#}");
    for part in [e.metric, e.area.as_str(), &first.to_string(), "NaN"] {
        assert!(msg.contains(part), "{msg:?} does not name {part:?}");
    }
    assert!(
        err.downcast_ref::<highneeds::InputError>().is_none(),
        "exit code 1, not 2"
    );
    assert!(files_in(&dir).is_empty(), "wrote {:?}", files_in(&dir));
}

#[test]
fn implausibly_large_results_are_refused_and_the_baseline_is_not() {
    let ls = scenario();
    let r = report(&ls, 8);
    assert!(r.check_figures().is_ok(), "{:?}", r.check_figures());
    let mut ls = scenario();
    ls.scenario.costs.unit_cost.post16 = 1e308;
    let e = report(&ls, 8).check_figures().expect_err("£1e308 a plan");
    assert!(!e.value.is_finite() || e.value.abs() >= 1e15, "{e}");
    // A finite but absurd spend is refused too.
    let mut ls = scenario();
    ls.scenario.costs.unit_cost.special_independent = 1e14;
    let e = report(&ls, 8).check_figures().expect_err("£1e14 a plan");
    assert!(e.value.is_finite() && e.value.abs() >= 1e15, "{e}");
}

#[test]
fn the_output_size_is_bounded_before_the_run() {
    let out = tempfile::tempdir().unwrap();
    run_baseline("8")
        .args(["--council", "886", "--council", "202", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let size_of = |name: &str| std::fs::metadata(out.path().join(name)).unwrap().len();
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let written: u64 = names.iter().map(|n| size_of(n)).sum();
    let csvs = [
        "councils.csv",
        "national.csv",
        "summary.csv",
        "councils_over_reserves.csv",
    ];
    let csv_written: u64 = csvs.iter().map(|n| size_of(n)).sum();
    let ls = scenario();
    let bound = size::run_bytes(&ls, baseline(), 2);
    let briefing = size::briefing_bytes(&ls, baseline(), 2);
    assert!(written <= bound, "wrote {written} bytes, bound {bound}");
    // The CSVs' bound is close; the PNGs' is their raw pixels, whatever they compress to.
    let csv_bound = bound - briefing;
    assert!(
        csv_written <= csv_bound && csv_bound < 4 * csv_written,
        "{csv_bound} for {csv_written}"
    );
    let manifest = size_of("manifest.json");
    assert!(
        written - csv_written - manifest <= briefing,
        "briefing files over {briefing}"
    );
    // Each council's fan chart (`--council`) is counted.
    let one_more = size::run_bytes(&ls, baseline(), 3) - bound;
    let chart = size_of("council_886_deficit.png") + size_of("council_886_deficit.svg");
    assert!(
        one_more >= chart && one_more < 100 * chart,
        "{one_more} for a {chart}-byte chart"
    );
    assert!(size::check_run(&ls, baseline(), 2).is_ok());
    assert!(
        size::check_run(&ls, baseline(), 153).is_ok(),
        "every council's chart fits"
    );
    assert!(size::check_backtest(&ls, baseline()).is_ok());
    // A name written on every row: 200,000 characters would make `run` write about 13 GB, and
    // 2,000,000 make `backtest` write about 7 GB.
    let named = |n| {
        let mut ls = scenario();
        ls.scenario.name = "n".repeat(n);
        ls
    };
    for e in [
        size::check_run(&named(200_000), baseline(), 0),
        size::check_backtest(&named(2_000_000), baseline()),
    ] {
        let msg = e.expect_err("too large").to_string();
        assert!(
            msg.contains("baseline.toml") && msg.contains("`name`"),
            "{msg}"
        );
        assert!(msg.contains("limit of 1 GB"), "{msg}");
    }
}

#[test]
fn the_backtest_output_is_within_its_bound() {
    let out = tempfile::tempdir().unwrap();
    bin()
        .args(["backtest", "scenarios/baseline.toml", "--origin", "2021-22"])
        .args(["--paths", "4", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let written: u64 = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let bound = size::backtest_bytes(&scenario(), baseline());
    assert!(written <= bound, "wrote {written} bytes, bound {bound}");
}

#[test]
fn too_many_threads_exit_2_with_the_cap() {
    run_baseline("1")
        .arg("--quiet")
        .args(["--threads", "100000", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--threads: 100000 is too many: at most",
        ));
}

/// Every file a command writes is one whose temporary files are recognised.
#[test]
fn every_output_is_a_known_output_file() {
    let out = tempfile::tempdir().unwrap();
    run_baseline("2")
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    for name in files_in(out.path()) {
        assert!(export::is_output_file(&name), "{name}");
        assert!(export::is_temporary_file(&format!(".{name}.a1B2c3")));
    }
    assert!(!export::is_temporary_file(".notes.txt.a1B2c3"));
    assert!(!export::is_temporary_file(".councils.csv.a1B2c3d"));
    assert!(!export::is_temporary_file("councils.csv.a1B2c3"));
    assert!(export::is_temporary_file(".council_886_deficit.png.a1B2c3"));
    assert!(export::is_temporary_file(".dsg_plan_all.xlsx.a1B2c3"));
    assert!(!export::is_temporary_file(".council_x_deficit.png.a1B2c3"));
}

#[test]
fn stale_temporary_files_are_removed_and_others_kept() {
    let out = tempfile::tempdir().unwrap();
    let stale = [".councils.csv.Ab12Cd", ".manifest.json.zzzzzz"];
    let kept = [".councils.csv.Ab12Cd7", ".notes.txt.Ab12Cd", "notes.txt"];
    for f in stale.iter().chain(&kept) {
        std::fs::write(out.path().join(f), "x").unwrap();
    }
    run_baseline("2")
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let files = files_in(out.path());
    for f in stale {
        assert!(!files.contains(&f.to_string()), "{f} left in {files:?}");
    }
    for f in kept {
        assert!(files.contains(&f.to_string()), "{f} removed from {files:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_folder_another_command_is_writing_into_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let folder = std::fs::File::open(out.path()).unwrap();
    folder.lock().unwrap();
    run_baseline("2")
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("another highneeds command"));
    folder.unlock().unwrap();
}

/// SIGTERM during the writing phase: exit 130, nothing visible and no temporary files. The
/// signal is sent as soon as the first temporary file appears; a run that finished first
/// (the race lost) is retried.
#[cfg(unix)]
#[test]
fn an_interrupt_while_writing_leaves_no_temporary_files() {
    let exe = assert_cmd::cargo::cargo_bin("highneeds");
    let mut interrupted = 0;
    for _ in 0..10 {
        let out = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(&exe)
            .args(["run", "scenarios/baseline.toml", "--paths", "4", "--quiet"])
            .arg("--seeds")
            .arg(seeds_dir())
            .arg("--out")
            .arg(out.path())
            .current_dir(crate::util::root())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !files_in(out.path()).iter().any(|f| f.starts_with('.'))
            && Instant::now() < deadline
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        let files = files_in(out.path());
        if status.code() == Some(0) {
            assert!(files.iter().all(|f| !f.starts_with('.')), "{files:?}");
            continue; // finished before the signal
        }
        assert_eq!(status.code(), Some(130), "{status:?}");
        assert!(files.is_empty(), "left {files:?}");
        interrupted += 1;
    }
    assert!(interrupted > 0, "no run was interrupted while writing");
}

#[cfg(unix)]
#[test]
fn output_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let exe = assert_cmd::cargo::cargo_bin("highneeds");
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let out = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" run scenarios/baseline.toml --paths 2 --quiet --out \"$1\""
            ))
            .arg(&exe)
            .arg(out.path())
            .current_dir(crate::util::root())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        for f in files_in(out.path()) {
            let m = std::fs::metadata(out.path().join(&f)).unwrap();
            assert_eq!(
                m.permissions().mode() & 0o777,
                mode,
                "{f} under umask {umask}"
            );
        }
    }
}

#[test]
fn quiet_only_hides_the_progress_bar() {
    let out = tempfile::tempdir().unwrap();
    run_baseline("2")
        .args(["--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("England at the end of"))
        .stdout(predicates::str::contains("wrote "));
    // The commands that read a run folder have no bar: --quiet is accepted and changes nothing.
    for args in [
        vec!["report", "--quiet"],
        vec!["export-plan", "--council", "886", "--quiet"],
    ] {
        bin()
            .args(&args)
            .arg(out.path())
            .assert()
            .success()
            .stdout(predicates::str::starts_with("wrote "));
    }
    bin()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "Hide the progress bar (the results summary is still printed)",
        ));
}
