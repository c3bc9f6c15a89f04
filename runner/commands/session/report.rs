//! What the engineer reads: status, verdicts, the diff next to the reference
//! fix, the debrief, the attempts table — and their JSON forms.
//!
//! Blind mode is enforced here: while a blind attempt is open, nothing that
//! names the drill (id, title, class, difficulty) is printed.

use std::io::IsTerminal;
use std::path::Path;

use serde_json::{json, Value};

use super::DrillRef;
use crate::attempt::{human_duration, Record, State, Summary};
use crate::clock::Timestamp;
use crate::results::{Listing, ResultsDir};
use crate::workspace::FileChange;

/// The machine output's version (`status --json`, `attempts --json`).
pub const JSON_FORMAT_VERSION: u32 = 1;

/// The drill is hidden: a blind attempt that has not ended.
pub fn hidden(record: &Record) -> bool {
    record.attempt.blind && !record.state().is_ended()
}

fn drill_line(record: &Record) -> String {
    let h = &record.attempt;
    if hidden(record) {
        "hidden (blind drill: revealed when the attempt ends)".to_string()
    } else {
        format!(
            "{} — {} ({}, difficulty {}/5)",
            h.drill, h.title, h.class, h.difficulty
        )
    }
}

/// How the attempt was dealt: blind, or chosen by id; and whether it is a
/// repeat. Statistics keep the kinds apart, so the engineer sees it too.
fn mode(record: &Record) -> String {
    let h = &record.attempt;
    let mut mode = if h.blind {
        "blind".to_string()
    } else {
        "not blind (chosen by id)".to_string()
    };
    if h.repeat {
        mode.push_str(", repeat (this drill was attempted before)");
    }
    mode
}

fn active_line(s: &Summary) -> String {
    let mut extra = Vec::new();
    if s.paused_ms > 0 {
        extra.push(format!("paused {}", human_duration(s.paused_ms)));
    }
    if s.verification_ms > 0 {
        extra.push(format!(
            "verification {} not counted",
            human_duration(s.verification_ms)
        ));
    }
    if extra.is_empty() {
        human_duration(s.active_ms)
    } else {
        format!("{} ({})", human_duration(s.active_ms), extra.join(", "))
    }
}

fn found_line(s: &Summary) -> String {
    match s.time_to_find_ms {
        Some(ms) => format!("yes, after {} active", human_duration(ms)),
        None if s.found_claims > 0 => format!("not yet ({} wrong claim(s))", s.wrong_found_claims),
        None => "not yet".to_string(),
    }
}

/// A test-first attempt's reproducing test.
fn test_line(s: &Summary) -> String {
    match s.time_to_test_ms {
        Some(ms) => format!(
            "reproducing, after {} active ({} check-test run(s))",
            human_duration(ms),
            s.check_tests
        ),
        None => format!(
            "no reproducing test yet ({} check-test run(s))",
            s.check_tests
        ),
    }
}

fn submits_line(s: &Summary) -> String {
    let mut line = format!("{}", s.submits);
    if s.failed_submits > 0 {
        line.push_str(&format!(" ({} failed)", s.failed_submits));
    }
    if s.submit_errors > 0 {
        line.push_str(&format!(", {} not judged (kit error)", s.submit_errors));
    }
    line
}

pub fn status_text(record: &Record, now: Timestamp, path: &Path) -> String {
    let s = record.summary(now);
    let h = &record.attempt;
    let mut rows = vec![
        ("Attempt", h.id.clone()),
        ("Drill", drill_line(record)),
        ("Mode", mode(record)),
        ("Language", h.language.clone()),
        ("Engineer", h.engineer.clone()),
        ("State", s.state.as_str().to_string()),
        ("Active", active_line(&s)),
        ("Found", found_line(&s)),
        ("Hints", format!("{} of {}", s.hints, h.hints_available)),
        ("Submits", submits_line(&s)),
    ];
    if h.test_first {
        rows.push(("Test", test_line(&s)));
    }
    if s.test_runs > 0 {
        let green = s
            .time_to_green_ms
            .map_or("none green yet".to_string(), |ms| {
                format!("first green after {} active", human_duration(ms))
            });
        rows.push((
            "Watch",
            format!("{} build/test cycle(s), {green}", s.test_runs),
        ));
    }
    if let Some(ms) = s.time_to_fix_ms {
        rows.push(("Fixed", format!("after {} active", human_duration(ms))));
    }
    rows.push(("Workspace", h.workspace.clone()));
    rows.push(("Record", path.display().to_string()));
    let mut out = String::new();
    for (k, v) in rows {
        // Values come from the record, which may have been written elsewhere.
        out.push_str(&format!("{k:<10} {}\n", crate::terminal::safe(&v)));
    }
    out
}

