//! `drill bench <scenario>`: both languages of a scenario, built in the
//! profile the drills judge, measured under the same workload in interleaved
//! rounds (A B A B …): startups, then the load at each target rate, each in a
//! fresh environment (the suite's service under its fakes), with the
//! service's RSS, CPU, threads and open fds sampled from `/proc`.
//!
//! Measurement uses real time only. A stop request (Ctrl-C) ends the run at
//! the next step, or ends the load in progress early; everything measured
//! until then is kept, the load in progress marked `interrupted`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::build::{self as build_bench, BuildFigures, BuildOpts, BuildProgress};
use super::compare::{median, ratio, Ratio, Spread};
use super::loadgen::{self, Counts, LoadSpec, Percentiles, SecondStats};
use super::sample::{self, ExitUsage, Sample, Sampler};
use super::sweep::{Judge, Plan, Point, Sweep};
use super::workload::{Limits, Mix, Workload};
use super::{Generator, Latency, Machine};
use crate::builder::{self, BuildError, Cache};
use crate::catalog::Scenario;
use crate::console::{Mark, Progress};
use crate::harness::client;
use crate::harness::{Env, EnvError, RunOptions};

/// Version of a stored bench result (`<results>/bench/*.json`) and of `--json`.
/// 2: `sweep` (`--sweep`); a version 1 file reads as a result without one.
pub const RESULT_FORMAT_VERSION: u32 = 2;
/// How long the service gets to exit after SIGTERM before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{lang}: {source}")]
    Build {
        lang: String,
        #[source]
        source: BuildError,
    },
    #[error("{lang}, round {round}: the service did not start: {source}")]
    Start {
        lang: String,
        round: u32,
        #[source]
        source: EnvError,
    },
    #[error("{lang}, round {round}: GET {path} never answered 2xx within {ms} ms of the ready line; check `ready_path` in bench.toml")]
    NotReady {
        lang: String,
        round: u32,
        path: String,
        ms: u64,
    },
    #[error("{lang}: measuring builds: {source}")]
    Builds {
        lang: String,
        #[source]
        source: build_bench::BuildBenchError,
    },
    #[error("{0}")]
    Load(#[from] loadgen::LoadError),
    #[error("creating a scratch folder for the run directories: {0}")]
    Scratch(std::io::Error),
}

/// How a scenario bench runs; the workload's values unless overridden.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Options {
    pub rounds: u32,
    pub rates: Vec<f64>,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub connections: usize,
    pub timeout_ms: u64,
    /// Startups measured per language, over all rounds (at least one per load).
    pub startup_runs: u32,
    /// Seeds the fakes' faults (with the round) and the bootstrap.
    pub seed: u64,
    /// `default`, `short` or the seconds given.
    pub duration_label: String,
}

impl Options {
    /// The load of one run at `rate`.
    pub fn load_at(&self, rate: f64) -> LoadSpec {
        LoadSpec {
            rate,
            warmup: Duration::from_secs_f64(self.warmup_s),
            duration: Duration::from_secs_f64(self.duration_s),
            connections: self.connections,
            timeout: Duration::from_millis(self.timeout_ms),
        }
    }
}

/// A stop request shared with whoever watches for Ctrl-C.
#[derive(Clone)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Stop {
    fn default() -> Self {
        let (tx, rx) = watch::channel(false);
        Stop {
            flag: Arc::new(AtomicBool::new(false)),
            tx: Arc::new(tx),
            rx,
        }
    }
}

impl Stop {
    pub fn request(&self) {
        self.flag.store(true, Ordering::Relaxed);
        let _ = self.tx.send(true);
    }

    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Resolves once a stop was requested (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// One language's build as measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Language {
    pub lang: String,
    /// `go 1.26.8`, `cargo 1.95.0`.
    pub toolchain: String,
    pub build_command: Vec<String>,
    pub build_s: f64,
    pub binary_bytes: u64,
}

/// One startup: exec to the ready line, and to the first 2xx of `ready_path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Startup {
    pub round: u32,
    pub lang: String,
    pub ready_line_ms: f64,
    pub ms: f64,
}

