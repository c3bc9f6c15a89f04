//! `drill run`: reproduce. Builds the engineer's current code in place and
//! runs it on loopback under the incident's conditions — the fakes, the
//! drill's fault profile and the traffic of the checks that catch the bug —
//! printing the service's log and what the harness observed. It is how an
//! on-call engineer reproduces; it is not the verdict, and its time is the
//! engineer's (it is recorded, not excluded).
//!
//! Every service runs in its own process group, killed when its run ends,
//! on Ctrl-C, or (PDEATHSIG) if `drill` itself dies: nothing is left running.

use std::time::Instant;

use super::target_dir::TreeCache;
use super::{cache, catalog, drill_of, locate, Ctx, RunArgs};
use crate::attempt::EventKind;
use crate::builder;
use crate::cli::{runtime, Failure};
use crate::exit_code;
use crate::harness::{self, Outcome, RunOptions};
use crate::util::human_duration;

/// What the service's JSON log lines add up to: the live evidence of `drill run`.
#[derive(Debug, Default)]
struct LogSummary {
    lines: usize,
    requests: usize,
    by_class: [usize; 6],
    slowest_ms: u64,
    warn: usize,
    error: usize,
}

impl LogSummary {
    fn add(&mut self, line: &str) {
        self.lines += 1;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return;
        };
        match v.get("level").and_then(|l| l.as_str()) {
            Some("WARN") => self.warn += 1,
            Some("ERROR") => self.error += 1,
            _ => {}
        }
        if let Some(status) = v.get("status").and_then(|s| s.as_u64()) {
            self.requests += 1;
            self.by_class[(status / 100).min(5) as usize] += 1;
            if let Some(ms) = v.get("duration_ms").and_then(|d| d.as_u64()) {
                self.slowest_ms = self.slowest_ms.max(ms);
            }
        }
    }

    fn line(&self) -> String {
        let classes: Vec<String> = (2..=5)
            .filter(|c| self.by_class[*c] > 0)
            .map(|c| format!("{}xx {}", c, self.by_class[c]))
            .collect();
        format!(
            "{} log line(s); {} request(s) answered{}{}; {} WARN, {} ERROR",
            self.lines,
            self.requests,
            if classes.is_empty() {
                String::new()
            } else {
                format!(" ({})", classes.join(", "))
            },
            if self.requests > 0 {
                format!(", slowest {} ms", self.slowest_ms)
            } else {
                String::new()
            },
            self.warn,
            self.error
        )
    }
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<u8, Failure> {
    let located = locate(ctx, &args.target)?;
    let ws = located.workspace()?.clone();
    // Held for the whole run, so a run next to a submit (or another run) is
    // refused before it builds, not after it has printed everything.
    let lock = located.results.lock(&located.id, "run")?;
    let record = lock.load()?;
    // Refuse a paused or ended attempt up front (the event is logged at the end).
    record.clone().push(
        EventKind::Run {
            build_ms: None,
            duration_ms: 0,
        },
        ctx.clock.now(),
    )?;
    let catalog = catalog(ctx)?;
    let d = drill_of(&catalog, &record)?;
    let tree_cache = TreeCache::for_tree(
        &cache(),
        d.spec,
        &d.scenario.name,
        &format!("attempts/{}", located.id),
        ws.root(),
    );
    let started = ctx.clock.now();
    let rt = runtime()?;

    eprintln!("Building your code...");
    let t = Instant::now();
    let built = match rt.block_on(builder::build(
        d.spec,
        &d.scenario.name,
        ws.root(),
        &tree_cache.cache,
    )) {
        Ok(b) => b,
        Err(e) => {
            println!("Your code does not build: {e}");
            return Ok(exit_code::FAILED);
        }
    };
    let build_ms = t.elapsed().as_millis() as u64;
    tree_cache.publish();
    println!("Built in {}.", human_duration(t.elapsed()));

    let checks = d.drill.checks.clone();
    let total = checks.len() * args.rounds as usize;
    println!("Running the service under the incident's conditions ({total} run(s); Ctrl-C stops).");
    let mut anomalies = 0usize;
    let work = async {
        let mut n = 0;
        for round in 0..args.rounds {
            for name in &checks {
                n += 1;
                // Not the check's name: it would say what the bug is.
                println!("\n--- run {n}/{total} ---");
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let opts = RunOptions {
                    run_index: round,
                    seed: 1,
                    work_root: None,
                    log_sink: Some(tx),
                };
                // Lines are printed as the service writes them; the summary
                // is what an on-call engineer would read off a dashboard.
                let printer = tokio::spawn(async move {
                    let mut summary = LogSummary::default();
                    while let Some(line) = rx.recv().await {
                        summary.add(&line);
                        println!("service | {line}");
                    }
                    summary
                });
                let r = harness::run_check(&d.scenario.suite, name, &built.binary, &opts).await;
                drop(opts);
                if let Ok(summary) = printer.await {
                    println!("summary: {}", summary.line());
                }
                match &r.outcome {
                    Outcome::Pass => {
                        println!("observed: no anomaly in {}", human_duration(r.duration))
                    }
                    Outcome::Fail { reason } => {
                        anomalies += 1;
                        println!("observed: ANOMALY: {reason}");
                    }
                    Outcome::Error { reason } => println!("observed: could not run: {reason}"),
                }
            }
        }
    };
    let interrupted = rt.block_on(async {
        tokio::select! {
            _ = work => false,
            _ = tokio::signal::ctrl_c() => true,
        }
    });
    // Dropping the runtime cancels what is left; each service's guard kills
    // its process group.
    drop(rt);
    if interrupted {
        println!("\nStopped (Ctrl-C).");
    }
    println!(
        "\n{anomalies} run(s) showed an anomaly. This is not the verdict: `drill submit` when you think it is fixed."
    );

    let finished = ctx.clock.now();
    lock.append(
        vec![EventKind::Run {
            build_ms: Some(build_ms),
            duration_ms: finished.ms_since(started),
        }],
        finished,
    )?;
    Ok(exit_code::SUCCESS)
}
