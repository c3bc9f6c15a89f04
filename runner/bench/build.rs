//! The build side of `drill bench`: per language, the figures every fix pays
//! for — a clean build, an incremental build after a one-line change, the
//! visible test suite — and the size of the optimised binary, measured the
//! way hyperfine measures a command: unrecorded warm-up runs, then measured
//! repeats, each preceded by an untimed preparation, summarised by median,
//! mean, min, max, standard deviation and median absolute deviation, with
//! hyperfine's outlier rule. A failed run ends the measurement with the step,
//! the run and the tail of its output: a figure is never taken from a build
//! that did not build. Method and JSON: docs/bench.md ("Build figures").
//!
//! Everything happens in a private copy of the language tree inside one
//! [`Scratch`] folder (never the catalog's tree, never the kit's shared
//! caches): the copy, every build cache, the binaries and the toolchains'
//! temporary files. Runs are serial, so the CPU time of the children
//! (`RUSAGE_CHILDREN`) belongs to the run being measured.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::compare::median;
use crate::builder::{self, BUILD_TIMEOUT, TEST_TIMEOUT};
use crate::catalog::{LanguageSpec, Toolchain};
use crate::confined::Dest;
use crate::process::run_captured;
use crate::scratch::Scratch;

/// Measured repeats of the incremental build and of the visible tests.
pub const DEFAULT_RUNS: u32 = 5;
/// Measured clean builds: each compiles every dependency (for Go, the
/// standard library too), minutes for a real service, so fewer by default.
pub const DEFAULT_CLEAN_RUNS: u32 = 3;
/// Unrecorded runs before each measured series.
pub const DEFAULT_WARMUPS: u32 = 1;
/// Lines of a failed run's output quoted in the error.
const TAIL_LINES: usize = 20;

/// How many times to run what (hyperfine's `--warmup` and `--runs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOpts {
    /// Measured repeats of the incremental build and of the visible tests.
    pub runs: u32,
    /// Unrecorded runs before the incremental builds and before the tests.
    pub warmups: u32,
    /// Measured clean builds.
    pub clean_runs: u32,
    /// Unrecorded clean builds first (they warm the page cache: sources,
    /// downloaded modules and crates, the toolchain itself).
    pub clean_warmups: u32,
    /// The file the one-line change goes into, relative to the tree; by
    /// default the main package's file with `func main` (Go) or the binary
    /// crate's root (Cargo: its `[[bin]]` path, else `src/main.rs`).
    pub edit_file: Option<PathBuf>,
}

impl Default for BuildOpts {
    fn default() -> BuildOpts {
        BuildOpts {
            runs: DEFAULT_RUNS,
            warmups: DEFAULT_WARMUPS,
            clean_runs: DEFAULT_CLEAN_RUNS,
            clean_warmups: DEFAULT_WARMUPS,
            edit_file: None,
        }
    }
}

impl BuildOpts {
    pub fn validate(&self) -> Result<(), BuildBenchError> {
        if self.runs == 0 || self.clean_runs == 0 {
            return Err(BuildBenchError::Options(
                "at least one measured run of each step is needed".into(),
            ));
        }
        if let Some(p) = &self.edit_file {
            if p.is_absolute() || p.components().any(|c| c.as_os_str() == "..") {
                return Err(BuildBenchError::Options(format!(
                    "the file to edit ({}) must be a path inside the tree",
                    p.display()
                )));
            }
        }
        Ok(())
    }

    /// Every run [`measure_builds`] makes, warm-ups included (a progress bar's length).
    pub fn total_runs(&self) -> u64 {
        u64::from(self.clean_warmups + self.clean_runs + 2 * (self.warmups + self.runs))
    }
}

/// The three things timed, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    CleanBuild,
    IncrementalBuild,
    Tests,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::CleanBuild => "clean build",
            Step::IncrementalBuild => "incremental build",
            Step::Tests => "visible tests",
        })
    }
}

