//! Bounded resources: the run size is capped the same way on the command line as in a scenario
//! file, and a run that would not fit in memory is refused before it starts.

use crate::util::{self, bin};
use predicates::prelude::*;

#[test]
fn paths_beyond_the_cap_exit_2_on_the_command_line() {
    let out = tempfile::tempdir().expect("temp dir");
    for paths in ["1000001", "1000000000000"] {
        bin()
            .arg("run")
            .arg(util::baseline_toml())
            .args(["--paths", paths, "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--paths").and(predicate::str::contains("1,000,000")));
    }
}

/// A comparison holds both runs' per-path series of the compared metrics besides a run's own
/// memory (about 59 KB a path for 153 councils over 12 years), so its check counts them: a
/// size a single run may use is refused for `compare`, with the paths that would fit.
#[test]
fn a_comparison_counts_both_runs_per_path_series_in_its_memory_check() {
    use highneeds::compare::{memory_estimate, COUNCIL_METRICS, ENGLAND_METRICS};
    use highneeds::run::{check_memory_for, Summaries};
    let (paths, years, councils) = (100_000, 12, 153);
    let series = (councils * COUNCIL_METRICS.len() + ENGLAND_METRICS.len()) * years * paths * 8;
    assert_eq!(
        memory_estimate(paths, years, 2, councils),
        highneeds::engine::memory_estimate(paths, years, 2) + 2 * series as u64
    );
    let two_gb = 2_000_000_000u64;
    check_memory_for(paths, years, 2, two_gb, Summaries::Exact).expect("a run fits in 2 GB");
    let err = check_memory_for(paths, years, 2, two_gb, Summaries::Paired { councils })
        .expect_err("a comparison of 100,000 paths does not fit in 2 GB")
        .to_string();
    assert!(err.contains("use at most about"), "{err}");
}

#[test]
fn a_run_that_does_not_fit_in_memory_is_refused_saying_how_much_and_what_to_change() {
    let half_gb = 500_000_000u64;
    // 100,000 paths hold over 0.5 GB (a council's results and England's sums, every path).
    let err = highneeds::run::check_memory(100_000, 12, 2, half_gb)
        .expect_err("100,000 paths do not fit in 0.5 GB")
        .to_string();
    assert!(err.contains("100,000 paths"), "{err}");
    assert!(err.contains("GB"), "{err}");
    assert!(err.contains("use at most about"), "{err}");
    // ... and the paths it suggests do fit.
    let at_most: usize = err
        .rsplit("use at most about ")
        .next()
        .and_then(|s| s.split(' ').next())
        .map(|s| s.replace(',', ""))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no path count in {err}"));
    assert!(at_most > 0 && at_most < 100_000, "{err}");
    highneeds::run::check_memory(at_most, 12, 2, half_gb).expect("the suggested size fits");
    highneeds::run::check_memory(10_000, 12, 2, 16 * half_gb).expect("10,000 paths fit in 8 GB");
}

#[test]
fn the_memory_estimate_does_not_grow_with_threads_beyond_a_summarys_columns_each() {
    // Each thread's summary copies 20 metrics' columns (one value per path) at a time.
    let one = highneeds::engine::memory_estimate(10_000, 12, 1);
    let many = highneeds::engine::memory_estimate(10_000, 12, 16);
    assert_eq!(many - one, 15 * 10_000 * 20 * 8);
}

#[test]
fn a_run_holds_one_councils_results_not_a_chunks() {
    // One council (37 metrics) and England's sums (39) over 12 years is 7,296 bytes a path; the
    // national draws add about 1.2 KB and the summary's columns 160 bytes a thread. Holding a
    // chunk of 4 councils' results, as before issue 12's third round, was about 18,000, and one
    // council with a chunk's national sums about 12,300.
    let per_path = highneeds::engine::memory_estimate(100_000, 12, 1) / 100_000;
    assert!(
        (7_296..10_000).contains(&per_path),
        "{per_path} bytes a path"
    );
}
