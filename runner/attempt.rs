//! The attempt record: one engineer on one drill in one language.
//!
//! A record is a header (who, what, with which tools) and an append-only log
//! of events with UTC timestamps. Every figure — active time, time-to-find,
//! time-to-fix, submits, hints — is derived from the log by the pure functions
//! here; nothing derived is ever stored, so a figure can always be recomputed
//! and traced back to the events it came from. Persistence lives in
//! `results.rs`; the on-disk format is specified in `docs/results-format.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// The `format` field of every record file.
pub const FORMAT_NAME: &str = "drillkit-attempt";
/// Bumped on any change a version-1 reader would misread.
pub const FORMAT_VERSION: u32 = 1;

/// One attempt, as stored in `<results>/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub format: String,
    pub format_version: u32,
    pub attempt: Header,
    pub events: Vec<Event>,
}

/// What the attempt is: fixed at start, never changed afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Unique and drill-free (`20250314T092653Z-ada-3f9c2e`), so it can name
    /// the record file and the workspace link even in blind mode.
    pub id: String,
    /// `<scenario>/<bug>`.
    pub drill: String,
    pub title: String,
    pub class: String,
    pub difficulty: u8,
    pub language: String,
    /// Started with `--random`: the drill stays hidden until the attempt ends.
    pub blind: bool,
    pub engineer: String,
    /// Toolchain name → the version line it printed (`go version go1.22.2 linux/amd64`).
    pub toolchains: BTreeMap<String, String>,
    pub kit_version: String,
    /// The catalog's git commit (with `-dirty` if it had local changes), or
    /// `unknown` when the catalog is not a git checkout.
    pub catalog_revision: String,
    /// Where the workspace was created, on the engineer's machine.
    pub workspace: String,
    pub hints_available: u32,
    /// The attempt was timed by a test clock (`DRILL_TEST_CLOCK`); statistics
    /// must not mix it with real attempts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_clock: bool,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The timer starts (after the workspace was created and built).
    Start,
    Pause,
    Resume,
    /// The `number`th graded hint (1-based) was shown.
    Hint {
        number: u32,
    },
    /// A claimed root-cause location (`path:line`, relative to the workspace)
    /// and whether it was within tolerance of the lines the bug touched.
    Found {
        location: String,
        correct: bool,
    },
    /// `drill run`: the engineer reproduced with the kit. Informational; this
    /// is the engineer's own debugging time, so it is not excluded.
    Run {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_ms: Option<u64>,
        duration_ms: u64,
    },
    /// `drill submit` finished. Logged at the end of verification, so the
    /// verification span is `[at - verification_ms, at]`, which active time
    /// excludes.
    Submit {
        verdict: Verdict,
        /// One line per failure; empty on a pass.
        #[serde(default)]
        reasons: Vec<String>,
        verification_ms: u64,
        /// The build of the engineer's code inside the verification.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_ms: Option<u64>,
        /// Test files (the scenario's `test_files` globs) the engineer changed.
        #[serde(default)]
        test_files_changed: Vec<String>,
    },
    /// The timer stopped on a passing submit (always right after it).
    Fixed,
    /// The engineer gave up: a censored observation, kept.
    Abandon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Builds, visible tests pass, every acceptance check passes.
    Pass,
    /// The engineer's code was judged and found wanting.
    Fail,
    /// The kit could not judge (infrastructure error): not counted as a submit.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Active,
    Paused,
    Fixed,
    Abandoned,
}

impl State {
    pub fn is_ended(self) -> bool {
        matches!(self, State::Fixed | State::Abandoned)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Paused => "paused",
            State::Fixed => "fixed",
            State::Abandoned => "abandoned",
        }
    }
}

