//! Stored `drill bench <scenario>` results made from the kit's own types
//! (docs/results-format.md, "Bench results"), for the report tests: rounds
//! of runs with the latency, memory and CPU asked for (a little seeded
//! spread per round), summarized by the bench's own `summarize`. No service
//! is built or run.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drillkit::bench::build::{BuildFigures, Stats, Timing};
use drillkit::bench::loadgen::{Counts, Percentiles, SecondStats};
use drillkit::bench::scenario::{
    summarize, BenchResult, KindFigures, Language, Options, RequestInfo, Resources, Run, Startup,
    WorkloadInfo, RESULT_FORMAT_VERSION,
};
use drillkit::bench::sweep::{Judge, Plan, Point, Sweep};
use drillkit::bench::workload::Limits;
use drillkit::bench::{Generator, Latency, Machine};

/// One language as the bench would measure it (medians; rounds vary ±2%).
#[derive(Debug, Clone)]
pub struct Lang {
    pub name: &'static str,
    pub p50_ms: f64,
    pub rss_mb: f64,
    pub cpu_ms_per_1000: f64,
    pub startup_ms: f64,
    /// Clean build, incremental build, visible tests (wall seconds).
    pub builds_s: Option<[f64; 3]>,
}

/// What the result is of.
#[derive(Debug, Clone)]
pub struct Spec {
    pub scenario: String,
    pub started_at: String,
    pub rate: f64,
    pub rounds: u32,
    pub seconds: usize,
    pub langs: Vec<Lang>,
    pub limits: Limits,
}

fn percentiles(p50: f64, count: u64) -> Percentiles {
    Percentiles {
        count,
        mean: p50 * 1.05,
        p50,
        p90: p50 * 1.5,
        p95: p50 * 1.7,
        p99: p50 * 2.1,
        p999: p50 * 2.8,
        max: p50 * 3.5,
    }
}

/// A round's wobble around 1: ±2%, the same for every seed of the spec.
fn wobble(round: u32, k: u32) -> f64 {
    1.0 + 0.02 * (((round * 7 + k * 3) % 5) as f64 - 2.0) / 2.0
}

fn build_stats(median: f64) -> Stats {
    Stats::of(&[median * 0.98, median, median * 1.03, median, median * 1.01]).unwrap()
}

/// The result `drill bench` would have stored for `spec`.
pub fn result(spec: &Spec) -> BenchResult {
    let requests = (spec.rate * spec.seconds as f64) as u64;
    let counts = Counts {
        scheduled: requests,
        ok: requests,
        ..Counts::default()
    };
    let (mut runs, mut startups) = (Vec::new(), Vec::new());
    for round in 0..spec.rounds {
        for (k, l) in spec.langs.iter().enumerate() {
            let w = wobble(round, k as u32);
            startups.push(Startup {
                round,
                lang: l.name.into(),
                ready_line_ms: l.startup_ms * w * 0.9,
                ms: l.startup_ms * w,
            });
            let lat = percentiles(l.p50_ms * w, requests);
            let rss = l.rss_mb * w;
            runs.push(Run {
                round,
                lang: l.name.into(),
                rate: spec.rate,
                counts,
                error_rate: 0.0,
                achieved_rate: spec.rate,
                max_lag_ms: 0.4,
                latency_ms: Latency {
                    corrected: lat.clone(),
                    raw: percentiles(l.p50_ms * w * 0.97, requests),
                },
                per_kind: vec![KindFigures {
                    name: "hello".into(),
                    counts,
                    latency_ms: lat.clone(),
                }],
                per_second: (0..spec.seconds)
                    .map(|s| SecondStats {
                        second: s as u32,
                        requests: spec.rate as u64,
                        errors: 0,
                        latency_ms: lat.clone(),
                    })
                    .collect(),
                resources: Resources {
                    samples: spec.seconds * 40,
                    sample_hz: 40.0,
                    rss_mb_mean: rss * 0.98,
                    rss_mb_peak: rss,
                    hwm_mb: rss,
                    maxrss_mb: None,
                    cpu_s: l.cpu_ms_per_1000 * w * requests as f64 / 1e6,
                    cpu_ms_per_1000_requests: l.cpu_ms_per_1000 * w,
                    threads_mean: 4.0,
                    threads_max: 4,
                    fds_mean: 20.0,
                    fds_max: 24,
                    exit: None,
                    // Grows a little over the first seconds, then flat.
                    rss_mb_per_second: (0..spec.seconds)
                        .map(|s| rss * (0.9 + 0.1 * (s.min(5) as f64 / 5.0)))
                        .collect(),
                },
                generator: Generator {
                    cpu_s: 1.0,
                    cpu_ms_per_1000_requests: 200.0,
                },
                interrupted: false,
            });
        }
    }
    let names: Vec<String> = spec.langs.iter().map(|l| l.name.to_string()).collect();
    let summary = summarize(&names, &runs, &startups, &[spec.rate], &spec.limits, 1);
    let build: BTreeMap<String, BuildFigures> = spec
        .langs
        .iter()
        .filter_map(|l| {
            let [clean, incr, tests] = l.builds_s?;
            let timing = |m: f64| Timing {
                warmups: 1,
                wall_s: build_stats(m),
                cpu_s: build_stats(m * 1.6),
            };
            Some((
                l.name.to_string(),
                BuildFigures {
                    lang: l.name.into(),
                    toolchain: format!("{} 1.0", l.name),
                    build_command: vec!["build".into()],
                    test_command: vec!["test".into()],
                    clean_means: "an empty build cache".into(),
                    edited_file: "main".into(),
                    parallelism: "default (2 core(s))".into(),
                    clean_build: timing(clean),
                    incremental_build: timing(incr),
                    tests: timing(tests),
                    binary_bytes: 8_000_000,
                    notes: vec![],
                },
            ))
        })
        .collect();
    let id = format!(
        "{}-{}-0001",
        spec.scenario,
        spec.started_at.replace(['-', ':'], "").replace(".000", "")
    );
    BenchResult {
        format_version: RESULT_FORMAT_VERSION,
        id,
        scenario: spec.scenario.clone(),
        catalog_revision: None,
        started_at: spec.started_at.clone(),
        finished_at: spec.started_at.clone(),
        options: Options {
            rounds: spec.rounds,
            rates: vec![spec.rate],
            warmup_s: 5.0,
            duration_s: spec.seconds as f64,
            connections: 16,
            timeout_ms: 5000,
            startup_runs: 10,
            seed: 1,
            duration_label: "default".into(),
        },
        workload: WorkloadInfo {
            requests: vec![RequestInfo {
                name: "hello".into(),
                weight: 1,
                method: "GET".into(),
                path: "/hello".into(),
            }],
            faults: vec![],
            env: BTreeMap::new(),
            limits: spec.limits.clone(),
        },
        languages: spec
            .langs
            .iter()
            .map(|l| Language {
                lang: l.name.into(),
                toolchain: format!("{} 1.0", l.name),
                build_command: vec!["build".into()],
                build_s: 10.0,
                binary_bytes: 8_000_000,
            })
            .collect(),
        startups,
        runs,
        summary,
        build,
        sweep: None,
        machine: Machine {
            cores: 2,
            memory_mb: Some(8000),
            os: "linux".into(),
            kernel: None,
            load_before: Some(0.5),
            load_after: Some(0.7),
            toolchains: BTreeMap::new(),
        },
        interrupted: false,
    }
}