/// Which run of a step: a warm-up or the `index`-th (from 1) of `of` measured ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub warmup: bool,
    pub index: u32,
    pub of: u32,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.warmup { "warm-up" } else { "run" };
        write!(f, "{what} {} of {}", self.index, self.of)
    }
}

/// Told about every run as it starts and ends; the console draws it.
pub trait BuildProgress: Sync {
    fn started(&self, _lang: &str, _step: Step, _run: Run) {}
    fn finished(&self, _lang: &str, _step: Step, _run: Run, _wall: Duration) {}
}

/// Nobody watching.
pub struct Quiet;
impl BuildProgress for Quiet {}

/// Summary of one series of measurements (seconds), as hyperfine reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation (n − 1); none for a single run.
    pub stddev: Option<f64>,
    /// Median absolute deviation from the median, unscaled (× 1.4826
    /// estimates σ for normal data).
    pub mad: f64,
    /// Runs whose modified z-score |x − median| / MAD exceeds 1.4826 × 10
    /// (hyperfine's rule: about ten standard deviations off).
    pub outliers: usize,
    /// Every measured value, in the order it was taken.
    pub values: Vec<f64>,
}

/// hyperfine's outlier threshold on the modified z-score.
pub const OUTLIER_THRESHOLD: f64 = 1.4826 * 10.0;

