//! Runs above the sketch threshold (issue 12, fifth round): paths in chunks give the same
//! per-path results, and the sketched percentiles are within the stated relative error of the
//! exact order statistics of a real run; everything else the run writes is exact.

use crate::util::{self, bin};
use highneeds::engine::{simulate, simulate_chunks, RunConfig};
use highneeds::metric::{Metric, NationalMetric};
use highneeds::run::{simulate_and_sketch_in, simulate_and_summarise, RunResult};
use highneeds::sketch::{Percentiles, RELATIVE_ACCURACY};
use highneeds::summary::{Stats, PERCENTILES};

/// The order statistics at ranks `floor(p (n - 1))` for `PERCENTILES`: what each sketched
/// percentile stands for.
fn lower_order_statistics(values: &mut [f64]) -> [f64; 5] {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    PERCENTILES.map(|p| values[((n - 1) as f64 * p).floor() as usize])
}

/// Whether a sketched percentile is within the stated error of the exact order statistic `x`:
/// 0.1% of its size, or zero for a value smaller than half the last digit written.
fn within(sketched: f64, x: f64, decimals: usize) -> bool {
    let zero_below = 0.5 * 10f64.powi(-(decimals as i32));
    let allowed = (RELATIVE_ACCURACY * x.abs() * (1.0 + 1e-9)).max(zero_below);
    (sketched - x).abs() <= allowed
}

fn run_on(threads: usize, work: impl FnOnce() -> RunResult + Send) -> RunResult {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(work)
}

fn bits(s: &Stats) -> [u64; 6] {
    s.named().map(|(_, v)| v.to_bits())
}

#[test]
fn paths_run_in_chunks_are_the_same_bits_as_all_at_once() {
    let model = util::model(&util::scenario());
    let config = RunConfig {
        paths: 300,
        seed: util::SEED,
    };
    // Every tenth council's paths, and England's sums, all at once...
    let (whole, england) = simulate(
        &model,
        config,
        |cp| (cp.council % 10 == 0).then(|| cp.clone()),
        &|| {},
    );
    // ... and in chunks of 128 paths (the last one 44).
    let (mut first_council, mut first_england) = (vec![0; whole.len()], 0);
    let (mut compared, mut england_compared) = (0usize, 0usize);
    simulate_chunks(
        &model,
        config,
        128,
        |chunk| {
            let offset = first_council[chunk.council];
            first_council[chunk.council] += chunk.paths;
            let Some(full) = &whole[chunk.council] else {
                return;
            };
            for p in 0..chunk.paths {
                for t in 0..chunk.years {
                    for m in Metric::ALL {
                        let (a, b) = (chunk.get(p, t, m), full.get(offset + p, t, m));
                        assert_eq!(a.to_bits(), b.to_bits(), "council {}", chunk.council);
                        compared += 1;
                    }
                }
            }
        },
        |chunk| {
            for p in 0..chunk.paths {
                for t in 0..chunk.years {
                    for m in NationalMetric::ALL {
                        let (a, b) = (chunk.get(p, t, m), england.get(first_england + p, t, m));
                        assert_eq!(a.to_bits(), b.to_bits(), "England, {}", m.name());
                        england_compared += 1;
                    }
                }
            }
            first_england += chunk.paths;
        },
        &|| {},
    );
    assert_eq!(first_england, 300);
    assert!(first_council.iter().all(|&p| p == 300));
    assert_eq!(compared, 16 * 300 * 12 * Metric::COUNT);
    assert_eq!(england_compared, 300 * 12 * NationalMetric::COUNT);
}

