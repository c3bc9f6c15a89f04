//! The commands over results: `drill stats`, `drill report`, `drill plan`
//! (+ `plan status`, and the lookup behind `drill start --next`), and
//! `drill attempts export|import`. Arguments and wiring only; the work is in
//! `stats`, `export`, `report`, `plan` and `csvio`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use clap::{Args, Subcommand};

use crate::cli::Failure;
use crate::clock::{self, Timestamp};
use crate::console::table;
use crate::csvio;
use crate::exit_code;
use crate::export::{self, Format};
use crate::plan::{self, Progress};
use crate::report;
use crate::results::ResultsDir;
use crate::stats::{self, bootstrap, dataset, GroupBy};

/// Which attempts: shared by stats, report and export.
#[derive(Debug, Args, Clone)]
pub struct Selection {
    /// Results directory to read; repeat to merge several (an attempt found
    /// in more than one is counted once). Default: $DRILL_RESULTS, else the
    /// user's data directory.
    #[arg(long = "results", value_name = "DIR")]
    pub results: Vec<PathBuf>,
    /// Only these engineers (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub engineer: Vec<String>,
    /// Only these scenarios.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub scenario: Vec<String>,
    /// Only these bug classes.
    #[arg(long, value_delimiter = ',', value_name = "CLASS")]
    pub class: Vec<String>,
    /// Only these languages.
    #[arg(long = "lang", value_delimiter = ',', value_name = "LANG")]
    pub language: Vec<String>,
    /// Only these drills (`scenario/bug`).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub drill: Vec<String>,
    /// Only attempts started on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only attempts started before the end of this date (YYYY-MM-DD) or before this instant.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// How to analyse: shared by stats and report.
#[derive(Debug, Args, Clone)]
pub struct Analysis {
    /// Rows per bug class (default), engineer, scenario or drill (always split by language).
    #[arg(long, value_enum, default_value = "class")]
    pub by: GroupBy,
    /// The two languages compared; ratios are second/first.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "go,rust",
        value_name = "A,B"
    )]
    pub compare: Vec<String>,
    /// Cost of an engineer-hour, to price a median incident.
    #[arg(long, value_name = "AMOUNT")]
    pub hourly_rate: Option<f64>,
    /// Engineers working one incident (with --hourly-rate).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub engineers_per_incident: f64,
    /// Bootstrap resamples for the ratio CIs (at least 10000).
    #[arg(long, default_value_t = bootstrap::DEFAULT_RESAMPLES,
          value_parser = clap::value_parser!(u32).range(10_000..=1_000_000))]
    pub resamples: u32,
    /// Bootstrap seed: the same seed and data give the same intervals.
    #[arg(long, default_value_t = bootstrap::DEFAULT_SEED)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub analysis: Analysis,
    /// Print the versioned JSON document (docs/stats-format.md).
    #[arg(long, conflicts_with_all = ["csv", "markdown"])]
    pub json: bool,
    /// Print CSV: one row per group × language.
    #[arg(long, conflicts_with = "markdown")]
    pub csv: bool,
    /// Print Markdown tables.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to write the HTML page.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub analysis: Analysis,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: Option<PlanCommand>,
    /// The engineers taking part (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub engineers: Vec<String>,
    /// The drills to use (each class needs at least two).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "IDS",
        required_unless_present = "classes"
    )]
    pub drills: Vec<String>,
    /// Or: every catalog drill of these classes.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CLASSES",
        conflicts_with = "drills"
    )]
    pub classes: Vec<String>,
    /// The two languages, in the order engineer 1 starts with.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "go,rust",
        value_name = "A,B"
    )]
    pub languages: Vec<String>,
    /// Results directory the plan is saved in (default: $DRILL_RESULTS, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Replace an existing plan.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Show each engineer's progress through the saved plan.
    Status {
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `drill attempts export|import`.
#[derive(Debug, Subcommand)]
pub enum AttemptsCsv {
    /// Write every ended attempt as CSV (one row per attempt) on stdout or to --out.
    Export {
        /// CSV (the only export format; accepted for clarity).
        #[arg(long)]
        csv: bool,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        selection: Selection,
    },
    /// Bring attempts from a CSV file (paper drills, an earlier tool): all rows or none.
    Import {
        file: PathBuf,
        /// Results directory to import into (default: $DRILL_RESULTS, else the user's data directory).
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
    },
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::new(exit_code::USAGE, e)
}

fn parse_date(s: &str, end_of_day: bool) -> Result<Timestamp, Failure> {
    let s = s.trim();
    if s.len() == 10 {
        let t: Timestamp = format!("{s}T00:00:00Z")
            .parse()
            .map_err(|e| usage(anyhow!("{e}")))?;
        return Ok(if end_of_day { t.plus_ms(86_400_000) } else { t });
    }
    s.parse().map_err(|e| usage(anyhow!("{e}")))
}

fn now() -> Result<Timestamp, Failure> {
    let (clock, _) = clock::from_env().map_err(usage)?;
    Ok(clock.now())
}

fn dirs(flags: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    if flags.is_empty() {
        // Inside a workspace, the results directory its attempt was started with.
        let cwd = std::env::current_dir().map_err(usage)?;
        let dir = crate::session::implied_results(&cwd, None).map_err(usage)?;
        Ok(vec![dir.root().to_path_buf()])
    } else {
        Ok(flags.to_vec())
    }
}

fn load(sel: &Selection, now: Timestamp) -> Result<dataset::Dataset, Failure> {
    let filter = dataset::Filter {
        engineers: sel.engineer.clone(),
        scenarios: sel.scenario.clone(),
        classes: sel.class.clone(),
        languages: sel.language.clone(),
        drills: sel.drill.clone(),
        since: sel
            .since
            .as_deref()
            .map(|s| parse_date(s, false))
            .transpose()?,
        until: sel
            .until
            .as_deref()
            .map(|s| parse_date(s, true))
            .transpose()?,
    };
    let ds = dataset::load(&dirs(&sel.results)?, &filter, now)
        .map_err(|e| Failure::new(exit_code::RECORDS, e))?;
    for d in &ds.damaged {
        eprintln!(
            "warning: damaged attempt record {} (not counted): {}",
            d.path.display(),
            d.why
        );
    }
    Ok(ds)
}

fn options(a: &Analysis, now: Timestamp) -> Result<stats::Options, Failure> {
    let [first, second] = <[String; 2]>::try_from(a.compare.clone()).map_err(|_| {
        usage(anyhow!(
            "--compare takes exactly two languages, e.g. --compare go,rust"
        ))
    })?;
    if a.hourly_rate.is_some_and(|r| !(r.is_finite() && r >= 0.0)) {
        return Err(usage(anyhow!("--hourly-rate must be a number >= 0")));
    }
    if !(a.engineers_per_incident.is_finite() && a.engineers_per_incident > 0.0) {
        return Err(usage(anyhow!(
            "--engineers-per-incident must be a number > 0"
        )));
    }
    let mut o = stats::Options::new(now);
    o.group_by = a.by;
    o.compare = [first, second];
    o.hourly_rate = a.hourly_rate;
    o.engineers_per_incident = a.engineers_per_incident;
    o.resamples = a.resamples;
    o.seed = a.seed;
    Ok(o)
}

fn code(ds: &dataset::Dataset) -> u8 {
    if ds.damaged.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    }
}