/// Why an event cannot be added in the attempt's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the attempt is paused; run `drill resume` first")]
    Paused,
    #[error("the attempt is already paused")]
    AlreadyPaused,
    #[error("the attempt is not paused")]
    NotPaused,
    #[error("the attempt has ended ({0}); start a new one with `drill start`")]
    Ended(&'static str),
    #[error("an attempt starts exactly once, with its first event")]
    Start,
    #[error("`fixed` must follow a passing submit")]
    FixedWithoutPass,
    #[error("no hints left (all {0} used)")]
    NoHintsLeft(u32),
    #[error("hint {got} out of order (expected hint {expected})")]
    HintOrder { got: u32, expected: u32 },
}

/// Everything a person or `drill stats` wants to know, derived from the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub state: State,
    pub started_at: Timestamp,
    /// When the attempt was fixed or abandoned.
    pub ended_at: Option<Timestamp>,
    /// Time the engineer spent on the drill: from start to the end (or `now`),
    /// minus pauses, minus the kit's own verification time.
    pub active_ms: u64,
    pub paused_ms: u64,
    /// The kit's verification time (submits), excluded from `active_ms`.
    pub verification_ms: u64,
    /// Active time at the first correct `found`.
    pub time_to_find_ms: Option<u64>,
    /// Active time at `fixed`.
    pub time_to_fix_ms: Option<u64>,
    /// Judged submits (pass or fail; infrastructure errors are not counted).
    pub submits: u32,
    pub failed_submits: u32,
    pub submit_errors: u32,
    pub hints: u32,
    pub found_claims: u32,
    pub wrong_found_claims: u32,
    /// Abandoned, or still open: time-to-fix is a lower bound, not a value.
    pub censored: bool,
    /// Any submit where the engineer had changed test files.
    pub test_files_changed: bool,
}

impl Record {
    /// A new attempt whose timer starts at `at`.
    pub fn new(attempt: Header, at: Timestamp) -> Self {
        Record {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            attempt,
            events: vec![Event {
                at,
                kind: EventKind::Start,
            }],
        }
    }

    /// The state after the last event.
    pub fn state(&self) -> State {
        replay(&self.events).map_or(State::Active, |r| r.state)
    }

    pub fn hints_used(&self) -> u32 {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Hint { .. }))
            .count() as u32
    }

    pub fn last_at(&self) -> Option<Timestamp> {
        self.events.last().map(|e| e.at)
    }

    /// Appends `kind` at `at` if the current state allows it. A clock that
    /// went backwards (NTP step) is clamped to the last event's time, so the
    /// log stays ordered and no interval is negative.
    pub fn push(&mut self, kind: EventKind, at: Timestamp) -> Result<&Event, TransitionError> {
        let at = self.last_at().map_or(at, |last| at.max(last));
        let state = self.state();
        check(state, &self.events, &kind, self.attempt.hints_available)?;
        self.events.push(Event { at, kind });
        Ok(self.events.last().expect("just pushed"))
    }

    /// Checks what serde cannot: the header is the format we read, the first
    /// event is `start`, times never go back, and every event was allowed
    /// when it was logged.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT_NAME {
            return Err(format!(
                "format is {:?}, expected {FORMAT_NAME:?}",
                self.format
            ));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(format!(
                "format_version {} is not supported by this drill (it reads {FORMAT_VERSION}); \
                 upgrade drillkit",
                self.format_version
            ));
        }
        if self.attempt.id.is_empty() {
            return Err("attempt.id is empty".to_string());
        }
        match self.events.first() {
            Some(Event {
                kind: EventKind::Start,
                ..
            }) => {}
            _ => return Err("the first event is not `start`".to_string()),
        }
        for pair in self.events.windows(2) {
            if pair[1].at < pair[0].at {
                return Err(format!(
                    "events out of order: {} after {}",
                    pair[1].at, pair[0].at
                ));
            }
        }
        replay(&self.events).map(|_| ())
    }

    /// Derives every figure as of `now` (used only while the attempt is
    /// open: an ended attempt's figures stop at its end).
    pub fn summary(&self, now: Timestamp) -> Summary {
        summarize(&self.events, now)
    }
}

