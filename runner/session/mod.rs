//! The engineer's drill: `start`, `run`, `status`, `hint`, `found`, `submit`,
//! `pause`, `resume`, `abandon`, `attempts`.
//!
//! Each command finds its attempt (from the workspace it runs in, or
//! `--attempt ID`), takes the attempt's lock if it changes the record, does
//! its work and appends its event(s) in one atomic write. Timing comes only
//! from the clock ([`crate::clock`]) and is derived only from the log
//! ([`crate::attempt`]).
//!
//! - `start`: catalog → bugged tree → workspace → warm build → record;
//! - `submit`: copy → build → visible tests → acceptance suite → verdict;
//! - `run`: build → the service under the drill's faults, logs streamed;
//! - `target_dir`: private Cargo target directories sharing compiled dependencies;
//! - `report`: everything a person reads (the only place that prints tables,
//!   diffs and debriefs for these commands).

mod report;
mod run;
mod start;
mod submit;
mod target_dir;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::attempt::{EventKind, Record, TransitionError};
use crate::builder::Cache;
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario};
use crate::cli::{load_catalog, Failure};
use crate::clock::{self, Clock};
use crate::exit_code;
use crate::results::{ResultsDir, ResultsError};
use crate::workspace::{self, Workspace, WorkspaceError};

/// Lines either side of a line the bug's patch touched that still count as
/// "found it": a claim names where the engineer sees the cause, which can be
/// the statement before or after the one the patch changed.
pub const FOUND_TOLERANCE: usize = 3;

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Start a drill: a workspace with the bugged service and its incident; the timer starts.
    Start(StartArgs),
    /// Build your current code and run it under the incident's faults, logs streamed (not a verdict).
    Run(RunArgs),
    /// Show the attempt: drill, language, state, active time, hints, submits.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Show the next graded hint (recorded).
    Hint {
        #[command(flatten)]
        target: Target,
    },
    /// Claim the root cause is at FILE:LINE (recorded, right or wrong).
    Found {
        /// `path/to/file.go:42`, relative to the current directory or the workspace root.
        #[arg(value_name = "FILE:LINE")]
        location: String,
        #[command(flatten)]
        target: Target,
    },
    /// Submit your fix: build, visible tests and the full acceptance suite decide.
    Submit {
        #[command(flatten)]
        target: Target,
    },
    /// Pause the timer (a break, a meeting).
    Pause {
        #[command(flatten)]
        target: Target,
    },
    /// Resume the timer.
    Resume {
        #[command(flatten)]
        target: Target,
    },
    /// Give up: the attempt is kept as a censored observation and the drill is revealed.
    Abandon {
        #[command(flatten)]
        target: Target,
    },
    /// List the attempts in the results directory (or export / import them as CSV).
    #[command(args_conflicts_with_subcommands = true)]
    Attempts {
        /// `export` / `import` (issue 4: runner/analysis.rs).
        #[command(subcommand)]
        csv: Option<crate::analysis::AttemptsCsv>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Results directory (default: $DRILL_RESULTS, else the one of the workspace you are
        /// in, else the user's data directory).
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The drill (`scenario/bug`, or a unique bug name); see `drill list`.
    #[arg(required_unless_present_any = ["random", "next"], conflicts_with_all = ["random", "next"])]
    pub id: Option<String>,
    /// Start the engineer's next drill of the saved plan (`drill plan`); needs --engineer.
    #[arg(long, conflicts_with_all = ["random", "lang"], requires = "engineer")]
    pub next: bool,
    /// Pick a drill at random and keep it hidden until the attempt ends (blind).
    #[arg(long)]
    pub random: bool,
    /// Language: go or rust (with --random, default: random too).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Where to create the workspace (new or empty); default: a new folder here.
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Who is drilling; default: git config user.name.
    #[arg(long, value_name = "NAME")]
    pub engineer: Option<String>,
    /// Results directory (default: $DRILL_RESULTS, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many times to reproduce each of the incident's conditions.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
    #[command(flatten)]
    pub target: Target,
}

/// Which attempt a command is about, when not the current workspace's.
#[derive(Debug, Args)]
pub struct Target {
    /// The attempt to act on (see `drill attempts`); default: the workspace you are in.
    #[arg(long, value_name = "ID")]
    pub attempt: Option<String>,
    /// Results directory holding --attempt (default: $DRILL_RESULTS, else the user's data directory).
    #[arg(long, value_name = "DIR", requires = "attempt")]
    pub results: Option<PathBuf>,
}

/// What every command needs: where it runs and what time it is.
pub(crate) struct Ctx {
    pub catalog_dir: Option<PathBuf>,
    pub cwd: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub test_clock: bool,
}

pub fn run(command: SessionCommand, catalog_dir: Option<&PathBuf>) -> Result<u8, Failure> {
    let (clock, test_clock) = clock::from_env().map_err(|e| Failure::new(exit_code::USAGE, e))?;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(exit_code::USAGE, anyhow::anyhow!("current directory: {e}")))?;
    let ctx = Ctx {
        catalog_dir: catalog_dir.cloned(),
        cwd,
        clock,
        test_clock,
    };
    match command {
        SessionCommand::Start(args) => start::start(&ctx, args),
        SessionCommand::Run(args) => run::run(&ctx, args),
        SessionCommand::Status { json, target } => status(&ctx, &target, json),
        SessionCommand::Hint { target } => hint(&ctx, &target),
        SessionCommand::Found { location, target } => found(&ctx, &target, &location),
        SessionCommand::Submit { target } => submit::submit(&ctx, &target),
        SessionCommand::Pause { target } => simple(&ctx, &target, "pause", EventKind::Pause),
        SessionCommand::Resume { target } => simple(&ctx, &target, "resume", EventKind::Resume),
        SessionCommand::Abandon { target } => simple(&ctx, &target, "abandon", EventKind::Abandon),
        SessionCommand::Attempts { csv: Some(c), .. } => crate::analysis::attempts_csv(c),
        SessionCommand::Attempts { json, results, .. } => attempts(&ctx, results.as_deref(), json),
    }
}

