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

/// The baseline's text with the dotted `keys` (keys or whole tables) removed: a standalone
/// scenario, as a file written for an earlier release that lacks them.
fn baseline_without(keys: &[&str]) -> String {
    let text = std::fs::read_to_string(util::baseline_toml()).unwrap();
    let mut doc: toml_edit::DocumentMut = text.parse().expect("the baseline parses");
    for key in keys {
        let (table, name) = key.rsplit_once('.').unwrap_or(("", key));
        let mut at: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        for segment in table.split('.').filter(|s| !s.is_empty()) {
            at = at
                .get_mut(segment)
                .and_then(|item| item.as_table_like_mut())
                .unwrap_or_else(|| panic!("the baseline has a table `{segment}`"));
        }
        at.remove(name)
            .unwrap_or_else(|| panic!("the baseline sets `{key}`"));
    }
    assert!(!doc.contains_key("extends"));
    doc.to_string()
}

/// Each key the baseline sets, with its value as `highneeds check` prints it.
fn baseline_keys() -> Vec<(String, String)> {
    util::scenario()
        .keys
        .into_iter()
        .filter(|k| k.key != "sensitivity")
        .map(|k| (k.key, k.value.to_string()))
        .collect()
}

/// Asserts `message` lists exactly `missing` (in this order), each with the baseline's value.
fn assert_lists(message: &str, missing: &[(String, String)]) {
    let listed: Vec<&str> = message
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .collect();
    let expected: Vec<String> = missing.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    assert_eq!(listed, expected, "{message}");
    if let [(key, _)] = missing {
        assert!(
            message.contains(&format!("key `{key}` is missing")),
            "{message}"
        );
    } else {
        let count = format!("{} keys are missing", missing.len());
        assert!(message.contains(&count), "{message}");
    }
}