impl Stats {
    /// `None` for no values (a series always has at least one run).
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mid = median(values);
        let mean = values.iter().sum::<f64>() / n as f64;
        let stddev = (n > 1).then(|| {
            (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        let deviations: Vec<f64> = values.iter().map(|x| (x - mid).abs()).collect();
        let mad = median(&deviations);
        // As hyperfine: a MAD of 0 (most runs equal) makes any other value an outlier.
        let scale = if mad > 0.0 { mad } else { f64::EPSILON };
        let outliers = deviations
            .iter()
            .filter(|d| *d / scale > OUTLIER_THRESHOLD)
            .count();
        Some(Stats {
            n,
            median: mid,
            mean,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            stddev,
            mad,
            outliers,
            values: values.to_vec(),
        })
    }
}

/// One step's measurements: wall-clock time and CPU time (user + system of
/// the toolchain and everything it started), in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub warmups: u32,
    pub wall_s: Stats,
    pub cpu_s: Stats,
}

/// What [`measure_builds`] returns for one language; serialisable as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildFigures {
    pub lang: String,
    /// `go 1.26.8`, `cargo 1.95.0`.
    pub toolchain: String,
    /// The scenario's build command (its optimised profile), as run.
    pub build_command: Vec<String>,
    /// The visible tests as engineers run them day to day, as run.
    pub test_command: Vec<String>,
    /// What "clean" meant for this language.
    pub clean_means: String,
    /// The file the one-line change went into, relative to the tree.
    pub edited_file: String,
    /// Parallelism the builds ran with (`CARGO_BUILD_JOBS`, or the cores).
    pub parallelism: String,
    pub clean_build: Timing,
    pub incremental_build: Timing,
    pub tests: Timing,
    /// Size of the optimised binary (the last clean build's), in bytes.
    pub binary_bytes: u64,
    /// Anything a reader should know to trust these figures (fewer runs than
    /// five, outliers, a slow first run).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildBenchError {
    #[error(
        "{lang}: {step} failed ({run}): {summary}\n`{command}`, last lines of its output:\n{tail}"
    )]
    Failed {
        lang: String,
        step: Step,
        run: String,
        command: String,
        summary: String,
        tail: String,
    },
    #[error("{lang}: {step} did not finish within {limit:?} ({run}): `{command}`")]
    TimedOut {
        lang: String,
        step: Step,
        run: String,
        command: String,
        limit: Duration,
    },
    #[error("{lang}: the {step} succeeded but left no binary at {path}; check `binary` in scenario.toml")]
    NoBinary {
        lang: String,
        step: Step,
        path: PathBuf,
    },
    #[error("{lang}: cannot run `{program}`: {message}")]
    Spawn {
        lang: String,
        program: String,
        message: String,
    },
    #[error("{lang}: no file for the one-line change: {reason}")]
    NoEditFile { lang: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Options(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildBenchError {
    let context = context.into();
    move |source| BuildBenchError::Io { context, source }
}

/// CPU time (user + system) of this process's children that have been waited for.
fn children_cpu() -> Duration {
    super::rusage_cpu(libc::RUSAGE_CHILDREN)
}

/// The visible tests as engineers run them day to day: the scenario's test
/// command in the default (debug) profile for Cargo, and for Go with
/// `-count=1`, so every run runs the tests instead of reading Go's test cache.
pub fn day_to_day_tests(spec: &LanguageSpec) -> Vec<String> {
    let mut argv = spec.test.clone();
    match spec.toolchain {
        Toolchain::Cargo => argv.retain(|a| a != "--release"),
        Toolchain::Go => {
            if !argv.iter().any(|a| a.starts_with("-count")) {
                let at = argv.iter().position(|a| a == "test").map_or(1, |i| i + 1);
                argv.insert(at.min(argv.len()), "-count=1".into());
            }
        }
    }
    argv
}

/// What "clean" means for a toolchain, as the figures say it.
pub fn clean_means(tc: Toolchain) -> &'static str {
    match tc {
        Toolchain::Go => {
            "an empty GOCACHE (the standard library and every module compiled again); \
             the module cache warm, GOPROXY=off (no download)"
        }
        Toolchain::Cargo => {
            "an empty target directory (every crate compiled again, no compiler wrapper); \
             the registry warm, offline (no download)"
        }
    }
}

/// The file the one-line change goes into.
pub fn edit_file(spec: &LanguageSpec, tree: &Path) -> Result<PathBuf, String> {
    match spec.toolchain {
        Toolchain::Go => go_main_file(&spec.build, tree),
        Toolchain::Cargo => cargo_bin_root(&spec.build, tree),
    }
}

/// The `func main` file of the package `go build` builds (`./cmd/x`, else `.`).
fn go_main_file(build: &[String], tree: &Path) -> Result<PathBuf, String> {
    let pkg = build
        .iter()
        .skip(2)
        .rev()
        .find(|a| *a == "." || a.starts_with("./"))
        .map_or(".", String::as_str);
    let pkg = Path::new(pkg.trim_start_matches("./").trim_end_matches("/..."));
    let dir = tree.join(pkg);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| x == "go")
                && !p.to_string_lossy().ends_with("_test.go")
        })
        .collect();
    files.sort();
    let main = files
        .iter()
        .find(|p| fs::read_to_string(p).is_ok_and(|s| s.contains("func main()")))
        .or(files.first())
        .ok_or_else(|| format!("no .go file in {}", dir.display()))?;
    Ok(main.strip_prefix(tree).unwrap_or(main).to_path_buf())
}

/// The root file of the binary `cargo build` builds (`--bin NAME` if given).
fn cargo_bin_root(build: &[String], tree: &Path) -> Result<PathBuf, String> {
    let bin = build
        .iter()
        .position(|a| a == "--bin")
        .and_then(|i| build.get(i + 1));
    let manifest = fs::read_to_string(tree.join("Cargo.toml"))
        .map_err(|e| format!("reading Cargo.toml: {e}"))?;
    let manifest: toml::Table = manifest
        .parse()
        .map_err(|e| format!("Cargo.toml does not parse: {e}"))?;
    let bins = manifest
        .get("bin")
        .and_then(|b| b.as_array())
        .cloned()
        .unwrap_or_default();
    let declared = bins
        .iter()
        .filter(|b| bin.is_none_or(|name| b.get("name").and_then(|n| n.as_str()) == Some(name)))
        .find_map(|b| b.get("path").and_then(|p| p.as_str()).map(PathBuf::from));
    let mut candidates: Vec<PathBuf> = declared.into_iter().collect();
    if let Some(name) = bin {
        candidates.push(PathBuf::from(format!("src/bin/{name}.rs")));
    }
    candidates.push(PathBuf::from("src/main.rs"));
    candidates
        .into_iter()
        .find(|p| tree.join(p).is_file())
        .ok_or_else(|| "no binary crate root (a [[bin]] path or src/main.rs)".to_string())
}

