//! Snapshot tests of the command line's text: `--help` of every command, the error messages of
//! bad inputs, and exit codes (`tests/cmd/*.trycmd`). After a deliberate wording change, update
//! them with `TRYCMD=overwrite cargo test --release cli_text` and review the diff.

#[test]
fn cli_text_matches_the_snapshots() {
    trycmd::TestCases::new()
        .register_bin(
            "highneeds",
            std::path::Path::new(env!("CARGO_BIN_EXE_highneeds")),
        )
        .case("tests/cmd/*.trycmd");
}
