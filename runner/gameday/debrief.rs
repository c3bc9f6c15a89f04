//! The debrief of a game day (`drill gameday debrief`, docs/gameday.md):
//! the timeline of every recorded event, timed from the fault; the clocks;
//! the SLI per window (from `<results>/gamedays/<id>.sli.jsonl`, kept with
//! the record); the drill's root cause and reference fix; and a blank
//! action-items section for the team. [`Debrief`] is the one model the
//! terminal text, the versioned JSON document and the HTML page render.
//!
//! Pure once built: the record, the windows and the drill's reference text
//! come in, nothing is read here but the SLI file ([`read_windows`]).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::definition::InjectKind;
use super::record::{
    Clock, Clocks, DeployOutcome, EndReason, EventKind, MitigationAction, MitigationOutcome, Record,
};
use super::sli::{AlertRule, Slo, Window};
use crate::clock::Timestamp;

pub const FORMAT_NAME: &str = "drillkit-gameday-debrief";
/// Bumped on any change a reader of the previous version would misread
/// (docs/gameday.md, "The debrief's JSON").
pub const FORMAT_VERSION: u32 = 1;

/// Windows per line of the terminal's sparkline.
const SPARK_PER_LINE: usize = 60;

/// Why the SLI windows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SliError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{} line {line} is damaged ({why}); its SLI is not shown", path.display())]
    Damaged {
        path: std::path::PathBuf,
        line: usize,
        why: String,
    },
}

/// The windows of an SLI log (`{"index","total","good"}` a line). A last
/// line cut short by a kill is left out; a damaged line before it is an
/// error (no SLI is better than a wrong one). A missing file is no windows.
pub fn read_windows(path: &Path) -> Result<Vec<Window>, SliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SliError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Window>(line) {
            Ok(w) => out.push(w),
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => {
                return Err(SliError::Damaged {
                    path: path.to_path_buf(),
                    line: i + 1,
                    why: e.to_string(),
                })
            }
        }
    }
    Ok(out)
}

/// The drill's answer, as `drill show` and the post-attempt review give it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reference {
    pub root_cause: String,
    pub fix: String,
    /// The reference fix for the game day's language: the bug's patch
    /// reversed, as a unified diff (bugged → clean); `None` without one.
    pub diff: Option<String>,
}

/// How the game day stands.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Ended {
        at: Timestamp,
        reason: EndReason,
    },
    /// Not ended (or its facilitator was killed): the clocks not reached
    /// are running, and the figures are as of `as_of`.
    Running {
        as_of: Timestamp,
    },
}

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The recorded event as it is in the record (`at`, `event`, fields).
    #[serde(flatten)]
    pub event: super::record::Event,
    /// Milliseconds after the traffic started.
    pub since_start_ms: u64,
    /// Milliseconds from the fault's start (negative before it); `None`
    /// when no fault was injected.
    pub since_fault_ms: Option<i64>,
    /// The line as a person reads it.
    pub description: String,
    /// The chart marker this event is (`fault`, `alert`, `ack`, `deploy`,
    /// `mitigation`, `mitigated`, `resolved`), if any.
    pub marker: Option<&'static str>,
}

