//! `drill submit`: the verdict on the engineer's current code.
//!
//! The code is copied out of the workspace into the kit's verification
//! directory (one per scenario and language, so builds there stay
//! incremental), built, tested and judged by the scenario's whole acceptance
//! suite. Nothing is written into the workspace, so no hidden material can be
//! left there, and the verdict is for exactly the tree that was copied even if
//! the engineer keeps typing. The verification span is measured with the
//! attempt's clock and excluded from active time.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use super::report::{self, Verification};
use super::target_dir::TreeCache;
use super::{cache, catalog_for, drill_of, locate, Ctx, DrillRef, Target};
use crate::attempt::{EventKind, Verdict};
use crate::builder::{self, BuildError, Cache};
use crate::commands::interruptible;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::harness::{self, Outcome, RunOptions};
use crate::process::{Interrupt, Interrupts};
use crate::scratch::Scratch;
use crate::testfirst::{self, Unit};
use crate::toolchain;
use crate::workspace::{self, ChangeKind, FileChange, Workspace};

/// The fault seed of a submit's acceptance run (the same as `drill verify`'s
/// default, so a drill judged reproducible there is judged the same way here).
const SUBMIT_SEED: u64 = 1;

struct Judgement {
    verdict: Verdict,
    /// For the record: each failed acceptance check by name.
    reasons: Vec<String>,
    /// For the engineer: the same, but a check is numbered, not named, since
    /// a check's name says what the bug is.
    shown: Vec<String>,
    build_ms: Option<u64>,
    checks_run: usize,
}

pub fn submit(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    // The whole command is the kit's time, not the engineer's (loading the
    // catalog and the toolchain check take seconds on a busy machine too).
    let started = ctx.clock.now();
    // Signals first: from here a Ctrl-C or SIGTERM stops the work cleanly
    // (children killed, scratch removed) and is reported, never half-done.
    let (rt, mut interrupts) = interruptible()?;
    let located = locate(ctx, target)?;
    let ws = located.workspace()?.clone();
    let lock = located.results.lock(&located.id, "submit")?;
    let record = lock.load()?;
    // Refuse a paused or ended attempt before spending time on a build.
    record.clone().push(
        EventKind::Submit {
            verdict: Verdict::Fail,
            reasons: vec![],
            verification_ms: 0,
            build_ms: None,
            test_files_changed: vec![],
        },
        ctx.clock.now(),
    )?;
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    toolchain::require(
        d.spec.toolchain,
        &d.spec.min_version,
        &format!(
            "verifying the {} version of `{}`",
            d.spec.lang, d.scenario.name
        ),
    )
    .map_err(|e| Failure::new(Kind::Toolchain, e))?;

    eprintln!("Verifying: build, visible tests, acceptance suite (this time is not counted)...");
    let changes = ws.changes()?;
    let test_files = workspace::test_files_changed(&changes, &d.spec.test_file_patterns)?;
    // A test-first attempt's own tests must pass on the fix too.
    let own_tests = record
        .attempt
        .test_first
        .then(|| testfirst::select(d.spec, &changes, ws.root()));
    let cache = cache();
    let judgement = match judge(&rt, &mut interrupts, &ws, &d, &cache, own_tests.as_deref())? {
        Ok(j) => j,
        Err(i) => {
            rt.shutdown_background();
            eprintln!(
                "Interrupted ({}) before the verdict: nothing was recorded. The attempt is as it \
                 was (its timer keeps running); `drill submit` again when you are ready.",
                i.name()
            );
            return Ok(i.exit_code());
        }
    };
    let finished = ctx.clock.now();
    let verification_ms = finished.ms_since(started);

    let mut events = vec![EventKind::Submit {
        verdict: judgement.verdict,
        reasons: judgement.reasons.clone(),
        verification_ms,
        build_ms: judgement.build_ms,
        test_files_changed: test_files.clone(),
    }];
    if judgement.verdict == Verdict::Pass {
        events.push(EventKind::Fixed);
    }
    let (after, _) = lock.append(events, finished)?;
    drop(lock);
    if judgement.verdict == Verdict::Pass {
        // The attempt has ended: its private build folder is not needed again.
        super::target_dir::remove_attempt_dir(&cache, &located.id);
    }

    let v = Verification {
        reasons: &judgement.shown,
        verification_ms,
        checks_run: judgement.checks_run,
        test_files_changed: &test_files,
    };
    match judgement.verdict {
        Verdict::Pass => {
            let reference = reference_fix(&ws, &d)?;
            out!(
                "{}",
                report::submit_pass_text(
                    &after,
                    &v,
                    &d,
                    &changes,
                    &reference,
                    report::use_colour()
                )
            );
            Ok(exit_code::SUCCESS)
        }
        Verdict::Fail => {
            out!("{}", report::submit_fail_text(&after, &v, true));
            Ok(exit_code::FAILED)
        }
        Verdict::Error => {
            out!("{}", report::submit_fail_text(&after, &v, false));
            Ok(exit_code::INFRASTRUCTURE)
        }
    }
}