fn attempt_json(record: &Record, now: Timestamp) -> Value {
    let s = record.summary(now);
    let h = &record.attempt;
    let hide = hidden(record);
    let shown = |v: Value| if hide { Value::Null } else { v };
    json!({
        "attempt": h.id,
        "hidden": hide,
        "drill": shown(json!(h.drill)),
        "title": shown(json!(h.title)),
        "class": shown(json!(h.class)),
        "difficulty": shown(json!(h.difficulty)),
        "language": h.language,
        "engineer": h.engineer,
        "blind": h.blind,
        "repeat": h.repeat,
        "prevented_in": h.prevented_in,
        "state": s.state,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "active_ms": s.active_ms,
        "paused_ms": s.paused_ms,
        "verification_ms": s.verification_ms,
        "time_to_find_ms": s.time_to_find_ms,
        "time_to_fix_ms": s.time_to_fix_ms,
        "censored": s.censored,
        "hints_used": s.hints,
        "hints_available": h.hints_available,
        "submits": s.submits,
        "failed_submits": s.failed_submits,
        "submit_errors": s.submit_errors,
        "found_claims": s.found_claims,
        "test_files_changed": s.test_files_changed,
        "test_first": h.test_first,
        "time_to_test_ms": s.time_to_test_ms,
        "check_tests": s.check_tests,
        "test_runs": s.test_runs,
        "time_to_green_ms": s.time_to_green_ms,
        "workspace": h.workspace,
    })
}

pub fn status_json(record: &Record, now: Timestamp, path: &Path) -> Value {
    let mut v = attempt_json(record, now);
    v["format_version"] = json!(JSON_FORMAT_VERSION);
    v["record"] = json!(path);
    v
}

pub fn attempts_json(listing: &Listing, dir: &ResultsDir, now: Timestamp) -> Value {
    let attempts: Vec<Value> = listing
        .records
        .iter()
        .map(|(path, r)| {
            let mut v = attempt_json(r, now);
            v["record"] = json!(path);
            v
        })
        .collect();
    json!({
        "format_version": JSON_FORMAT_VERSION,
        "results": dir.root(),
        "attempts": attempts,
        "damaged": listing.damaged,
    })
}

pub fn attempts_text(listing: &Listing, dir: &ResultsDir, now: Timestamp) -> String {
    if listing.records.is_empty() {
        let mut out = format!("No attempts in {}.\n", dir.root().display());
        if listing.damaged.is_empty() {
            out.push_str(
                "Start one with `drill start --random`. Attempts started with `--results DIR` \
                 are listed with `--results DIR` (or set DRILL_RESULTS=DIR).\n",
            );
        }
        return out;
    }
    let mut rows = vec![vec![
        "attempt".to_string(),
        "drill".into(),
        "lang".into(),
        "mode".into(),
        "engineer".into(),
        "state".into(),
        "active".into(),
        "submits".into(),
        "hints".into(),
        "workspace".into(),
    ]];
    for (_, r) in &listing.records {
        let s = r.summary(now);
        rows.push(vec![
            r.attempt.id.clone(),
            if hidden(r) {
                "(hidden)".to_string()
            } else {
                r.attempt.drill.clone()
            },
            r.attempt.language.clone(),
            match (r.attempt.blind, r.attempt.repeat) {
                (true, _) => "blind",
                (false, false) => "chosen",
                (false, true) => "chosen, repeat",
            }
            .to_string(),
            r.attempt.engineer.clone(),
            s.state.as_str().to_string(),
            human_duration(s.active_ms),
            s.submits.to_string(),
            s.hints.to_string(),
            r.attempt.workspace.clone(),
        ]);
    }
    let mut out = crate::console::table(&rows);
    out.push_str(&format!(
        "\n{} attempt(s) in {}\n",
        listing.records.len(),
        dir.root().display()
    ));
    if !listing.damaged.is_empty() {
        out.push_str(&format!(
            "{} damaged record(s) skipped (see the warnings above)\n",
            listing.damaged.len()
        ));
    }
    out
}