/// The tree's edited file: the original plus one comment line that differs
/// on every run, so each build sees a change (Go's cache is keyed by content).
fn one_line_change(original: &[u8], n: u32) -> Vec<u8> {
    let mut v = original.to_vec();
    if !v.ends_with(b"\n") {
        v.push(b'\n');
    }
    v.extend_from_slice(format!("// drill bench: one-line change {n}\n").as_bytes());
    v
}

/// The last `n` lines of a run's output.
fn tail(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Advice for a build that needed the network the benchmark does not use.
fn offline_hint(tc: Toolchain, output: &str) -> &'static str {
    match tc {
        Toolchain::Go if output.contains("GOPROXY=off") => {
            " (a module is not in the module cache: run `go mod download` in the scenario's Go tree once)"
        }
        Toolchain::Cargo if output.contains("offline") => {
            " (a crate is not in the registry cache: run `cargo fetch --locked` in the scenario's Rust tree once)"
        }
        _ => "",
    }
}

/// One language tree being measured: its private copy and caches.
struct Bench<'a> {
    spec: &'a LanguageSpec,
    progress: &'a dyn BuildProgress,
    dir: Scratch,
    tree: PathBuf,
    bin_dir: PathBuf,
    tmp: PathBuf,
    /// The build cache in use: GOCACHE or CARGO_TARGET_DIR.
    cache: PathBuf,
    caches_made: u32,
}

impl Bench<'_> {
    /// A fresh, empty build cache (the previous one removed: disk, not time).
    fn fresh_cache(&mut self) -> Result<(), BuildBenchError> {
        if self.caches_made > 0 && self.cache.exists() {
            fs::remove_dir_all(&self.cache).map_err(io(format!(
                "removing the build cache {}",
                self.cache.display()
            )))?;
        }
        self.caches_made += 1;
        self.cache = self.dir.path().join(format!("cache-{}", self.caches_made));
        fs::create_dir_all(&self.cache).map_err(io("creating a build cache"))?;
        Ok(())
    }

    fn command(&self, argv: &[String]) -> tokio::process::Command {
        let mut cmd = builder::command(
            self.spec,
            argv,
            &self.tree,
            &self.bin_dir,
            &self.cache,
            &self.tmp,
        );
        match self.spec.toolchain {
            Toolchain::Go => {
                cmd.env("GOCACHE", &self.cache)
                    .env("GOPROXY", "off")
                    .env("GOTOOLCHAIN", "local")
                    .env("GOWORK", "off");
            }
            Toolchain::Cargo => {
                // A compiler cache would turn a clean build into a warm one;
                // and the service is measured in its own profile, without the
                // incremental release builds the kit's drill loop adds.
                cmd.env("CARGO_NET_OFFLINE", "true")
                    .env_remove("RUSTC_WRAPPER")
                    .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
                    .env_remove("CARGO_PROFILE_RELEASE_INCREMENTAL");
            }
        }
        cmd
    }

    /// Runs `argv` once; a failure is an error naming the step and the run.
    async fn run(
        &self,
        step: Step,
        run: Run,
        argv: &[String],
    ) -> Result<(f64, f64), BuildBenchError> {
        let lang = self.spec.lang.clone();
        let limit = if step == Step::Tests {
            TEST_TIMEOUT
        } else {
            BUILD_TIMEOUT
        };
        let expanded: Vec<String> = argv
            .iter()
            .map(|a| builder::expand(a, &self.bin_dir, &self.cache))
            .collect();
        let shown = expanded.join(" ");
        self.progress.started(&lang, step, run);
        let cpu_before = children_cpu();
        let cap =
            run_captured(self.command(argv), limit)
                .await
                .map_err(|e| BuildBenchError::Spawn {
                    lang: lang.clone(),
                    program: argv[0].clone(),
                    message: e.to_string(),
                })?;
        let cpu = children_cpu().saturating_sub(cpu_before);
        if cap.timed_out {
            return Err(BuildBenchError::TimedOut {
                lang,
                step,
                run: run.to_string(),
                command: shown,
                limit,
            });
        }
        if !cap.success() {
            let output = format!("{}{}", cap.stdout, cap.stderr);
            let summary = if step == Step::Tests {
                builder::first_failure(&output)
            } else {
                builder::first_error(&output)
            };
            return Err(BuildBenchError::Failed {
                summary: format!("{summary}{}", offline_hint(self.spec.toolchain, &output)),
                lang,
                step,
                run: run.to_string(),
                command: shown,
                tail: tail(&output, TAIL_LINES),
            });
        }
        self.progress.finished(&lang, step, run, cap.duration);
        Ok((cap.duration.as_secs_f64(), cpu.as_secs_f64()))
    }

    /// The binary the build left, checked to exist.
    fn binary(&self, step: Step) -> Result<PathBuf, BuildBenchError> {
        let path = PathBuf::from(builder::expand(
            &self.spec.binary,
            &self.bin_dir,
            &self.cache,
        ));
        if path.is_file() {
            Ok(path)
        } else {
            Err(BuildBenchError::NoBinary {
                lang: self.spec.lang.clone(),
                step,
                path,
            })
        }
    }

    fn remove_binary(&self) -> Result<(), BuildBenchError> {
        let path = PathBuf::from(builder::expand(
            &self.spec.binary,
            &self.bin_dir,
            &self.cache,
        ));
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io(format!("removing {}", path.display()))(e))
            }
            _ => Ok(()),
        }
    }
}