/// One kind of request of the mix in one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindFigures {
    pub name: String,
    pub counts: Counts,
    /// Corrected latency.
    pub latency_ms: Percentiles,
}

/// What the service cost during the measurement (warm-up excluded).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resources {
    pub samples: usize,
    pub sample_hz: f64,
    pub rss_mb_mean: f64,
    pub rss_mb_peak: f64,
    /// The kernel's RSS high-water mark over the process's life (`VmHWM`).
    pub hwm_mb: f64,
    /// Peak RSS from the exited process's resource usage (`wait4`'s ru_maxrss).
    pub maxrss_mb: Option<f64>,
    /// User + system CPU during the measurement.
    pub cpu_s: f64,
    pub cpu_ms_per_1000_requests: f64,
    pub threads_mean: f64,
    pub threads_max: u64,
    pub fds_mean: f64,
    pub fds_max: u64,
    /// The whole life's usage, as `wait4` returns it (startup and shutdown included).
    pub exit: Option<ExitUsage>,
    /// Mean RSS of each second of the measurement.
    pub rss_mb_per_second: Vec<f64>,
}

/// One language at one rate in one round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub round: u32,
    pub lang: String,
    pub rate: f64,
    pub counts: Counts,
    pub error_rate: f64,
    pub achieved_rate: f64,
    pub max_lag_ms: f64,
    pub latency_ms: Latency,
    pub per_kind: Vec<KindFigures>,
    pub per_second: Vec<SecondStats>,
    pub resources: Resources,
    /// The load generator's (and the fakes', which share its process) CPU.
    pub generator: Generator,
    pub interrupted: bool,
}

/// Everything measured; what is stored and what `--json` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    pub format_version: u32,
    pub id: String,
    pub scenario: String,
    pub catalog_revision: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub options: Options,
    pub workload: WorkloadInfo,
    pub languages: Vec<Language>,
    pub startups: Vec<Startup>,
    pub runs: Vec<Run>,
    pub summary: Vec<RateSummary>,
    /// Per language, build and edit-test loop figures (`--builds`; bench::build).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build: BTreeMap<String, BuildFigures>,
    /// The saturation sweep (`--sweep`; bench::sweep): its steps are in `runs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    pub machine: Machine,
    pub interrupted: bool,
}

/// The workload as it ran (for a reader of the stored result).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkloadInfo {
    pub requests: Vec<RequestInfo>,
    pub faults: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestInfo {
    pub name: String,
    pub weight: u32,
    pub method: String,
    pub path: String,
}

impl WorkloadInfo {
    pub fn of(w: &Workload) -> WorkloadInfo {
        WorkloadInfo {
            requests: w
                .requests
                .iter()
                .map(|r| RequestInfo {
                    name: r.name.clone(),
                    weight: r.weight,
                    method: r.method.clone(),
                    path: r.path.clone(),
                })
                .collect(),
            faults: w
                .faults
                .iter()
                .map(|f| format!("{} calls {}: {:?}", f.fake, f.calls, f.kind))
                .collect(),
            env: w.env.clone(),
            limits: w.limits.clone(),
        }
    }
}

/// Every figure of one rate, both languages side by side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateSummary {
    pub rate: f64,
    pub figures: Vec<FigureSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigureSummary {
    /// e.g. `latency_corrected_p95_ms`.
    pub name: String,
    /// Per language: the figure's values across rounds.
    pub by_lang: BTreeMap<String, Spread>,
    /// Second language over first (Rust/Go), with its paired bootstrap interval.
    pub ratio: Option<Ratio>,
    pub limit: Option<LimitMark>,
}

/// A service-level limit and whether each language's median meets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitMark {
    /// The figure must be at most this.
    pub max: f64,
    pub met: BTreeMap<String, bool>,
}

type Extract = fn(&Run) -> Option<f64>;