/// A standalone scenario (no `extends`) once stopped at its first missing key, one key per
/// attempt: every command that loads a scenario now names every missing key at once, with the
/// files read and the baseline's values, exits 2 and writes nothing.
#[test]
fn a_standalone_scenario_missing_keys_names_them_all_at_once() {
    let removed = [
        "costs.plans_response",
        "placement.history_years",
        "ceiling.shape",
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, baseline_without(&removed)).unwrap();
    // Listed in the order `check` prints keys, not the order removed.
    let missing: Vec<(String, String)> = baseline_keys()
        .into_iter()
        .filter(|(k, _)| removed.contains(&k.as_str()))
        .collect();
    assert_eq!(missing.len(), 3);
    let message = load_error(&file);
    assert_lists(&message, &missing);
    let read = format!("{}: 3 keys are missing", file.display());
    assert!(message.starts_with(&read), "{message}");
    assert!(
        message.contains(&format!("(files read: {})", file.display())),
        "{message}"
    );
    // No baseline.toml beside it: the hint says where `extends` should point.
    assert!(
        message.contains("<path to scenarios/baseline.toml, relative to"),
        "{message}"
    );
    let f = file.to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let baseline = util::baseline_toml();
    let b = baseline.to_str().unwrap();
    let commands: [&[&str]; 7] = [
        &["check", f],
        &["run", f, "--paths", "10", "--out", o],
        &[
            "sweep",
            f,
            "--paths",
            "10",
            "--set",
            "demand.persistence=0.4,0.5",
            "--out",
            o,
        ],
        &["sensitivity", f, "--paths", "10", "--out", o],
        &["compare", b, f, "--paths", "10", "--out", o],
        &["compare", f, b, "--paths", "10", "--out", o],
        &[
            "backtest", f, "--origin", "2021-22", "--paths", "10", "--out", o,
        ],
    ];
    for args in commands {
        let output = bin().args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert_lists(&stderr, &missing);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // With a baseline.toml beside it, the hint names it.
    std::fs::copy(&baseline, dir.path().join("baseline.toml")).unwrap();
    let message = load_error(&file);
    let hint = format!("add `extends = \"baseline.toml\"` to {}", file.display());
    assert!(message.contains(&hint), "{message}");
}

/// A file written for an earlier release lacks whole tables and keys added since: one message
/// lists them all, and either mend it offers gives back the baseline.
#[test]
fn an_earlier_release_file_is_told_every_key_it_lacks_and_how_to_mend_it() {
    let removed = [
        "placement.history_years",
        "placement.plans_elasticity",
        "costs.plans_response",
        "decay",
        "ceiling",
        "population",
    ];
    let in_removed = |key: &str| {
        removed
            .iter()
            .any(|r| key == *r || key.starts_with(&format!("{r}.")))
    };
    let missing: Vec<(String, String)> = baseline_keys()
        .into_iter()
        .filter(|(k, _)| in_removed(k))
        .collect();
    assert!(missing.len() > 15, "{missing:?}");
    let dir = tempfile::tempdir().unwrap();
    let old = baseline_without(&removed);
    let parent = dir.path().join("old.toml");
    std::fs::write(&parent, &old).unwrap();
    // Read through a child file: the chain is named, and the error is at the file named.
    let child = dir.path().join("child.toml");
    std::fs::write(&child, "extends = \"old.toml\"\nname = \"child\"\n").unwrap();
    let message = load_error(&child);
    assert_lists(&message, &missing);
    let read = format!(
        "{}: {} keys are missing: set them in this file or in a file it extends (files read: {}, which extends {})",
        child.display(),
        missing.len(),
        child.display(),
        parent.display()
    );
    assert!(message.starts_with(&read), "{message}");
    assert!(
        message.contains(&format!("to {}", parent.display())),
        "{message}"
    );

    // Mend 1: copy the values listed, each under its table.
    let mut doc: toml_edit::DocumentMut = old.parse().unwrap();
    for line in message.lines().filter_map(|l| l.strip_prefix("  ")) {
        let (key, value) = line.split_once(" = ").expect("`key = value`");
        let (table, name) = key.rsplit_once('.').expect("a key in a table");
        let mut at: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        for segment in table.split('.') {
            at = at
                .entry(segment)
                .or_insert(toml_edit::table())
                .as_table_like_mut()
                .expect("a table");
        }
        let value: toml_edit::Value = value.parse().expect("a TOML value");
        at.insert(name, toml_edit::value(value));
    }
    std::fs::write(&parent, doc.to_string()).unwrap();
    let mended = highneeds::scenario::load(&child).expect("the copied values mend it");
    let values = |keys: Vec<highneeds::scenario::ResolvedKey>| -> Vec<(String, String)> {
        let mut v: Vec<_> = keys
            .into_iter()
            .filter(|k| k.key != "sensitivity" && k.key != "name")
            .map(|k| (k.key, k.value.to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(values(mended.keys), values(util::scenario().keys));

    // Mend 2: extend the release's baseline.
    let extends = format!(
        "extends = {:?}\n{old}",
        util::baseline_toml().display().to_string()
    );
    std::fs::write(&parent, extends).unwrap();
    let mended = highneeds::scenario::load(&child).expect("extending the baseline mends it");
    assert_eq!(values(mended.keys), values(util::scenario().keys));
}

/// Another error found before the first missing key is reported as before, followed by the
/// missing keys.
#[test]
fn an_error_before_the_missing_keys_comes_first_and_the_list_follows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("both.toml");
    let text = baseline_without(&["ceiling.shape", "population.change_sd"])
        .replace("\npersistence = 0.5 ", "\npersistence = 1.5 ");
    assert!(text.contains("persistence = 1.5"));
    std::fs::write(&file, &text).unwrap();
    let message = load_error(&file);
    let line = text
        .lines()
        .position(|l| l.starts_with("persistence = 1.5"))
        .unwrap()
        + 1;
    let at = format!(
        "{}, line {line}: key `demand.persistence`: 1.5",
        file.display()
    );
    assert!(message.starts_with(&at), "{message}");
    let then = format!("\n{}: 2 keys are missing", file.display());
    assert!(message.contains(&then), "{message}");
    let missing: Vec<(String, String)> = baseline_keys()
        .into_iter()
        .filter(|(k, _)| k == "ceiling.shape" || k == "population.change_sd")
        .collect();
    assert_lists(&message, &missing);
}

/// Every key the list can name is one validation requires: the baseline less any one key is
/// refused naming that key alone, with the file read.
#[test]
fn each_key_left_out_alone_is_reported_missing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("less_one.toml");
    for (key, value) in baseline_keys() {
        std::fs::write(&file, baseline_without(&[&key])).unwrap();
        let message = load_error(&file);
        assert_lists(&message, &[(key, value)]);
        assert!(
            message.contains(&format!("(files read: {})", file.display())),
            "{message}"
        );
    }
}
