//! Hostile input (issue 11): every scenario key has a finite range, type errors and depth limits
//! say what is allowed, names and descriptions are bounded, financial years are real, `--origin`
//! says what the user can change, and only regular files of bounded size are read (no hang on
//! `/dev/zero` or a FIFO). Each test failed before its fix.

use crate::util::{bin, child_scenario, copy_seeds};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A command that should end at once; longer is a hang.
const PROMPT: Duration = Duration::from_secs(30);

/// The error `highneeds::scenario::load` gives for `path`, as the CLI prints it.
fn load_error(path: &Path) -> String {
    match highneeds::scenario::load(path) {
        Ok(_) => panic!("{} should be refused", path.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "should name `{part}`: {message}");
    }
}

/// The values the issue found accepted (items 1, 2 and 6), each refused naming the file, the
/// line, the key, the value and the range.
#[test]
fn out_of_range_values_are_refused_with_file_line_key_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (TOML after `extends`, key, value as shown, allowed as shown)
        (
            "[costs]\ncouncil_level_sd = inf",
            "costs.council_level_sd",
            "inf",
            "0 to 1",
        ),
        (
            "[placement]\nplans_elasticity = { specialist = 3.0 }",
            "placement.plans_elasticity.specialist",
            "3",
            "0 to 2",
        ),
        (
            "[placement]\ncapacity_plans_elasticity = -0.1",
            "placement.capacity_plans_elasticity",
            "-0.1",
            "0 to 2",
        ),
        (
            "[costs]\ncouncil_level_sd = 1e9",
            "costs.council_level_sd",
            "1000000000",
            "0 to 1",
        ),
        (
            "[costs]\ncouncil_level_sd = -1e308",
            "costs.council_level_sd",
            "-1e308",
            "0 to 1",
        ),
        (
            "[costs]\ncouncil_level_sd = 5",
            "costs.council_level_sd",
            "5",
            "0 to 1",
        ),
        (
            "[costs]\ncouncil_noise_sd = nan",
            "costs.council_noise_sd",
            "NaN",
            "0 to 0.5",
        ),
        (
            "[costs]\nnoise_persistence = 1.5",
            "costs.noise_persistence",
            "1.5",
            "0 to 1",
        ),
        (
            "[costs]\nplans_response = -0.1",
            "costs.plans_response",
            "-0.1",
            "0 to 1",
        ),
        (
            "[mitigation]\ndelivered_alpha = inf",
            "mitigation.delivered_alpha",
            "inf",
            "above 0 to 1000",
        ),
        (
            "[costs.unit_cost]\nspecial_state = 1e308",
            "costs.unit_cost.special_state",
            "1e308",
            "above 0 to 1000000",
        ),
        (
            "[costs.unit_cost]\npost16 = 1e308",
            "costs.unit_cost.post16",
            "1e308",
            "above 0 to 1000000",
        ),
        (
            "[costs]\nprice_fy = \"2050-51\"",
            "costs.price_fy",
            "2050-51",
            "from 2015-16 to 2040-41",
        ),
        (
            "[costs]\nscale_max = inf",
            "costs.scale_max",
            "inf",
            "1 to 10",
        ),
        (
            "[mitigation]\nramp_years = 0",
            "mitigation.ramp_years",
            "0",
            "1 to 40",
        ),
        (
            "[reform]\nsurge_years = 4294967295",
            "reform.surge_years",
            "4294967295",
            "0 to 40",
        ),
        (
            "[reserves]\noverrides = { \"330\" = 1e308 }",
            "reserves.overrides.330",
            "1e308",
            "0 to 100000000000",
        ),
        (
            "[funding]\nschools_block_ratio = 1e308",
            "funding.schools_block_ratio",
            "1e308",
            "0 to 20",
        ),
        (
            "[safety_valve]\ncaseload_share = 1.5",
            "safety_valve.caseload_share",
            "1.5",
            "0 to 1",
        ),
        (
            "[safety_valve]\ncaseload_share = nan",
            "safety_valve.caseload_share",
            "NaN",
            "0 to 1",
        ),
        (
            "[safety_valve]\ncaseload_share = -0.25",
            "safety_valve.caseload_share",
            "-0.25",
            "0 to 1",
        ),
        (
            "[demand]\ntrend_mean = 0.5",
            "demand.trend_mean",
            "0.5",
            "-0.1 to 0.1",
        ),
        (
            "[placement]\nnew_places = [{ fy = \"2040-41\", places = 100 }]",
            "placement.new_places",
            "2040-41",
            "inside the horizon (2024-25 to 2035-36)",
        ),
    ];
    for (n, (toml, key, value, range)) in cases.iter().enumerate() {
        let file = child_scenario(dir.path(), &format!("s{n}.toml"), toml);
        let message = load_error(&file);
        let at = format!("{}, line 3", file.display());
        assert_names(&message, &[&at, &format!("`{key}`"), value, range]);
    }
}

