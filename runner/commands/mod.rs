//! The command layer: what every command shares ([`Context`], the one
//! `--results` argument and the one rule for which results directory a
//! command means), and a module per command family. `cli.rs` parses and
//! dispatches here; nothing below this layer imports from it.
//!
//! - `catalog`: `list`, `show`;
//! - `verify`: `verify`;
//! - `session/`: the engineer's drill (`start`, `run`, `status`, `hint`,
//!   `found`, `submit`, `pause`, `resume`, `abandon`, `repair`);
//! - `attempts`: `attempts` (list), `attempts export|import`;
//! - `stats`: `stats`, `report`;
//! - `plan`: `plan`, `plan status`;
//! - `profile`: `profile` (an engineer's experience; its flags are also `start`'s);
//! - `bench`: `bench --url`, `bench --self-check`, `bench --serve-reference`;
//! - `clean`: `clean` (the cache and scratch space);
//! - `gameday`: `gameday start|ack|deploy|resolve|status` (a live incident).

/// `print!` for a command's output, in a function returning
/// `Result<_, Failure>`: a closed stdout ends the command quietly
/// ([`Failure::stdout`]), never a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::write_out(format_args!($($arg)*))?
    };
}

/// `println!` for a command's output; see `out!`.
macro_rules! outln {
    () => {
        $crate::commands::write_out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::commands::write_out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

pub mod attempts;
pub mod bench;
pub mod catalog;
pub mod clean;
pub mod debrief;
pub mod gameday;
pub mod plan;
pub mod profile;
pub mod session;
pub mod stats;
pub mod verify;

use std::cell::OnceCell;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::builder::Cache;
use crate::catalog::Catalog;
use crate::clock::{self, Clock, Timestamp};
use crate::error::Failure;
use crate::exit_code::Kind;
use crate::results::ResultsDir;
use crate::workspace;

/// `--results DIR`: declared once, flattened into every command that reads
/// or writes attempts. Resolved by [`Context::results_dir`] /
/// [`Context::results_dirs`].
#[derive(Debug, Args, Clone, Default)]
pub struct ResultsArgs {
    /// Results directory. Default: the one the workspace you are in was
    /// started with, else $DRILL_RESULTS, else the user's data directory.
    /// Commands that only read (stats, report, attempts export) take it more
    /// than once and merge the directories (an attempt in several counts once).
    #[arg(long = "results", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

impl ResultsArgs {
    pub fn is_given(&self) -> bool {
        !self.dirs.is_empty()
    }
}

/// What every command runs with: the catalog (loaded on first use), the
/// directory it runs in, the clock, and the async runtime (built on first use).
pub struct Context {
    catalog_dir: Option<PathBuf>,
    catalog: OnceCell<Catalog>,
    pub cwd: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// The clock is the test clock (`DRILL_TEST_CLOCK`); recorded in attempts.
    pub test_clock: bool,
    runtime: OnceCell<tokio::runtime::Runtime>,
}

impl Context {
    /// From the process environment: `--catalog` / `DRILL_CATALOG`, the
    /// current directory, `DRILL_TEST_CLOCK`.
    pub fn from_env(catalog_dir: Option<PathBuf>) -> Result<Context, Failure> {
        let (clock, test_clock) = clock::from_env().map_err(|e| Failure::new(Kind::Usage, e))?;
        let cwd = std::env::current_dir()
            .map_err(|e| Failure::environment(format!("the current directory: {e}")))?;
        Ok(Context {
            catalog_dir,
            catalog: OnceCell::new(),
            cwd,
            clock,
            test_clock,
            runtime: OnceCell::new(),
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The catalog: `--catalog` / `DRILL_CATALOG`, else the one built into
    /// the binary, unpacked into the cache directory on first use.
    pub fn catalog(&self) -> Result<&Catalog, Failure> {
        if let Some(c) = self.catalog.get() {
            return Ok(c);
        }
        let root = match &self.catalog_dir {
            Some(dir) => dir.clone(),
            None => crate::embedded::unpack(&Cache::from_env().root)
                .map_err(|e| Failure::new(Kind::Environment, e))?,
        };
        let loaded = Catalog::load(&root)?;
        Ok(self.catalog.get_or_init(|| loaded))
    }

    /// The catalog for a command on an attempt: `--catalog` / `DRILL_CATALOG`
    /// if given, else the one the attempt was started from (while it is
    /// there), else the kit's own.
    pub fn catalog_for_attempt(&self, started_from: Option<&str>) -> Result<&Catalog, Failure> {
        if self.catalog_dir.is_none() && self.catalog.get().is_none() {
            if let Some(dir) = started_from.map(PathBuf::from).filter(|d| d.is_dir()) {
                let loaded = Catalog::load(&dir)?;
                return Ok(self.catalog.get_or_init(|| loaded));
            }
        }
        self.catalog()
    }

    /// No `--catalog` / `DRILL_CATALOG`: the built-in catalog is used.
    pub fn catalog_is_built_in(&self) -> bool {
        self.catalog_dir.is_none()
    }

    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime, Failure> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = runtime()?;
        Ok(self.runtime.get_or_init(|| rt))
    }

    /// The one rule for which results directories a command means:
    /// `--results` (all of them), else the results directory of the attempt
    /// whose workspace the command runs in, else `$DRILL_RESULTS`, else the
    /// user's data directory.
    pub fn results_dirs(&self, args: &ResultsArgs) -> Result<Vec<ResultsDir>, Failure> {
        if args.is_given() {
            return Ok(args.dirs.iter().map(|d| ResultsDir::at(d)).collect());
        }
        if let Ok(ws) = workspace::find(&self.cwd) {
            return Ok(vec![ResultsDir::at(&ws.link().results)]);
        }
        Ok(vec![ResultsDir::resolve(None)?])
    }

    /// [`Context::results_dirs`] for a command that works in one directory.
    pub fn results_dir(&self, args: &ResultsArgs) -> Result<ResultsDir, Failure> {
        let mut dirs = self.results_dirs(args)?;
        if dirs.len() > 1 {
            return Err(Failure::usage(format!(
                "--results given {} times; this command works in one results directory",
                dirs.len()
            )));
        }
        Ok(dirs.remove(0))
    }
}

/// The engineer a command means: `--engineer` (trimmed), else git's
/// `user.name`.
pub fn engineer_name(given: Option<&str>) -> Option<String> {
    given
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .or_else(workspace::git_user_name)
}

/// Refuses a name no record should carry (control characters, too long).
pub fn check_engineer_name(engineer: &str) -> Result<(), Failure> {
    match crate::terminal::name_problem(engineer) {
        Some(problem) => Err(Failure::usage(format!(
            "{}; pass --engineer NAME",
            crate::terminal::name_error(engineer, &problem)
        ))),
        None => Ok(()),
    }
}

/// A tokio runtime of its own, for a command that shuts it down itself
/// (`run`, `start`, `submit` end what is left when interrupted).
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::environment(format!("starting the async runtime: {e}")))
}

/// The start of every long command that must stop cleanly on Ctrl-C or
/// SIGTERM: a runtime, the signal handlers installed inside it (before any
/// child is started, so no signal is missed), and the scratch folders a
/// killed command left swept.
pub fn interruptible() -> Result<(tokio::runtime::Runtime, crate::process::Interrupts), Failure> {
    let rt = runtime()?;
    let interrupts = {
        let _inside = rt.enter();
        crate::process::Interrupts::new()
    }
    .map_err(|e| {
        Failure::new(
            Kind::Internal,
            anyhow::anyhow!("installing signal handlers: {e}"),
        )
    })?;
    let _ = crate::scratch::sweep(false);
    Ok((rt, interrupts))
}

/// Writes command output to stdout now (flushed, so a closed pipe is seen
/// by the command that wrote, not lost at exit).
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(args)
        .and_then(|()| stdout.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Failure::stdout(e)
        })
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For a command that prints while it works and must finish its work
/// anyway (`drill run` records the run): `Err` once stdout was found closed.
pub(crate) fn check_stdout() -> Result<(), Failure> {
    if STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        Err(Failure::stdout(std::io::ErrorKind::BrokenPipe.into()))
    } else {
        Ok(())
    }
}