impl From<ResultsError> for Failure {
    fn from(e: ResultsError) -> Failure {
        let code = match &e {
            ResultsError::Busy { .. } => exit_code::LOCKED,
            ResultsError::Transition(_)
            | ResultsError::NotFound { .. }
            | ResultsError::NoDataDir => exit_code::USAGE,
            ResultsError::Io { .. }
            | ResultsError::Damaged { .. }
            | ResultsError::Exists { .. } => exit_code::RECORDS,
        };
        Failure::new(code, e)
    }
}

impl From<WorkspaceError> for Failure {
    fn from(e: WorkspaceError) -> Failure {
        let code = match &e {
            WorkspaceError::NotEmpty { .. } | WorkspaceError::NotInWorkspace { .. } => {
                exit_code::USAGE
            }
            WorkspaceError::BadLink { .. } => exit_code::RECORDS,
            WorkspaceError::Glob { .. } => exit_code::CATALOG,
            WorkspaceError::Io { .. } | WorkspaceError::Git { .. } => exit_code::FAILED,
        };
        Failure::new(code, e)
    }
}

impl From<TransitionError> for Failure {
    fn from(e: TransitionError) -> Failure {
        Failure::new(exit_code::USAGE, e)
    }
}

/// An attempt found from the current directory or `--attempt`.
pub(crate) struct Located {
    pub results: ResultsDir,
    pub id: String,
    /// `None` when named by `--attempt` and its workspace is gone.
    pub workspace: Option<Workspace>,
}

impl Located {
    pub fn load(&self) -> Result<Record, Failure> {
        Ok(self.results.load(&self.id)?)
    }

    pub fn workspace(&self) -> Result<&Workspace, Failure> {
        self.workspace.as_ref().ok_or_else(|| {
            Failure::new(
                exit_code::USAGE,
                anyhow::anyhow!(
                    "attempt {}'s workspace is gone; this command needs the workspace",
                    self.id
                ),
            )
        })
    }
}

pub(crate) fn locate(ctx: &Ctx, target: &Target) -> Result<Located, Failure> {
    if let Some(id) = &target.attempt {
        let results = ResultsDir::resolve(target.results.as_deref())?;
        let record = results.load(id)?;
        let workspace = workspace::find(Path::new(&record.attempt.workspace))
            .ok()
            .filter(|w| w.link().attempt == *id);
        return Ok(Located {
            results,
            id: id.clone(),
            workspace,
        });
    }
    let ws = workspace::find(&ctx.cwd).map_err(|e| match e {
        WorkspaceError::NotInWorkspace { from } => Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!(
                "{} is not inside a drill workspace.\n\
                 Run this from the workspace `drill start` created, or name the attempt: \
                 `--attempt ID` (`drill attempts` lists ids and workspaces).{}",
                from.display(),
                workspaces_under(&ctx.cwd)
            ),
        ),
        e => e.into(),
    })?;
    Ok(Located {
        results: ResultsDir::at(&ws.link().results),
        id: ws.link().attempt.clone(),
        workspace: Some(ws),
    })
}

