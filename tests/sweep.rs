//! `highneeds sweep` and `highneeds merge`: the grid's variants and their keys, a variant equal
//! to the scenario reproducing a plain run, bad `--set` arguments, and shards run the way the
//! Slurm and Kubernetes scripts in contrib/ run them, merged into the unsharded sweep byte for
//! byte.

use crate::util::{self, bin, col, read_csv, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PATHS: &str = "50";
const SCENARIO: &str = "scenarios/baseline.toml";
/// A 2 x 2 grid whose first variant is the baseline itself (its special_independent inflation
/// is 0.045 and its HNSG is enabled).
const SETS: [&str; 2] = [
    "costs.inflation.special_independent=0.045,0.065",
    "hnsg.enabled=true,false",
];
/// The grid's variants in order: (inflation, hnsg.enabled).
const VARIANTS: [(&str, &str, &str); 4] = [
    ("v0", "0.045", "true"),
    ("v1", "0.045", "false"),
    ("v2", "0.065", "true"),
    ("v3", "0.065", "false"),
];
/// Every file a variant's folder holds.
const VARIANT_FILES: [&str; 7] = [
    "councils.csv",
    "national.csv",
    "summary.csv",
    "councils_over_reserves.csv",
    "national_deficit.svg",
    "national_ehcps.svg",
    "manifest.json",
];

fn seed() -> String {
    util::SEED.to_string()
}

/// A fresh folder for one test under Cargo's temporary folder for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sweep")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The `sweep` arguments of the grid, as the scripts' SWEEP_SETS.
fn sets_words() -> String {
    SETS.iter()
        .map(|s| format!("--set {s}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sweep_args(out: &Path) -> Vec<String> {
    let mut args = vec!["sweep".to_string(), SCENARIO.to_string()];
    for s in SETS {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    let out = out.display().to_string();
    args.extend(["--paths", PATHS, "--quiet", "--out", &out].map(String::from));
    args.extend(["--seed".to_string(), seed()]);
    args
}

/// The unsharded sweep of the grid, run once for the tests that read it.
fn grid_sweep() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = scratch("grid").join("sweep");
        bin().args(sweep_args(&out)).assert().success();
        out
    })
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).expect("under base").to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts that two folders hold the same files with the same bytes.
fn assert_same_folders(expected: &Path, actual: &Path) {
    let files = files_under(expected);
    assert_eq!(files, files_under(actual), "the same files");
    assert!(files.len() >= 4 * VARIANT_FILES.len() + 3, "{files:?}");
    for f in files {
        assert!(
            read(&expected.join(&f)) == read(&actual.join(&f)),
            "{} differs",
            f.display()
        );
    }
}

/// England's median cumulative deficit of councils in deficit in the last FY of a national.csv.
fn last_deficit(national: &Path) -> f64 {
    let (h, rows) = read_csv(national);
    let (fy, metric, p50) = (col(&h, "fy"), col(&h, "metric"), col(&h, "p50"));
    rows.iter()
        .filter(|r| r[metric] == "cumulative_deficit")
        .max_by(|a, b| a[fy].cmp(&b[fy]))
        .map(|r| r[p50].parse().expect("a number"))
        .expect("a cumulative_deficit row")
}

#[test]
fn a_2x2_grid_writes_four_variants_keyed_by_their_values() {
    let dir = grid_sweep();
    let (header, rows) = read_csv(&dir.join("sweep.csv"));
    let (_, national) = read_csv(&dir.join("variants/v0/national.csv"));
    assert_eq!(
        header[..4],
        [
            "variant",
            "costs.inflation.special_independent",
            "hnsg.enabled",
            "scenario"
        ]
    );
    assert_eq!(rows.len(), 4 * national.len());
    for (k, (name, inflation, hnsg)) in VARIANTS.into_iter().enumerate() {
        let folder = dir.join("variants").join(name);
        for f in VARIANT_FILES {
            assert!(folder.join(f).is_file(), "{name}/{f}");
        }
        // The combined rows are the variant's own national.csv rows, behind its key.
        let (own_header, own) = read_csv(&folder.join("national.csv"));
        assert_eq!(header[3..], own_header[..]);
        let block = &rows[k * own.len()..(k + 1) * own.len()];
        for (combined, own) in block.iter().zip(&own) {
            assert_eq!(combined[..3], [name, inflation, hnsg]);
            assert_eq!(combined[3..], own[..]);
        }
        // The variant's resolved scenario holds the swept values.
        let manifest: serde_json::Value =
            serde_json::from_slice(&read(&folder.join("manifest.json"))).expect("json");
        let s = &manifest["scenario"];
        let drawn = s["costs"]["inflation"]["special_independent"].as_f64();
        assert_eq!(drawn, Some(inflation.parse().expect("number")), "{name}");
        assert_eq!(s["hnsg"].is_null(), hnsg == "false", "{name}");
        assert_eq!(manifest["variant"]["name"], name);
        assert!(manifest.get("wall_seconds").is_none(), "no timings");
    }
    // The swept keys change the answer in the expected direction.
    let deficit = |v: &str| last_deficit(&dir.join("variants").join(v).join("national.csv"));
    assert!(deficit("v1") > deficit("v0"), "no HNSG, a larger deficit");
    assert!(
        deficit("v2") > deficit("v0"),
        "faster fee inflation, a larger deficit"
    );
    // The council summary: every variant's summary.csv rows, keyed the same way.
    let (sh, summary) = read_csv(&dir.join("sweep_summary.csv"));
    let (_, own) = read_csv(&dir.join("variants/v3/summary.csv"));
    assert_eq!(sh[..3], header[..3]);
    assert_eq!(summary.len(), 4 * own.len());
    assert_eq!(summary[3 * own.len()][..3], ["v3", "0.065", "false"]);
    // The manifest: the grid, the variants, the seed and paths, the inputs' hashes.
    let m: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("manifest.json"))).expect("json");
    assert_eq!(m["seed"], util::SEED);
    assert_eq!(m["paths"], 50);
    assert_eq!(m["grid"][1]["values"], serde_json::json!(["true", "false"]));
    assert_eq!(m["variants"].as_array().map(Vec::len), Some(4));
    let inputs = m["inputs"].as_array().expect("inputs");
    assert!(inputs.iter().any(|i| i["file"] == SCENARIO));
    assert!(m.get("shard").is_none());
}

