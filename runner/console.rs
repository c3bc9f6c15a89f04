//! The only place that draws progress (indicatif) and tables. On a terminal:
//! a progress bar; elsewhere (CI, pipes): one plain line per finished step, so
//! logs show where time went.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::human_duration;
use crate::verify::{Job, Report, Status};

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
}

impl Progress {
    /// `quiet`: machine output is wanted on stdout; say nothing at all.
    pub fn new(quiet: bool) -> Progress {
        if quiet {
            return Progress {
                bar: None,
                plain: false,
            };
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress {
                bar: Some(bar),
                plain: false,
            }
        } else {
            Progress {
                bar: None,
                plain: true,
            }
        }
    }

    pub fn start(&self, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    pub fn step(&self, label: &str, step: &str, status: Status, detail: &str) {
        let mark = mark(status);
        if let Some(b) = &self.bar {
            b.set_message(format!("{label}: {step}"));
            if status != Status::Ok {
                b.println(format!("{mark} {label}: {step}: {detail}"));
            }
        } else if self.plain {
            eprintln!("{mark} {label}: {step} ({detail})");
        }
    }

    pub fn job_done(&self, job: &Job) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.println(format!(
                "{} {} ({})",
                mark(job.status),
                job.label(),
                human_duration(job.duration)
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok  ",
        Status::Failed => "FAIL",
        Status::Error => "ERR ",
    }
}

/// Render rows as an aligned plain-text table (first row is the header).
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (n, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if n == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
            out.push_str(&"-".repeat(total.min(120)));
            out.push('\n');
        }
    }
    out
}

/// The summary `drill verify` prints.
pub fn verify_summary(report: &Report) -> String {
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
                .map(|s| mark(s.status).trim().to_string())
                .unwrap_or_else(|| "-".into())
        };
        rows.push(vec![
            j.drill
                .clone()
                .unwrap_or_else(|| format!("{} (clean)", j.scenario)),
            j.lang.clone(),
            j.patch
                .map(|p| format!("+{} -{} ({}h)", p.added, p.removed, p.hunks))
                .unwrap_or_else(|| "-".into()),
            step("build"),
            step("visible tests"),
            if j.drill.is_some() {
                step("named checks")
            } else {
                step("acceptance")
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
        .filter_map(|j| j.problem().map(|p| format!("  {}: {p}", j.label())))
        .chain(report.pairing.iter().filter_map(|p| {
            p.warning
                .as_ref()
                .map(|w| format!("  {}: pairing: {w}", p.drill))
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let t = table(&[
            vec!["id".into(), "class".into()],
            vec!["a/long-name".into(), "x".into()],
        ]);
        assert_eq!(
            t,
            "id           class\n------------------\na/long-name  x\n"
        );
    }
}