#[test]
fn sketched_percentiles_are_within_the_stated_error_of_the_exact_ones_and_the_rest_is_exact() {
    const PATHS: usize = 1000;
    let model = util::model(&util::scenario());
    let config = RunConfig {
        paths: PATHS,
        seed: util::SEED,
    };
    let t_end = model.schedule.override_end;
    // The exact order statistics of every council's and England's columns.
    let (exact_councils, england) = simulate(
        &model,
        config,
        |cp| {
            let mut column = vec![0.0; cp.paths];
            let mut stats = Vec::new();
            for t in 0..cp.years {
                for m in Metric::ALL {
                    cp.column(t, m, &mut column);
                    stats.push(lower_order_statistics(&mut column));
                }
            }
            stats
        },
        &|| {},
    );
    let mut column = vec![0.0; PATHS];
    let mut exact_england = Vec::new();
    for t in 0..england.years {
        for m in NationalMetric::ALL {
            england.column(t, m, &mut column);
            exact_england.push(lower_order_statistics(&mut column));
        }
    }
    drop(england);
    let exact = simulate_and_summarise(model.clone(), config, &|| {});
    // Four chunks of 256 paths (the last 232), on two threads.
    let sketched = run_on(2, || {
        simulate_and_sketch_in(model.clone(), config, 256, &|| {})
    });
    assert_eq!(sketched.percentiles, Percentiles::Sketched);

    let (mut checked, mut interpolated_differs) = (0usize, 0usize);
    let mut check = |got: &Stats, want: &Stats, lower: &[f64; 5], decimals: usize, what: &str| {
        // Means are the exact ones, bit for bit.
        assert_eq!(got.mean.to_bits(), want.mean.to_bits(), "{what}: mean");
        for ((g, x), w) in got.percentiles().iter().zip(lower).zip(want.percentiles()) {
            assert!(
                within(*g, *x, decimals),
                "{what}: sketched {g} against the order statistic {x} (exact type 7: {w})"
            );
            checked += 1;
            interpolated_differs += usize::from(g.to_bits() != w.to_bits());
        }
    };
    for (c, (got, want)) in sketched.councils.iter().zip(&exact.councils).enumerate() {
        for t in 0..model.schedule.years.len() {
            for m in Metric::ALL {
                let what = format!("council {c}, year {t}, {}", m.name());
                let lower = &exact_councils[c][t * Metric::COUNT + m.index()];
                check(got.get(t, m), want.get(t, m), lower, m.decimals(), &what);
            }
        }
        // summary.csv's probabilities and expected shortfall are exact.
        let (g, w) = (&got.at_override, &want.at_override);
        assert_eq!(g.p_exceeds, w.p_exceeds, "council {c}");
        assert_eq!(g.p_sv_breach, w.p_sv_breach, "council {c}");
        assert_eq!(
            g.expected_shortfall.0, w.expected_shortfall.0,
            "council {c}"
        );
        let (se, want_se) = (g.expected_shortfall.1, w.expected_shortfall.1);
        assert!(
            (se - want_se).abs() <= 1e-9 * want_se.abs(),
            "{se} {want_se}"
        );
        assert_eq!(
            bits(&g.deficit),
            bits(got.get(t_end, Metric::CumulativeDeficit))
        );
    }
    for t in 0..model.schedule.years.len() {
        for m in NationalMetric::ALL {
            let lower = &exact_england[t * NationalMetric::COUNT + m.index()];
            let (got, want) = (sketched.national.get(t, m), exact.national.get(t, m));
            check(
                got,
                want,
                lower,
                m.decimals(),
                &format!("England, year {t}, {}", m.name()),
            );
        }
    }
    assert_eq!(sketched.over_reserves, exact.over_reserves);
    assert_eq!(
        checked,
        (153 * Metric::COUNT + NationalMetric::COUNT) * 12 * 5
    );
    // The sketch is not the exact summary in disguise: most varying columns differ from type 7.
    assert!(
        interpolated_differs > checked / 4,
        "{interpolated_differs} of {checked}"
    );
}