/// Measures one language tree's build figures (see the module docs).
///
/// `spec` is the scenario language as the catalog loaded it: `spec.dir` is
/// copied, never written. Per step, in this order:
///
/// 1. **clean build** — `opts.clean_warmups` + `opts.clean_runs` runs of the
///    scenario's `build` command (its optimised profile: release for Cargo,
///    the default for Go), each into a fresh, empty build cache
///    ([`clean_means`]); no download is allowed. The binary size is the last
///    one's.
/// 2. **incremental build** — in the last clean build's cache: before each
///    run, one comment line is appended to the main package's / binary
///    crate's root file ([`edit_file`]), a different one each run; then the
///    same build command. The file is restored afterwards.
/// 3. **visible tests** — [`day_to_day_tests`], the build cache warm and
///    nothing changed since the warm-up: the suite's own run time plus the
///    toolchain's up-to-date check.
///
/// Runs are serial; wall time comes from the runner's clock around the
/// toolchain process, CPU time from the children's resource usage. Dropping
/// the future (Ctrl-C) kills the running toolchain's process group and
/// removes every file it made.
pub async fn measure_builds(
    spec: &LanguageSpec,
    opts: &BuildOpts,
    progress: &dyn BuildProgress,
) -> Result<BuildFigures, BuildBenchError> {
    opts.validate()?;
    let toolchain =
        crate::toolchain::installed(spec.toolchain).map_err(|e| BuildBenchError::Spawn {
            lang: spec.lang.clone(),
            program: spec.toolchain.program().into(),
            message: e.to_string(),
        })?;
    let dir = Scratch::new("bench-build").map_err(io("creating a scratch folder"))?;
    let tree = dir.path().join("tree");
    builder::copy_tree(&spec.dir, &tree).map_err(io(format!(
        "copying {} for the measurement",
        spec.dir.display()
    )))?;
    let (bin_dir, tmp) = (dir.path().join("bin"), dir.path().join("tmp"));
    for d in [&bin_dir, &tmp] {
        fs::create_dir_all(d).map_err(io("creating the build output folders"))?;
    }
    let edited = match &opts.edit_file {
        Some(p) => p.clone(),
        None => edit_file(spec, &tree).map_err(|reason| BuildBenchError::NoEditFile {
            lang: spec.lang.clone(),
            reason,
        })?,
    };
    let dest = Dest::new(&tree).map_err(io("opening the tree copy"))?;
    let original = dest
        .read(&edited)
        .map_err(|e| BuildBenchError::NoEditFile {
            lang: spec.lang.clone(),
            reason: format!("{}: {e}", edited.display()),
        })?;
    let cache = dir.path().join("cache-0");
    let mut b = Bench {
        spec,
        progress,
        dir,
        tree,
        bin_dir,
        tmp,
        cache,
        caches_made: 0,
    };
    let build = spec.build.clone();

    // 1. Clean builds: the preparation (untimed) empties the cache.
    let mut clean = Series::default();
    let mut binary_bytes = 0;
    for run in runs(opts.clean_warmups, opts.clean_runs) {
        b.fresh_cache()?;
        b.remove_binary()?;
        let t = b.run(Step::CleanBuild, run, &build).await?;
        let bin = b.binary(Step::CleanBuild)?;
        binary_bytes = fs::metadata(&bin)
            .map_err(io(format!("reading {}", bin.display())))?
            .len();
        clean.push(run, t);
    }

    // 2. Incremental builds: the preparation (untimed) makes the one-line change.
    let mut incremental = Series::default();
    for (n, run) in runs(opts.warmups, opts.runs).enumerate() {
        dest.write(&edited, &one_line_change(&original, n as u32 + 1))
            .map_err(io(format!("editing {}", edited.display())))?;
        let t = b.run(Step::IncrementalBuild, run, &build).await?;
        b.binary(Step::IncrementalBuild)?;
        incremental.push(run, t);
    }
    dest.write(&edited, &original)
        .map_err(io(format!("restoring {}", edited.display())))?;

    // 3. The visible tests, warm.
    let test = day_to_day_tests(spec);
    let mut tests = Series::default();
    for run in runs(opts.warmups, opts.runs) {
        let t = b.run(Step::Tests, run, &test).await?;
        tests.push(run, t);
    }

    let (clean, incremental, tests) = (
        clean.timing(opts.clean_warmups),
        incremental.timing(opts.warmups),
        tests.timing(opts.warmups),
    );
    let mut notes = Vec::new();
    for (step, t, wanted) in [
        (Step::CleanBuild, &clean, opts.clean_runs),
        (Step::IncrementalBuild, &incremental, opts.runs),
        (Step::Tests, &tests, opts.runs),
    ] {
        notes.extend(notes_for(step, t, wanted));
    }
    Ok(BuildFigures {
        lang: spec.lang.clone(),
        toolchain: format!("{} {}", toolchain.program, toolchain.version),
        build_command: build,
        test_command: test,
        clean_means: clean_means(spec.toolchain).to_string(),
        edited_file: edited.to_string_lossy().into_owned(),
        parallelism: parallelism(spec.toolchain),
        clean_build: clean,
        incremental_build: incremental,
        tests,
        binary_bytes,
        notes,
    })
}