/// The reference fix: the snapshot (bugged) version of each file the bug
/// touched against the clean version in the catalog.
fn reference_fix(ws: &Workspace, d: &DrillRef<'_>) -> Result<Vec<FileChange>, Failure> {
    let Some(patch) = d.drill.patch(&d.spec.lang) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for path in patch.paths() {
        let old = ws.snapshot_file(path)?;
        let new = fs::read(d.spec.dir.join(path)).ok();
        out.push(FileChange {
            path: path.to_string(),
            kind: ChangeKind::Modified,
            old: old.and_then(|b| String::from_utf8(b).ok()),
            new: new.and_then(|b| String::from_utf8(b).ok()),
        });
    }
    Ok(out)
}

/// Exclusive use of the scenario+language verification directory.
struct VerifyDir {
    src: PathBuf,
    _lock: File,
}

fn verify_dir(
    rt: &tokio::runtime::Runtime,
    interrupts: &mut Interrupts,
    cache: &Cache,
    scenario: &str,
    lang: &str,
) -> Result<Result<VerifyDir, Interrupt>, Failure> {
    let base = cache.root.join("verify").join(scenario);
    let io = |e: std::io::Error, p: &Path| {
        Failure::new(
            Kind::Environment,
            anyhow::anyhow!("verification directory {}: {e}", p.display()),
        )
    };
    fs::create_dir_all(&base).map_err(|e| io(e, &base))?;
    let lock_path = base.join(format!("{lang}.lock"));
    let lock = File::create(&lock_path).map_err(|e| io(e, &lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            eprintln!("Waiting for another submit of this scenario to finish...");
            // Waited for on a blocking thread, so Ctrl-C still stops the wait.
            let wait = rt.spawn_blocking(move || lock.lock().map(|_| lock));
            let lock = match rt.block_on(interrupts.guard(wait)) {
                Err(i) => return Ok(Err(i)),
                Ok(joined) => joined.expect("lock task").map_err(|e| io(e, &lock_path))?,
            };
            return Ok(Ok(VerifyDir {
                src: base.join(lang),
                _lock: lock,
            }));
        }
        Err(TryLockError::Error(e)) => return Err(io(e, &lock_path)),
    }
    Ok(Ok(VerifyDir {
        src: base.join(lang),
        _lock: lock,
    }))
}

fn judge(
    rt: &tokio::runtime::Runtime,
    interrupts: &mut Interrupts,
    ws: &Workspace,
    d: &DrillRef<'_>,
    cache: &Cache,
    own_tests: Option<&[Unit]>,
) -> Result<Result<Judgement, Interrupt>, Failure> {
    let dir = match verify_dir(rt, interrupts, cache, &d.scenario.name, &d.spec.lang)? {
        Ok(dir) => dir,
        Err(i) => return Ok(Err(i)),
    };
    ws.sync_to(&dir.src)?;
    let key = format!("verify/{}-{}", d.scenario.name, d.spec.lang);
    let tree_cache = TreeCache::for_tree(cache, d.spec, &d.scenario.name, &key, &dir.src);
    // The harness's run folders (service logs, state) go into scratch too.
    let scratch = Scratch::new("submit").map_err(|e| {
        Failure::new(
            Kind::Environment,
            anyhow::anyhow!(
                "creating a temporary folder in {}: {e}",
                crate::scratch::root().display()
            ),
        )
    })?;
    let judgement = rt.block_on(interrupts.guard(judge_tree(
        &dir.src,
        d,
        &tree_cache.cache,
        scratch.path(),
        own_tests,
    )));
    if judgement.is_ok() {
        tree_cache.publish();
    }
    Ok(judgement)
}