#[test]
fn a_variant_equal_to_the_scenario_reproduces_a_plain_run() {
    let dir = grid_sweep();
    let out = scratch("plain-run").join("run");
    let o = out.display().to_string();
    bin()
        .args(["run", SCENARIO, "--paths", PATHS, "--seed", &seed()])
        .args(["--quiet", "--out", &o])
        .assert()
        .success();
    for f in &VARIANT_FILES[..6] {
        assert!(
            read(&out.join(f)) == read(&dir.join("variants/v0").join(f)),
            "{f} of variant v0 differs from the plain run's"
        );
    }
    assert!(read(&out.join("national.csv")) != read(&dir.join("variants/v1/national.csv")));
}

#[test]
fn bad_set_arguments_exit_2_naming_the_argument_key_and_range() {
    let out = scratch("bad-set").join("never");
    let o = out.display().to_string();
    let cases = [
        (
            "costs.unit_cost.independent=1,2",
            "`costs.unit_cost.independent` is not a scenario key",
        ),
        (
            "costs.inflation.special_independent=0.03,9",
            "key `costs.inflation.special_independent`: 9 is not allowed: a yearly rate, -0.1 to 0.2",
        ),
        ("costs.inflation.special_independent", "expected KEY=V1,V2,..."),
        ("hnsg.enabled=true,,false", "an empty value"),
        ("hnsg.enabled=yes", "key `hnsg.enabled`: invalid type"),
        ("run.seed=1,2", "use --paths and --seed"),
    ];
    for (set, message) in cases {
        let assert = bin()
            .args([
                "sweep", SCENARIO, "--set", set, "--paths", "5", "--quiet", "--out", &o,
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.starts_with(&format!("error: --set {set}: ")) && stderr.contains(message),
            "{set}: {stderr}"
        );
    }
    // A key of the file that no longer fits with a swept value names the variant.
    let assert = bin()
        .args([
            "sweep",
            SCENARIO,
            "--set",
            "demand.min_growth=0.0,0.5",
            "--paths",
            "5",
        ])
        .args(["--quiet", "--out", &o])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("variant v1 (demand.min_growth=0.5)")
            && stderr.contains("demand.max_growth"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
}

/// A command running `script` (a shell file or `sh -c` text) with the test binary as
/// `highneeds`, in the crate's root, without any scheduler variables of the machine running the
/// tests.
fn scheduler_command(program: &str, script_args: &[&str], bin_dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.args(script_args).current_dir(root());
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_CPUS_PER_TASK",
        "JOB_COMPLETION_INDEX",
    ] {
        c.env_remove(var);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir.to_owned()];
    paths.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("HIGHNEEDS", env!("CARGO_BIN_EXE_highneeds"))
        .env("SCENARIO", SCENARIO)
        .env("SWEEP_SETS", sets_words())
        .env("PATHS", PATHS)
        .env("SEED", seed());
    c
}

/// A folder with `highneeds` (the test binary) in it, for scripts that call it by name.
fn bin_dir(name: &str) -> PathBuf {
    let dir = scratch(name).join("bin");
    std::fs::create_dir_all(&dir).expect("bin folder");
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_highneeds"), dir.join("highneeds"))
        .expect("link the binary");
    dir
}

fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn slurm_array_shards_merge_into_the_unsharded_sweep_byte_for_byte() {
    let dir = scratch("slurm").join("sweep");
    let bins = bin_dir("slurm-bin");
    // `sbatch --array=1-3`: task IDs 1..3, so the script's K = ID - MIN runs shards 0/3 to 2/3
    // (shard 0 holds v0 and v3). The shards run with --threads 1, the unsharded sweep with all.
    for id in 1..=3 {
        let mut c = scheduler_command("bash", &["contrib/slurm/sweep.sbatch"], &bins);
        c.env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env("SWEEP_DIR", &dir);
        run_ok(c, &format!("sweep.sbatch, task {id}"));
    }
    let shard0: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("shards/0/manifest.json"))).expect("json");
    assert_eq!(shard0["shard"]["variants"], serde_json::json!(["v0", "v3"]));
    let mut c = scheduler_command("bash", &["contrib/slurm/merge.sbatch"], &bins);
    c.env("SWEEP_DIR", &dir);
    run_ok(c, "merge.sbatch");
    assert_same_folders(grid_sweep(), &dir.join("merged"));
}