#[test]
fn sketched_results_do_not_depend_on_threads_or_chunks() {
    let model = util::model(&util::scenario());
    let config = RunConfig {
        paths: 640,
        seed: 7,
    };
    let stats = |r: &RunResult| -> Vec<[u64; 6]> {
        let councils = r.councils.iter().flat_map(|c| c.stats.iter());
        councils.chain(&r.national.stats).map(bits).collect()
    };
    let one = run_on(1, || {
        simulate_and_sketch_in(model.clone(), config, 128, &|| {})
    });
    let two = run_on(2, || {
        simulate_and_sketch_in(model.clone(), config, 128, &|| {})
    });
    let whole = run_on(2, || {
        simulate_and_sketch_in(model.clone(), config, 640, &|| {})
    });
    assert!(stats(&one) == stats(&two), "1 and 2 threads differ");
    assert!(
        stats(&one) == stats(&whole),
        "chunks of 128 and one chunk differ"
    );
    assert_eq!(one.over_reserves, whole.over_reserves);
}

#[test]
fn the_command_line_sketches_above_the_threshold_says_so_and_is_the_same_on_any_threads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |threads: &str, sketch_above: Option<&str>, name: &str| {
        let out = dir.path().join(name);
        let mut cmd = bin();
        cmd.arg("run")
            .arg(util::baseline_toml())
            .args(["--paths", "200", "--threads", threads, "--quiet", "--out"])
            .arg(&out);
        match sketch_above {
            Some(v) => cmd.env("HIGHNEEDS_SKETCH_ABOVE", v),
            None => cmd.env_remove("HIGHNEEDS_SKETCH_ABOVE"),
        };
        cmd.assert().success();
        out
    };
    let manifest = |out: &std::path::Path| -> serde_json::Value {
        let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
        serde_json::from_str(&text).expect("json")
    };
    let one = run("1", Some("100"), "one");
    let two = run("2", Some("100"), "two");
    let exact = run("2", None, "exact");
    for file in [
        "councils.csv",
        "national.csv",
        "summary.csv",
        "councils_over_reserves.csv",
    ] {
        let read = |d: &std::path::Path| std::fs::read(d.join(file)).expect("file");
        assert!(
            read(&one) == read(&two),
            "{file} differs between 1 and 2 threads"
        );
        if file == "councils_over_reserves.csv" {
            assert!(read(&one) == read(&exact), "{file} is exact in both modes");
        }
    }
    assert!(
        std::fs::read(one.join("councils.csv")).unwrap()
            != std::fs::read(exact.join("councils.csv")).unwrap(),
        "the sketched percentiles are not the exact ones"
    );
    let record = &manifest(&one)["percentiles"];
    assert_eq!(record["relative_accuracy"], RELATIVE_ACCURACY);
    assert!(record["crate_name"].as_str().unwrap().contains("ddsketch"));
    assert!(manifest(&exact).get("percentiles").is_none());

    bin()
        .arg("run")
        .arg(util::baseline_toml())
        .args(["--paths", "200", "--quiet", "--out"])
        .arg(dir.path().join("bad"))
        .env("HIGHNEEDS_SKETCH_ABOVE", "many")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("HIGHNEEDS_SKETCH_ABOVE"));
}

#[test]
fn a_sketched_run_holds_about_the_same_memory_whatever_its_paths_and_a_million_fit_in_4_gb() {
    use highneeds::run::{check_memory_for, Summaries};
    let sketched = |paths| highneeds::sketch::memory_estimate(paths, 12, 2, 153);
    assert_eq!(sketched(200_000), sketched(1_000_000));
    assert!(
        sketched(1_000_000) < 4_000_000_000,
        "{}",
        sketched(1_000_000)
    );
    let four_gb = 4_000_000_000;
    check_memory_for(
        1_000_000,
        12,
        2,
        four_gb,
        Summaries::Sketched { councils: 153 },
    )
    .expect("a million sketched paths fit in 4 GB");
    // Held exactly, they would not.
    check_memory_for(1_000_000, 12, 2, four_gb, Summaries::Exact).expect_err("exact needs more");
}