pub fn timer_text(record: &Record, now: Timestamp) -> String {
    let s = record.summary(now);
    match s.state {
        State::Paused => format!(
            "Paused. Active time so far: {}. `drill resume` when you are back.\n",
            human_duration(s.active_ms)
        ),
        State::Active => format!(
            "Resumed. Active time so far: {}.\n",
            human_duration(s.active_ms)
        ),
        State::Fixed | State::Abandoned => String::new(),
    }
}

pub fn found_text(record: &Record, location: &str, correct: bool, now: Timestamp) -> String {
    let s = record.summary(now);
    if correct {
        let first = s.found_claims - s.wrong_found_claims == 1;
        let mut out = format!("Right: the root cause is at {location}.\n");
        if first {
            if let Some(ms) = s.time_to_find_ms {
                out.push_str(&format!("Time to find: {} active.\n", human_duration(ms)));
            }
        }
        out.push_str("Now fix it, then `drill submit`.\n");
        out
    } else {
        format!(
            "Not there: {location} is not where the root cause is. Keep looking \
             (claim recorded; `drill hint` if you are stuck).\n"
        )
    }
}

fn debrief(record: &Record, d: Option<&DrillRef<'_>>) -> String {
    let h = &record.attempt;
    let mut out = format!(
        "Drill     {} — {}\nClass     {} (difficulty {}/5)\n",
        h.drill, h.title, h.class, h.difficulty
    );
    if let Some(d) = d {
        out.push_str(&format!(
            "\nRoot cause\n{}\n\nThe fix\n{}\n",
            indent(d.drill.debrief.root_cause.trim()),
            indent(d.drill.debrief.fix.trim())
        ));
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn abandoned_text(record: &Record, now: Timestamp, d: Option<&DrillRef<'_>>) -> String {
    let s = record.summary(now);
    format!(
        "Abandoned after {} active ({} submit(s), {} hint(s)). The attempt is kept as a \
         censored observation.\n\n{}",
        human_duration(s.active_ms),
        s.submits,
        s.hints,
        debrief(record, d)
    )
}

/// Colour for a terminal that wants it (`NO_COLOR` is honoured).
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn colour_diff(text: &str, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
            out.push_str(&format!("\x1b[{code}m{body}\x1b[0m{nl}"));
        }
    }
    out
}

fn diff_block(changes: &[FileChange], colour: bool) -> String {
    if changes.is_empty() {
        return "  (no changes)\n".to_string();
    }
    changes
        .iter()
        .map(|c| colour_diff(&c.unified(), colour))
        .collect()
}

pub struct Verification<'a> {
    pub reasons: &'a [String],
    pub verification_ms: u64,
    pub checks_run: usize,
    pub test_files_changed: &'a [String],
}

pub fn submit_pass_text(
    record: &Record,
    v: &Verification<'_>,
    d: &DrillRef<'_>,
    yours: &[FileChange],
    reference: &[FileChange],
    colour: bool,
) -> String {
    let s = record.summary(record.last_at().expect("a record has events"));
    let mut out = format!(
        "PASS: the build, the visible tests and all {} acceptance checks pass \
         (verified in {}, not counted).\n\n",
        v.checks_run,
        human_duration(v.verification_ms)
    );
    out.push_str(&format!(
        "Fixed in {} active",
        human_duration(s.time_to_fix_ms.unwrap_or(s.active_ms))
    ));
    if let Some(ms) = s.time_to_find_ms {
        out.push_str(&format!(" (root cause found after {})", human_duration(ms)));
    }
    out.push_str(&format!(
        "; {} submit(s), {} hint(s).\n",
        s.submits, s.hints
    ));
    out.push_str(&test_files_note(v.test_files_changed));
    out.push_str("\n== Your change (against the snapshot) ==\n");
    out.push_str(&diff_block(yours, colour));
    out.push_str("\n== The reference fix ==\n");
    out.push_str(&diff_block(reference, colour));
    out.push_str("\n== Debrief ==\n");
    out.push_str(&debrief(record, Some(d)));
    // The verdict again as the last line: piped through `tail`, the first
    // one has scrolled away behind the diffs.
    out.push_str(&format!(
        "\nPASS: fixed in {} active; the attempt has ended.\n",
        human_duration(s.time_to_fix_ms.unwrap_or(s.active_ms))
    ));
    out
}