fn check(
    state: State,
    events: &[Event],
    kind: &EventKind,
    hints_available: u32,
) -> Result<(), TransitionError> {
    if let EventKind::Start = kind {
        return Err(TransitionError::Start);
    }
    match state {
        State::Fixed => return Err(TransitionError::Ended("fixed")),
        State::Abandoned => return Err(TransitionError::Ended("abandoned")),
        State::Active | State::Paused => {}
    }
    let paused = state == State::Paused;
    match kind {
        EventKind::Start => unreachable!("handled above"),
        EventKind::Pause if paused => Err(TransitionError::AlreadyPaused),
        EventKind::Resume if !paused => Err(TransitionError::NotPaused),
        EventKind::Pause | EventKind::Resume | EventKind::Abandon => Ok(()),
        EventKind::Hint { .. }
        | EventKind::Found { .. }
        | EventKind::Run { .. }
        | EventKind::Submit { .. }
            if paused =>
        {
            Err(TransitionError::Paused)
        }
        EventKind::Hint { number } => {
            let used = events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Hint { .. }))
                .count() as u32;
            if used >= hints_available {
                Err(TransitionError::NoHintsLeft(hints_available))
            } else if *number != used + 1 {
                Err(TransitionError::HintOrder {
                    got: *number,
                    expected: used + 1,
                })
            } else {
                Ok(())
            }
        }
        EventKind::Found { .. } | EventKind::Run { .. } | EventKind::Submit { .. } => Ok(()),
        EventKind::Fixed => match events.last().map(|e| &e.kind) {
            Some(EventKind::Submit {
                verdict: Verdict::Pass,
                ..
            }) => Ok(()),
            _ => Err(TransitionError::FixedWithoutPass),
        },
    }
}

struct Replay {
    state: State,
}

/// Replays the log through the transition rules.
fn replay(events: &[Event]) -> Result<Replay, String> {
    let mut state = State::Active;
    for (i, event) in events.iter().enumerate() {
        if i == 0 {
            continue; // `start`, checked by the caller
        }
        // Hint counts are checked against the header at push time only: a
        // record stays readable if a catalog later drops a hint.
        let check_result = check(state, &events[..i], &event.kind, u32::MAX);
        if let Err(e) = check_result {
            return Err(format!("event {} ({}): {e}", i + 1, event.at));
        }
        state = match event.kind {
            EventKind::Pause => State::Paused,
            EventKind::Resume => State::Active,
            EventKind::Fixed => State::Fixed,
            EventKind::Abandon => State::Abandoned,
            _ => state,
        };
    }
    Ok(Replay { state })
}