/// Financial years must be real wherever they are read: `"0000-01"` once gave a deficit of
/// £9.4e38bn (item 6).
#[test]
fn financial_years_must_be_real_in_scenarios_and_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for year in ["0000-01", "+999-00", "1999-00", "2101-02"] {
        let file = child_scenario(
            dir.path(),
            "fy.toml",
            &format!("[costs]\nprice_fy = \"{year}\""),
        );
        let message = load_error(&file);
        assert_names(
            &message,
            &[
                "line 3",
                "`costs.price_fy`",
                year,
                "from 2000-01 to 2100-01",
            ],
        );
    }
    let out = bin()
        .args(["backtest", "scenarios/baseline.toml", "--origin", "0000-01"])
        .timeout(PROMPT)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_names(&stderr, &["--origin", "0000-01", "from 2000-01 to 2100-01"]);
}

/// A 200,000-character name once wrote a 12.9 GB `councils.csv` (item 3).
#[test]
fn names_and_descriptions_have_length_limits() {
    let dir = tempfile::tempdir().unwrap();
    let fine = child_scenario(
        dir.path(),
        "fine.toml",
        &format!("name = \"{}\"", "n".repeat(64)),
    );
    assert!(highneeds::scenario::load(&fine).is_ok());
    let long = child_scenario(
        dir.path(),
        "long.toml",
        &format!("name = \"{}\"", "n".repeat(65)),
    );
    assert_names(
        &load_error(&long),
        &["long.toml, line 2", "`name`", "65 characters", "at most 64"],
    );
    let text = "d".repeat(1001);
    let long = child_scenario(
        dir.path(),
        "desc.toml",
        &format!("description = \"{text}\""),
    );
    assert_names(
        &load_error(&long),
        &[
            "desc.toml, line 2",
            "`description`",
            "1001 characters",
            "at most 1000",
        ],
    );
}

/// A value of the wrong type names the file, the line, the key and what is allowed, and does
/// not repeat a 200,000-character value (item 7).
#[test]
fn type_errors_name_file_line_key_and_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("\"{}\"", "x".repeat(200_000));
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "[costs]\ncouncil_level_sd = \"abc\"".into(),
            "costs.council_level_sd",
            "a number: a standard deviation on the log scale, 0 to 1",
        ),
        (
            format!("[demand]\npersistence = {long}"),
            "demand.persistence",
            "an AR(1) coefficient, 0 to below 1",
        ),
        (
            "[run]\npaths = 2.5".into(),
            "run.paths",
            "a whole number: Monte Carlo paths, 1 to 1000000",
        ),
        (
            "[run]\npaths = 18446744073709551616".into(),
            "run.paths",
            "1 to 1000000",
        ),
        (
            "[run]\nseed = -1".into(),
            "run.seed",
            "a whole number from 0 to 18446744073709551615",
        ),
        (
            "[hnsg]\nenabled = \"yes\"".into(),
            "hnsg.enabled",
            "`true` or `false`",
        ),
        (
            "[after_override]\nregime = 3".into(),
            "after_override.regime",
            "`council`, `central` or `write_off`",
        ),
        (
            "[ceiling]\nprevalence = 0.2".into(),
            "ceiling.prevalence",
            "under_5",
        ),
    ];
    for (n, (toml, key, allowed)) in cases.iter().enumerate() {
        let file = child_scenario(dir.path(), &format!("t{n}.toml"), toml);
        let message = load_error(&file);
        assert_names(
            &message,
            &[&format!("t{n}.toml, line 3"), &format!("`{key}`"), allowed],
        );
        assert!(
            message.len() < 400,
            "{} characters: {message:.400}",
            message.len()
        );
    }
}

