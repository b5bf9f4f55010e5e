//! Scenario files: the `extends` chain, where errors are reported, and what `check` prints.

use crate::util::{self, bin, child_scenario};
use std::path::Path;

/// The error `highneeds::scenario::load` gives for `path`, as the CLI prints it.
fn load_error(path: &Path) -> String {
    match highneeds::scenario::load(path) {
        Ok(_) => panic!("{} should be refused", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_value_set_in_a_parent_is_reported_at_the_parent_line_with_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    // `persistence` is on line 3 of parent.toml (after `extends` and `[demand]`).
    let parent = child_scenario(dir.path(), "parent.toml", "[demand]\npersistence = 1.5");
    let child = dir.path().join("child.toml");
    std::fs::write(&child, "extends = \"parent.toml\"\nname = \"child\"\n").unwrap();
    let message = load_error(&child);
    let at = format!("{}, line 3", parent.display());
    for part in [at.as_str(), "demand.persistence", "1.5", "0 to below 1"] {
        assert!(message.contains(part), "should name `{part}`: {message}");
    }
    assert!(!message.contains("child.toml"), "{message}");
    // The CLI exits 2 with the same message.
    let out = bin().arg("check").arg(&child).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains(&at), "{stderr}");
}

#[test]
fn check_says_which_file_and_line_set_each_key() {
    let scenarios = util::root().join("scenarios");
    let out = bin()
        .arg("check")
        .arg(scenarios.join("override-2026.toml"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let line_of = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no `{key}` in {stdout}"))
            .to_string()
    };
    let end = line_of("override.end");
    assert!(end.contains("\"2026-03-31\""), "{end}");
    assert!(end.contains("override-2026.toml, line 20"), "{end}");
    let persistence = line_of("demand.persistence");
    // The line where baseline.toml's [demand] section sets it (counted, not written here).
    let baseline = std::fs::read_to_string(scenarios.join("baseline.toml")).unwrap();
    let demand_at = baseline.lines().position(|l| l == "[demand]").unwrap();
    let line = demand_at
        + baseline
            .lines()
            .skip(demand_at)
            .position(|l| l.starts_with("persistence = "))
            .unwrap()
        + 1;
    assert!(
        persistence.contains(&format!("baseline.toml, line {line}")),
        "{persistence} (expected line {line})"
    );
    // What it prints is TOML that gives the same values.
    let resolved: toml::Table = stdout.parse().expect("check prints TOML");
    assert_eq!(resolved["hnsg"]["enabled"].as_bool(), Some(false));
    assert_eq!(resolved["demand"]["persistence"].as_float(), Some(0.5));
}

#[test]
fn a_value_of_the_wrong_type_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = child_scenario(
        dir.path(),
        "typed.toml",
        "[costs.unit_cost]\npost16 = \"lots\"",
    );
    let message = load_error(&s);
    let at = format!("{}, line 3", s.display());
    for part in [at.as_str(), "costs.unit_cost.post16"] {
        assert!(message.contains(part), "should name `{part}`: {message}");
    }
}

#[test]
fn the_backtest_window_moves_the_horizon_and_the_override_end() {
    let ls = util::scenario();
    let (first, last) = (util::fy("2021-22"), util::fy("2023-24"));
    let moved = ls.moved_to_window(first, last).expect("window");
    let s = &moved.scenario;
    assert_eq!((s.horizon.first_fy, s.horizon.last_fy), (first, last));
    assert_eq!(s.override_end, last);
    assert_eq!(s.after_override.from_fy, ls.scenario.after_override.from_fy);
    assert!(s.after_override.from_fy > s.override_end);
    // A window that starts after the override has ended is refused, naming the key.
    let late = ls.moved_to_window(util::fy("2030-31"), util::fy("2031-32"));
    let message = late.expect_err("refused").to_string();
    assert!(message.contains("override.end"), "{message}");
}