/// The figures compared, in the order shown: name and how to read it off a run.
pub const FIGURES: &[(&str, Extract)] = &[
    ("latency_corrected_p50_ms", |r| {
        Some(r.latency_ms.corrected.p50)
    }),
    ("latency_corrected_p90_ms", |r| {
        Some(r.latency_ms.corrected.p90)
    }),
    ("latency_corrected_p95_ms", |r| {
        Some(r.latency_ms.corrected.p95)
    }),
    ("latency_corrected_p99_ms", |r| {
        Some(r.latency_ms.corrected.p99)
    }),
    ("latency_corrected_p999_ms", |r| {
        Some(r.latency_ms.corrected.p999)
    }),
    ("latency_corrected_max_ms", |r| {
        Some(r.latency_ms.corrected.max)
    }),
    ("latency_raw_p50_ms", |r| Some(r.latency_ms.raw.p50)),
    ("latency_raw_p90_ms", |r| Some(r.latency_ms.raw.p90)),
    ("latency_raw_p95_ms", |r| Some(r.latency_ms.raw.p95)),
    ("latency_raw_p99_ms", |r| Some(r.latency_ms.raw.p99)),
    ("latency_raw_p999_ms", |r| Some(r.latency_ms.raw.p999)),
    ("latency_raw_max_ms", |r| Some(r.latency_ms.raw.max)),
    ("error_rate", |r| Some(r.error_rate)),
    ("achieved_rate", |r| Some(r.achieved_rate)),
    ("rss_mean_mb", |r| Some(r.resources.rss_mb_mean)),
    ("rss_peak_mb", |r| Some(r.resources.rss_mb_peak)),
    ("maxrss_wait4_mb", |r| r.resources.maxrss_mb),
    ("cpu_ms_per_1000_requests", |r| {
        Some(r.resources.cpu_ms_per_1000_requests)
    }),
    ("threads_max", |r| Some(r.resources.threads_max as f64)),
    ("fds_max", |r| Some(r.resources.fds_max as f64)),
];

/// The name of the startup figure (medians of each round's startups).
pub const STARTUP_FIGURE: &str = "startup_ms";

/// Which figure each limit bounds.
fn limit_for(limits: &Limits, figure: &str) -> Option<f64> {
    match figure {
        "latency_corrected_p95_ms" => limits.p95_ms,
        "latency_corrected_p99_ms" => limits.p99_ms,
        "rss_peak_mb" => limits.rss_mb,
        STARTUP_FIGURE => limits.startup_ms,
        "error_rate" => limits.error_rate,
        _ => None,
    }
}

/// Medians and spreads of every figure per rate, the Rust/Go ratios and the limits.
pub fn summarize(
    langs: &[String],
    runs: &[Run],
    startups: &[Startup],
    rates: &[f64],
    limits: &Limits,
    seed: u64,
) -> Vec<RateSummary> {
    let rounds_of = |lang: &str| -> BTreeMap<u32, f64> {
        let mut by_round: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for s in startups.iter().filter(|s| s.lang == lang) {
            by_round.entry(s.round).or_default().push(s.ms);
        }
        by_round.into_iter().map(|(r, v)| (r, median(&v))).collect()
    };
    let startup: BTreeMap<&String, BTreeMap<u32, f64>> =
        langs.iter().map(|l| (l, rounds_of(l))).collect();
    rates
        .iter()
        .map(|&rate| {
            let mut figures = Vec::new();
            let per_round = |lang: &str, f: Extract| -> BTreeMap<u32, f64> {
                runs.iter()
                    .filter(|r| r.lang == lang && r.rate == rate && !r.interrupted)
                    .filter_map(|r| f(r).map(|v| (r.round, v)))
                    .collect()
            };
            let mut push = |name: &str, values: BTreeMap<&String, BTreeMap<u32, f64>>| {
                let by_lang: BTreeMap<String, Spread> = values
                    .iter()
                    .filter_map(|(l, v)| {
                        Spread::of(&v.values().copied().collect::<Vec<_>>())
                            .map(|s| ((*l).clone(), s))
                    })
                    .collect();
                // Paired by round: only rounds both languages finished.
                let ratio = match langs {
                    [a, b] => {
                        let (va, vb) = (&values[a], &values[b]);
                        let common: Vec<u32> =
                            va.keys().filter(|k| vb.contains_key(k)).copied().collect();
                        let xa: Vec<f64> = common.iter().map(|k| va[k]).collect();
                        let xb: Vec<f64> = common.iter().map(|k| vb[k]).collect();
                        ratio(
                            &xa,
                            &xb,
                            seed ^ crate::harness::faults::fnv1a64(name.as_bytes()),
                        )
                    }
                    _ => None,
                };
                let limit = limit_for(limits, name).map(|max| LimitMark {
                    max,
                    met: by_lang
                        .iter()
                        .map(|(l, s)| (l.clone(), s.median <= max))
                        .collect(),
                });
                figures.push(FigureSummary {
                    name: name.to_string(),
                    by_lang,
                    ratio,
                    limit,
                });
            };
            push(STARTUP_FIGURE, startup.clone());
            for (name, f) in FIGURES {
                let values = langs.iter().map(|l| (l, per_round(l, *f))).collect();
                push(name, values);
            }
            RateSummary { rate, figures }
        })
        .collect()
}

