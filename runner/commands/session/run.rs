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

use super::{attempt_tree_cache, catalog_for, drill_of, locate, Ctx, RunArgs};
use crate::attempt::EventKind;
use crate::builder;
use crate::commands::{check_stdout, interruptible};

/// Output while the run works: best effort, so a closed stdout does not stop
/// the run before it is recorded (the command then ends quietly).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = crate::commands::write_out(format_args!("{}\n", format_args!($($arg)*)));
    }};
}
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::harness::{self, log_line, Outcome, RunOptions};
use crate::scratch::Scratch;
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
        match log_line::level(&v).as_deref() {
            Some("WARN") => self.warn += 1,
            Some("ERROR") => self.error += 1,
            _ => {}
        }
        if let Some(status) = log_line::field(&v, "status").and_then(|s| s.as_u64()) {
            self.requests += 1;
            self.by_class[(status / 100).min(5) as usize] += 1;
            if let Some(ms) = log_line::field(&v, "duration_ms").and_then(|d| d.as_u64()) {
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
    // Signals first: Ctrl-C or SIGTERM stops the build or the runs cleanly.
    let (rt, mut interrupts) = interruptible()?;
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
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    let tree_cache = attempt_tree_cache(&d, &located.id, ws.root());
    let started = ctx.clock.now();
    let scratch = Scratch::new("run").map_err(|e| {
        Failure::new(
            Kind::Environment,
            anyhow::anyhow!(
                "creating a temporary folder in {}: {e}",
                crate::scratch::root().display()
            ),
        )
    })?;

    eprintln!("Building your code...");
    let t = Instant::now();
    let built = match rt.block_on(interrupts.guard(builder::build(
        d.spec,
        &d.scenario.name,
        ws.root(),
        &tree_cache.cache,
    ))) {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            outln!("Your code does not build: {e}");
            return Ok(exit_code::FAILED);
        }
        Err(i) => {
            rt.shutdown_background();
            eprintln!(
                "Interrupted ({}) during the build: nothing was recorded.",
                i.name()
            );
            return Ok(i.exit_code());
        }
    };
    let build_ms = t.elapsed().as_millis() as u64;
    tree_cache.publish();
    outln!("Built in {}.", human_duration(t.elapsed()));

    let checks = d.drill.checks.clone();
    let polled = super::fold::polled_paths(&d.scenario.dir);
    let total = checks.len() * args.rounds as usize;
    outln!("Running the service under the incident's conditions ({total} run(s); Ctrl-C stops).");
    let mut anomalies = 0usize;
    let work = async {
        let mut n = 0;
        for round in 0..args.rounds {
            for name in &checks {
                n += 1;
                // Not the check's name: it would say what the bug is.
                say!("\n--- run {n}/{total} ---");
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let opts = RunOptions {
                    run_index: round,
                    seed: 1,
                    work_root: Some(scratch.path().to_path_buf()),
                    log_sink: Some(tx),
                };
                // Lines are printed as the service writes them; the summary
                // is what an on-call engineer would read off a dashboard.
                let mut fold = super::fold::Fold::new(polled.clone(), args.verbose);
                let printer = tokio::spawn(async move {
                    let mut summary = LogSummary::default();
                    while let Some(line) = rx.recv().await {
                        // The summary is the service's answer to the
                        // incident's traffic: the harness's polls are not in it.
                        if fold.show(&line) {
                            summary.add(&line);
                            say!("service | {line}");
                        }
                    }
                    for folded in fold.summary() {
                        say!("drill   | {folded}");
                    }
                    summary
                });
                let r = harness::run_check(&d.scenario.suite, name, &built.binary, &opts).await;
                drop(opts);
                if let Ok(summary) = printer.await {
                    say!("summary: {}", summary.line());
                }
                match &r.outcome {
                    Outcome::Pass => {
                        say!("observed: no anomaly in {}", human_duration(r.duration))
                    }
                    Outcome::Fail { reason } => {
                        anomalies += 1;
                        say!("observed: ANOMALY: {reason}");
                    }
                    Outcome::Error { reason } => say!("observed: could not run: {reason}"),
                }
            }
        }
    };
    let interrupted = rt.block_on(interrupts.guard(work)).err();
    // Dropping the runtime cancels what is left; each service's guard kills
    // its process group.
    rt.shutdown_background();
    drop(built);
    drop(scratch);
    say!(
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
    check_stdout()?;
    if let Some(i) = interrupted {
        outln!(
            "Stopped ({}): the run was recorded (its time counts as your work).",
            i.name()
        );
        return Ok(i.exit_code());
    }
    Ok(exit_code::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::LogSummary;

    #[test]
    fn the_log_summary_counts_slog_and_tracing_lines_alike() {
        let mut s = LogSummary::default();
        s.add(r#"{"level":"WARN","msg":"request","status":502,"duration_ms":7}"#);
        s.add(r#"{"level":"warn","fields":{"message":"request","status":201,"duration_ms":9}}"#);
        s.add("not json");
        assert_eq!((s.lines, s.requests, s.warn), (3, 2, 2));
        assert_eq!((s.by_class[2], s.by_class[5], s.slowest_ms), (1, 1, 9));
    }
}