/// `drill stats`.
pub fn stats(args: StatsArgs) -> Result<u8, Failure> {
    let now = now()?;
    let ds = load(&args.selection, now)?;
    let report = stats::analyze(&ds, &options(&args.analysis, now)?);
    let format = match (args.json, args.csv, args.markdown) {
        (true, _, _) => Format::Json,
        (_, true, _) => Format::Csv,
        (_, _, true) => Format::Markdown,
        _ => Format::Terminal,
    };
    print!("{}", export::exporter(format).render(&report));
    Ok(code(&ds))
}

/// `drill report`.
pub fn report(args: ReportArgs) -> Result<u8, Failure> {
    let now = now()?;
    let ds = load(&args.selection, now)?;
    let stats = stats::analyze(&ds, &options(&args.analysis, now)?);
    let html = report::render(&stats, &ds);
    std::fs::write(&args.out, html)
        .with_context(|| format!("writing the report to {}", args.out.display()))
        .map_err(|e| Failure::new(exit_code::RECORDS, e))?;
    eprintln!(
        "wrote {} ({} attempts, {} comparisons)",
        args.out.display(),
        stats.inputs.attempts,
        stats.comparisons.len()
    );
    Ok(code(&ds))
}

/// `drill attempts export|import`.
pub fn attempts_csv(command: AttemptsCsv) -> Result<u8, Failure> {
    match command {
        AttemptsCsv::Export { out, selection, .. } => {
            let ds = load(&selection, now()?)?;
            let rows: Vec<&dataset::Observation> = ds.observations.iter().collect();
            let open = rows
                .iter()
                .filter(|o| o.outcome == dataset::Outcome::Open)
                .count();
            if open > 0 {
                eprintln!("note: {open} open attempt(s) not exported (still running)");
            }
            let text = csvio::write(&rows);
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))
                    .map_err(|e| Failure::new(exit_code::RECORDS, e))?,
                None => print!("{text}"),
            }
            Ok(code(&ds))
        }
        AttemptsCsv::Import { file, results } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))
                .map_err(usage)?;
            let rows = csvio::parse(&text, &file).map_err(usage)?;
            let dir = ResultsDir::resolve(results.as_deref()).map_err(usage)?;
            let existing = dataset::load(
                &[dir.root().to_path_buf()],
                &dataset::Filter::default(),
                now()?,
            )
            .map_err(|e| Failure::new(exit_code::RECORDS, e))?;
            let known: std::collections::HashSet<&str> = existing
                .observations
                .iter()
                .map(|o| o.id.as_str())
                .collect();
            let new: Vec<&dataset::Observation> = rows
                .iter()
                .filter(|o| !known.contains(o.id.as_str()))
                .collect();
            let skipped = rows.len() - new.len();
            if new.is_empty() {
                println!(
                    "nothing new: all {} attempt(s) in {} are already in {}",
                    rows.len(),
                    file.display(),
                    dir.root().display()
                );
                return Ok(exit_code::SUCCESS);
            }
            let path =
                csvio::store(dir.root(), &new).map_err(|e| Failure::new(exit_code::RECORDS, e))?;
            println!(
                "imported {} attempt(s) from {} into {}{}",
                new.len(),
                file.display(),
                path.display(),
                if skipped > 0 {
                    format!(" ({skipped} already present, skipped)")
                } else {
                    String::new()
                }
            );
            Ok(exit_code::SUCCESS)
        }
    }
}

