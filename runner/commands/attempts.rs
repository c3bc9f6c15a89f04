//! `drill attempts`: list the attempts of a results directory, and
//! `attempts export|import` (CSV; the work is in `csvio`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::session::report;
use super::stats::{self, Selection};
use super::{Context, ResultsArgs};
use crate::csvio;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::stats::dataset;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AttemptsArgs {
    /// `export` / `import`.
    #[command(subcommand)]
    pub csv: Option<AttemptsCsv>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub results: ResultsArgs,
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
        #[command(flatten)]
        results: ResultsArgs,
    },
}

pub fn attempts(ctx: &Context, args: AttemptsArgs) -> Result<u8, Failure> {
    match args.csv {
        Some(command) => csv(ctx, command),
        None => list(ctx, &args.results, args.json),
    }
}

fn list(ctx: &Context, results: &ResultsArgs, json: bool) -> Result<u8, Failure> {
    let dir = ctx.results_dir(results)?;
    let listing = dir.list()?;
    for d in &listing.damaged {
        eprintln!(
            "warning: damaged attempt record {} (skipped): {}; {}",
            d.path.display(),
            d.why,
            crate::results::DAMAGED_ADVICE
        );
    }
    if json {
        let value = report::attempts_json(&listing, &dir, ctx.now());
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        out!("{}", report::attempts_text(&listing, &dir, ctx.now()));
    }
    Ok(if listing.damaged.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    })
}

fn csv(ctx: &Context, command: AttemptsCsv) -> Result<u8, Failure> {
    match command {
        AttemptsCsv::Export { out, selection, .. } => {
            let ds = stats::load(ctx, &selection)?;
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
                    .map_err(|e| Failure::new(Kind::Environment, e))?,
                None => out!("{text}"),
            }
            Ok(stats::code(&ds))
        }
        AttemptsCsv::Import { file, results } => {
            let text = std::fs::read(&file)
                .with_context(|| format!("reading {}", file.display()))
                .map_err(|e| Failure::new(Kind::Usage, e))?;
            let rows =
                csvio::parse(&text, &file, ctx.now()).map_err(|e| Failure::new(Kind::Usage, e))?;
            let dir = ctx.results_dir(&results)?;
            let existing = dataset::load(
                &[dir.root().to_path_buf()],
                &dataset::Filter::default(),
                ctx.now(),
            )
            .map_err(|e| Failure::new(Kind::Records, e))?;
            let (new, skipped) = csvio::new_rows(&rows, &existing.observations, &file)
                .map_err(|e| Failure::new(Kind::Usage, e))?;
            if new.is_empty() {
                outln!(
                    "nothing new: all {} attempt(s) in {} are already in {}",
                    rows.len(),
                    file.display(),
                    dir.root().display()
                );
                return Ok(exit_code::SUCCESS);
            }
            let path =
                csvio::store(dir.root(), &new).map_err(|e| Failure::new(Kind::Records, e))?;
            outln!(
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