/// `--origin 2022-23` once failed naming `horizon.first_fy`, a key the user never set; an
/// origin the seeds cannot back-test now names `--origin` and the origins they can (item 9).
#[test]
fn an_origin_outside_the_data_names_the_origins_that_work() {
    let baseline = crate::util::baseline();
    let (earliest, latest) = highneeds::backtest::origins(baseline).expect("origins");
    assert_eq!(
        (earliest.to_string(), latest.to_string()),
        ("2019-20".into(), "2024-25".into())
    );
    for origin in ["2018-19", "2025-26", "2040-41"] {
        let out = bin()
            .args([
                "backtest",
                "scenarios/baseline.toml",
                "--paths",
                "2",
                "--origin",
                origin,
            ])
            .timeout(PROMPT)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_names(&stderr, &["--origin", origin, "2019-20", "2024-25"]);
        assert!(!stderr.contains("horizon.first_fy"), "{stderr}");
    }
    // Both ends work.
    for origin in [earliest, latest] {
        let out = tempfile::tempdir().unwrap();
        bin()
            .args([
                "backtest",
                "scenarios/baseline.toml",
                "--paths",
                "2",
                "--quiet",
            ])
            .args(["--origin", &origin.to_string(), "--out"])
            .arg(out.path())
            .timeout(Duration::from_secs(120))
            .assert()
            .success();
    }
}

/// A chain of `n` files, `c1.toml` extending `c2.toml` ... the last extending the baseline.
fn chain(dir: &Path, n: usize) -> PathBuf {
    for i in 1..n {
        let text = format!("extends = \"c{}.toml\"\nname = \"c{i}\"\n", i + 1);
        std::fs::write(dir.join(format!("c{i}.toml")), text).unwrap();
    }
    child_scenario(dir, &format!("c{n}.toml"), "");
    dir.join("c1.toml")
}

/// A chain deeper than the limit once read "`extends` forms a loop" (item 13).
#[test]
fn a_deep_extends_chain_is_reported_as_too_deep_and_a_loop_as_a_loop() {
    use highneeds::scenario::MAX_CHAIN;
    // The baseline itself is the last file: MAX_CHAIN files in all.
    let dir = tempfile::tempdir().unwrap();
    let ok = chain(dir.path(), MAX_CHAIN - 1);
    assert_eq!(
        highneeds::scenario::load(&ok)
            .expect("16 files")
            .files
            .len(),
        MAX_CHAIN
    );
    let dir = tempfile::tempdir().unwrap();
    let deep = chain(dir.path(), MAX_CHAIN);
    let message = load_error(&deep);
    assert_names(&message, &["line 1", "deeper than 16 files"]);
    assert!(!message.contains("loop"), "{message}");
    // A loop, also through another spelling of the same file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), "extends = \"b.toml\"\n").unwrap();
    std::fs::write(dir.path().join("b.toml"), "extends = \"./a.toml\"\n").unwrap();
    let message = load_error(&dir.path().join("a.toml"));
    assert_names(&message, &["b.toml, line 1", "forms a loop"]);
}

fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs `highneeds ARGS` and expects exit 2 at once (not a hang) with `parts` in the message.
fn refused_at_once(args: &[&str], parts: &[&str]) {
    let out = bin().args(args).timeout(PROMPT).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_names(&stderr, parts);
}

/// `extends = "/dev/zero"`, a FIFO, or `check /dev/zero` once hung (item 14).
#[cfg(target_os = "linux")]
#[test]
fn devices_fifos_and_huge_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe.toml");
    fifo(&pipe);
    let pipe = pipe.to_str().unwrap();
    let not_regular = "is not a regular file";
    refused_at_once(&["check", "/dev/zero"], &["/dev/zero", not_regular]);
    refused_at_once(&["check", pipe], &[pipe, not_regular]);
    refused_at_once(&["run", pipe, "--paths", "2"], &[pipe, not_regular]);
    refused_at_once(
        &["compare", "scenarios/baseline.toml", pipe, "--paths", "2"],
        &[pipe, not_regular],
    );
    for target in ["/dev/zero", pipe] {
        let child = child_scenario(dir.path(), "child.toml", "");
        std::fs::write(&child, format!("extends = {target:?}\n")).unwrap();
        let child = child.to_str().unwrap();
        refused_at_once(
            &["check", child],
            &[child, "line 1", "`extends`", target, not_regular],
        );
    }
    // Local figures.
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for target in ["/dev/zero", pipe] {
        refused_at_once(
            &[
                "run",
                "scenarios/baseline.toml",
                "--paths",
                "2",
                "--out",
                out,
                "--local",
                target,
            ],
            &[target, not_regular],
        );
    }
    // A seeds table.
    let seeds = copy_seeds();
    let table = seeds.path().join("hnb.csv");
    std::fs::remove_file(&table).unwrap();
    fifo(&table);
    let seeds_arg = seeds.path().to_str().unwrap();
    refused_at_once(
        &["check", "scenarios/baseline.toml", "--seeds", seeds_arg],
        &["hnb.csv", not_regular],
    );
    // A scenario larger than 1 MiB (a comment, so it would parse).
    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, format!("# {}\n", "x".repeat(1 << 20))).unwrap();
    let huge = huge.to_str().unwrap();
    refused_at_once(
        &["check", huge],
        &[huge, "1048579 bytes", "(1048576 bytes)"],
    );
}

