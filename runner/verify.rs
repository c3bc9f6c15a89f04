//! `drill verify`: the catalog's self-check. For every scenario language the
//! clean tree must pass its visible tests and the whole acceptance suite in
//! every run; for every drill the patch must apply and revert byte for byte,
//! the bugged tree must still pass its visible tests and must fail each check
//! the drill names in every run; every wrong fix of a drill must build and be
//! rejected by the acceptance suite in every run. Builds must leave lockfiles
//! as they are, and the giveaway lint (`lint.rs`) must find nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

use crate::builder::{self, Cache};
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario, WrongFix, WrongFixKind};
use crate::console::{Mark, Progress};
use crate::harness::{self, Outcome, RunOptions};
use crate::lint::{self, TicketFinding};
use crate::pairing::{self, PatchPairing, TestPairing};
use crate::patch::{PatchStats, TouchedLines};

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub runs: u32,
    pub jobs: usize,
    pub seed: u64,
    /// Only these drills (ids or bare bug names); empty means the whole catalog.
    pub only: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// The catalog is wrong: a bug that does not reproduce, a clean tree that fails...
    Failed,
    /// The kit could not judge (service never came up, toolchain failed to run).
    Error,
}

impl From<Status> for Mark {
    fn from(s: Status) -> Mark {
        match s {
            Status::Ok => Mark::Ok,
            Status::Failed => Mark::Failed,
            Status::Error => Mark::Error,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// The last lines of a failed build's or test run's output: what the
    /// next person needs to tell a real failure from a flaky one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
}

/// How many lines of a failed step's output the report keeps.
pub const OUTPUT_TAIL_LINES: usize = 40;

/// The last `OUTPUT_TAIL_LINES` non-empty lines of `output`.
pub fn output_tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(OUTPUT_TAIL_LINES)..].join("\n")
}

/// One acceptance check in one run, for tracing a verdict and timing checks.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    pub name: String,
    pub run: u32,
    /// `pass`, `fail` or `error`.
    pub outcome: &'static str,
    /// Why a check failed or could not judge: a bug must fail for the intended reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
}

/// One unit of work: a scenario language's clean tree, or a drill in one language.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub scenario: String,
    /// `None` for the clean tree.
    pub drill: Option<String>,
    /// The wrong fix this job judges (on top of the drill's bug), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrong_fix: Option<String>,
    pub lang: String,
    pub status: Status,
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchStats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub touched: Vec<TouchedLines>,
    pub checks: Vec<CheckRun>,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
}

impl Job {
    pub fn label(&self) -> String {
        match (&self.drill, &self.wrong_fix) {
            (Some(d), Some(w)) => format!("{d} [{}] wrong fix {w}", self.lang),
            (Some(d), None) => format!("{d} [{}]", self.lang),
            (None, _) => format!("{} (clean) [{}]", self.scenario, self.lang),
        }
    }

    /// The first step that did not pass, as `step: detail`.
    pub fn problem(&self) -> Option<String> {
        self.steps
            .iter()
            .find(|s| s.status != Status::Ok)
            .map(|s| format!("{}: {}", s.name, s.detail))
    }

    /// The kept output of the first step that did not pass, if it has one.
    pub fn problem_output(&self) -> Option<&str> {
        self.steps
            .iter()
            .find(|s| s.status != Status::Ok)
            .and_then(|s| s.output.as_deref())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub runs: u32,
    pub jobs: Vec<Job>,
    /// Patch sizes per drill (flagged beyond 2x).
    pub pairing: Vec<PatchPairing>,
    /// Visible-test counts per scenario (flagged when they differ).
    pub tests: Vec<TestPairing>,
    /// Tickets and first hints that name the cause (the lint; any finding fails verify).
    pub giveaways: Vec<TicketFinding>,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
}

impl Report {
    pub fn status(&self) -> Status {
        if self.jobs.iter().any(|j| j.status == Status::Failed)
            || self.pairing.iter().any(|p| p.warning.is_some())
            || self.tests.iter().any(|t| t.warning.is_some())
            || !self.giveaways.is_empty()
        {
            Status::Failed
        } else if self.jobs.iter().any(|j| j.status == Status::Error) {
            Status::Error
        } else {
            Status::Ok
        }
    }
}

struct StepLog<'a> {
    steps: Vec<Step>,
    checks: Vec<CheckRun>,
    progress: &'a Progress,
    label: String,
}