fn test_files_note(files: &[String]) -> String {
    if files.is_empty() {
        String::new()
    } else {
        format!(
            "Note: you changed test files ({}); this is recorded with the submit.\n",
            files.join(", ")
        )
    }
}

pub fn submit_fail_text(record: &Record, v: &Verification<'_>, judged: bool) -> String {
    let s = record.summary(record.last_at().expect("a record has events"));
    let mut out = if judged {
        format!(
            "FAIL: not fixed yet (submit {} counted; the timer keeps running).\n",
            s.submits
        )
    } else {
        "ERROR: the kit could not judge this submit (not counted; the timer keeps running).\n"
            .to_string()
    };
    for reason in v.reasons {
        out.push_str(&format!("  - {reason}\n"));
    }
    out.push_str(&test_files_note(v.test_files_changed));
    out.push_str(&format!(
        "Active time {} (verification {} not counted).\n",
        human_duration(s.active_ms),
        human_duration(v.verification_ms)
    ));
    out
}

/// `drill hint --all`: every hint of an ended attempt's drill, marking the
/// ones the engineer had taken.
pub fn all_hints_text(record: &Record, hints: &[String]) -> String {
    let used = record.hints_used() as usize;
    let mut out = format!(
        "{}\nYou used {used} of {} hint(s).\n\n",
        drill_line(record),
        hints.len()
    );
    for (i, text) in hints.iter().enumerate() {
        let taken = if i < used { " (used)" } else { "" };
        out.push_str(&format!("Hint {}/{}{taken}: {text}\n", i + 1, hints.len()));
    }
    out
}

/// `drill check-test`'s verdict: one line, the tests run, the rates for a
/// timing-dependent drill, and what the attempt is at. Nothing of the fixed
/// tree but how the test did there.
pub(crate) fn check_test_text(
    record: &Record,
    c: &crate::testfirst::Checked,
    verification_ms: u64,
    timing: bool,
) -> String {
    use crate::testfirst::TestVerdict;
    let s = record.summary(record.last_at().expect("a record has events"));
    let mut out = format!("{}: {}.\n", c.verdict.as_str().to_uppercase(), c.reason);
    if !c.tests.is_empty() {
        out.push_str(&format!("Tests run: {}\n", c.tests.join(", ")));
    }
    if timing && c.verdict != TestVerdict::NoTest {
        out.push_str(&format!(
            "Runs (timing-dependent: {n} per tree): failed on the bugged code {bf}/{n}, \
             passed on the fixed code {fp}/{n}.\n",
            n = c.runs,
            bf = c.bugged.runs - c.bugged.passed,
            fp = c.fixed.passed,
        ));
    }
    // How it failed on the bugged code: the engineer's own tree, safe to show.
    if let (TestVerdict::Broken, Some(first)) = (c.verdict, &c.bugged.first_failure) {
        out.push_str(&format!("On the bugged code: {first}\n"));
    }
    match (c.verdict, s.time_to_test_ms) {
        (TestVerdict::Reproducing, Some(ms)) => out.push_str(&format!(
            "Time to a reproducing test: {} active. Now fix the bug; `drill submit` also runs \
             your test.\n",
            human_duration(ms)
        )),
        _ => out.push_str("The timer keeps running.\n"),
    }
    out.push_str(&format!(
        "check-test {} (checked in {}, not counted); active time {}.\n",
        s.check_tests,
        human_duration(verification_ms),
        human_duration(s.active_ms)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_colouring_marks_added_and_removed_lines_only_when_asked() {
        let diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n ctx\n";
        assert_eq!(colour_diff(diff, false), diff);
        let coloured = colour_diff(diff, true);
        assert!(coloured.contains("\x1b[31m-old\x1b[0m\n"));
        assert!(coloured.contains("\x1b[32m+new\x1b[0m\n"));
        assert!(coloured.ends_with(" ctx\n"));
    }
}