/// The drill workspaces directly under `dir`, with their attempts' states,
/// as a line for the "not inside a drill workspace" error.
fn workspaces_under(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    let found: Vec<String> = paths
        .into_iter()
        .filter_map(|path| {
            let ws = workspace::find(&path).ok()?;
            (ws.root() == path).then_some(())?;
            let state = ResultsDir::at(&ws.link().results)
                .load(&ws.link().attempt)
                .map(|r| r.state().as_str().to_string())
                .unwrap_or_else(|_| "record unreadable".to_string());
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some(format!("{name}/ ({state})"))
        })
        .collect();
    if found.is_empty() {
        String::new()
    } else {
        format!("\nWorkspaces here: {}", found.join(", "))
    }
}

/// The catalog entries an attempt refers to.
pub(crate) struct DrillRef<'c> {
    pub drill: &'c Drill,
    pub scenario: &'c Scenario,
    pub spec: &'c LanguageSpec,
}

pub(crate) fn drill_of<'c>(catalog: &'c Catalog, record: &Record) -> Result<DrillRef<'c>, Failure> {
    let h = &record.attempt;
    let drill = catalog.drill(&h.drill).map_err(|e| {
        Failure::new(
            exit_code::CATALOG,
            anyhow::anyhow!(
                "attempt {} is on drill {}, which the catalog at {} no longer has ({e}); \
                 point --catalog at the catalog it was started from",
                h.id,
                h.drill,
                catalog.root.display()
            ),
        )
    })?;
    let scenario = catalog.scenario(&drill.scenario);
    let spec = scenario.languages.get(&h.language).ok_or_else(|| {
        Failure::new(
            exit_code::CATALOG,
            anyhow::anyhow!("scenario {} has no language {}", scenario.name, h.language),
        )
    })?;
    Ok(DrillRef {
        drill,
        scenario,
        spec,
    })
}

pub(crate) fn catalog(ctx: &Ctx) -> Result<Catalog, Failure> {
    load_catalog(ctx.catalog_dir.as_ref())
}

pub(crate) fn cache() -> Cache {
    Cache::from_env()
}

fn status(ctx: &Ctx, target: &Target, json: bool) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let record = located.load()?;
    let now = ctx.clock.now();
    let path = located.results.record_path(&located.id);
    if json {
        let value = report::status_json(&record, now, &path);
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        print!("{}", report::status_text(&record, now, &path));
    }
    Ok(exit_code::SUCCESS)
}

fn hint(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let lock = located.results.lock(&located.id, "hint")?;
    let record = lock.load()?;
    let catalog = catalog(ctx)?;
    let d = drill_of(&catalog, &record)?;
    let number = record.hints_used() + 1;
    let Some(text) = d.drill.hints.get(number as usize - 1) else {
        return Err(TransitionError::NoHintsLeft(record.hints_used()).into());
    };
    lock.append(vec![EventKind::Hint { number }], ctx.clock.now())?;
    println!("Hint {number}/{}: {text}", d.drill.hints.len());
    Ok(exit_code::SUCCESS)
}