/// A seed figure of -1e308 once made `spend` infinite and the run end in exit 1: the seeds
/// refuse it, naming the file, the line and the column (found by the harness).
#[test]
fn seed_figures_must_be_finite_and_of_a_sensible_size() {
    for bad in ["-1e308", "nan", "inf", "2e12"] {
        let seeds = copy_seeds();
        let path = seeds.path().join("deficits.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        // Line 3: `201,2021-03-31,0,estimated,R15`.
        let cells: Vec<&str> = lines[2].split(',').collect();
        lines[2] = format!("{},{},{bad},{},{}", cells[0], cells[1], cells[3], cells[4]);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let message = match highneeds::seeds::Baseline::load(seeds.path()) {
            Ok(_) => panic!("{bad} accepted"),
            Err(e) => e.to_string(),
        };
        assert_names(
            &message,
            &["deficits.csv, line 3", "`cumulative_deficit`", bad, "1e12"],
        );
    }
}

/// Seeds without safety-valve agreements once printed `NaN` for the empty group of the
/// back-test's table and summary (found by the harness): a group with no councils has no row.
#[test]
fn a_backtest_without_safety_valve_councils_prints_no_nan() {
    let seeds = copy_seeds();
    for table in ["safety_valve.csv", "sv_instalments.csv"] {
        let path = seeds.path().join(table);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{}\n", text.lines().next().unwrap())).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let run = bin()
        .args([
            "backtest",
            "scenarios/baseline.toml",
            "--origin",
            "2021-22",
            "--paths",
            "4",
        ])
        .args([
            "--quiet",
            "--seeds",
            seeds.path().to_str().unwrap(),
            "--out",
        ])
        .arg(out.path())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(
        !stdout.contains("NaN") && !stdout.contains(" SV "),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(out.path().join("backtest_summary.csv")).unwrap();
    assert!(
        !summary.contains("NaN") && !summary.contains("safety_valve"),
        "{summary}"
    );
    assert!(
        summary.contains(",other,"),
        "the other councils are still scored"
    );
}

/// `placement.group_correlation` must be a correlation matrix: each way it can fail is refused,
/// naming the file, the line, the key and what is allowed.
#[test]
fn a_placement_group_correlation_that_is_not_a_correlation_matrix_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "[[1.0, 0.2, 0.0], [0.2, 0.9, 0.0], [0.0, 0.0, 1.0]]",
            "the diagonal must be 1",
        ),
        (
            "[[1.0, 0.2, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]]",
            "must be symmetric",
        ),
        (
            "[[1.0, 1.5, 0.0], [1.5, 1.0, 0.0], [0.0, 0.0, 1.0]]",
            "-1 to 1",
        ),
        (
            "[[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]",
            "must be positive definite",
        ),
    ];
    for (n, (matrix, allowed)) in cases.iter().enumerate() {
        let toml = format!("[placement]\ngroup_correlation = {matrix}");
        let file = child_scenario(dir.path(), &format!("g{n}.toml"), &toml);
        let message = load_error(&file);
        let at = format!("{}, line 3", file.display());
        assert_names(&message, &[&at, "`placement.group_correlation`", allowed]);
    }
    // The identity is a correlation matrix.
    let file = child_scenario(
        dir.path(),
        "identity.toml",
        "[placement]\ngroup_correlation = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]",
    );
    highneeds::scenario::load(&file).expect("the identity is allowed");
}
