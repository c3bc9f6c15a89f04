//! `drill verify`: the catalog's self-check. For every scenario language the
//! clean tree must pass its visible tests and the whole acceptance suite in
//! every run; for every drill the patch must apply and revert byte for byte,
//! the bugged tree must still pass its visible tests and must fail each check
//! the drill names in every run.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

use crate::builder::{self, Cache};
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario};
use crate::console::Progress;
use crate::harness::{self, Outcome, RunOptions};
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

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
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
        match &self.drill {
            Some(d) => format!("{d} [{}]", self.lang),
            None => format!("{} (clean) [{}]", self.scenario, self.lang),
        }
    }

    /// The first step that did not pass, as `step: detail`.
    pub fn problem(&self) -> Option<String> {
        self.steps
            .iter()
            .find(|s| s.status != Status::Ok)
            .map(|s| format!("{}: {}", s.name, s.detail))
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
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    pub duration: Duration,
}

impl Report {
    pub fn status(&self) -> Status {
        if self.jobs.iter().any(|j| j.status == Status::Failed)
            || self.pairing.iter().any(|p| p.warning.is_some())
            || self.tests.iter().any(|t| t.warning.is_some())
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
        let detail = detail.into();
        self.progress.step(&self.label, name, status, &detail);
        self.steps.push(Step {
            name: name.to_string(),
            status,
            detail,
            duration: started.elapsed(),
        });
    }

    fn failed(&self) -> bool {
        self.steps.iter().any(|s| s.status != Status::Ok)
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

/// Which drills the options select; an unknown id is an error naming the closest one.
pub fn select<'c>(
    catalog: &'c Catalog,
    only: &[String],
) -> Result<Vec<&'c Drill>, crate::catalog::CatalogError> {
    if only.is_empty() {
        return Ok(catalog.drills.iter().collect());
    }
    let mut out: Vec<&Drill> = Vec::new();
    for id in only {
        let d = catalog.drill(id)?;
        if !out.iter().any(|o| o.id == d.id) {
            out.push(d);
        }
    }
    Ok(out)
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
                .any(|d| d.scenario == s.name && d.languages.contains(lang));
            if used || drills.len() == catalog.drills.len() {
                clean.push((s, spec));
            }
        }
    }
    let total = clean.len() + drills.iter().map(|d| d.languages.len()).sum::<usize>();
    progress.start(total as u64);
    let sem = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut tasks = Vec::new();
    // Drills before clean trees would be fine too; clean first makes the
    // "is the scenario itself healthy" answer arrive early.
    for (s, spec) in &clean {
        tasks.push(run_job(s, spec, None, opts, cache, progress, sem.clone()));
    }
    let mut drill_tasks = Vec::new();
    for d in drills {
        let s = catalog.scenario(&d.scenario);
        for lang in &d.languages {
            let spec = &s.languages[lang];
            drill_tasks.push(run_job(
                s,
                spec,
                Some(d),
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
    Report {
        format_version: 1,
        runs: opts.runs,
        jobs,
        pairing,
        tests,
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

async fn run_job(
    scenario: &Scenario,
    spec: &LanguageSpec,
    drill: Option<&Drill>,
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
        lang: spec.lang.clone(),
        status: Status::Ok,
        steps: Vec::new(),
        patch: drill.and_then(|d| d.patch(&spec.lang)).map(|p| p.stats()),
        touched: drill
            .and_then(|d| d.patch(&spec.lang))
            .map(|p| p.touched_lines())
            .unwrap_or_default(),
        checks: Vec::new(),
        duration: Duration::ZERO,
    };
    let mut log = StepLog {
        steps: Vec::new(),
        checks: Vec::new(),
        progress,
        label: job.label(),
    };
    run_steps(scenario, spec, drill, opts, cache, &mut log).await;
    job.status = log.status();
    job.steps = log.steps;
    job.checks = log.checks;
    job.duration = started.elapsed();
    progress.job_done(&job);
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
    let t = Instant::now();
    let tree = match tempfile::Builder::new().prefix("drill-verify-").tempdir() {
        Ok(d) => d,
        Err(e) => return log.push("prepare", Status::Error, format!("temp dir: {e}"), t),
    };
    let src = tree.path().join(&spec.lang);
    if let Err(e) = builder::copy_tree(&spec.dir, &src) {
        return log.push(
            "prepare",
            Status::Error,
            format!("copying {}: {e}", spec.dir.display()),
            t,
        );
    }
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
    }
    let t = Instant::now();
    let built = match builder::build(spec, &scenario.name, &src, cache).await {
        Ok(b) => {
            log.push(
                "build",
                Status::Ok,
                crate::util::human_duration(b.duration),
                t,
            );
            b
        }
        Err(e) => return log.push("build", Status::Failed, e.to_string(), t),
    };
    let t = Instant::now();
    match builder::run_tests(spec, &scenario.name, &src, cache).await {
        Ok(r) if r.passed => log.push(
            "visible tests pass",
            Status::Ok,
            crate::util::human_duration(r.duration),
            t,
        ),
        Ok(r) => {
            let what = if drill.is_some() {
                "the bug must slip past the visible tests, but "
            } else {
                ""
            };
            log.push(
                "visible tests pass",
                Status::Failed,
                format!("{what}{}", r.summary),
                t,
            )
        }
        Err(e) => log.push("visible tests pass", Status::Error, e.to_string(), t),
    }
    if log.failed() {
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
            log.checks.push(CheckRun {
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
            });
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
