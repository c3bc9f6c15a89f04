//! Command-line interface: the clap types and the dispatch to the command
//! layer (`commands/`). Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{self, Context};
use crate::error::Failure;
use crate::exit_code::{self, Kind};

const AFTER_HELP: &str = "\
Exit codes:
  0    success
  1    a verdict failed: verify found a broken drill, submit rejected the fix,
       check-test found no reproducing test, run could not build your code
  2    usage error: bad arguments, unknown drill, not in a workspace
  3    invalid catalog
  4    toolchain missing or too old
  5    the kit could not judge: the service never came up, the bugged tree
       does not build
  6    damaged or unwritable record
  7    the attempt is locked by another command
  8    the machine got in the way: a file or folder could not be read,
       written or copied, git failed, no temp folder
  70   a bug in drill (a panic); please report it
  130  stopped by Ctrl-C; the command says what it kept
  141  stdout closed by its reader (`drill list | head -1`): ends quietly
  143  stopped by SIGTERM; the command says what it kept";

/// Seeded-bug debugging drills for paired Go and Rust services.
///
/// drill checks out a small realistic service (in Go or in Rust) with a known
/// bug seeded in, gives you a workspace and an incident ticket, and measures
/// how long finding and fixing the root cause takes.
#[derive(Debug, Parser)]
#[command(name = "drill", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Catalog to use (a folder with scenarios/ and drills/); default: the one built into drill.
    #[arg(long, global = true, env = "DRILL_CATALOG", value_name = "DIR")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the drills in the catalog (those an open blind attempt could be are withheld).
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one drill: what it is, its scenario and its incident ticket.
    ///
    /// Hints, the acceptance checks, the patches and the debrief stay hidden:
    /// they give the answer away. Refused, while a blind attempt is open in the
    /// results directory, for every drill that attempt could be.
    Show {
        /// `scenario/bug`, or a bug name that is unique in the catalog.
        id: String,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prove the catalog is sound: every bug reproduces, every clean tree passes.
    Verify(commands::verify::VerifyArgs),
    // The engineer's drill (start, run, status, hint, found, submit, pause,
    // resume, abandon, repair): commands/session/.
    #[command(flatten)]
    Session(commands::session::SessionCommand),
    /// List the attempts in the results directory (or export / import them as CSV).
    Attempts(commands::attempts::AttemptsArgs),
    /// Time-to-find / time-to-fix statistics: per language and class, Go vs Rust, censoring-aware.
    Stats(commands::stats::StatsArgs),
    /// Write a self-contained HTML report (charts, comparison, decision record).
    Report(commands::stats::ReportArgs),
    /// Record or show an engineer's experience per language (years, on call).
    ///
    /// Self-reported, one file per engineer in the results directory; each
    /// attempt keeps a copy from its start, so stats can compare like with
    /// like and plans can balance on it.
    Profile(commands::profile::ProfileArgs),
    /// Make a counterbalanced plan of drills per engineer (or `plan status`).
    Plan(commands::plan::PlanArgs),
    /// Open-loop load at a constant rate against an HTTP URL: latency corrected
    /// for coordinated omission and raw, errors, late starts (docs/bench.md).
    Bench(commands::bench::BenchArgs),
    /// Show what the kit's cache and temporary space hold; free what no open attempt needs.
    ///
    /// Freed: temporary folders of commands that were killed, the build
    /// folders of attempts that have ended, build and submit copies (remade
    /// by the next build). Kept: what an open attempt or a running command
    /// uses, and the shared build caches unless --all.
    Clean(commands::clean::CleanArgs),
    /// A drill as a live incident: the service under traffic, injects, an alert,
    /// the on-call's ack, note, deploy and resolve, timed from the fault (docs/gameday.md).
    Gameday(commands::gameday::GameDayArgs),
}

pub fn run(cli: Cli) -> Result<u8, Failure> {
    // The one way to reach exit code 70 on purpose, so the test of the bug
    // path runs on the binary as shipped (the kit's tests run in release).
    if std::env::var_os("DRILL_TEST_PANIC").is_some() {
        panic!("DRILL_TEST_PANIC is set: a deliberate panic");
    }
    let ctx = Context::from_env(cli.catalog)?;
    match cli.command {
        Command::List { json } => commands::catalog::list(&ctx, json),
        Command::Show { id, json } => commands::catalog::show(&ctx, &id, json),
        Command::Verify(args) => commands::verify::verify(&ctx, args),
        Command::Session(command) => commands::session::run(&ctx, command),
        Command::Attempts(args) => commands::attempts::attempts(&ctx, args),
        Command::Stats(args) => commands::stats::stats(&ctx, args),
        Command::Report(args) => commands::stats::report(&ctx, args),
        Command::Profile(args) => commands::profile::profile(&ctx, args),
        Command::Plan(args) => commands::plan::plan(&ctx, args),
        Command::Bench(args) => commands::bench::bench(&ctx, args),
        Command::Clean(args) => commands::clean::clean(&ctx, args),
        Command::Gameday(args) => commands::gameday::gameday(&ctx, args),
    }
}

/// Entry point used by `main`: runs the command and turns its outcome into
/// the exit code (`exit_code.rs`); a panic, a bug, exits 70 after its message.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(f)) => {
            // A reader that went away wants no more output, not an error.
            if f.kind != Kind::ClosedStdout {
                eprintln!("error: {}", crate::terminal::error_chain(&f.error));
            }
            ExitCode::from(f.exit_code())
        }
        Err(_) => {
            eprintln!("error: drill itself failed (the panic above says where); please report it");
            ExitCode::from(exit_code::INTERNAL)
        }
    }
}