/// The shell text of the first `args: - |` block of a Kubernetes manifest, dedented.
fn container_script(yaml: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "- |")
        .expect("an `args: - |` block");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let block: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > indent(lines[start]))
        .copied()
        .collect();
    let margin = block
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    block
        .iter()
        .map(|l| l.get(margin..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of `key: value` in a manifest (the first one), without quotes and comment.
fn yaml_value(yaml: &str, key: &str) -> String {
    let lines: Vec<&str> = yaml.lines().map(str::trim).collect();
    let line = lines
        .iter()
        .position(|l| l.starts_with(&format!("{key}:")) || *l == format!("- name: {key}"))
        .unwrap_or_else(|| panic!("no {key}"));
    let text = if lines[line].starts_with("- name:") {
        lines[line + 1].trim_start_matches("value:")
    } else {
        lines[line].split_once(':').map_or("", |(_, v)| v)
    };
    let text = text.split(" #").next().unwrap_or("");
    text.trim().trim_matches('"').to_string()
}

#[cfg(unix)]
#[test]
fn kubernetes_indexed_job_shards_merge_into_the_unsharded_sweep_byte_for_byte() {
    let yaml = std::fs::read_to_string(root().join("contrib/k8s/sweep-job.yaml")).expect("yaml");
    assert_eq!(yaml_value(&yaml, "completionMode"), "Indexed");
    assert_eq!(
        yaml_value(&yaml, "completions"),
        yaml_value(&yaml, "SHARDS"),
        "the Job's completions and its SHARDS agree"
    );
    let shard_script = container_script(&yaml);
    let merge_yaml =
        std::fs::read_to_string(root().join("contrib/k8s/merge-job.yaml")).expect("yaml");
    let merge_script = container_script(&merge_yaml);
    let dir = scratch("k8s").join("sweep");
    let bins = bin_dir("k8s-bin");
    // Five pods for four variants: pod 4 runs none and still writes its manifest.
    for index in 0..5 {
        let mut c = scheduler_command("sh", &["-c", &shard_script], &bins);
        c.env("JOB_COMPLETION_INDEX", index.to_string())
            .env("SHARDS", "5")
            .env("SWEEP_DIR", &dir);
        run_ok(c, &format!("the Indexed Job's pod {index}"));
    }
    assert!(!dir.join("shards/4/variants").exists());
    let mut c = scheduler_command("sh", &["-c", &merge_script], &bins);
    c.env("SWEEP_DIR", &dir);
    run_ok(c, "the merge Job");
    assert_same_folders(grid_sweep(), &dir.join("merged"));
}

#[test]
fn merge_refuses_shards_of_other_sweeps_and_missing_or_duplicate_shards() {
    let dir = scratch("refusals");
    let shard = |k: usize, seed: &str, name: &str| {
        let out = dir.join(name);
        let o = out.display().to_string();
        bin()
            .args([
                "sweep",
                SCENARIO,
                "--set",
                "hnsg.enabled=true,false",
                "--paths",
                "8",
            ])
            .args(["--seed", seed, "--quiet", "--out", &o])
            .args(["--shard", &format!("{k}/2")])
            .assert()
            .success();
        o
    };
    let (a0, a1, b1) = (
        shard(0, "1", "a0"),
        shard(1, "1", "a1"),
        shard(1, "2", "b1"),
    );
    let merged = dir.join("merged").display().to_string();
    let refuse = |shards: &[&str], message: &str| {
        let assert = bin()
            .arg("merge")
            .args(shards)
            .args(["--out", &merged])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{shards:?}: {stderr}");
    };
    refuse(&[&a0, &b1], "its seed is 2 where");
    refuse(&[&a0], "shard 1/2 is missing");
    refuse(&[&a0, &a1, &a0], "shard 0/2 is given twice");
    refuse(
        &[&a0, &a1, &dir.join("nothing").display().to_string()],
        "not a sweep shard",
    );
    assert!(!dir.join("merged").exists(), "nothing written");
    bin()
        .args(["merge", &a1, &a0, "--out", &merged])
        .assert()
        .success();
    assert!(dir.join("merged/sweep.csv").is_file());
}
