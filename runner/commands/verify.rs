//! `drill verify`: prove the catalog is sound (the work is in `crate::verify`).

use clap::Args;

use super::Context;
use crate::builder::Cache;
use crate::console::{table, Mark, Progress};
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::toolchain;
use crate::util::human_duration;
use crate::verify::{self, Report, Status, VerifyOptions};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Drills to verify (`scenario/bug`, a unique bug name, or a scenario for all its drills); default: all.
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

pub fn verify(ctx: &Context, args: VerifyArgs) -> Result<u8, Failure> {
    let catalog = ctx.catalog()?;
    let drills = verify::select(catalog, &args.ids)?;
    // Every scenario's bench workload must load (cheap: no load is run here).
    for s in catalog.scenarios.values() {
        crate::bench::workload::Workload::load_for(&s.dir, &s.suite)
            .map_err(|e| Failure::new(Kind::Catalog, e))?;
    }
    // The versions scenario.toml states must be the trees' own.
    let mismatches = verify::manifest_versions(catalog);
    if !mismatches.is_empty() {
        return Err(Failure::new(
            Kind::Catalog,
            anyhow::anyhow!("{}", mismatches.join("\n")),
        ));
    }
    // Toolchains first: a missing `cargo` is one clear error, not forty failed builds.
    for s in catalog.scenarios.values() {
        for spec in s.languages.values() {
            toolchain::require(
                spec.toolchain,
                &spec.min_version,
                &format!("scenario `{}` ({})", s.name, spec.lang),
            )
            .map_err(|e| Failure::new(Kind::Toolchain, e))?;
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
    // Its own runtime, shut down without waiting when interrupted: Ctrl-C or
    // SIGTERM stops every job (services killed, scratch folders removed).
    let (rt, mut interrupts) = super::interruptible()?;
    let report = match rt
        .block_on(interrupts.guard(verify::verify(catalog, &drills, &opts, &cache, &progress)))
    {
        Ok(report) => report,
        Err(i) => {
            rt.shutdown_background();
            eprintln!(
                "Interrupted ({}): verify stopped, nothing was checked to the end.",
                i.name()
            );
            return Ok(i.exit_code());
        }
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else {
        out!("{}", summary(&report));
    }
    Ok(match report.status() {
        Status::Ok => exit_code::SUCCESS,
        Status::Failed => exit_code::FAILED,
        Status::Error => exit_code::INFRASTRUCTURE,
    })
}

/// The summary `drill verify` prints.
fn summary(report: &Report) -> String {
    let mut rows = vec![vec![
        "what".to_string(),
        "lang".into(),
        "patch".into(),
        "build".into(),
        "tests".into(),
        "checks".into(),
        "time".into(),
        "verdict".into(),
    ]];
    for j in &report.jobs {
        let step = |prefix: &str| {
            j.steps
                .iter()
                .find(|s| s.name.starts_with(prefix))
                .map(|s| Mark::from(s.status).as_str().trim().to_string())
                .unwrap_or_else(|| "-".into())
        };
        let what = match (&j.drill, &j.wrong_fix) {
            (Some(d), Some(w)) => format!("{d} ~ {w}"),
            (Some(d), None) => d.clone(),
            (None, _) => format!("{} (clean)", j.scenario),
        };
        rows.push(vec![
            what,
            j.lang.clone(),
            j.patch
                .map(|p| format!("+{} -{} ({}h)", p.added, p.removed, p.hunks))
                .unwrap_or_else(|| "-".into()),
            step("build"),
            step("visible tests"),
            match (&j.drill, &j.wrong_fix) {
                (_, Some(_)) => step("suite rejects"),
                (Some(_), None) => step("named checks"),
                (None, _) => step("acceptance"),
            },
            human_duration(j.duration),
            match j.status {
                Status::Ok => "ok".into(),
                Status::Failed => "FAILED".into(),
                Status::Error => "ERROR".into(),
            },
        ]);
    }
    let mut out = table(&rows);
    let problems: Vec<String> = report
        .jobs
        .iter()
        .filter_map(|j| {
            j.problem().map(|p| {
                let mut line = format!("  {}: {p}", j.label());
                // The tail of the failing output, so a flaky failure can be
                // told from a real one without rerunning.
                for l in j.problem_output().into_iter().flat_map(str::lines) {
                    line.push_str("\n      | ");
                    line.push_str(l);
                }
                line
            })
        })
        .chain(report.pairing.iter().filter_map(|p| {
            p.warning
                .as_ref()
                .map(|w| format!("  {}: pairing: {w}", p.drill))
        }))
        .chain(report.tests.iter().filter_map(|t| {
            t.warning
                .as_ref()
                .map(|w| format!("  {}: pairing: {w}", t.scenario))
        }))
        .chain(report.giveaways.iter().map(|g| format!("  {g}")))
        .collect();
    if !problems.is_empty() {
        out.push_str("\nproblems:\n");
        for p in problems {
            out.push_str(&p);
            out.push('\n');
        }
    }
    let ok = report
        .jobs
        .iter()
        .filter(|j| j.status == Status::Ok)
        .count();
    out.push_str(&format!(
        "\n{} of {} verified ({} run(s) each) in {}\n",
        ok,
        report.jobs.len(),
        report.runs,
        human_duration(report.duration)
    ));
    out
}