/// What the run needs besides the scenario.
pub struct Inputs<'a> {
    pub scenario: &'a Scenario,
    pub workload: &'a Workload,
    pub options: &'a Options,
    pub cache: &'a Cache,
    pub progress: &'a Progress,
    pub stop: &'a Stop,
    /// Measure builds and the edit-test loop first (bench::build), with these options.
    pub builds: Option<BuildOpts>,
}

/// What has been measured so far; filled as the run goes, so a stopped run keeps it.
#[derive(Default)]
pub struct Measured {
    pub build: BTreeMap<String, BuildFigures>,
    pub sweep: Option<Sweep>,
    pub languages: Vec<Language>,
    pub startups: Vec<Startup>,
    pub runs: Vec<Run>,
}

/// Builds both languages, then runs the rounds. Returns early, with what was
/// measured in `out`, when a stop is requested.
pub async fn run(input: &Inputs<'_>, out: &mut Measured) -> Result<(), BenchError> {
    let Inputs {
        scenario,
        options,
        progress,
        stop,
        ..
    } = *input;
    let langs: Vec<&String> = scenario.languages.keys().collect();
    let extra_startups = options
        .startup_runs
        .div_ceil(options.rounds.max(1))
        .saturating_sub(options.rates.len() as u32);
    let per_lang = options.rounds as u64 * (options.rates.len() as u64 + extra_startups as u64);
    let build_runs = input
        .builds
        .as_ref()
        .map(|b| (b.clean_runs + b.clean_warmups + 2 * (b.runs + b.warmups)) as u64)
        .unwrap_or(0);
    progress.start(langs.len() as u64 * (1 + per_lang + build_runs));

    if let Some(opts) = &input.builds {
        for lang in &langs {
            let spec = &scenario.languages[*lang];
            let watch = BuildWatch {
                progress,
                label: format!("{} ({lang})", scenario.name),
            };
            let figures = tokio::select! {
                f = build_bench::measure_builds(spec, opts, &watch) => f,
                _ = stop.wait() => return Ok(()),
            }
            .map_err(|source| BenchError::Builds {
                lang: (*lang).clone(),
                source,
            })?;
            out.build.insert((*lang).clone(), figures);
        }
    }

    let Some(built) = build_all(input, out).await? else {
        return Ok(());
    };
    let scratch = crate::scratch::Scratch::new("bench").map_err(BenchError::Scratch)?;
    for round in 0..options.rounds {
        // A B A B …: every round runs the languages in the same order.
        for lang in &langs {
            let binary = &built[*lang].binary;
            let label = format!("round {}/{} {lang}", round + 1, options.rounds);
            for _ in 0..extra_startups {
                if stop.requested() {
                    return Ok(());
                }
                let started = Instant::now();
                progress.step(&label, "startup", Mark::Ok, "starting");
                let Some((env, s)) = start(input, lang, round, binary, scratch.path()).await?
                else {
                    return Ok(());
                };
                env.shutdown().await;
                out.startups.push(s);
                progress.job_done(Mark::Ok, &format!("{label}: startup"), started.elapsed());
            }
            for &rate in &options.rates {
                if stop.requested() {
                    return Ok(());
                }
                let started = Instant::now();
                progress.step(
                    &label,
                    &format!("load at {rate} req/s"),
                    Mark::Ok,
                    "running",
                );
                let Some((env, s)) = start(input, lang, round, binary, scratch.path()).await?
                else {
                    return Ok(());
                };
                out.startups.push(s);
                let run = load(input, env, lang, round, rate).await?;
                let mark = if run.counts.completed() == 0 {
                    Mark::Error
                } else {
                    Mark::Ok
                };
                let detail = format!(
                    "p95 {:.1} ms, {:.0} req/s, RSS peak {:.1} MB",
                    run.latency_ms.corrected.p95, run.achieved_rate, run.resources.rss_mb_peak
                );
                progress.step(&label, &format!("load at {rate} req/s"), mark, &detail);
                let interrupted = run.interrupted;
                out.runs.push(run);
                progress.job_done(
                    mark,
                    &format!("{label}: {rate} req/s ({detail})"),
                    started.elapsed(),
                );
                if interrupted {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Builds every language as it ships, recording each in `out.languages`;
/// `None` when a stop was requested meanwhile.
async fn build_all(
    input: &Inputs<'_>,
    out: &mut Measured,
) -> Result<Option<BTreeMap<String, builder::Built>>, BenchError> {
    let Inputs {
        scenario,
        progress,
        stop,
        ..
    } = *input;
    let langs: Vec<&String> = scenario.languages.keys().collect();
    let mut built = BTreeMap::new();
    for lang in &langs {
        let spec = &scenario.languages[*lang];
        let label = format!("{} ({lang})", scenario.name);
        progress.step(&label, "build (optimised profile)", Mark::Ok, "building");
        let started = Instant::now();
        let b = tokio::select! {
            b = builder::build_shipped(spec, &scenario.name, &spec.dir, input.cache) => b,
            _ = stop.wait() => return Ok(None),
        }
        .map_err(|source| BenchError::Build {
            lang: (*lang).clone(),
            source,
        })?;
        progress.job_done(Mark::Ok, &format!("{label}: build"), started.elapsed());
        out.languages.push(Language {
            lang: (*lang).clone(),
            toolchain: crate::toolchain::installed(spec.toolchain)
                .map(|v| format!("{} {}", v.program, v.version))
                .unwrap_or_else(|_| spec.toolchain.program().to_string()),
            build_command: spec.build.clone(),
            build_s: b.duration.as_secs_f64(),
            binary_bytes: std::fs::metadata(&b.binary).map(|m| m.len()).unwrap_or(0),
        });
        built.insert((*lang).clone(), b);
    }

    Ok(Some(built))
}

/// `--sweep`: both languages built, then the rates of `plan` in turns (A B
/// A B …), each step one load in a fresh environment, until each language
/// breaks `judge`'s limits or reaches the plan's maximum. The steps' runs go
/// to `out.runs` (round = the language's step number), the sweep to
/// `out.sweep`; a stop request ends it with what was measured.
pub async fn sweep(
    input: &Inputs<'_>,
    plan: Plan,
    judge: Judge,
    out: &mut Measured,
) -> Result<(), BenchError> {
    let langs: Vec<String> = input.scenario.languages.keys().cloned().collect();
    let mut sweep = Sweep::new(&langs, plan, judge);
    input
        .progress
        .start(langs.len() as u64 * (1 + sweep.max_steps()));
    out.sweep = Some(sweep.clone());
    let Some(built) = build_all(input, out).await? else {
        return Ok(());
    };
    let scratch = crate::scratch::Scratch::new("bench").map_err(BenchError::Scratch)?;
    while let Some((lang, rate)) = sweep.next() {
        if input.stop.requested() {
            break;
        }
        let step = sweep
            .langs
            .iter()
            .find(|l| l.lang == lang)
            .map_or(0, |l| l.steps.len() as u32);
        let label = format!("sweep {lang}");
        let started = Instant::now();
        input.progress.step(
            &label,
            &format!("load at {rate} req/s"),
            Mark::Ok,
            "running",
        );
        let Some((env, s)) =
            start(input, &lang, step, &built[&lang].binary, scratch.path()).await?
        else {
            break;
        };
        out.startups.push(s);
        let run = load(input, env, &lang, step, rate).await?;
        if run.interrupted {
            out.runs.push(run);
            break;
        }
        let p = &run.latency_ms.corrected;
        let point = Point {
            latency_ms: if sweep.judge.percentile == "p99" {
                p.p99
            } else {
                p.p95
            },
            error_rate: run.error_rate,
            achieved_rate: run.achieved_rate,
        };
        sweep.record(&lang, rate, point);
        let last = sweep
            .langs
            .iter()
            .find(|l| l.lang == lang)
            .and_then(|l| l.steps.last())
            .cloned();
        let (mark, detail) = match &last {
            Some(st) if st.held => (
                Mark::Ok,
                format!(
                    "held ({} {:.1} ms)",
                    sweep.judge.percentile, point.latency_ms
                ),
            ),
            Some(st) => (Mark::Failed, format!("broke: {}", st.why)),
            None => (Mark::Ok, String::new()),
        };
        out.runs.push(run);
        out.sweep = Some(sweep.clone());
        input.progress.job_done(
            mark,
            &format!("{label}: {rate} req/s {detail}"),
            started.elapsed(),
        );
    }
    sweep.stop();
    out.sweep = Some(sweep);
    Ok(())
}

/// The build measurements' progress, drawn by the console.
struct BuildWatch<'a> {
    progress: &'a Progress,
    label: String,
}

impl BuildProgress for BuildWatch<'_> {
    fn started(&self, _lang: &str, step: build_bench::Step, run: build_bench::Run) {
        self.progress
            .step(&self.label, &format!("{step} ({run})"), Mark::Ok, "running");
    }

    fn finished(
        &self,
        _lang: &str,
        step: build_bench::Step,
        run: build_bench::Run,
        wall: Duration,
    ) {
        self.progress
            .job_done(Mark::Ok, &format!("{}: {step} ({run})", self.label), wall);
    }
}

/// A fresh environment, timed from exec to the first 2xx of `ready_path`;
/// `None` if a stop was requested meanwhile.
async fn start(
    input: &Inputs<'_>,
    lang: &str,
    round: u32,
    binary: &Path,
    work_root: &Path,
) -> Result<Option<(Env, Startup)>, BenchError> {
    let w = input.workload;
    let opts = RunOptions {
        run_index: round,
        seed: input.options.seed,
        work_root: Some(work_root.to_path_buf()),
        log_sink: None,
    };
    let t0 = Instant::now();
    let env = tokio::select! {
        e = Env::start_with(&input.scenario.suite, "bench", &w.faults, &w.env, binary, &opts) => e,
        _ = input.stop.wait() => return Ok(None),
    }
    .map_err(|source| BenchError::Start {
        lang: lang.to_string(),
        round,
        source,
    })?;
    let ready_line = t0.elapsed();
    let limit = Duration::from_millis(10_000);
    loop {
        let probe = client::send(env.addr(), "GET", &w.ready_path, &[], None);
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(1), probe).await {
            if (200..300).contains(&r.status) {
                break;
            }
        }
        if input.stop.requested() {
            env.shutdown().await;
            return Ok(None);
        }
        if t0.elapsed() > ready_line + limit {
            env.shutdown().await;
            return Err(BenchError::NotReady {
                lang: lang.to_string(),
                round,
                path: w.ready_path.clone(),
                ms: limit.as_millis() as u64,
            });
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(Some((
        env,
        Startup {
            round,
            lang: lang.to_string(),
            ready_line_ms: ready_line.as_secs_f64() * 1000.0,
            ms,
        },
    )))
}

/// The workload at `rate` against the service of `env`, sampled; then the
/// service is stopped (SIGTERM) and its exit usage read.
async fn load(
    input: &Inputs<'_>,
    env: Env,
    lang: &str,
    round: u32,
    rate: f64,
) -> Result<Run, BenchError> {
    let o = input.options;
    let spec = o.load_at(rate);
    let pid = env.pid();
    let sampler = Sampler::start(pid);
    let mix = Arc::new(Mix::new(
        &input.workload.requests,
        env.addr(),
        env.vars().clone(),
    ));
    let result = loadgen::run(mix, &spec, input.stop.flag.clone(), Arc::new(())).await;
    let samples = sampler.finish();
    let _ = env.signal(libc::SIGTERM);
    let usage = tokio::task::spawn_blocking(move || sample::exit_usage(pid, EXIT_GRACE))
        .await
        .ok()
        .flatten();
    env.shutdown().await;
    let r = result?;
    let completed = r.counts.completed();
    let window_end = r.measure_from + r.elapsed;
    let resources = resources(&samples, r.measure_from, window_end, completed, usage);
    let started = (completed + r.counts.failed).max(1);
    let cpu = r.generator_cpu.as_secs_f64();
    Ok(Run {
        round,
        lang: lang.to_string(),
        rate,
        counts: r.counts,
        error_rate: r.counts.error_rate(),
        achieved_rate: r.achieved_rate(),
        max_lag_ms: r.max_lag.as_secs_f64() * 1000.0,
        latency_ms: Latency {
            corrected: Percentiles::of(&r.corrected),
            raw: Percentiles::of(&r.raw),
        },
        per_kind: r
            .per_kind
            .iter()
            .map(|k| KindFigures {
                name: k.name.clone(),
                counts: k.counts,
                latency_ms: Percentiles::of(&k.corrected),
            })
            .collect(),
        per_second: r.seconds(),
        resources,
        generator: Generator {
            cpu_s: cpu,
            cpu_ms_per_1000_requests: cpu * 1e6 / started as f64,
        },
        interrupted: r.interrupted,
    })
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The samples within the measurement window, turned into figures.
fn resources(
    all: &[Sample],
    from: Instant,
    to: Instant,
    completed: u64,
    exit: Option<ExitUsage>,
) -> Resources {
    let window: Vec<&Sample> = all.iter().filter(|s| s.at >= from && s.at <= to).collect();
    let n = window.len();
    let mean = |f: fn(&Sample) -> f64| {
        if n == 0 {
            0.0
        } else {
            window.iter().map(|s| f(s)).sum::<f64>() / n as f64
        }
    };
    let cpu = match (window.first(), window.last()) {
        (Some(a), Some(b)) => b.cpu.saturating_sub(a.cpu).as_secs_f64(),
        _ => 0.0,
    };
    let span = match (window.first(), window.last()) {
        (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs_f64(),
        _ => 0.0,
    };
    let mut per_second: Vec<(f64, u32)> = Vec::new();
    for s in &window {
        let i = s.at.duration_since(from).as_secs() as usize;
        if per_second.len() <= i {
            per_second.resize(i + 1, (0.0, 0));
        }
        per_second[i].0 += mb(s.rss_kb);
        per_second[i].1 += 1;
    }
    Resources {
        samples: n,
        sample_hz: if span > 0.0 {
            (n.saturating_sub(1)) as f64 / span
        } else {
            0.0
        },
        rss_mb_mean: mean(|s| mb(s.rss_kb)),
        rss_mb_peak: window.iter().map(|s| mb(s.rss_kb)).fold(0.0, f64::max),
        hwm_mb: all.last().map(|s| mb(s.hwm_kb)).unwrap_or(0.0),
        maxrss_mb: exit.map(|u| mb(u.maxrss_kb)),
        cpu_s: cpu,
        cpu_ms_per_1000_requests: if completed > 0 {
            cpu * 1e6 / completed as f64
        } else {
            0.0
        },
        threads_mean: mean(|s| s.threads as f64),
        threads_max: window.iter().map(|s| s.threads).max().unwrap_or(0),
        fds_mean: mean(|s| s.fds as f64),
        fds_max: window.iter().map(|s| s.fds).max().unwrap_or(0),
        exit,
        rss_mb_per_second: per_second
            .into_iter()
            .map(|(sum, k)| if k > 0 { sum / k as f64 } else { 0.0 })
            .collect(),
    }
}