async fn judge_tree(
    src: &Path,
    d: &DrillRef<'_>,
    cache: &Cache,
    work_root: &Path,
    own_tests: Option<&[Unit]>,
) -> Judgement {
    // (recorded, shown) pairs.
    let mut reasons: Vec<(String, String)> = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    let built = match builder::build(d.spec, &d.scenario.name, src, cache).await {
        Ok(b) => b,
        Err(BuildError::Failed { summary, .. }) => {
            let reasons = vec![format!("build failed: {summary}")];
            return Judgement {
                verdict: Verdict::Fail,
                shown: reasons.clone(),
                reasons,
                build_ms: None,
                checks_run: 0,
            };
        }
        Err(e) => {
            let reasons = vec![format!("build: {e}")];
            return Judgement {
                verdict: Verdict::Error,
                shown: reasons.clone(),
                reasons,
                build_ms: None,
                checks_run: 0,
            };
        }
    };
    let build_ms = Some(built.duration.as_millis() as u64);
    match builder::run_tests(d.spec, &d.scenario.name, src, cache).await {
        Ok(t) if t.passed => {}
        Ok(t) => reasons.push(both(format!("visible tests: {}", t.summary))),
        Err(e) => errors.push(both(format!("visible tests: {e}"))),
    }
    match own_tests {
        None => {}
        Some([]) => reasons.push(both(
            "test first: no test of yours to run (add or change a test that reproduces the \
             incident; `drill check-test` judges it)"
                .to_string(),
        )),
        Some(units) => {
            match testfirst::run_units(d.spec, &d.scenario.name, src, cache, units, 1).await {
                Ok(r) if r.compile_error.is_none() && r.passed == r.runs => {}
                Ok(r) => reasons.push(both(format!(
                    "your test ({}): {}",
                    units
                        .iter()
                        .flat_map(Unit::labels)
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.compile_error.or(r.first_failure).unwrap_or_default()
                ))),
                Err(e) => errors.push(both(format!("your test: {e}"))),
            }
        }
    }
    let opts = RunOptions {
        run_index: 0,
        seed: SUBMIT_SEED,
        work_root: Some(work_root.to_path_buf()),
        ..Default::default()
    };
    let results = harness::run_suite(&d.scenario.suite, None, &built.binary, &opts).await;
    let total = results.len();
    for (i, r) in results.iter().enumerate() {
        let n = i + 1;
        match &r.outcome {
            Outcome::Pass => {}
            Outcome::Fail { reason } => reasons.push((
                format!("check {}: {reason}", r.name),
                format!("acceptance check {n}/{total}: {reason}"),
            )),
            Outcome::Error { reason } => errors.push((
                format!("check {} could not be judged: {reason}", r.name),
                format!("acceptance check {n}/{total} could not be judged: {reason}"),
            )),
        }
    }
    let verdict = if !reasons.is_empty() {
        Verdict::Fail
    } else if !errors.is_empty() {
        Verdict::Error
    } else {
        Verdict::Pass
    };
    reasons.extend(errors);
    let (reasons, shown) = reasons.into_iter().unzip();
    Judgement {
        verdict,
        reasons,
        shown,
        build_ms,
        checks_run: results.len(),
    }
}

/// A reason that names nothing hidden: recorded and shown alike.
fn both(reason: String) -> (String, String) {
    (reason.clone(), reason)
}