impl StepLog<'_> {
    fn push(&mut self, name: &str, status: Status, detail: impl Into<String>, started: Instant) {
        self.push_with_output(name, status, detail, None, started);
    }

    fn push_with_output(
        &mut self,
        name: &str,
        status: Status,
        detail: impl Into<String>,
        output: Option<&str>,
        started: Instant,
    ) {
        let detail = detail.into();
        self.progress
            .step(&self.label, name, status.into(), &detail);
        self.steps.push(Step {
            name: name.to_string(),
            status,
            detail,
            output: output.map(output_tail),
            duration: started.elapsed(),
        });
    }

    fn status(&self) -> Status {
        if self.steps.iter().any(|s| s.status == Status::Failed) {
            Status::Failed
        } else if self.steps.iter().any(|s| s.status == Status::Error) {
            Status::Error
        } else {
            Status::Ok
        }
    }
}

/// Which drills the options select: a drill id (or an unambiguous bug
/// name), or a scenario's name for all of its drills; an unknown id is an
/// error naming the closest one.
pub fn select<'c>(
    catalog: &'c Catalog,
    only: &[String],
) -> Result<Vec<&'c Drill>, crate::catalog::CatalogError> {
    if only.is_empty() {
        return Ok(catalog.drills.iter().collect());
    }
    let mut out: Vec<&Drill> = Vec::new();
    for id in only {
        let picked: Vec<&Drill> = match catalog.drill(id) {
            Ok(d) => vec![d],
            Err(e) => {
                let name = id.trim_end_matches('/');
                let of_scenario: Vec<&Drill> = catalog
                    .drills
                    .iter()
                    .filter(|d| d.scenario == name)
                    .collect();
                if of_scenario.is_empty() {
                    return Err(e);
                }
                of_scenario
            }
        };
        for d in picked {
            if !out.iter().any(|o| o.id == d.id) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// `scenario.toml`'s `min_version` must be the version each tree's own
/// manifest declares (go.mod's `go`, Cargo.toml's `rust-version`): the kit's
/// toolchain check reads the one, the toolchain itself the other. One line
/// per mismatch, naming the files and what to do.
pub fn manifest_versions(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    for s in catalog.scenarios.values() {
        for spec in s.languages.values() {
            let (file, field) = spec.toolchain.manifest();
            let at = format!("scenarios/{}/{}/{file}", s.name, spec.lang);
            match crate::toolchain::manifest_min_version(spec.toolchain, &spec.dir) {
                Err(e) => problems.push(e),
                Ok(None) => problems.push(format!(
                    "{at} declares no `{field}`: set it to scenario.toml's min_version \"{}\"",
                    spec.min_version
                )),
                Ok(Some(v)) if crate::toolchain::same_version(&v, &spec.min_version) => {}
                Ok(Some(v)) => problems.push(format!(
                    "scenarios/{}/scenario.toml [languages.{}] min_version = \"{}\" but {at} says `{field} {v}`: make them equal",
                    s.name, spec.lang, spec.min_version
                )),
            }
        }
    }
    problems
}

pub async fn verify(
    catalog: &Catalog,
    drills: &[&Drill],
    opts: &VerifyOptions,
    cache: &Cache,
    progress: &Progress,
) -> Report {
    let started = Instant::now();
    // Only the scenarios (and languages) the selected drills need; the whole catalog when none are selected.
    let mut clean: Vec<(&Scenario, &LanguageSpec)> = Vec::new();
    for s in catalog.scenarios.values() {
        for (lang, spec) in &s.languages {
            let used = drills
                .iter()
                .any(|d| d.scenario == s.name && d.declared_languages().contains(lang));
            if used || drills.len() == catalog.drills.len() {
                clean.push((s, spec));
            }
        }
    }
    // Declared languages, so a patch that does not apply is reported here.
    let total = clean.len()
        + drills
            .iter()
            .map(|d| d.declared_languages().len() + d.wrong_fixes.len())
            .sum::<usize>();
    progress.start(total as u64);
    let sem = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut tasks = Vec::new();
    // Drills before clean trees would be fine too; clean first makes the
    // "is the scenario itself healthy" answer arrive early.
    for (s, spec) in &clean {
        tasks.push(run_job(
            s,
            spec,
            None,
            None,
            opts,
            cache,
            progress,
            sem.clone(),
        ));
    }
    let mut drill_tasks = Vec::new();
    for d in drills {
        let s = catalog.scenario(&d.scenario);
        for lang in &d.declared_languages() {
            let spec = &s.languages[lang];
            drill_tasks.push(run_job(
                s,
                spec,
                Some(d),
                None,
                opts,
                cache,
                progress,
                sem.clone(),
            ));
        }
        for w in &d.wrong_fixes {
            let spec = &s.languages[&w.lang];
            drill_tasks.push(run_job(
                s,
                spec,
                Some(d),
                Some(w),
                opts,
                cache,
                progress,
                sem.clone(),
            ));
        }
    }
    let (mut jobs, drill_jobs) =
        tokio::join!(futures_join_all(tasks), futures_join_all(drill_tasks));
    jobs.extend(drill_jobs);
    progress.finish();
    let pairing = drills.iter().map(|d| pairing::patches(d)).collect();
    let mut scenarios: Vec<&Scenario> = clean.iter().map(|(s, _)| *s).collect();
    scenarios.dedup_by(|a, b| a.name == b.name);
    let tests = scenarios.into_iter().map(pairing::tests).collect();
    let giveaways = drills.iter().flat_map(|d| lint::ticket(d)).collect();
    Report {
        format_version: 2,
        runs: opts.runs,
        jobs,
        pairing,
        tests,
        giveaways,
        duration: started.elapsed(),
    }
}

/// `join_all` without pulling in the futures crate: tasks are few.
async fn futures_join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn run_job(
    scenario: &Scenario,
    spec: &LanguageSpec,
    drill: Option<&Drill>,
    wrong_fix: Option<&WrongFix>,
    opts: &VerifyOptions,
    cache: &Cache,
    progress: &Progress,
    sem: Arc<Semaphore>,
) -> Job {
    let _permit = sem.acquire_owned().await.expect("semaphore never closed");
    let started = Instant::now();
    let mut job = Job {
        scenario: scenario.name.clone(),
        drill: drill.map(|d| d.id.clone()),
        wrong_fix: wrong_fix.map(|w| w.name.clone()),
        lang: spec.lang.clone(),
        status: Status::Ok,
        steps: Vec::new(),
        patch: match wrong_fix {
            Some(w) => Some(w.patch.stats()),
            None => drill.and_then(|d| d.patch(&spec.lang)).map(|p| p.stats()),
        },
        touched: if wrong_fix.is_some() {
            Vec::new()
        } else {
            drill
                .and_then(|d| d.patch(&spec.lang))
                .map(|p| p.touched_lines())
                .unwrap_or_default()
        },
        checks: Vec::new(),
        duration: Duration::ZERO,
    };
    let mut log = StepLog {
        steps: Vec::new(),
        checks: Vec::new(),
        progress,
        label: job.label(),
    };
    match (drill, wrong_fix) {
        (Some(d), Some(w)) => run_wrong_fix(scenario, spec, d, w, opts, cache, &mut log).await,
        _ => run_steps(scenario, spec, drill, opts, cache, &mut log).await,
    }
    job.status = log.status();
    job.steps = log.steps;
    job.checks = log.checks;
    job.duration = started.elapsed();
    progress.job_done(job.status.into(), &job.label(), job.duration);
    job
}

async fn run_steps(
    scenario: &Scenario,
    spec: &LanguageSpec,
    drill: Option<&Drill>,
    opts: &VerifyOptions,
    cache: &Cache,
    log: &mut StepLog<'_>,
) {
    // `_tree` keeps the copy until the job ends.
    let Some((_tree, src)) = clean_copy(spec, log) else {
        return;
    };
    if let Some(d) = drill {
        let patch = d
            .patch(&spec.lang)
            .expect("catalog loads a patch per language");
        let t = Instant::now();
        if let Err(e) = patch.apply_to_dir(&src) {
            return log.push("patch applies", Status::Failed, e.to_string(), t);
        }
        log.push("patch applies", Status::Ok, patch.stats().to_string(), t);
        let t = Instant::now();
        match revert_restores(patch, &src, &spec.dir) {
            Ok(()) => log.push("revert restores clean tree", Status::Ok, "byte for byte", t),
            Err(e) => log.push("revert restores clean tree", Status::Failed, e, t),
        }
        corpus_step(d, &spec.lang, log);
    }
    lint_step(spec, drill, &src, log);
    let Some(built) = build_step(scenario, spec, &src, cache, "", log).await else {
        return;
    };
    let t = Instant::now();
    let tests_pass = match builder::run_tests(spec, &scenario.name, &src, cache).await {
        Ok(r) if r.passed => {
            log.push(
                "visible tests pass",
                Status::Ok,
                crate::util::human_duration(r.duration),
                t,
            );
            true
        }
        Ok(r) => {
            let what = if drill.is_some() {
                "the bug must slip past the visible tests, but "
            } else {
                ""
            };
            log.push_with_output(
                "visible tests pass",
                Status::Failed,
                format!("{what}{}", r.summary),
                Some(&r.output),
                t,
            );
            false
        }
        Err(e) => {
            log.push("visible tests pass", Status::Error, e.to_string(), t);
            false
        }
    };
    lockfiles_step(spec, &src, log);
    if !tests_pass {
        return;
    }
    let names: Option<Vec<String>> = drill.map(|d| d.checks.clone());
    let step_name = if drill.is_some() {
        format!("named checks fail in all {} runs", opts.runs)
    } else {
        format!("acceptance suite passes in all {} runs", opts.runs)
    };
    let t = Instant::now();
    let mut problems: Vec<String> = Vec::new();
    let mut infra: Vec<String> = Vec::new();
    for run in 0..opts.runs {
        let ropts = RunOptions {
            run_index: run,
            seed: opts.seed,
            work_root: None,
            ..Default::default()
        };
        let results =
            harness::run_suite(&scenario.suite, names.as_deref(), &built.binary, &ropts).await;
        for r in results {
            log.checks.push(check_run(&r, run));
            match (&r.outcome, drill.is_some()) {
                (Outcome::Error { reason }, _) => {
                    infra.push(format!("run {}: {}: {reason}", run + 1, r.name))
                }
                (Outcome::Pass, true) => problems.push(format!(
                    "run {}: {} passed: the bug did not reproduce",
                    run + 1,
                    r.name
                )),
                (Outcome::Fail { reason }, false) => {
                    problems.push(format!("run {}: {} failed: {reason}", run + 1, r.name))
                }
                _ => {}
            }
        }
    }
    if let Some(p) = problems.first() {
        let more = if problems.len() > 1 {
            format!(" (+{} more)", problems.len() - 1)
        } else {
            String::new()
        };
        log.push(&step_name, Status::Failed, format!("{p}{more}"), t);
    } else if let Some(p) = infra.first() {
        log.push(
            &step_name,
            Status::Error,
            format!("could not judge: {p}"),
            t,
        );
    } else {
        let checks = names
            .map(|n| n.len())
            .unwrap_or_else(|| scenario.suite.check_names().len());
        // For a drill, show how the bug shows: an author sees at once whether
        // the check fails for the intended reason.
        let how = log
            .checks
            .iter()
            .find_map(|c| c.reason.as_deref())
            .map(|r| format!("; run 1: {r}"))
            .unwrap_or_default();
        log.push(
            &step_name,
            Status::Ok,
            format!("{checks} check(s) × {} run(s){how}", opts.runs),
            t,
        );
    }
}

/// A copy of the clean tree in the kit's scratch space (removed on drop,
/// swept after a kill), or `None` with the failure logged.
fn clean_copy(
    spec: &LanguageSpec,
    log: &mut StepLog<'_>,
) -> Option<(crate::scratch::Scratch, std::path::PathBuf)> {
    let t = Instant::now();
    let tree = match crate::scratch::Scratch::new("verify") {
        Ok(d) => d,
        Err(e) => {
            log.push("prepare", Status::Error, format!("temp dir: {e}"), t);
            return None;
        }
    };
    let src = tree.path().join(&spec.lang);
    if let Err(e) = builder::copy_tree(&spec.dir, &src) {
        log.push(
            "prepare",
            Status::Error,
            format!("copying {}: {e}", spec.dir.display()),
            t,
        );
        return None;
    }
    Some((tree, src))
}

/// A wrong fix on top of the bug: it must build (a wrong fix that does not
/// compile proves nothing), and in every run at least one acceptance check
/// must fail. Checks are tried in the order most likely to fail first — the
/// one that rejected the previous run, then the drill's own, then the rest —
/// and a run stops at its first failure, so a corpus costs about one check per run.
async fn run_wrong_fix(
    scenario: &Scenario,
    spec: &LanguageSpec,
    drill: &Drill,
    wrong: &WrongFix,
    opts: &VerifyOptions,
    cache: &Cache,
    log: &mut StepLog<'_>,
) {
    // `_tree` keeps the copy until the job ends.
    let Some((_tree, src)) = clean_copy(spec, log) else {
        return;
    };
    let t = Instant::now();
    let bug = drill
        .patch(&spec.lang)
        .expect("catalog loads a patch per language");
    if let Err(e) = bug.apply_to_dir(&src) {
        return log.push("patch applies", Status::Failed, e.to_string(), t);
    }
    let t = Instant::now();
    if let Err(e) = wrong.patch.apply_to_dir(&src) {
        return log.push(
            "wrong fix applies",
            Status::Failed,
            format!("{e} (a wrong fix is a diff against the bugged tree)"),
            t,
        );
    }
    log.push(
        "wrong fix applies",
        Status::Ok,
        wrong.patch.stats().to_string(),
        t,
    );
    let why = "a wrong fix must build to be plausible: ";
    let Some(built) = build_step(scenario, spec, &src, cache, why, log).await else {
        return;
    };
    // The visible tests are not run: only the hidden suite must reject a wrong
    // fix, and a test build per wrong fix dominated verify's time (a release
    // test build of a Rust tree costs minutes).
    let step_name = format!("suite rejects in all {} runs", opts.runs);
    let mut order: Vec<String> = drill.checks.clone();
    for c in scenario.suite.check_names() {
        if !order.contains(&c) {
            order.push(c);
        }
    }
    let t = Instant::now();
    let mut rejected_by: Vec<String> = Vec::new();
    for run in 0..opts.runs {
        let ropts = RunOptions {
            run_index: run,
            seed: opts.seed,
            work_root: None,
            ..Default::default()
        };
        let mut rejected = None;
        let mut infra = None;
        for name in order.clone() {
            let results = harness::run_suite(
                &scenario.suite,
                Some(std::slice::from_ref(&name)),
                &built.binary,
                &ropts,
            )
            .await;
            for r in results {
                log.checks.push(check_run(&r, run));
                match r.outcome {
                    Outcome::Fail { .. } => rejected = Some(r.name.clone()),
                    Outcome::Error { reason } => {
                        infra.get_or_insert(format!("run {}: {}: {reason}", run + 1, r.name));
                    }
                    Outcome::Pass => {}
                }
            }
            if rejected.is_some() {
                break;
            }
        }
        match rejected {
            Some(name) => {
                // Try the rejecting check first next run.
                order.retain(|o| *o != name);
                order.insert(0, name.clone());
                if !rejected_by.contains(&name) {
                    rejected_by.push(name);
                }
            }
            None => {
                let (status, detail) = match infra {
                    Some(p) => (Status::Error, format!("could not judge: {p}")),
                    None => (
                        Status::Failed,
                        format!(
                            "run {}: every acceptance check passed: this wrong fix ({}) would be accepted; strengthen the suite",
                            run + 1,
                            wrong.patch.description.lines().next().unwrap_or("")
                        ),
                    ),
                };
                return log.push(&step_name, status, detail, t);
            }
        }
    }
    log.push(
        &step_name,
        Status::Ok,
        format!("rejected by {}", rejected_by.join(", ")),
        t,
    );
}

/// Builds the tree in `src` as the drills judge it; the step is logged (its
/// failure prefixed with `why`), and `None` ends the job.
async fn build_step(
    scenario: &Scenario,
    spec: &LanguageSpec,
    src: &Path,
    cache: &Cache,
    why: &str,
    log: &mut StepLog<'_>,
) -> Option<builder::Built> {
    let t = Instant::now();
    match builder::build(spec, &scenario.name, src, cache).await {
        Ok(b) => {
            let took = crate::util::human_duration(b.duration);
            log.push("build", Status::Ok, took, t);
            Some(b)
        }
        Err(e) => {
            let output = match &e {
                builder::BuildError::Failed { output, .. } => Some(output.as_str()),
                _ => None,
            };
            log.push_with_output("build", Status::Failed, format!("{why}{e}"), output, t);
            None
        }
    }
}

fn check_run(r: &harness::CheckResult, run: u32) -> CheckRun {
    CheckRun {
        name: r.name.clone(),
        run: run + 1,
        outcome: match r.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Error { .. } => "error",
        },
        reason: match &r.outcome {
            Outcome::Pass => None,
            Outcome::Fail { reason } | Outcome::Error { reason } => Some(reason.clone()),
        },
        duration: r.duration,
    }
}

/// A drill needs, per language, at least one wrong fix of each kind.
fn corpus_step(d: &Drill, lang: &str, log: &mut StepLog<'_>) {
    let t = Instant::now();
    let missing: Vec<&str> = WrongFixKind::ALL
        .into_iter()
        .filter(|k| !d.wrong_fixes_for(lang).any(|w| w.kind == *k))
        .map(|k| k.as_str())
        .collect();
    if missing.is_empty() {
        let n = d.wrong_fixes_for(lang).count();
        log.push(
            "wrong-fix corpus",
            Status::Ok,
            format!("{n} wrong fix(es)"),
            t,
        );
    } else {
        log.push(
            "wrong-fix corpus",
            Status::Failed,
            format!(
                "no {} wrong fix for {lang}: add {}/{}/<kind>-<slug>.{lang}.patch (docs/drill-format.md)",
                missing.join(" or "),
                d.dir.display(),
                crate::catalog::WRONG_FIXES_DIR
            ),
            t,
        );
    }
}

/// Comments in the tree (for a drill: only on the lines its patch touches,
/// the rest is the clean tree's job) must not give the cause away.
fn lint_step(spec: &LanguageSpec, drill: Option<&Drill>, src: &Path, log: &mut StepLog<'_>) {
    let t = Instant::now();
    let findings = match lint::comments(src, spec.toolchain) {
        Ok(f) => f,
        Err(e) => return log.push("no giveaways in comments", Status::Error, e.to_string(), t),
    };
    let touched = drill
        .and_then(|d| d.patch(&spec.lang))
        .map(|p| p.touched_lines());
    let findings: Vec<_> = findings
        .into_iter()
        .filter(|f| match &touched {
            None => true,
            Some(t) => t
                .iter()
                .any(|tl| tl.path == f.path && tl.lines.contains(&f.line)),
        })
        .collect();
    match findings.first() {
        None => log.push("no giveaways in comments", Status::Ok, "", t),
        Some(first) => {
            let more = match findings.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            log.push(
                "no giveaways in comments",
                Status::Failed,
                format!("{first}{more}"),
                t,
            )
        }
    }
}

/// A build or a test run must not rewrite the lockfiles (or any build-config file):
/// the engineer's diff would show it and the pair would not build the same sources.
fn lockfiles_step(spec: &LanguageSpec, src: &Path, log: &mut StepLog<'_>) {
    let t = Instant::now();
    let mut before = Vec::new();
    let mut after = Vec::new();
    if let Err(e) = config_files(spec, &spec.dir, &spec.dir, &mut before)
        .and_then(|()| config_files(spec, src, src, &mut after))
    {
        return log.push("lockfiles unchanged", Status::Error, e.to_string(), t);
    }
    before.sort();
    after.sort();
    let mut changed: Vec<String> = Vec::new();
    for (rel, bytes) in &after {
        match before.iter().find(|(r, _)| r == rel) {
            Some((_, b)) if b == bytes => {}
            Some(_) => changed.push(format!("{rel} changed")),
            None => changed.push(format!("{rel} appeared")),
        }
    }
    for (rel, _) in &before {
        if !after.iter().any(|(r, _)| r == rel) {
            changed.push(format!("{rel} disappeared"));
        }
    }
    if changed.is_empty() {
        log.push("lockfiles unchanged", Status::Ok, "", t);
    } else {
        log.push(
            "lockfiles unchanged",
            Status::Failed,
            format!(
                "the build or tests rewrote {}: commit the file as the toolchain writes it",
                changed.join(", ")
            ),
            t,
        );
    }
}

fn config_files(
    spec: &LanguageSpec,
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !(name.starts_with('.') || name == "target") {
                config_files(spec, root, &path, out)?;
            }
        } else if ty.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if spec.config_files.is_match(&rel) {
                out.push((rel, std::fs::read(&path)?));
            }
        }
    }
    Ok(())
}

