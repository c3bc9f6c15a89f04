//! `drill gameday debrief` (terminal, `--json`, `--html`): one game day's
//! record and SLI from the results directory, the drill's answer from the
//! catalog. Arguments and wiring only; the work is in `gameday::debrief`
//! and `report::gameday`. (`drill stats --gameday` is wired in `stats.rs`.)

use std::path::PathBuf;

use clap::Args;

use super::{Context, ResultsArgs};
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::gameday::debrief::{self, Debrief, Reference, Sli};
use crate::gameday::folder::{self, Folder};
use crate::gameday::record::{self, RecordError};
use crate::gameday::stats as gdstats;
use crate::results::ResultsDir;

#[derive(Debug, Args)]
pub struct DebriefArgs {
    /// The game day's id (as `drill gameday start` printed it; the name of
    /// its record in `<results>/gamedays/`). Without it: the game day of
    /// `--dir`, or of the folder the current directory is in.
    pub id: Option<String>,
    /// The game day's folder. Not needed once it has ended: the record and
    /// its SLI are kept in the results directory.
    #[arg(long, value_name = "D", conflicts_with = "id")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub results: ResultsArgs,
    /// Print the versioned JSON document (docs/gameday.md, "The debrief").
    #[arg(long, conflicts_with = "html")]
    pub json: bool,
    /// Write the debrief as a self-contained HTML page (timeline, SLI chart,
    /// clocks, root cause, reference fix, action items) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// The game day's results directory and id, from the arguments.
fn locate(ctx: &Context, args: &DebriefArgs) -> Result<(ResultsDir, String), Failure> {
    if let Some(id) = &args.id {
        let results = ctx.results_dir(&args.results)?;
        return Ok((results, id.clone()));
    }
    let from = args.dir.clone().unwrap_or_else(|| ctx.cwd.clone());
    let f = Folder::find(&from).ok_or_else(|| {
        Failure::usage(format!(
            "{} is not in a game day's folder; give the game day's ID (`ls <results>/gamedays/`) or --dir D",
            from.display()
        ))
    })?;
    let p = f.pointer().map_err(|e| {
        Failure::new(
            Kind::Records,
            anyhow::anyhow!("{}: {e}", f.root.join(folder::POINTER).display()),
        )
    })?;
    let results = if args.results.is_given() {
        ctx.results_dir(&args.results)?
    } else {
        ResultsDir::at(&p.results)
    };
    Ok((results, p.id))
}

/// The ids recorded in `results`, for a "did you mean" list.
fn known_ids(results: &ResultsDir) -> Vec<String> {
    let loaded = gdstats::load(&[results.root().to_path_buf()]);
    loaded.records.into_iter().map(|r| r.gameday.id).collect()
}

/// `drill gameday debrief`.
pub fn debrief(ctx: &Context, args: DebriefArgs) -> Result<u8, Failure> {
    let (results, id) = locate(ctx, &args)?;
    let r = match record::load(&results, &id) {
        Ok(r) => r,
        Err(RecordError::NotFound { .. }) => {
            let ids = known_ids(&results);
            let close: Vec<&String> = ids.iter().filter(|k| k.contains(id.as_str())).collect();
            let hint = match (close.as_slice(), ids.is_empty()) {
                ([one], _) => format!("; did you mean {one}?"),
                (_, true) => "; it holds no game day".to_string(),
                _ => format!(
                    "; it holds {} game day(s): {}",
                    ids.len(),
                    ids.iter()
                        .rev()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(Failure::usage(format!(
                "no game day {id} in {}{hint} (pass --results DIR for another results directory)",
                results.root().display()
            )));
        }
        Err(e) => return Err(e.into()),
    };

    if r.hides_drill() {
        return Err(Failure::usage(format!(
            "game day {id} was dealt blind and has not ended: its debrief names the drill and \
             its cause, so it is shown once the game day ends (`drill gameday resolve`, the \
             time box, or Ctrl-C on the facilitator's terminal)"
        )));
    }
    // The SLI kept with the record; a record from before it was kept there
    // falls back to its folder's log, if the folder is still there.
    let kept = results.gameday_sli_path(&id);
    let sli = if kept.exists() {
        read_sli(&kept)
    } else {
        let legacy = Folder::at(&r.gameday.folder).sli_log();
        if legacy.exists() {
            read_sli(&legacy)
        } else {
            Sli {
                windows: Vec::new(),
                problem: Some(format!("no SLI windows: {} does not exist", kept.display())),
            }
        }
    };
    let reference = ctx
        .catalog()
        .ok()
        .and_then(|c| c.drill(&r.gameday.drill).ok())
        .map(|d| Reference {
            root_cause: d.debrief.root_cause.clone(),
            fix: d.debrief.fix.clone(),
            diff: d
                .patch(&r.gameday.language)
                .map(|p| debrief::unified_diff(&p.reversed())),
        });
    let d = Debrief::build(&r, sli, reference, ctx.now());

    if let Some(path) = &args.html {
        std::fs::write(path, crate::report::gameday::debrief_page(&d)).map_err(|e| {
            Failure::environment(format!("writing the debrief to {}: {e}", path.display()))
        })?;
        eprintln!(
            "wrote {} ({} events, {} SLI windows{})",
            path.display(),
            d.timeline.len(),
            d.sli.windows.len(),
            if d.running() {
                "; NOT ENDED, clocks running"
            } else {
                ""
            }
        );
    } else if args.json {
        outln!("{}", serde_json::to_string_pretty(&d).expect("serializes"));
    } else {
        out!("{}", d.terminal());
    }
    Ok(exit_code::SUCCESS)
}

fn read_sli(path: &std::path::Path) -> Sli {
    match debrief::read_windows(path) {
        Ok(windows) => Sli {
            windows,
            problem: None,
        },
        Err(e) => {
            eprintln!("warning: {e}");
            Sli {
                windows: Vec::new(),
                problem: Some(e.to_string()),
            }
        }
    }
}
