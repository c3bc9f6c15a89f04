//! The only place that draws progress (indicatif) and tables. On a terminal:
//! a progress bar; elsewhere (CI, pipes): one plain line per finished step, so
//! logs show where time went. Also the pinned status line and key-at-a-time
//! input of `drill watch`.

use std::io::{IsTerminal, Write as _};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::human_duration;

/// How a step or job ended, as the console shows it (callers convert their own
/// outcome types: the console knows nothing of what it draws).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Failed,
    Error,
}

impl Mark {
    /// `ok`, `FAIL`, `ERR`: four columns wide.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Ok => "ok  ",
            Mark::Failed => "FAIL",
            Mark::Error => "ERR ",
        }
    }
}

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

    pub fn step(&self, label: &str, step: &str, status: Mark, detail: &str) {
        let mark = status.as_str();
        if let Some(b) = &self.bar {
            b.set_message(format!("{label}: {step}"));
            if status != Mark::Ok {
                b.println(format!("{mark} {label}: {step}: {detail}"));
            }
        } else if self.plain {
            eprintln!("{mark} {label}: {step} ({detail})");
        }
    }

    pub fn job_done(&self, status: Mark, label: &str, duration: Duration) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.println(format!(
                "{} {label} ({})",
                status.as_str(),
                human_duration(duration)
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Progress of a `drill bench` load run: requests finished of those scheduled.
/// Draws only on a terminal; silent for `--json` and pipes.
pub struct LoadBar {
    bar: Option<ProgressBar>,
}

impl LoadBar {
    pub fn new(total: u64, quiet: bool) -> LoadBar {
        if quiet || !std::io::stderr().is_terminal() {
            return LoadBar { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} requests ({per_sec}) eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        LoadBar { bar: Some(bar) }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Render rows as an aligned plain-text table (first row is the header).
/// Draws `line` as the terminal's pinned status line (stderr), replacing
/// the one drawn before.
pub fn pinned(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

/// Clears the pinned line, so ordinary output starts on a clean line.
pub fn clear_pinned() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
}

/// The terminal in key-at-a-time mode (no line buffering, no echo; signals
/// still work) for as long as this lives; the previous mode is restored on
/// drop.
pub struct RawInput {
    saved: libc::termios,
}

impl RawInput {
    /// `None` when stdin is not a terminal whose mode can be set.
    pub fn enable() -> Option<RawInput> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            t.c_lflag &= !(libc::ICANON | libc::ECHO);
            t.c_cc[libc::VMIN] = 1;
            t.c_cc[libc::VTIME] = 0;
            (libc::tcsetattr(0, libc::TCSANOW, &t) == 0).then_some(RawInput { saved })
        }
    }
}

impl Drop for RawInput {
    fn drop(&mut self) {
        // SAFETY: restores the mode read in `enable`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

pub fn table(rows: &[Vec<String>]) -> String {
    // Cells often come from records other people wrote: escaped and bounded.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::terminal::safe_bounded(c, crate::terminal::MAX_CELL_CHARS))
                .collect()
        })
        .collect();
    let rows = &rows;
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
