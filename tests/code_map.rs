//! The README's "Code map" names every source file in `src/` (issue 9): a module added, moved or
//! renamed without its line in the map fails here.

use crate::util::root;
use std::path::Path;

/// The map: the README's text from "## Code map" to the next heading.
fn code_map() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Code map\n")
        .expect("a \"Code map\" section in README.md");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// Every file below `dir`, as paths relative to it.
fn files_below(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            files.extend(
                files_below(&path)
                    .into_iter()
                    .map(|f| format!("{name}/{f}")),
            );
        } else {
            files.push(name);
        }
    }
    files
}

/// A file at the top of `src/` is named as `src/NAME`; one in a folder is named by its file
/// name in the row of its top folder (`src/export/` lists `csv.rs`, `briefing/` and so on).
/// `lib.rs` only declares the modules.
#[test]
fn the_code_map_names_every_source_file() {
    let map = code_map();
    let mut missing = Vec::new();
    for file in files_below(&root().join("src")) {
        let named = match file.split_once('/') {
            None => file == "lib.rs" || map.contains(&format!("`src/{file}`")),
            Some((folder, below)) => {
                let name = below.rsplit('/').next().unwrap();
                map.lines()
                    .find(|row| row.starts_with(&format!("| `src/{folder}/`")))
                    .is_some_and(|row| row.contains(&format!("`{name}`")))
            }
        };
        if !named {
            missing.push(file);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "README.md's \"Code map\" does not name these files of src/: {missing:?}"
    );
}