fn found(ctx: &Ctx, target: &Target, location: &str) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let ws = located.workspace()?;
    let usage = |msg: String| Failure::new(exit_code::USAGE, anyhow::anyhow!(msg));
    let (file, line) = location
        .rsplit_once(':')
        .filter(|(f, _)| !f.trim().is_empty())
        .and_then(|(f, l)| Some((f, l.trim().parse::<u32>().ok().filter(|l| *l > 0)?)))
        .ok_or_else(|| {
            usage(format!(
                "expected FILE:LINE, a file of the workspace and a line number \
                 (e.g. internal/ledger/ledger.go:42 or src/provider.rs:88), got {location:?}"
            ))
        })?;
    let cwd = if ctx.cwd.starts_with(ws.root()) {
        ctx.cwd.clone()
    } else {
        ws.root().to_path_buf()
    };
    let rel = ws.relative_path(&cwd, file).ok_or_else(|| {
        usage(format!(
            "{file} is not a file of the workspace {}",
            ws.root().display()
        ))
    })?;
    let Some(snap_line) = ws.snapshot_line(&rel, line)? else {
        return Err(usage(format!(
            "{rel} is not part of the code you were given (it is not in the snapshot){}",
            did_you_mean(ws, &rel, line)
        )));
    };
    if let Ok(text) = std::fs::read_to_string(ws.root().join(&rel)) {
        let lines = text.lines().count();
        if line as usize > lines {
            return Err(usage(format!(
                "{rel} has {lines} lines; line {line} is past its end (nothing recorded)"
            )));
        }
    }
    let lock = located.results.lock(&located.id, "found")?;
    let record = lock.load()?;
    let catalog = catalog(ctx)?;
    let d = drill_of(&catalog, &record)?;
    let patch = d.drill.patch(&record.attempt.language).ok_or_else(|| {
        Failure::new(
            exit_code::CATALOG,
            anyhow::anyhow!(
                "drill {} has no patch for {}",
                d.drill.id,
                record.attempt.language
            ),
        )
    })?;
    let correct = patch.touched_lines().iter().any(|t| {
        t.path == rel
            && t.lines
                .iter()
                .any(|&l| l.abs_diff(snap_line as usize) <= FOUND_TOLERANCE)
    });
    let located_at = format!("{rel}:{snap_line}");
    let (after, _) = lock.append(
        vec![EventKind::Found {
            location: located_at.clone(),
            correct,
        }],
        ctx.clock.now(),
    )?;
    print!(
        "{}",
        report::found_text(&after, &located_at, correct, ctx.clock.now())
    );
    Ok(exit_code::SUCCESS)
}

/// `; did you mean …?` for a claim whose file name matches the end of
/// workspace files' paths (a bare `client.go` from the workspace root).
fn did_you_mean(ws: &Workspace, rel: &str, line: u32) -> String {
    let suffix = format!("/{rel}");
    let matches: Vec<String> = ws
        .files()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.ends_with(&suffix))
        .map(|f| format!("{f}:{line}"))
        .collect();
    if matches.is_empty() || matches.len() > 5 {
        String::new()
    } else {
        format!("; did you mean {}?", matches.join(" or "))
    }
}

fn simple(ctx: &Ctx, target: &Target, command: &str, kind: EventKind) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let lock = located.results.lock(&located.id, command)?;
    let (record, _) = lock.append(vec![kind], ctx.clock.now())?;
    let now = ctx.clock.now();
    let text = match record.state() {
        crate::attempt::State::Abandoned => {
            let catalog = catalog(ctx).ok();
            let d = catalog.as_ref().and_then(|c| drill_of(c, &record).ok());
            report::abandoned_text(&record, now, d.as_ref())
        }
        _ => report::timer_text(&record, now),
    };
    print!("{text}");
    Ok(exit_code::SUCCESS)
}

/// The results directory a command means: `--results`, else `DRILL_RESULTS`,
/// else — inside a workspace started with `--results DIR` — that DIR, else the
/// user's data directory.
pub fn implied_results(
    cwd: &Path,
    flag: Option<&Path>,
) -> Result<ResultsDir, crate::results::ResultsError> {
    let env_set = std::env::var_os(crate::results::RESULTS_ENV).is_some_and(|d| !d.is_empty());
    if flag.is_none() && !env_set {
        if let Ok(ws) = workspace::find(cwd) {
            return Ok(ResultsDir::at(&ws.link().results));
        }
    }
    ResultsDir::resolve(flag)
}

fn attempts(ctx: &Ctx, results: Option<&Path>, json: bool) -> Result<u8, Failure> {
    let dir = implied_results(&ctx.cwd, results)?;
    let listing = dir.list()?;
    for d in &listing.damaged {
        eprintln!(
            "warning: damaged attempt record {} (skipped): {}",
            d.path.display(),
            d.why
        );
    }
    if json {
        let value = report::attempts_json(&listing, &dir, ctx.clock.now());
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        print!("{}", report::attempts_text(&listing, &dir, ctx.clock.now()));
    }
    Ok(if listing.damaged.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    })
}