fn plan_failure(e: plan::PlanError) -> Failure {
    match e {
        plan::PlanError::Io { .. } => Failure::new(exit_code::RECORDS, e),
        _ => usage(e),
    }
}

/// `drill plan` and `drill plan status`.
pub fn plan(args: PlanArgs, catalog_dir: Option<&PathBuf>) -> Result<u8, Failure> {
    if let Some(PlanCommand::Status { results, json }) = args.command {
        return plan_status(results.as_deref(), json);
    }
    let languages = <[String; 2]>::try_from(args.languages.clone()).map_err(|_| {
        usage(anyhow!(
            "--languages takes exactly two, e.g. --languages go,rust"
        ))
    })?;
    let catalog = crate::cli::load_catalog(catalog_dir)?;
    let mut drills = Vec::new();
    if args.classes.is_empty() {
        for id in &args.drills {
            let d = catalog.drill(id)?;
            drills.push((d.id.clone(), d.class.clone()));
        }
    } else {
        for class in &args.classes {
            let found: Vec<_> = catalog
                .drills
                .iter()
                .filter(|d| &d.class == class)
                .collect();
            if found.is_empty() {
                return Err(usage(anyhow!(
                    "no drill in the catalog has class {class:?}"
                )));
            }
            drills.extend(found.into_iter().map(|d| (d.id.clone(), d.class.clone())));
        }
    }
    let p = plan::make(&args.engineers, &drills, languages).map_err(plan_failure)?;
    let dir = ResultsDir::resolve(args.results.as_deref()).map_err(usage)?;
    if plan::path_in(dir.root()).exists() && !args.force {
        return Err(usage(anyhow!(
            "a plan already exists at {} (see `drill plan status`); pass --force to replace it",
            plan::path_in(dir.root()).display()
        )));
    }
    let path = plan::save(&p, dir.root()).map_err(plan_failure)?;
    print!("{}", plan_table(&p, None));
    println!(
        "\nsaved {}; start with `drill start --next --engineer NAME`",
        path.display()
    );
    Ok(exit_code::SUCCESS)
}