/// The heart of honest measurement: one pass over the log.
pub fn summarize(events: &[Event], now: Timestamp) -> Summary {
    let started_at = events.first().map_or(now, |e| e.at);
    let mut state = State::Active;
    // Active time accumulates over running intervals; verification spans are
    // subtracted, clipped to the running interval they fall in.
    let mut running_since: Option<Timestamp> = None;
    let mut paused_since: Option<Timestamp> = None;
    let mut closed_ms = 0u64;
    let mut paused_ms = 0u64;
    let mut excluded_ms = 0u64;
    let mut s = Summary {
        state,
        started_at,
        ended_at: None,
        active_ms: 0,
        paused_ms: 0,
        verification_ms: 0,
        time_to_find_ms: None,
        time_to_fix_ms: None,
        submits: 0,
        failed_submits: 0,
        submit_errors: 0,
        hints: 0,
        found_claims: 0,
        wrong_found_claims: 0,
        censored: true,
        test_files_changed: false,
    };
    let active_at = |closed: u64, running: Option<Timestamp>, excluded: u64, t: Timestamp| {
        (closed + running.map_or(0, |r| t.ms_since(r))).saturating_sub(excluded)
    };
    for event in events {
        let at = event.at;
        match &event.kind {
            EventKind::Start => running_since = Some(at),
            EventKind::Pause => {
                if let Some(r) = running_since.take() {
                    closed_ms += at.ms_since(r);
                }
                paused_since = Some(at);
                state = State::Paused;
            }
            EventKind::Resume => {
                if let Some(p) = paused_since.take() {
                    paused_ms += at.ms_since(p);
                }
                running_since = Some(at);
                state = State::Active;
            }
            EventKind::Hint { .. } => s.hints += 1,
            EventKind::Found { correct, .. } => {
                s.found_claims += 1;
                if *correct {
                    if s.time_to_find_ms.is_none() {
                        s.time_to_find_ms =
                            Some(active_at(closed_ms, running_since, excluded_ms, at));
                    }
                } else {
                    s.wrong_found_claims += 1;
                }
            }
            EventKind::Run { .. } => {}
            EventKind::Submit {
                verdict,
                verification_ms,
                test_files_changed,
                ..
            } => {
                let span = running_since.map_or(0, |r| (*verification_ms).min(at.ms_since(r)));
                excluded_ms += span;
                s.verification_ms += span;
                match verdict {
                    Verdict::Pass => s.submits += 1,
                    Verdict::Fail => {
                        s.submits += 1;
                        s.failed_submits += 1;
                    }
                    Verdict::Error => s.submit_errors += 1,
                }
                s.test_files_changed |= !test_files_changed.is_empty();
            }
            EventKind::Fixed | EventKind::Abandon => {
                if let Some(r) = running_since.take() {
                    closed_ms += at.ms_since(r);
                }
                if let Some(p) = paused_since.take() {
                    paused_ms += at.ms_since(p);
                }
                s.ended_at = Some(at);
                if matches!(event.kind, EventKind::Fixed) {
                    state = State::Fixed;
                    s.time_to_fix_ms = Some(closed_ms.saturating_sub(excluded_ms));
                    s.censored = false;
                } else {
                    state = State::Abandoned;
                }
            }
        }
    }
    if !state.is_ended() {
        let now = events.last().map_or(now, |e| now.max(e.at));
        if let Some(p) = paused_since {
            paused_ms += now.ms_since(p);
        }
        s.active_ms = active_at(closed_ms, running_since, excluded_ms, now);
    } else {
        s.active_ms = closed_ms.saturating_sub(excluded_ms);
    }
    s.state = state;
    s.paused_ms = paused_ms;
    s
}

