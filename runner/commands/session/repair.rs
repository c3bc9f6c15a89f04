//! `drill repair`: a way out for a workspace whose git repository or
//! snapshot commit is damaged (`.git` deleted, history rewritten and
//! garbage-collected). The snapshot is made afresh from the catalog — the
//! same bugged tree `start` made — and committed again; the engineer's files
//! are never touched, so their work and its diff against the snapshot
//! survive. The attempt's record is not changed: repairing is not an event.

use std::path::{Path, PathBuf};

use super::start::BuggedTree;
use super::target_dir::private_target_dir;
use super::{cache, catalog_for, drill_of, locate, Ctx, Target};
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::results::ResultsDir;
use crate::workspace::{self, Repaired};

pub fn repair(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    let (results, id) = attempt_here(ctx, target)?;
    let lock = results.lock(&id, "repair")?;
    let record = lock.load()?;
    let root = PathBuf::from(&record.attempt.workspace);
    if let Ok(ws) = workspace::find(&root) {
        if ws.root() == root && ws.link().attempt == id && ws.check().is_ok() {
            outln!(
                "Nothing to repair: the workspace {} and its snapshot are intact.",
                root.display()
            );
            return Ok(exit_code::SUCCESS);
        }
    }
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    let revision = catalog.revision().unwrap_or_else(|| "unknown".into());
    if revision != record.attempt.catalog_revision {
        eprintln!(
            "warning: the attempt was started from catalog revision {}, the catalog at {} is at {}; \
             the re-created snapshot is this revision's",
            record.attempt.catalog_revision,
            catalog.root.display(),
            revision
        );
    }
    let bugged = BuggedTree::make(d.scenario, d.drill, d.spec, record.attempt.blind)?;
    // The same snapshot `start` committed, its Cargo config included.
    let key = format!("attempts/{id}");
    if let Some(target_dir) =
        private_target_dir(&cache(), d.spec, &d.scenario.name, &key, &bugged.src)
    {
        bugged.point_cargo_at(&target_dir)?;
    }
    let (what, ws) = workspace::repair(&root, &bugged.snapshot(), &id, results.root())?;
    drop(lock);
    match what {
        Repaired::NewRepository { moved_aside } => {
            outln!(
                "Repaired {}: a new git repository holds the snapshot; your files are as you left them.",
                ws.root().display()
            );
            if let Some(aside) = moved_aside {
                outln!("The damaged repository was moved to {}.", aside.display());
            }
        }
        Repaired::NewSnapshot => outln!(
            "Repaired {}: the snapshot commit is back (as {}); your branches and files are untouched.",
            ws.root().display(),
            workspace::SNAPSHOT_REF
        ),
    }
    let changed = ws.changes()?.len();
    outln!("{changed} file(s) differ from the snapshot. The timer was not touched.");
    Ok(exit_code::SUCCESS)
}

/// The attempt to repair: `--attempt`, else the workspace link if it can be
/// read, else the record whose workspace holds the current directory (the
/// link lives in `.git`, which may be the thing that is gone).
fn attempt_here(ctx: &Ctx, target: &Target) -> Result<(ResultsDir, String), Failure> {
    if target.attempt.is_some() {
        let located = locate(ctx, target)?;
        return Ok((located.results, located.id));
    }
    if let Ok(ws) = workspace::find(&ctx.cwd) {
        return Ok((
            ResultsDir::at(&ws.link().results),
            ws.link().attempt.clone(),
        ));
    }
    match attempt_of_folder(&ctx.cwd) {
        Some(found) => Ok(found),
        None => Err(Failure::new(
            Kind::Usage,
            anyhow::anyhow!(
                "{} is not inside the workspace of any attempt in the results directory; \
                 name the attempt with `drill repair --attempt ID` (`drill attempts` lists them)",
                ctx.cwd.display()
            ),
        )),
    }
}

/// The attempt (in the default results directory) whose workspace is `dir`
/// or one of its parents; the most recently started if several are.
pub(crate) fn attempt_of_folder(dir: &Path) -> Option<(ResultsDir, String)> {
    let results = ResultsDir::resolve(None).ok()?;
    let dir = std::fs::canonicalize(dir).ok()?;
    let listing = results.list().ok()?;
    listing
        .records
        .into_iter()
        .rev()
        .find(|(_, r)| {
            std::fs::canonicalize(&r.attempt.workspace).is_ok_and(|ws| dir.starts_with(ws))
        })
        .map(|(_, r)| (results.clone(), r.attempt.id))
}