/// One clock, named, with how far a running one has got.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClockRow {
    pub name: &'static str,
    pub clock: Clock,
    /// For a running clock: milliseconds from the fault to `as_of` so far.
    pub so_far_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sli {
    pub windows: Vec<Window>,
    /// Why the windows are missing or incomplete, when they are.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Debrief {
    pub format_name: &'static str,
    pub format_version: u32,
    pub id: String,
    pub drill: String,
    pub language: String,
    /// Who was on call; `null` for a record from before it was kept.
    pub on_call: Option<String>,
    /// Dealt blind (the debrief of a blind game day is refused until it ends).
    pub blind: bool,
    /// The drill's bug class; `null` for a record from before it was kept.
    pub class: Option<String>,
    pub started_at: Timestamp,
    #[serde(flatten)]
    pub state: State,
    pub slo: Slo,
    pub alert: AlertRule,
    pub fault_check: String,
    pub clocks: Clocks,
    pub clock_rows: Vec<ClockRow>,
    pub timeline: Vec<Entry>,
    pub sli: Sli,
    /// `None` when the drill is no longer in the catalog.
    pub reference: Option<Reference>,
    /// The team's action items: always empty, a section to fill in.
    pub action_items: Vec<String>,
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `T+7.0 s`, `T-2.5 s` from the fault; `+3.0 s` from the traffic without one.
pub fn offset(e: &Entry) -> String {
    match e.since_fault_ms {
        Some(ms) if ms < 0 => format!("T-{:.1} s", (-ms) as f64 / 1000.0),
        Some(ms) => format!("T+{:.1} s", ms as f64 / 1000.0),
        None => format!("+{:.1} s", e.since_start_ms as f64 / 1000.0),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

pub fn reason_text(r: EndReason) -> &'static str {
    match r {
        EndReason::Resolved => "resolved",
        EndReason::TimeBox => "time box",
        EndReason::Interrupted => "interrupted",
    }
}

/// `, 3 requests got no answer during the swap`; nothing when not counted.
fn dropped_text(dropped: Option<u64>) -> String {
    match dropped {
        Some(1) => ", 1 request got no answer during the swap".into(),
        Some(n) => format!(", {n} requests got no answer during the swap"),
        None => String::new(),
    }
}

fn describe(kind: &EventKind) -> (String, Option<&'static str>) {
    match kind {
        EventKind::Started => ("traffic started".into(), None),
        EventKind::Inject {
            kind, text, manual, ..
        } => {
            let by = if *manual { " (fired by hand)" } else { "" };
            match kind {
                InjectKind::Fault => (format!("fault injected{by}: {text}"), Some("fault")),
                InjectKind::RedHerring => (format!("red herring{by}: {text}"), None),
                InjectKind::CustomerReport => (format!("customer report{by}: {text}"), None),
                InjectKind::Escalation => (format!("escalation{by}: {text}"), None),
            }
        }
        EventKind::Alert {
            long_burn,
            short_burn,
        } => (
            format!("ALERT fired (burn {long_burn:.1}x long, {short_burn:.1}x short)"),
            Some("alert"),
        ),
        EventKind::AlertCleared { short_burn } => {
            (format!("alert cleared (short burn {short_burn:.1}x)"), None)
        }
        EventKind::Ack => ("acknowledged by the on-call".into(), Some("ack")),
        EventKind::Deploy {
            n,
            outcome,
            reason,
            dropped,
        } => match outcome {
            DeployOutcome::Live => (
                format!("deploy {n}: live{}", dropped_text(*dropped)),
                Some("deploy"),
            ),
            DeployOutcome::NotReady => (
                format!(
                    "deploy {n}: never became ready ({})",
                    reason.as_deref().unwrap_or("no reason recorded")
                ),
                None,
            ),
            DeployOutcome::BuildFailed => (
                format!(
                    "deploy {n}: {}",
                    reason.as_deref().unwrap_or("build failed")
                ),
                None,
            ),
        },
        EventKind::Judged { n, passed, reasons } => {
            if *passed {
                (
                    format!("deploy {n} judged: passes the acceptance checks (fixed)"),
                    None,
                )
            } else {
                (
                    format!(
                        "deploy {n} judged: not fixed ({} failing: {})",
                        reasons.len(),
                        reasons.join("; ")
                    ),
                    None,
                )
            }
        }
        EventKind::Mitigated { windows } => (
            format!("mitigated: {windows} windows in a row within the objective"),
            Some("mitigated"),
        ),
        EventKind::DeployEffect {
            n,
            before,
            after,
            worse,
        } => (
            format!(
                "deploy {n} effect: SLI {} before, {} after{}",
                pct(*before),
                pct(*after),
                if *worse { ": it made things worse" } else { "" }
            ),
            None,
        ),
        EventKind::Note { text, by } => (format!("note by {by}: {text}"), None),
        EventKind::Mitigation {
            action,
            detail,
            outcome,
            reason,
            dropped,
        } => {
            let what = match action {
                MitigationAction::Restart => format!("restart {detail}"),
                MitigationAction::Rollback => format!("roll back to {detail}"),
                MitigationAction::Set => format!("restart with {detail}"),
                MitigationAction::Shed if detail == "0%" => "shedding stopped".to_string(),
                MitigationAction::Shed => format!("shed {detail} of the steady traffic"),
            };
            match (action, outcome) {
                (MitigationAction::Shed, _) => (format!("mitigation: {what}"), Some("mitigation")),
                (_, MitigationOutcome::Live) => (
                    format!("mitigation: {what}: live{}", dropped_text(*dropped)),
                    Some("mitigation"),
                ),
                (_, MitigationOutcome::NotReady) => (
                    format!(
                        "mitigation: {what}: never became ready, the old build kept serving ({})",
                        reason.as_deref().unwrap_or("no reason recorded")
                    ),
                    None,
                ),
            }
        }
        EventKind::Resolved => ("resolved by the on-call".into(), Some("resolved")),
        EventKind::Ended { reason } => (format!("ended ({})", reason_text(*reason)), None),
    }
}

impl Debrief {
    /// The debrief of `record` as of `now` (used only while it runs).
    pub fn build(
        record: &Record,
        sli: Sli,
        reference: Option<Reference>,
        now: Timestamp,
    ) -> Debrief {
        let h = &record.gameday;
        let start = record.started().unwrap_or(h.started_at);
        let fault = record.fault_at();
        let state = match record.ended() {
            Some((at, reason)) => State::Ended { at, reason },
            None => State::Running {
                as_of: now.max(record.events.last().map_or(now, |e| e.at)),
            },
        };
        let timeline = record
            .events
            .iter()
            .map(|e| {
                let (description, marker) = describe(&e.kind);
                Entry {
                    event: e.clone(),
                    since_start_ms: e.at.ms_since(start),
                    since_fault_ms: fault.map(|f| e.at.unix_ms() - f.unix_ms()),
                    description,
                    marker,
                }
            })
            .collect();
        let clocks = record.clocks();
        let so_far = match (&state, fault) {
            (State::Running { as_of }, Some(f)) => Some(as_of.ms_since(f)),
            (State::Running { .. }, None) => Some(0),
            _ => None,
        };
        let clock_rows = [
            ("detect", clocks.detect),
            ("acknowledge", clocks.acknowledge),
            ("mitigate", clocks.mitigate),
            ("fix", clocks.fix),
            ("resolve", clocks.resolve),
        ]
        .into_iter()
        .map(|(name, clock)| ClockRow {
            name,
            clock,
            so_far_ms: matches!(clock, Clock::Running).then_some(so_far).flatten(),
        })
        .collect();
        Debrief {
            format_name: FORMAT_NAME,
            format_version: FORMAT_VERSION,
            id: h.id.clone(),
            drill: h.drill.clone(),
            language: h.language.clone(),
            on_call: h.on_call.clone(),
            blind: h.blind,
            class: h.class.clone(),
            started_at: start,
            state,
            slo: h.slo,
            alert: h.alert,
            fault_check: h.fault_check.clone(),
            clocks,
            clock_rows,
            timeline,
            sli,
            reference,
            action_items: Vec::new(),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    /// The clock as a person reads it.
    pub fn clock_text(row: &ClockRow) -> String {
        match (row.clock, row.so_far_ms) {
            (Clock::Reached { ms }, _) => secs(ms),
            (Clock::Censored { at_ms }, _) => {
                format!("not reached (censored at {})", secs(at_ms))
            }
            (Clock::Running, Some(ms)) => format!("running ({} so far)", secs(ms)),
            (Clock::Running, None) => "running".to_string(),
        }
    }

    /// The headline: what, which language, how it ended (or that it runs).
    pub fn status_line(&self) -> String {
        match &self.state {
            State::Ended { at, reason } => format!(
                "ended {} after the traffic started ({})",
                secs(at.ms_since(self.started_at)),
                reason_text(*reason)
            ),
            State::Running { as_of } => format!(
                "NOT ENDED: still running as of {as_of} ({} after the traffic started); the clocks not reached are running, not censored",
                secs(as_of.ms_since(self.started_at))
            ),
        }
    }

    /// The terminal text.
    pub fn terminal(&self) -> String {
        let mut o = String::new();
        let safe = |s: &str| crate::terminal::safe(s).into_owned();
        let _ = writeln!(
            o,
            "Debrief of game day {} — {} ({})",
            safe(&self.id),
            safe(&self.drill),
            safe(&self.language)
        );
        let _ = writeln!(o, "  started {}; {}", self.started_at, self.status_line());
        let _ = writeln!(
            o,
            "  on call {}{}{}",
            safe(self.on_call.as_deref().unwrap_or("not recorded")),
            self.class
                .as_deref()
                .map_or(String::new(), |c| format!("; class {}", safe(c))),
            if self.blind { "; dealt blind" } else { "" }
        );
        let _ = writeln!(
            o,
            "  SLO {:.2}% good (below 500 within {} ms), windows of {} ms; pages at {}x over {} and {} windows",
            self.slo.availability * 100.0,
            self.slo.latency_ms,
            self.slo.window_ms,
            self.alert.burn_rate,
            self.alert.long_windows,
            self.alert.short_windows
        );

        let _ = writeln!(o, "\nTimeline (T = the fault's start)");
        for e in &self.timeline {
            let _ = writeln!(
                o,
                "  {:>10}  {}  {}",
                offset(e),
                e.event.at,
                safe(&e.description)
            );
        }

        let _ = writeln!(o, "\nClocks from the fault");
        match self.clocks.fault_start_ms {
            Some(ms) => {
                let _ = writeln!(o, "  fault started  {} after the traffic", secs(ms));
            }
            None => {
                let _ = writeln!(o, "  fault started  never (no fault was injected)");
            }
        }
        for r in &self.clock_rows {
            let _ = writeln!(o, "  {:<14} {}", r.name, Debrief::clock_text(r));
        }

        let _ = writeln!(
            o,
            "\nSLI per window (good share; █ within the objective, blank: no request completed)"
        );
        if let Some(p) = &self.sli.problem {
            let _ = writeln!(o, "  ! {}", safe(p));
        }
        if self.sli.windows.is_empty() {
            let _ = writeln!(o, "  no window recorded");
        } else {
            let values: Vec<Option<f64>> = self.sli.windows.iter().map(Window::sli).collect();
            for (i, chunk) in values.chunks(SPARK_PER_LINE).enumerate() {
                let first = (i * SPARK_PER_LINE) as u64 * self.slo.window_ms;
                let _ = writeln!(
                    o,
                    "  {:>8}  {}",
                    format!("+{:.0} s", first as f64 / 1000.0),
                    super::sli::sparkline(chunk, self.slo.availability)
                );
            }
            let (total, good) = self
                .sli
                .windows
                .iter()
                .fold((0, 0), |(t, g), w| (t + w.total, g + w.good));
            let _ = writeln!(
                o,
                "  {} windows, {} requests, {} good overall",
                self.sli.windows.len(),
                total,
                pct((total > 0).then(|| good as f64 / total as f64))
            );
        }

        let _ = writeln!(o, "\nRoot cause");
        match &self.reference {
            Some(r) => {
                let _ = writeln!(o, "{}", indent(&safe(r.root_cause.trim())));
                let _ = writeln!(o, "\nThe fix\n{}", indent(&safe(r.fix.trim())));
                if let Some(d) = &r.diff {
                    let _ = writeln!(
                        o,
                        "\nThe reference fix ({})\n{}",
                        safe(&self.language),
                        indent(&safe(d))
                    );
                }
            }
            None => {
                let _ = writeln!(
                    o,
                    "  {} is not in this catalog: no root cause or reference fix to show",
                    safe(&self.drill)
                );
            }
        }
        let _ = writeln!(
            o,
            "\nAction items (for the team to fill in)\n  - \n  - \n  - "
        );
        o
    }
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

/// A patch as a unified diff, one `--- a/ +++ b/` header per file.
pub fn unified_diff(p: &crate::patch::Patch) -> String {
    use crate::patch::HunkLine;
    let mut o = String::new();
    for f in &p.files {
        let _ = writeln!(o, "--- a/{}\n+++ b/{}", f.path, f.path);
        for h in &f.hunks {
            let old = h
                .lines
                .iter()
                .filter(|l| !matches!(l, HunkLine::Added(_)))
                .count();
            let new = h
                .lines
                .iter()
                .filter(|l| !matches!(l, HunkLine::Removed(_)))
                .count();
            let _ = writeln!(o, "@@ -{},{old} +{},{new} @@", h.old_start, h.new_start);
            // Within each run of changed lines, the removed ones first (a
            // reversed patch has them after the added ones).
            let mut removed = String::new();
            let mut added = String::new();
            let flush = |o: &mut String, r: &mut String, a: &mut String| {
                o.push_str(r);
                o.push_str(a);
                r.clear();
                a.clear();
            };
            for l in &h.lines {
                match l {
                    HunkLine::Context(s) => {
                        flush(&mut o, &mut removed, &mut added);
                        let _ = writeln!(o, " {s}");
                    }
                    HunkLine::Removed(s) => {
                        let _ = writeln!(removed, "-{s}");
                    }
                    HunkLine::Added(s) => {
                        let _ = writeln!(added, "+{s}");
                    }
                }
            }
            flush(&mut o, &mut removed, &mut added);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gameday::record::{Event, Header, FORMAT_VERSION as RECORD_VERSION};
    use std::path::PathBuf;

    pub(crate) fn record(events: Vec<(i64, EventKind)>) -> Record {
        Record {
            format_version: RECORD_VERSION,
            gameday: Header {
                started_at: at(0),
                folder: PathBuf::from("gd"),
                ..crate::gameday::record::test_header()
            },
            events: events
                .into_iter()
                .map(|(ms, kind)| Event { at: at(ms), kind })
                .collect(),
        }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(1_000_000 + ms)
    }

    fn fault() -> EventKind {
        EventKind::Inject {
            kind: InjectKind::Fault,
            text: "f".into(),
            name: None,
            manual: false,
        }
    }

    #[test]
    fn the_timeline_counts_from_the_fault_and_marks_what_the_chart_shows() {
        let r = record(vec![
            (0, EventKind::Started),
            (
                2_000,
                EventKind::Inject {
                    kind: InjectKind::RedHerring,
                    text: "disk".into(),
                    name: None,
                    manual: false,
                },
            ),
            (5_000, fault()),
            (
                9_000,
                EventKind::Alert {
                    long_burn: 20.0,
                    short_burn: 40.0,
                },
            ),
            (12_500, EventKind::Ack),
            (
                20_000,
                EventKind::Deploy {
                    n: 1,
                    outcome: DeployOutcome::Live,
                    reason: None,
                    dropped: None,
                },
            ),
            (
                25_000,
                EventKind::Judged {
                    n: 1,
                    passed: true,
                    reasons: vec![],
                },
            ),
            (26_000, EventKind::Mitigated { windows: 5 }),
            (30_000, EventKind::Resolved),
            (
                30_100,
                EventKind::Ended {
                    reason: EndReason::Resolved,
                },
            ),
        ]);
        let d = Debrief::build(
            &r,
            Sli {
                windows: vec![],
                problem: None,
            },
            None,
            at(99_000),
        );
        assert!(!d.running());
        let offsets: Vec<String> = d.timeline.iter().map(offset).collect();
        assert_eq!(offsets[0], "T-5.0 s");
        assert_eq!(offsets[1], "T-3.0 s");
        assert_eq!(offsets[2], "T+0.0 s");
        assert_eq!(offsets[4], "T+7.5 s");
        let markers: Vec<&str> = d.timeline.iter().filter_map(|e| e.marker).collect();
        assert_eq!(
            markers,
            ["fault", "alert", "ack", "deploy", "mitigated", "resolved"]
        );
        let rows: Vec<String> = d.clock_rows.iter().map(Debrief::clock_text).collect();
        assert_eq!(rows, ["4.0 s", "7.5 s", "21.0 s", "15.0 s", "25.0 s"]);
        let text = d.terminal();
        assert!(
            text.contains("ended 30.1 s after the traffic started (resolved)"),
            "{text}"
        );
        assert!(text.contains("Action items"), "{text}");
        assert!(text.contains("s/b is not in this catalog"), "{text}");
        // The JSON keeps the recorded event's own fields beside the derived ones.
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["state"], "ended");
        assert_eq!(v["reason"], "resolved");
        assert_eq!(v["timeline"][3]["event"], "alert");
        assert_eq!(v["timeline"][3]["long_burn"], 20.0);
        assert_eq!(v["timeline"][3]["since_fault_ms"], 4000);
        assert_eq!(v["action_items"], serde_json::json!([]));
    }

    #[test]
    fn an_unfinished_game_day_has_running_clocks_and_says_so() {
        let r = record(vec![
            (0, EventKind::Started),
            (5_000, fault()),
            (8_000, EventKind::Ack),
        ]);
        let d = Debrief::build(
            &r,
            Sli {
                windows: vec![],
                problem: None,
            },
            None,
            at(15_000),
        );
        assert!(d.running());
        let detect = &d.clock_rows[0];
        assert_eq!(detect.clock, Clock::Running);
        assert_eq!(Debrief::clock_text(detect), "running (10.0 s so far)");
        assert_eq!(Debrief::clock_text(&d.clock_rows[1]), "3.0 s");
        assert!(d.terminal().contains("NOT ENDED"));
        assert_eq!(serde_json::to_value(&d).unwrap()["state"], "running");
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_a_damaged_one_before_it_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.sli.jsonl");
        assert_eq!(read_windows(&p).unwrap(), vec![], "no file: no windows");
        std::fs::write(
            &p,
            "{\"index\":0,\"total\":20,\"good\":20}\n{\"index\":1,\"total\":20,\"good\":10}\n{\"index\":2,\"to",
        )
        .unwrap();
        let w = read_windows(&p).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].sli(), Some(0.5));
        std::fs::write(&p, "{\"index\":0,\"total\":20,\"good\":20}\nnot json\n{\"index\":2,\"total\":1,\"good\":1}\n").unwrap();
        let e = read_windows(&p).unwrap_err();
        assert!(e.to_string().contains("line 2 is damaged"), "{e}");
    }

    #[test]
    fn a_reversed_patch_reads_as_a_unified_diff_from_bugged_to_clean() {
        let p = crate::patch::Patch::parse(
            "--- a/x.go\n+++ b/x.go\n@@ -1,3 +1,3 @@\n a\n-good\n+bad\n c\n",
            Path::new("go.patch"),
        )
        .unwrap();
        let d = unified_diff(&p.reversed());
        assert_eq!(
            d,
            "--- a/x.go\n+++ b/x.go\n@@ -1,3 +1,3 @@\n a\n-bad\n+good\n c\n"
        );
    }
}
