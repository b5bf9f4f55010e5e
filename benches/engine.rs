//! Engine benchmarks (criterion). Throughput is in council-years: paths x councils x years.
//!
//!   cargo bench --bench engine                      # everything (a few minutes on 2 cores)
//!   cargo bench --bench engine -- --quick           # quick estimates (criterion's --quick)
//!   cargo bench --bench engine -- simulate/threads=1  # one group (filter is a substring/regex)
//!
//! `simulate/*`: the engine alone (every council, the full horizon, national per-path sums),
//! with a trivial per-council callback, so no percentile summaries.
//! `run/*`: `run::simulate_and_summarise` = engine + per-council and national percentile
//! summaries, i.e. what `highneeds run` does before writing files, at 1,000 and 10,000 paths.
//! `summary/*`: the percentile summaries alone, of 4 councils and England at 10,000
//! paths, so a regression in the summary stage shows on its own.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use highneeds::calibration::{calibrate, Model, Vintage};
use highneeds::engine::{simulate, RunConfig};
use highneeds::run::simulate_and_summarise;
use highneeds::seeds::Baseline;
use highneeds::summary::{summarise_council, summarise_national};
use std::path::Path;
use std::time::Duration;

const SEED: u64 = 20260331;

fn model() -> Model {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let baseline = Baseline::load(&root.join("seeds")).expect("seeds load");
    let ls = highneeds::scenario::load(&root.join("scenarios/baseline.toml")).expect("scenario");
    calibrate(&baseline, &ls, Vintage::latest()).expect("calibration")
}

fn pools() -> Vec<(&'static str, rayon::ThreadPool)> {
    let build = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("thread pool")
    };
    // num_threads(0) = rayon's default: one thread per logical CPU (or RAYON_NUM_THREADS).
    vec![("threads=1", build(1)), ("threads=all", build(0))]
}

fn council_years(model: &Model, paths: usize) -> u64 {
    (paths * model.councils.len() * model.schedule.years.len()) as u64
}

fn bench_simulate(c: &mut Criterion) {
    let model = model();
    for (label, pool) in pools() {
        let mut group = c.benchmark_group(format!("simulate/{label}"));
        group.sample_size(10);
        for paths in [1_000usize, 10_000] {
            group.throughput(Throughput::Elements(council_years(&model, paths)));
            group.measurement_time(Duration::from_secs(if paths >= 10_000 { 10 } else { 5 }));
            let cfg = RunConfig { paths, seed: SEED };
            group.bench_with_input(BenchmarkId::from_parameter(paths), &cfg, |b, &cfg| {
                b.iter(|| {
                    pool.install(|| black_box(simulate(&model, cfg, |cp| cp.values.len(), &|| {})))
                })
            });
        }
        group.finish();
    }
}

fn bench_run(c: &mut Criterion) {
    let model = model();
    for (label, pool) in pools() {
        let mut group = c.benchmark_group(format!("run/{label}"));
        group.sample_size(10);
        for paths in [1_000usize, 10_000] {
            group.throughput(Throughput::Elements(council_years(&model, paths)));
            group.measurement_time(Duration::from_secs(if paths >= 10_000 { 15 } else { 5 }));
            let cfg = RunConfig { paths, seed: SEED };
            group.bench_with_input(BenchmarkId::from_parameter(paths), &cfg, |b, &cfg| {
                // The clone of the model (153 councils, small vectors) is part of each
                // iteration; it is negligible next to the run itself.
                b.iter(|| {
                    pool.install(|| black_box(simulate_and_summarise(model.clone(), cfg, &|| {})))
                })
            });
        }
        group.finish();
    }
}

/// The summary stage alone: the percentile summaries of 4 councils' paths and of
/// England's, at 10,000 paths. Throughput counts the council-years summarised (England counts
/// as one council).
fn bench_summary(c: &mut Criterion) {
    let model = model();
    let paths = 10_000usize;
    let councils = 4;
    let cfg = RunConfig { paths, seed: SEED };
    let (kept, england) = simulate(
        &model,
        cfg,
        |cp| (cp.council < councils).then(|| cp.clone()),
        &|| {},
    );
    let kept: Vec<_> = kept.into_iter().flatten().collect();
    let override_end = model.schedule.override_end;
    let years = model.schedule.years.len();
    for (label, pool) in pools() {
        let mut group = c.benchmark_group(format!("summary/{label}"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(
            ((councils + 1) * paths * years) as u64,
        ));
        group.bench_function(BenchmarkId::from_parameter(paths), |b| {
            b.iter(|| {
                pool.install(|| {
                    let councils: Vec<_> = kept
                        .iter()
                        .map(|cp| summarise_council(cp, override_end))
                        .collect();
                    black_box((councils, summarise_national(&england)))
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_simulate, bench_run, bench_summary);
criterion_main!(benches);