/// Warm-ups first, then the measured runs.
fn runs(warmups: u32, measured: u32) -> impl Iterator<Item = Run> {
    (1..=warmups)
        .map(move |index| Run {
            warmup: true,
            index,
            of: warmups,
        })
        .chain((1..=measured).map(move |index| Run {
            warmup: false,
            index,
            of: measured,
        }))
}

/// The measured (wall, cpu) seconds of one step; warm-ups are not kept.
#[derive(Default)]
struct Series {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Series {
    fn push(&mut self, run: Run, (wall, cpu): (f64, f64)) {
        if !run.warmup {
            self.wall.push(wall);
            self.cpu.push(cpu);
        }
    }

    fn timing(&self, warmups: u32) -> Timing {
        Timing {
            warmups,
            wall_s: Stats::of(&self.wall).expect("validated: at least one measured run"),
            cpu_s: Stats::of(&self.cpu).expect("validated: at least one measured run"),
        }
    }
}

/// What a reader should know about one step's figures.
pub fn notes_for(step: Step, t: &Timing, wanted: u32) -> Vec<String> {
    let mut notes = Vec::new();
    let w = &t.wall_s;
    if w.n < 5 {
        notes.push(format!(
            "{step}: {} measured run(s){}",
            w.n,
            if step == Step::CleanBuild && wanted == DEFAULT_CLEAN_RUNS {
                " (the default: each clean build compiles every dependency)"
            } else {
                " (fewer than 5: read the spread with care)"
            }
        ));
    }
    if w.outliers > 0 {
        let first = w.values[0];
        let slow_first =
            first > w.median && (first - w.median) / w.mad.max(f64::EPSILON) > OUTLIER_THRESHOLD;
        notes.push(if slow_first {
            format!(
                "{step}: the first measured run was much slower than the rest ({:.2} s vs a median of {:.2} s): \
                 more warm-ups may help",
                w.values[0], w.median
            )
        } else {
            format!(
                "{step}: {} outlier run(s) (more than ten standard deviations from the median): \
                 other work on the machine may have interfered",
                w.outliers
            )
        });
    }
    notes
}

/// The parallelism the toolchain builds with, as a reader needs it.
fn parallelism(tc: Toolchain) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match (tc, std::env::var("CARGO_BUILD_JOBS")) {
        (Toolchain::Cargo, Ok(jobs)) => format!("CARGO_BUILD_JOBS={jobs} on {cores} core(s)"),
        _ => format!("default ({cores} core(s))"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn stats_match_reference_values_for_odd_and_even_counts() {
        // Reference: numpy median/mean/std(ddof=1); MAD = median(|x - median|).
        let s = Stats::of(&[3.0, 1.0, 100.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.n, s.min, s.max), (5, 1.0, 100.0));
        assert!(close(s.median, 3.0) && close(s.mean, 22.0), "{s:?}");
        assert!(close(s.stddev.unwrap(), 1902.5f64.sqrt()), "{s:?}");
        assert!(close(s.mad, 1.0), "{s:?}");
        assert_eq!(s.outliers, 1, "100 is 97 MADs off");
        assert_eq!(s.values, vec![3.0, 1.0, 100.0, 2.0, 4.0], "order kept");

        let s = Stats::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert!(close(s.median, 2.5) && close(s.mean, 2.5), "{s:?}");
        assert!(close(s.stddev.unwrap(), (5.0f64 / 3.0).sqrt()), "{s:?}");
        assert!(close(s.mad, 1.0), "{s:?}");
        assert_eq!(s.outliers, 0);
    }

    #[test]
    fn a_single_run_has_no_stddev_and_no_values_no_stats() {
        let s = Stats::of(&[7.5]).unwrap();
        assert_eq!(s.stddev, None);
        assert!(close(s.median, 7.5) && close(s.mad, 0.0));
        assert_eq!(s.outliers, 0);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn outliers_follow_hyperfines_modified_z_score_rule() {
        // hyperfine's own cases (src/outlier_detection.rs tests).
        assert_eq!(Stats::of(&[-0.2, 0.0, 0.2]).unwrap().outliers, 0);
        assert_eq!(Stats::of(&[-0.2, 0.0, 0.2, 4.0]).unwrap().outliers, 1);
        assert_eq!(
            Stats::of(&[0.5, 0.30, 0.29, 0.31, 0.30]).unwrap().outliers,
            1
        );
        // MAD of 0: everything off the common value is an outlier.
        let xs = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 100.0, 100.0];
        assert_eq!(Stats::of(&xs).unwrap().outliers, 2);
    }

    #[test]
    fn notes_say_when_runs_are_few_and_when_the_first_run_was_slow() {
        let timing = |wall: &[f64]| Timing {
            warmups: 0,
            wall_s: Stats::of(wall).unwrap(),
            cpu_s: Stats::of(wall).unwrap(),
        };
        let n = notes_for(Step::CleanBuild, &timing(&[60.0, 61.0, 62.0]), 3);
        assert_eq!(n.len(), 1);
        assert!(n[0].contains("3 measured run(s) (the default"), "{n:?}");
        let n = notes_for(
            Step::IncrementalBuild,
            &timing(&[9.0, 1.0, 1.01, 0.99, 1.0]),
            5,
        );
        assert_eq!(n.len(), 1);
        assert!(n[0].contains("first measured run was much slower"), "{n:?}");
        let n = notes_for(Step::Tests, &timing(&[1.0, 1.01, 9.0, 0.99, 1.0]), 5);
        assert!(n[0].contains("1 outlier run(s)"), "{n:?}");
        assert!(notes_for(Step::Tests, &timing(&[1.0, 1.1, 0.9, 1.0, 1.05]), 5).is_empty());
    }

    #[test]
    fn runs_are_warm_ups_then_measured_ones() {
        let r: Vec<String> = runs(1, 2).map(|r| r.to_string()).collect();
        assert_eq!(r, ["warm-up 1 of 1", "run 1 of 2", "run 2 of 2"]);
        let opts = BuildOpts::default();
        assert_eq!(opts.total_runs(), 1 + 3 + 2 * (1 + 5));
        assert!(BuildOpts {
            runs: 0,
            ..opts.clone()
        }
        .validate()
        .is_err());
        let outside = BuildOpts {
            edit_file: Some("../x.go".into()),
            ..opts
        };
        assert!(outside.validate().is_err());
    }

    #[test]
    fn each_one_line_change_differs_and_keeps_the_original() {
        let a = one_line_change(b"package main", 1);
        let b = one_line_change(b"package main\n", 2);
        assert_eq!(a, b"package main\n// drill bench: one-line change 1\n");
        assert!(b.starts_with(b"package main\n") && a != b);
        assert_eq!(b.iter().filter(|c| **c == b'\n').count(), 2);
    }

    #[test]
    fn the_edited_file_is_the_main_package_or_the_binary_crate_root() {
        let tmp = tempfile::tempdir().unwrap();
        let go = tmp.path().join("go");
        fs::create_dir_all(go.join("cmd/svc")).unwrap();
        fs::write(go.join("cmd/svc/flags.go"), "package main\n").unwrap();
        fs::write(
            go.join("cmd/svc/main.go"),
            "package main\n\nfunc main() {}\n",
        )
        .unwrap();
        fs::write(
            go.join("cmd/svc/main_test.go"),
            "package main\n\nfunc main() {}\n",
        )
        .unwrap();
        fs::write(go.join("root.go"), "package main\n\nfunc main() {}\n").unwrap();
        let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let build = argv(&["go", "build", "-o", "{bin_dir}/svc", "./cmd/svc"]);
        assert_eq!(
            go_main_file(&build, &go).unwrap(),
            Path::new("cmd/svc/main.go")
        );
        let build = argv(&["go", "build", "-o", "{bin_dir}/svc", "."]);
        assert_eq!(go_main_file(&build, &go).unwrap(), Path::new("root.go"));

        let rs = tmp.path().join("rust");
        fs::create_dir_all(rs.join("src/bin")).unwrap();
        fs::write(
            rs.join("Cargo.toml"),
            "[package]\nname = \"svc\"\n\n[[bin]]\nname = \"svc\"\npath = \"src/svc_main.rs\"\n",
        )
        .unwrap();
        fs::write(rs.join("src/svc_main.rs"), "fn main() {}\n").unwrap();
        fs::write(rs.join("src/bin/tool.rs"), "fn main() {}\n").unwrap();
        let build = argv(&["cargo", "build", "--release", "--bin", "svc"]);
        assert_eq!(
            cargo_bin_root(&build, &rs).unwrap(),
            Path::new("src/svc_main.rs")
        );
        let build = argv(&["cargo", "build", "--release", "--bin", "tool"]);
        assert_eq!(
            cargo_bin_root(&build, &rs).unwrap(),
            Path::new("src/bin/tool.rs")
        );
        let build = argv(&["cargo", "build", "--release", "--bin", "none"]);
        assert!(cargo_bin_root(&build, &rs).is_err());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