/// Reverting the patch in a copy of the bugged tree must give back the clean tree exactly.
fn revert_restores(patch: &crate::patch::Patch, bugged: &Path, clean: &Path) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let copy = tmp.path().join("t");
    builder::copy_tree(bugged, &copy).map_err(|e| e.to_string())?;
    patch.revert_in_dir(&copy).map_err(|e| e.to_string())?;
    for p in patch.paths() {
        let a = std::fs::read(copy.join(p)).map_err(|e| format!("{p}: {e}"))?;
        let b = std::fs::read(clean.join(p)).map_err(|e| format!("{p}: {e}"))?;
        if a != b {
            return Err(format!(
                "{p} differs from the clean tree after reverting the patch"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, status: Status, output: Option<&str>) -> Step {
        Step {
            name: name.into(),
            status,
            detail: "detail".into(),
            output: output.map(output_tail),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn a_failed_step_keeps_the_last_lines_of_its_output() {
        let output: String = (1..=100)
            .map(|i| format!("line {i}\n\n"))
            .collect::<String>();
        let tail = output_tail(&output);
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines.len(), OUTPUT_TAIL_LINES);
        assert_eq!(lines.first(), Some(&"line 61"));
        assert_eq!(lines.last(), Some(&"line 100"));
        assert_eq!(output_tail("short\n"), "short");
    }

    #[test]
    fn the_problem_output_is_the_first_failed_steps() {
        let job = Job {
            scenario: "s".into(),
            drill: None,
            wrong_fix: None,
            lang: "rust".into(),
            status: Status::Failed,
            steps: vec![
                step("build", Status::Ok, None),
                step(
                    "visible tests pass",
                    Status::Failed,
                    Some("panicked at x\nFAILED"),
                ),
                step("acceptance", Status::Failed, Some("later")),
            ],
            patch: None,
            touched: vec![],
            checks: vec![],
            duration: Duration::ZERO,
        };
        assert_eq!(job.problem_output(), Some("panicked at x\nFAILED"));
        assert_eq!(job.problem().as_deref(), Some("visible tests pass: detail"));
        let json = serde_json::to_value(&job).unwrap();
        assert!(
            json["steps"][0].get("output").is_none(),
            "no output on a passing step"
        );
        assert_eq!(json["steps"][1]["output"], "panicked at x\nFAILED");
    }
}
