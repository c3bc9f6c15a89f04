//! `drill check-test`: is the engineer's test a reproduction of the incident?
//!
//! Test-first attempts only. The tests the engineer added or changed
//! ([`crate::testfirst::select`]) are copied, with nothing else of the
//! workspace, into two private scratch trees made from the catalog: the
//! bugged tree (the snapshot's source) and the reference-fixed one (the
//! clean source). They must fail on the first and pass on the second — in
//! every run, or for a timing-dependent drill in at least 90% of
//! [`TIMING_RUNS`] runs on the bugged tree and all of them on the fixed one.
//! Nothing of the fixed tree reaches the engineer: not its path, not its
//! build or test output, only how the test behaved there. The span is the
//! kit's time, excluded from active time, and the check is recorded.

use std::path::Path;

use super::report;
use super::start::BuggedTree;
use super::target_dir::TreeCache;
use super::{cache, catalog_for, drill_of, locate, Ctx, DrillRef, Target};
use crate::attempt::{EventKind, Record};
use crate::builder;
use crate::commands::interruptible;
use crate::confined::Dest;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::scratch::Scratch;
use crate::testfirst::{self, Checked, TestVerdict, TreeRuns, Unit, TIMING_RUNS};
use crate::toolchain;
use crate::workspace::{ChangeKind, FileChange, Workspace};

pub fn check_test(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    // The whole command is the kit's time, not the engineer's: loading the
    // catalog and asking the toolchain for its version take seconds on a
    // busy machine too.
    let started = ctx.clock.now();
    let (rt, mut interrupts) = interruptible()?;
    let located = locate(ctx, target)?;
    let ws = located.workspace()?.clone();
    let lock = located.results.lock(&located.id, "check-test")?;
    let record = lock.load()?;
    if !record.attempt.test_first {
        return Err(Failure::usage(
            "this attempt was not started test-first; `drill check-test` judges the tests of \
             attempts started with `drill start --test-first`",
        ));
    }
    // Refuse a paused or ended attempt before building anything.
    record
        .clone()
        .push(check_event(&empty(1), 0), ctx.clock.now())?;
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    toolchain::require(d.spec.toolchain, &d.spec.min_version, "checking your test")
        .map_err(|e| Failure::new(Kind::Toolchain, e))?;

    let changes = ws.changes()?;
    let units = testfirst::select(d.spec, &changes, ws.root());
    let runs = if d.drill.timing { TIMING_RUNS } else { 1 };
    let checked = if units.is_empty() {
        Checked {
            verdict: TestVerdict::NoTest,
            reason: format!(
                "no new or changed test: add or change a test in the service's test files ({}) \
                 that reproduces the incident",
                d.spec.test_file_patterns.join(", ")
            ),
            ..empty(runs)
        }
    } else {
        eprintln!(
            "Running your test(s) against the bugged and the fixed code, {runs} run(s) each \
             (this time is not counted)..."
        );
        let trees = Trees::make(&record, &d, &ws, &changes)?;
        let cache = cache();
        let key = |role: &str| format!("attempts/{}/check-test-{role}", located.id);
        let bugged_cache = TreeCache::for_tree(
            &cache,
            d.spec,
            &d.scenario.name,
            &key("bugged"),
            &trees.bugged.src,
        );
        let fixed_cache = TreeCache::for_tree(
            &cache,
            d.spec,
            &d.scenario.name,
            &key("fixed"),
            &trees.fixed,
        );
        let work = async {
            let bugged = testfirst::run_units(
                d.spec,
                &d.scenario.name,
                &trees.bugged.src,
                &bugged_cache.cache,
                &units,
                runs,
            )
            .await?;
            let fixed = testfirst::run_units(
                d.spec,
                &d.scenario.name,
                &trees.fixed,
                &fixed_cache.cache,
                &units,
                runs,
            )
            .await?;
            Ok::<_, builder::BuildError>((bugged, fixed))
        };
        let (bugged, fixed) = match rt.block_on(interrupts.guard(work)) {
            Ok(Ok(both)) => both,
            Ok(Err(e)) => {
                return Err(Failure::new(
                    Kind::Infrastructure,
                    anyhow::anyhow!("could not run your test ({e}); nothing was recorded"),
                ))
            }
            Err(i) => {
                rt.shutdown_background();
                eprintln!(
                    "Interrupted ({}) before the verdict: nothing was recorded.",
                    i.name()
                );
                return Ok(i.exit_code());
            }
        };
        bugged_cache.publish();
        fixed_cache.publish();
        let (verdict, reason) = testfirst::judge(&bugged, &fixed);
        Checked {
            verdict,
            reason,
            tests: units.iter().flat_map(Unit::labels).collect(),
            runs,
            bugged,
            fixed,
        }
    };
    let finished = ctx.clock.now();
    let verification_ms = finished.ms_since(started);
    let (after, _) = lock.append(vec![check_event(&checked, verification_ms)], finished)?;
    out!(
        "{}",
        report::check_test_text(&after, &checked, verification_ms, d.drill.timing)
    );
    Ok(if checked.verdict == TestVerdict::Reproducing {
        exit_code::SUCCESS
    } else {
        exit_code::FAILED
    })
}