/// Writes `r` as `<dir>/bench/<id>.json`, as `drill bench` stores it.
pub fn write(dir: &Path, r: &BenchResult) -> PathBuf {
    let bench = dir.join("bench");
    std::fs::create_dir_all(&bench).unwrap();
    let path = bench.join(format!("{}.json", r.id));
    let mut bytes = serde_json::to_vec_pretty(r).unwrap();
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Go and Rust on `scenario` the way edge-proxy measured (docs/benchmarks.md):
/// equal latency, Rust at about a third of the memory and half the CPU;
/// Rust misses the startup limit, builds slower.
pub fn go_and_rust(scenario: &str) -> Spec {
    Spec {
        scenario: scenario.into(),
        started_at: "2025-02-01T10:00:00.000Z".into(),
        rate: 300.0,
        rounds: 5,
        seconds: 30,
        langs: vec![
            Lang {
                name: "go",
                p50_ms: 12.4,
                rss_mb: 14.1,
                cpu_ms_per_1000: 671.0,
                startup_ms: 45.0,
                builds_s: Some([41.0, 2.1, 3.5]),
            },
            Lang {
                name: "rust",
                p50_ms: 12.1,
                rss_mb: 5.0,
                cpu_ms_per_1000: 314.0,
                startup_ms: 49.0,
                builds_s: Some([160.0, 14.0, 6.0]),
            },
        ],
        limits: Limits {
            p95_ms: Some(50.0),
            p99_ms: None,
            rss_mb: Some(64.0),
            startup_ms: Some(47.0),
            error_rate: Some(0.01),
        },
    }
}

/// A `--sweep` result of `spec`'s scenario, stepped by the kit's own sweep
/// logic against a model service per language: its p95 is 10 ms up to its
/// `knee` rate (req/s) and grows in proportion beyond, so it breaks the
/// 50 ms limit just above 5 × knee.
pub fn sweep_result(spec: &Spec, knees: &[f64]) -> BenchResult {
    let mut r = result(spec);
    let names: Vec<String> = spec.langs.iter().map(|l| l.name.to_string()).collect();
    let plan = Plan {
        start: 100.0,
        factor: 2.0,
        max: 10_000.0,
        refine: 2,
    };
    let judge = Judge {
        percentile: "p95".into(),
        latency_ms: 50.0,
        error_rate: 0.01,
        source: "bench.toml limits.p95_ms (no p99_ms set); errors: limits.error_rate".into(),
        min_achieved: 0.95,
    };
    let mut sweep = Sweep::new(&names, plan, judge);
    while let Some((lang, rate)) = sweep.next() {
        let knee = knees[names.iter().position(|n| *n == lang).unwrap()];
        let point = Point {
            latency_ms: 10.0 * (rate / knee).max(1.0),
            error_rate: 0.0,
            achieved_rate: rate,
        };
        sweep.record(&lang, rate, point);
    }
    r.summary.clear();
    r.runs.clear();
    r.build.clear();
    r.sweep = Some(sweep);
    r.started_at = "2025-02-02T10:00:00.000Z".into();
    r.id = format!("{}-sweep-0001", spec.scenario);
    r
}