/// `1h02m03s`, `4m05s`, `12s`: durations as a person reads them.
pub fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else if secs > 0 {
        format!("{s}s")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, TestClock};

    const MIN: u64 = 60;

    fn header() -> Header {
        Header {
            id: "20250101T000000Z-ada-000001".into(),
            drill: "billing-ledger/double-charge".into(),
            title: "Customers charged twice".into(),
            class: "retry-idempotency".into(),
            difficulty: 2,
            language: "go".into(),
            blind: false,
            engineer: "ada".into(),
            toolchains: BTreeMap::from([("go".into(), "go version go1.22.2".into())]),
            kit_version: "0.1.0".into(),
            catalog_revision: "abc123".into(),
            workspace: "/tmp/ws".into(),
            hints_available: 3,
            test_clock: true,
        }
    }

    fn setup() -> (TestClock, Record) {
        let clock = TestClock::at("2025-01-01T00:00:00Z".parse().unwrap());
        let record = Record::new(header(), clock.now());
        (clock, record)
    }

    fn submit(verdict: Verdict, verification_ms: u64) -> EventKind {
        EventKind::Submit {
            verdict,
            reasons: vec![],
            verification_ms,
            build_ms: None,
            test_files_changed: vec![],
        }
    }

    #[test]
    fn active_time_is_wall_time_without_pauses() {
        let (clock, mut r) = setup();
        clock.advance_secs(10 * MIN);
        r.push(EventKind::Pause, clock.now()).unwrap();
        clock.advance_secs(60 * MIN);
        let s = r.summary(clock.now());
        assert_eq!(s.state, State::Paused);
        assert_eq!(s.active_ms, 10 * MIN * 1000);
        assert_eq!(s.paused_ms, 60 * MIN * 1000);
        r.push(EventKind::Resume, clock.now()).unwrap();
        clock.advance_secs(5 * MIN);
        let s = r.summary(clock.now());
        assert_eq!(s.state, State::Active);
        assert_eq!(s.active_ms, 15 * MIN * 1000);
    }

    #[test]
    fn verification_time_is_excluded_from_active_and_fix_times() {
        let (clock, mut r) = setup();
        clock.advance_secs(5 * MIN);
        // A failing submit whose verification took 20 s of the clock.
        clock.advance_secs(20);
        r.push(submit(Verdict::Fail, 20_000), clock.now()).unwrap();
        clock.advance_secs(5 * MIN);
        clock.advance_secs(30);
        r.push(submit(Verdict::Pass, 30_000), clock.now()).unwrap();
        r.push(EventKind::Fixed, clock.now()).unwrap();
        clock.advance_secs(60 * MIN); // after the end nothing counts
        let s = r.summary(clock.now());
        assert_eq!(s.state, State::Fixed);
        assert_eq!(s.verification_ms, 50_000);
        assert_eq!(s.active_ms, 10 * MIN * 1000);
        assert_eq!(s.time_to_fix_ms, Some(10 * MIN * 1000));
        assert_eq!((s.submits, s.failed_submits), (2, 1));
        assert!(!s.censored);
    }

    #[test]
    fn time_to_find_is_the_first_correct_claim() {
        let (clock, mut r) = setup();
        clock.advance_secs(3 * MIN);
        let wrong = EventKind::Found {
            location: "main.go:1".into(),
            correct: false,
        };
        r.push(wrong, clock.now()).unwrap();
        clock.advance_secs(MIN);
        r.push(EventKind::Pause, clock.now()).unwrap();
        clock.advance_secs(30 * MIN);
        r.push(EventKind::Resume, clock.now()).unwrap();
        clock.advance_secs(2 * MIN);
        let right = EventKind::Found {
            location: "internal/provider/client.go:42".into(),
            correct: true,
        };
        r.push(right.clone(), clock.now()).unwrap();
        clock.advance_secs(MIN);
        r.push(right, clock.now()).unwrap();
        let s = r.summary(clock.now());
        assert_eq!(s.time_to_find_ms, Some(6 * MIN * 1000));
        assert_eq!((s.found_claims, s.wrong_found_claims), (3, 1));
        assert_eq!(s.time_to_fix_ms, None);
        assert!(s.censored, "an open attempt is censored until fixed");
    }

    #[test]
    fn abandoned_attempt_is_censored_and_stops_the_clock() {
        let (clock, mut r) = setup();
        clock.advance_secs(7 * MIN);
        r.push(EventKind::Pause, clock.now()).unwrap();
        clock.advance_secs(MIN);
        r.push(EventKind::Abandon, clock.now()).unwrap();
        clock.advance_secs(100 * MIN);
        let s = r.summary(clock.now());
        assert_eq!(s.state, State::Abandoned);
        assert!(s.censored);
        assert_eq!(s.active_ms, 7 * MIN * 1000);
        assert_eq!(s.paused_ms, MIN * 1000);
        assert_eq!(s.ended_at, Some(r.events.last().unwrap().at));
        assert_eq!(s.time_to_fix_ms, None);
    }

    #[test]
    fn infrastructure_errors_are_not_counted_as_submits() {
        let (clock, mut r) = setup();
        clock.advance_secs(MIN);
        r.push(submit(Verdict::Error, 1000), clock.now()).unwrap();
        let s = r.summary(clock.now());
        assert_eq!((s.submits, s.submit_errors), (0, 1));
        assert_eq!(s.active_ms, 59_000);
    }

    #[test]
    fn hints_are_counted_in_order_and_run_out() {
        let (clock, mut r) = setup();
        for n in 1..=3 {
            r.push(EventKind::Hint { number: n }, clock.now()).unwrap();
        }
        assert_eq!(r.hints_used(), 3);
        assert_eq!(
            r.push(EventKind::Hint { number: 4 }, clock.now()),
            Err(TransitionError::NoHintsLeft(3))
        );
        assert_eq!(r.summary(clock.now()).hints, 3);
    }

    #[test]
    fn actions_while_paused_or_ended_are_refused() {
        let (clock, mut r) = setup();
        r.push(EventKind::Pause, clock.now()).unwrap();
        assert_eq!(
            r.push(EventKind::Pause, clock.now()),
            Err(TransitionError::AlreadyPaused)
        );
        assert_eq!(
            r.push(submit(Verdict::Fail, 0), clock.now()),
            Err(TransitionError::Paused)
        );
        r.push(EventKind::Resume, clock.now()).unwrap();
        assert_eq!(
            r.push(EventKind::Resume, clock.now()),
            Err(TransitionError::NotPaused)
        );
        assert_eq!(
            r.push(EventKind::Fixed, clock.now()),
            Err(TransitionError::FixedWithoutPass)
        );
        r.push(EventKind::Abandon, clock.now()).unwrap();
        assert_eq!(
            r.push(EventKind::Resume, clock.now()),
            Err(TransitionError::Ended("abandoned"))
        );
        assert_eq!(
            r.push(EventKind::Start, clock.now()),
            Err(TransitionError::Start)
        );
    }

    #[test]
    fn a_clock_that_steps_back_is_clamped_to_keep_the_log_ordered() {
        let (clock, mut r) = setup();
        clock.advance_secs(MIN);
        r.push(EventKind::Pause, clock.now()).unwrap();
        clock.set("2024-12-31T23:00:00Z".parse().unwrap());
        r.push(EventKind::Resume, clock.now()).unwrap();
        assert!(r.validate().is_ok());
        assert_eq!(r.events[2].at, r.events[1].at);
    }

    #[test]
    fn record_round_trips_through_json() {
        let (clock, mut r) = setup();
        clock.advance_secs(MIN);
        r.push(EventKind::Hint { number: 1 }, clock.now()).unwrap();
        r.push(
            EventKind::Run {
                build_ms: Some(1200),
                duration_ms: 9000,
            },
            clock.now(),
        )
        .unwrap();
        r.push(
            EventKind::Submit {
                verdict: Verdict::Fail,
                reasons: vec!["check late_provider_answer_charges_once: 2 effects".into()],
                verification_ms: 4000,
                build_ms: Some(1500),
                test_files_changed: vec!["internal/ledger/ledger_test.go".into()],
            },
            clock.now(),
        )
        .unwrap();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(json.contains("\"event\": \"submit\""), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        back.validate().unwrap();
    }

    #[test]
    fn validate_rejects_logs_that_could_not_have_been_written() {
        let (clock, mut r) = setup();
        r.push(EventKind::Pause, clock.now()).unwrap();
        let mut bad = r.clone();
        bad.events.push(bad.events[1].clone()); // pause twice
        assert!(bad.validate().unwrap_err().contains("already paused"));
        let mut bad = r.clone();
        bad.events.remove(0);
        assert!(bad.validate().is_err());
        let mut bad = r.clone();
        bad.format_version = 99;
        assert!(bad.validate().unwrap_err().contains("upgrade"));
    }

    #[test]
    fn human_durations_read_naturally() {
        assert_eq!(human_duration(400), "0.4s");
        assert_eq!(human_duration(12_000), "12s");
        assert_eq!(human_duration(245_000), "4m05s");
        assert_eq!(human_duration(3_723_000), "1h02m03s");
    }
}
