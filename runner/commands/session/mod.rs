//! The engineer's drill: `start`, `run`, `status`, `hint`, `found`, `submit`,
//! `check-test`, `watch`, `pause`, `resume`, `abandon`.
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
//! - `check_test`: the engineer's tests in a bugged and a fixed copy → verdict;
//! - `watch`: saves (debounced) → build → visible tests, recorded; keys run the others;
//! - `target_dir`: private Cargo target directories sharing compiled dependencies;
//! - `report`: everything a person reads (the only place that prints tables,
//!   diffs and debriefs for these commands).

mod check_test;
mod fold;
mod repair;
pub(crate) mod report;
mod run;
pub(crate) mod start;
mod submit;
mod target_dir;
pub mod watch;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{Context as Ctx, ResultsArgs};
use crate::attempt::{EventKind, Record, TransitionError};
use crate::builder::Cache;
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario};
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::results::ResultsDir;
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
    /// Show the next graded hint (recorded); `--all` after the attempt ended.
    Hint {
        /// Every hint of the drill, for the post-mortem: only once the
        /// attempt has ended (fixed or abandoned); nothing is recorded.
        #[arg(long)]
        all: bool,
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
    /// Test-first attempts: run the tests you added or changed against the bugged and the fixed code.
    ///
    /// A reproducing test fails on the bugged code and passes on the fixed
    /// code (for a timing-dependent drill: fails in at least 90% of 10 runs,
    /// passes in all 10). Only your test files are used, in private copies;
    /// the fixed code is never shown. Exit 0: reproducing; 1: not (the
    /// reason says why, in one line).
    CheckTest {
        #[command(flatten)]
        target: Target,
    },
    /// A live session: on every save, rebuild and run the visible tests (recorded); keys act.
    ///
    /// On a terminal: a pinned status line (active time, state, the last
    /// result) and keys: r re-run, t check-test, h hint, f found (prompts
    /// FILE:LINE), s submit, p pause/resume, ? help, q quit (exit 0).
    /// Elsewhere: plain lines, and the same keys one per line on stdin.
    Watch {
        #[command(flatten)]
        target: Target,
    },
    /// Re-create a damaged workspace's git repository or snapshot from the catalog (your files are kept).
    ///
    /// For a workspace whose `.git` was deleted or damaged, or whose snapshot
    /// commit was lost to a rewritten history and a gc. The damaged `.git` is
    /// moved aside; the attempt's record and timer are not touched.
    Repair {
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
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The drill (`scenario/bug`, or a unique bug name); see `drill list`. Not blind;
    /// a drill you attempted before is recorded as a repeat.
    #[arg(required_unless_present_any = ["random", "next"], conflicts_with_all = ["random", "next"])]
    pub id: Option<String>,
    /// Start the engineer's next drill of the saved plan (`drill plan`), blind, skipping
    /// drills they have attempted; needs --engineer.
    #[arg(long, conflicts_with_all = ["random", "lang"], requires = "engineer")]
    pub next: bool,
    /// Pick a drill at random, never one you have attempted in either language, and keep
    /// it hidden until the attempt ends (blind).
    #[arg(long)]
    pub random: bool,
    /// Language: go or rust (with --random, default: random too).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Where to create the workspace (new or empty); default: a new folder here.
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Test first: write a test that reproduces the incident before the fix.
    /// `drill check-test` judges it (fails on the bugged code, passes on the
    /// fixed code); the time to the first reproducing test is recorded, and
    /// `submit` also requires your test to pass.
    #[arg(long)]
    pub test_first: bool,
    /// Go straight into `drill watch` on the new workspace.
    #[arg(long)]
    pub watch: bool,
    /// Who is drilling; default: git config user.name.
    #[arg(long, value_name = "NAME")]
    pub engineer: Option<String>,
    #[command(flatten)]
    pub results: ResultsArgs,
    /// Your experience, saved into your profile before the attempt records
    /// it (`drill profile` sets it without starting anything).
    #[command(
        flatten,
        next_help_heading = "Experience (optional; see drill profile)"
    )]
    pub experience: crate::commands::profile::ExperienceArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many times to reproduce each of the incident's conditions.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
    /// Show every log line, the harness's own metric polling included
    /// (folded into one line per path by default).
    #[arg(long)]
    pub verbose: bool,
    #[command(flatten)]
    pub target: Target,
}

