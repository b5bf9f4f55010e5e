//! Every scenario key has a declared rule (`src/scenario/ranges.rs`), and the README's table of
//! scenario keys is that declaration (issue 11, items 1 and 6).
//!
//! After a deliberate change to `ranges.rs`: `HIGHNEEDS_README=overwrite cargo test --release
//! scenario_keys` rewrites the table, then review the diff.

use crate::util::root;
use highneeds::scenario::ranges::{rule, KEYS};

const BEGIN: &str =
    "<!-- scenario keys: generated from src/scenario/ranges.rs (tests/scenario_keys.rs) -->";
const END: &str = "<!-- end of scenario keys -->";

/// The table the README must hold.
fn table() -> String {
    let mut text = format!("{BEGIN}\n\n| key | allowed |\n|---|---|\n");
    for (key, rule) in KEYS {
        text.push_str(&format!("| `{key}` | {rule} |\n"));
    }
    text.push('\n');
    text.push_str(END);
    text
}

#[test]
fn the_readme_table_of_scenario_keys_is_the_declared_one() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README has the scenario keys table");
    let end = readme[start..].find(END).expect("the table's end marker") + start + END.len();
    let expected = table();
    if readme[start..end] != expected {
        if std::env::var("HIGHNEEDS_README").as_deref() == Ok("overwrite") {
            let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!(
                "README.md's table of scenario keys differs from src/scenario/ranges.rs; \
                 it should read:\n{expected}"
            );
        }
    }
}

/// Dotted keys of every value under `key` (tables and arrays of tables opened up), and of the
/// tables.
fn leaves(key: &str, value: &toml::Value, out: &mut Vec<String>, tables: &mut Vec<String>) {
    // A sensitivity input's `low` and `high` are values of the key it moves.
    if key.starts_with("sensitivity.") {
        out.push(key.to_string());
        return;
    }
    match value {
        toml::Value::Table(table) if !table.is_empty() => {
            tables.push(key.to_string());
            for (name, inner) in table {
                leaves(&format!("{key}.{name}"), inner, out, tables);
            }
        }
        toml::Value::Array(items) if items.iter().any(|i| i.is_table()) => {
            out.push(key.to_string());
            for item in items {
                leaves(key, item, out, tables);
            }
        }
        _ => out.push(key.to_string()),
    }
}

#[test]
fn every_key_of_every_bundled_scenario_has_a_rule_and_every_rule_a_key() {
    let mut keys = vec!["extends".to_string()];
    let mut tables = Vec::new();
    for entry in std::fs::read_dir(root().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let ls = highneeds::scenario::load(&path).expect("bundled scenario loads");
            for resolved in &ls.keys {
                leaves(&resolved.key, &resolved.value, &mut keys, &mut tables);
            }
        }
    }
    // Tables that hold keys (`costs.unit_cost` of `costs.unit_cost.post16`).
    for key in &keys {
        let mut prefix = key.as_str();
        while let Some(at) = prefix.rfind('.') {
            prefix = &prefix[..at];
            tables.push(prefix.to_string());
        }
    }
    keys.sort();
    keys.dedup();
    for key in &keys {
        assert!(rule(key).is_some(), "`{key}` has no rule in ranges.rs");
    }
    for (pattern, _) in KEYS {
        let used = match pattern.strip_suffix(".*") {
            // A map may be empty in every bundled scenario (`reserves.overrides = {}`).
            Some(table) => keys.iter().any(|k| k.starts_with(table)),
            // Or an optional key of a list's entries (`sensitivity.label`).
            None => keys.iter().chain(&tables).any(|k| {
                k == pattern || pattern.rsplit_once('.').is_some_and(|(list, _)| k == list)
            }),
        };
        assert!(
            used,
            "ranges.rs declares `{pattern}`, which is not a scenario key"
        );
    }
}