fn empty(runs: u32) -> Checked {
    Checked {
        verdict: TestVerdict::NoTest,
        reason: String::new(),
        tests: Vec::new(),
        runs,
        bugged: TreeRuns::default(),
        fixed: TreeRuns::default(),
    }
}

fn check_event(c: &Checked, verification_ms: u64) -> EventKind {
    EventKind::CheckTest {
        verdict: c.verdict,
        tests: c.tests.clone(),
        runs: c.runs,
        bugged_failed: c.bugged.runs - c.bugged.passed,
        fixed_passed: c.fixed.passed,
        verification_ms,
    }
}

/// The two trees a check runs in, each a private scratch copy.
struct Trees {
    bugged: BuggedTree,
    _fixed_dir: Scratch,
    fixed: std::path::PathBuf,
}

impl Trees {
    fn make(
        record: &Record,
        d: &DrillRef<'_>,
        ws: &Workspace,
        changes: &[FileChange],
    ) -> Result<Trees, Failure> {
        let failed = |what: String| Failure::new(Kind::Environment, anyhow::anyhow!(what));
        let bugged = BuggedTree::make(d.scenario, d.drill, d.spec, record.attempt.blind)?;
        let fixed_dir = Scratch::new("check-test").map_err(|e| {
            failed(format!(
                "creating a temporary folder in {}: {e}",
                crate::scratch::root().display()
            ))
        })?;
        let fixed = fixed_dir.path().join("src");
        // Not the catalog's path in the message: it is where the answers are.
        builder::copy_tree(&d.spec.dir, &fixed)
            .map_err(|e| failed(format!("copying the service's source: {e}")))?;
        for tree in [bugged.src.as_path(), fixed.as_path()] {
            overlay_tests(d, ws, changes, tree)?;
        }
        Ok(Trees {
            bugged,
            _fixed_dir: fixed_dir,
            fixed,
        })
    }
}

/// The engineer's test files, and nothing else of the workspace, onto `tree`.
fn overlay_tests(
    d: &DrillRef<'_>,
    ws: &Workspace,
    changes: &[FileChange],
    tree: &Path,
) -> Result<(), Failure> {
    let dest = Dest::new(tree).map_err(|e| Failure::environment(format!("a test copy: {e}")))?;
    for c in changes.iter().filter(|c| d.spec.is_test_file(&c.path)) {
        let rel = Path::new(&c.path);
        let done = match c.kind {
            ChangeKind::Deleted => match dest.remove_file(rel) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                r => r,
            },
            ChangeKind::Added | ChangeKind::Modified => {
                let from = ws.root().join(rel);
                std::fs::read(&from).and_then(|bytes| dest.write(rel, &bytes))
            }
        };
        done.map_err(|e| Failure::environment(format!("copying your test {}: {e}", c.path)))?;
    }
    Ok(())
}
