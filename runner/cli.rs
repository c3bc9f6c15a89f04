//! Command-line interface: the arguments (clap) and the dispatch to the
//! library. Output formatting lives in `console`; this file only wires.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::builder::Cache;
use crate::catalog::{self, Catalog, CatalogError};
use crate::console::{self, Progress};
use crate::exit_code;
use crate::toolchain;
use crate::verify::{self, Status, VerifyOptions};

const AFTER_HELP: &str = "\
Exit codes: 0 success, 1 a check or verification failed, 2 usage error (bad arguments,
unknown drill, not in a workspace), 3 invalid catalog, 4 toolchain missing or too old,
5 the kit could not judge (service never came up), 6 damaged or unwritable record,
7 the attempt is locked by another command, 70 internal error.";

/// Seeded-bug debugging drills for paired Go and Rust services.
///
/// drill checks out a small realistic service (in Go or in Rust) with a known
/// bug seeded in, gives you a workspace and an incident ticket, and measures
/// how long finding and fixing the root cause takes.
#[derive(Debug, Parser)]
#[command(name = "drill", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Catalog to use (a folder with scenarios/ and drills/); default: the kit's own.
    #[arg(long, global = true, env = "DRILL_CATALOG", value_name = "DIR")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the drills in the catalog.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one drill: what it is, its scenario and its incident ticket.
    ///
    /// Hints, the acceptance checks, the patches and the debrief stay hidden:
    /// they give the answer away.
    Show {
        /// `scenario/bug`, or a bug name that is unique in the catalog.
        id: String,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prove the catalog is sound: every bug reproduces, every clean tree passes.
    Verify(VerifyArgs),
    // The engineer's drill (start, run, status, hint, found, submit, pause,
    // resume, abandon, attempts): runner/session/.
    #[command(flatten)]
    Session(crate::session::SessionCommand),
    // Statistics, report and experiment plan (issue 4): runner/analysis.rs.
    /// Time-to-find / time-to-fix statistics: per language and class, Go vs Rust, censoring-aware.
    Stats(crate::analysis::StatsArgs),
    /// Write a self-contained HTML report (charts, comparison, decision record).
    Report(crate::analysis::ReportArgs),
    /// Make a counterbalanced plan of drills per engineer (or `plan status`).
    Plan(crate::analysis::PlanArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Drills to verify (`scenario/bug` or a unique bug name); default: all.
    pub ids: Vec<String>,
    /// Runs of the acceptance checks per tree: a bug must reproduce in every one.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// Parallel jobs; default: the number of CPU cores.
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Seed for fault jitter (the same seed gives Go and Rust the same fault sequence).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON on stdout (no progress output).
    #[arg(long)]
    pub json: bool,
}

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code,
            error: error.into(),
        }
    }
}

impl From<CatalogError> for Failure {
    fn from(e: CatalogError) -> Failure {
        let code = match e {
            CatalogError::UnknownDrill { .. } => exit_code::USAGE,
            _ => exit_code::CATALOG,
        };
        Failure::new(code, e)
    }
}

pub fn load_catalog(dir: Option<&PathBuf>) -> Result<Catalog, Failure> {
    let root = dir.cloned().unwrap_or_else(catalog::default_root);
    Ok(Catalog::load(&root)?)
}

pub fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::List { json } => list(cli.catalog.as_ref(), json),
        Command::Show { id, json } => show(cli.catalog.as_ref(), &id, json),
        Command::Verify(args) => verify_cmd(cli.catalog.as_ref(), args),
        Command::Session(command) => crate::session::run(command, cli.catalog.as_ref()),
        Command::Stats(args) => crate::analysis::stats(args),
        Command::Report(args) => crate::analysis::report(args),
        Command::Plan(args) => crate::analysis::plan(args, cli.catalog.as_ref()),
    }
}

fn list(dir: Option<&PathBuf>, json: bool) -> Result<u8, Failure> {
    let catalog = load_catalog(dir)?;
    if json {
        let items: Vec<serde_json::Value> = catalog
            .drills
            .iter()
            .map(|d| {
                serde_json::json!({
                    "id": d.id,
                    "scenario": d.scenario,
                    "bug": d.bug,
                    "title": d.title,
                    "class": d.class,
                    "difficulty": d.difficulty,
                    "languages": d.languages,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    let mut rows = vec![vec![
        "id".to_string(),
        "title".into(),
        "class".into(),
        "difficulty".into(),
        "languages".into(),
    ]];
    for d in &catalog.drills {
        rows.push(vec![
            d.id.clone(),
            d.title.clone(),
            d.class.clone(),
            format!("{}/5", d.difficulty),
            d.languages.join(", "),
        ]);
    }
    print!("{}", console::table(&rows));
    println!(
        "\n{} drill(s) in {} scenario(s) from {}",
        catalog.drills.len(),
        catalog.scenarios.len(),
        catalog.root.display()
    );
    Ok(exit_code::SUCCESS)
}

fn show(dir: Option<&PathBuf>, id: &str, json: bool) -> Result<u8, Failure> {
    let catalog = load_catalog(dir)?;
    let d = catalog.drill(id)?;
    let scenario = catalog.scenario(&d.scenario);
    let class = crate::taxonomy::find(&d.class)
        .map(|c| c.name)
        .unwrap_or("");
    if json {
        let v = serde_json::json!({
            "id": d.id,
            "scenario": d.scenario,
            "scenario_title": scenario.title,
            "title": d.title,
            "class": d.class,
            "class_name": class,
            "difficulty": d.difficulty,
            "languages": d.languages,
            "hints": d.hints.len(),
            "ticket": { "title": d.ticket.title, "body": d.ticket.body },
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    println!("{}  {}", d.id, d.title);
    println!();
    println!("scenario    {} ({})", scenario.title, d.scenario);
    println!("class       {} ({class})", d.class);
    println!("difficulty  {}/5", d.difficulty);
    println!("languages   {}", d.languages.join(", "));
    println!("hints       {}", d.hints.len());
    println!();
    println!("# {}", d.ticket.title);
    println!();
    println!("{}", d.ticket.body.trim_end());
    Ok(exit_code::SUCCESS)
}

fn verify_cmd(dir: Option<&PathBuf>, args: VerifyArgs) -> Result<u8, Failure> {
    let catalog = load_catalog(dir)?;
    let drills = verify::select(&catalog, &args.ids)?;
    // Toolchains first: a missing `cargo` is one clear error, not forty failed builds.
    for s in catalog.scenarios.values() {
        for spec in s.languages.values() {
            toolchain::require(
                spec.toolchain,
                &spec.min_version,
                &format!("scenario `{}` ({})", s.name, spec.lang),
            )
            .map_err(|e| Failure::new(exit_code::TOOLCHAIN, e))?;
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let opts = VerifyOptions {
        runs: args.runs,
        jobs,
        seed: args.seed,
        only: args.ids.clone(),
    };
    let progress = Progress::new(args.json);
    let cache = Cache::from_env();
    let rt = runtime()?;
    let report = rt.block_on(verify::verify(&catalog, &drills, &opts, &cache, &progress));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else {
        print!("{}", console::verify_summary(&report));
    }
    Ok(match report.status() {
        Status::Ok => exit_code::SUCCESS,
        Status::Failed => exit_code::FAILED,
        Status::Error => exit_code::INFRASTRUCTURE,
    })
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