/// Which attempt a command is about, when not the current workspace's.
#[derive(Debug, Args)]
pub struct Target {
    /// The attempt to act on (see `drill attempts`); default: the workspace you are in.
    #[arg(long, value_name = "ID")]
    pub attempt: Option<String>,
    /// With --attempt: the results directory holding it (see `drill attempts`).
    #[command(flatten)]
    pub results: ResultsArgs,
}

pub fn run(ctx: &Ctx, command: SessionCommand) -> Result<u8, Failure> {
    match command {
        SessionCommand::Start(args) => {
            let started = start::start(ctx, args)?;
            match started.watch {
                Some(target) => watch::watch(ctx, &target),
                None => Ok(started.code),
            }
        }
        SessionCommand::Run(args) => run::run(ctx, args),
        SessionCommand::Status { json, target } => status(ctx, &target, json),
        SessionCommand::Hint { all: false, target } => hint(ctx, &target),
        SessionCommand::Hint { all: true, target } => all_hints(ctx, &target),
        SessionCommand::Found { location, target } => found(ctx, &target, &location),
        SessionCommand::Submit { target } => submit::submit(ctx, &target),
        SessionCommand::CheckTest { target } => check_test::check_test(ctx, &target),
        SessionCommand::Watch { target } => watch::watch(ctx, &target),
        SessionCommand::Pause { target } => simple(ctx, &target, "pause", EventKind::Pause),
        SessionCommand::Resume { target } => simple(ctx, &target, "resume", EventKind::Resume),
        SessionCommand::Abandon { target } => simple(ctx, &target, "abandon", EventKind::Abandon),
        SessionCommand::Repair { target } => repair::repair(ctx, &target),
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
                Kind::Usage,
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
        let results = ctx.results_dir(&target.results)?;
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
    if target.results.is_given() {
        return Err(Failure::usage(
            "--results names the directory holding --attempt ID; without --attempt, \
             the attempt is the one of the workspace you are in",
        ));
    }
    let ws = workspace::find(&ctx.cwd).map_err(|e| match e {
        WorkspaceError::NotInWorkspace { from } | WorkspaceError::BadLink { path: from, .. }
            if repair::attempt_of_folder(&ctx.cwd).is_some() =>
        {
            let (_, id) = repair::attempt_of_folder(&ctx.cwd).expect("checked");
            Failure::new(
                Kind::Records,
                anyhow::anyhow!(
                    "{} is in the workspace of attempt {id}, but its .git folder (which links it \
                     to the attempt) is gone or damaged; run `drill repair` here: it re-creates \
                     the repository from the catalog and keeps your files",
                    from.display()
                ),
            )
        }
        WorkspaceError::NotInWorkspace { from } => Failure::new(
            Kind::Usage,
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
    // A blind attempt's errors name no drill: it stays hidden until the end.
    let hidden = report::hidden(record);
    let drill = catalog.drill(&h.drill).map_err(|e| {
        let what = if hidden {
            "a drill".to_string()
        } else {
            format!("drill {} ({e})", h.drill)
        };
        Failure::new(
            Kind::Catalog,
            anyhow::anyhow!(
                "attempt {} is on {what}, which the catalog at {} no longer has; \
                 point --catalog at the catalog it was started from ({}revision {})",
                h.id,
                catalog.root.display(),
                h.catalog
                    .as_ref()
                    .map(|p| format!("{p}, "))
                    .unwrap_or_default(),
                h.catalog_revision
            ),
        )
    })?;
    let scenario = catalog.scenario(&drill.scenario);
    let spec = scenario.languages.get(&h.language).ok_or_else(|| {
        let scenario = if hidden {
            "the scenario of this attempt"
        } else {
            scenario.name.as_str()
        };
        Failure::new(
            Kind::Catalog,
            anyhow::anyhow!("{scenario} has no language {}", h.language),
        )
    })?;
    Ok(DrillRef {
        drill,
        scenario,
        spec,
    })
}

pub(crate) fn catalog(ctx: &Ctx) -> Result<&Catalog, Failure> {
    ctx.catalog()
}

/// The catalog for an attempt's command: `--catalog`/`DRILL_CATALOG` if
/// given, else the one the attempt was started from (when it is still
/// there), else the default.
pub(crate) fn catalog_for<'c>(ctx: &'c Ctx, record: &Record) -> Result<&'c Catalog, Failure> {
    ctx.catalog_for_attempt(record.attempt.catalog.as_deref())
}

pub(crate) fn cache() -> Cache {
    Cache::from_env()
}

/// The build cache of attempt `id`'s workspace at `root` (for Cargo, its
/// private target directory, seeded).
pub(crate) fn attempt_tree_cache(d: &DrillRef<'_>, id: &str, root: &Path) -> target_dir::TreeCache {
    target_dir::TreeCache::for_tree(
        &cache(),
        d.spec,
        &d.scenario.name,
        &format!("attempts/{id}"),
        root,
    )
}

fn status(ctx: &Ctx, target: &Target, json: bool) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let record = located.load()?;
    let now = ctx.clock.now();
    let path = located.results.record_path(&located.id);
    if json {
        let value = report::status_json(&record, now, &path);
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        out!("{}", report::status_text(&record, now, &path));
    }
    Ok(exit_code::SUCCESS)
}

fn hint(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let lock = located.results.lock(&located.id, "hint")?;
    let record = lock.load()?;
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    let number = record.hints_used() + 1;
    let Some(text) = d.drill.hints.get(number as usize - 1) else {
        return Err(TransitionError::NoHintsLeft(record.hints_used()).into());
    };
    lock.append(vec![EventKind::Hint { number }], ctx.clock.now())?;
    outln!("Hint {number}/{}: {text}", d.drill.hints.len());
    Ok(exit_code::SUCCESS)
}

/// `drill hint --all`: the post-mortem's view of every hint, refused while
/// the attempt is open (a hint then is part of the measurement, one by one).
fn all_hints(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let record = located.load()?;
    if !record.state().is_ended() {
        return Err(Failure::usage(format!(
            "the attempt is still open ({}): `drill hint --all` shows every hint once it has \
             ended (a passing submit, or `drill abandon`); `drill hint` shows the next one \
             (recorded)",
            record.state().as_str()
        )));
    }
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    out!("{}", report::all_hints_text(&record, &d.drill.hints));
    Ok(exit_code::SUCCESS)
}

fn found(ctx: &Ctx, target: &Target, location: &str) -> Result<u8, Failure> {
    let located = locate(ctx, target)?;
    let ws = located.workspace()?;
    let usage = |msg: String| Failure::new(Kind::Usage, anyhow::anyhow!(msg));
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
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    let patch = d.drill.patch(&record.attempt.language).ok_or_else(|| {
        let drill = if report::hidden(&record) {
            "the drill of this attempt".to_string()
        } else {
            format!("drill {}", d.drill.id)
        };
        Failure::new(
            Kind::Catalog,
            anyhow::anyhow!("{drill} has no patch for {}", record.attempt.language),
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
    out!(
        "{}",
        report::found_text(&after, &located_at, correct, ctx.clock.now())
    );
    if snap_line != line {
        // The engineer edited the file: say which line was judged, so a
        // number read before the edit is not a silent miss.
        outln!(
            "(You edited {rel}: its line {line} now is line {snap_line} of the code as handed out, \
             and claims are judged there.)"
        );
    }
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
            target_dir::remove_attempt_dir(&cache(), &located.id);
            let catalog = catalog_for(ctx, &record).ok();
            let d = catalog.as_ref().and_then(|c| drill_of(c, &record).ok());
            report::abandoned_text(&record, now, d.as_ref())
        }
        _ => report::timer_text(&record, now),
    };
    out!("{text}");
    Ok(exit_code::SUCCESS)
}