fn plan_table(
    p: &plan::Plan,
    progress: Option<&std::collections::BTreeMap<String, Vec<(plan::Assignment, Progress)>>>,
) -> String {
    let steps = p.engineers.values().map(Vec::len).max().unwrap_or(0);
    let mut rows = vec![std::iter::once("engineer".to_string())
        .chain((1..=steps).map(|i| i.to_string()))
        .collect::<Vec<_>>()];
    for (eng, seq) in &p.engineers {
        let mut row = vec![eng.clone()];
        for (k, a) in seq.iter().enumerate() {
            let mark = match progress.and_then(|m| m.get(eng)).map(|v| v[k].1) {
                Some(Progress::Done) => "✓ ",
                Some(Progress::InProgress) => "… ",
                _ => "",
            };
            row.push(format!("{mark}{} ({})", a.drill, a.language));
        }
        rows.push(row);
    }
    table(&rows)
}

fn plan_status(results: Option<&Path>, json: bool) -> Result<u8, Failure> {
    let dir = ResultsDir::resolve(results).map_err(usage)?;
    let p = plan::load(dir.root()).map_err(plan_failure)?;
    let ds = dataset::load(
        &[dir.root().to_path_buf()],
        &dataset::Filter::default(),
        now()?,
    )
    .map_err(|e| Failure::new(exit_code::RECORDS, e))?;
    let progress = plan::progress(&p, &ds.observations);
    if json {
        let value = serde_json::json!({
            "format": "drillkit-plan-status",
            "format_version": 1,
            "engineers": progress.iter().map(|(e, rows)| {
                serde_json::json!({
                    "engineer": e,
                    "done": rows.iter().filter(|(_, s)| *s == Progress::Done).count(),
                    "total": rows.len(),
                    "assignments": rows.iter().map(|(a, s)| serde_json::json!({
                        "order": a.order, "drill": a.drill, "class": a.class,
                        "language": a.language, "status": s,
                    })).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    print!("{}", plan_table(&p, Some(&progress)));
    println!();
    for (e, rows) in &progress {
        let done = rows.iter().filter(|(_, s)| *s == Progress::Done).count();
        let next = rows.iter().find(|(_, s)| *s != Progress::Done);
        println!(
            "{e}: {done}/{} done{}",
            rows.len(),
            next.map_or(String::new(), |(a, _)| format!(
                ", next: {} ({})",
                a.drill, a.language
            ))
        );
    }
    Ok(exit_code::SUCCESS)
}

/// For `drill start --next --engineer NAME`: the drill id and language of
/// the engineer's next planned assignment in `results`.
pub fn next_assignment(results: &ResultsDir, engineer: &str) -> Result<(String, String), Failure> {
    let p = plan::load(results.root()).map_err(plan_failure)?;
    let ds = dataset::load(
        &[results.root().to_path_buf()],
        &dataset::Filter::default(),
        now()?,
    )
    .map_err(|e| Failure::new(exit_code::RECORDS, e))?;
    match plan::next_for(&p, &ds.observations, engineer).map_err(plan_failure)? {
        Some(a) => Ok((a.drill, a.language)),
        None => Err(usage(anyhow!(
            "{engineer} has done every assignment of the plan (see `drill plan status`)"
        ))),
    }
}
