//! The attempt record: one engineer on one drill in one language.
//!
//! A record is a header (who, what, with which tools) and an append-only log
//! of events with UTC timestamps. Every figure — active time, time-to-find,
//! time-to-fix, submits, hints — is derived from the log by the pure functions
//! here; nothing derived is ever stored, so a figure can always be recomputed
//! and traced back to the events it came from. Persistence lives in
//! `results.rs`; the on-disk format is specified in `docs/results-format.md`.
//!
//! While a blind attempt is open its record keeps the drill's identity
//! sealed on disk (see [`Record`]'s serialization), so the file a command
//! points at names no drill either.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::Timestamp;

/// The `format` field of every record file.
pub const FORMAT_NAME: &str = "drillkit-attempt";
/// The version new records are written in: 3, whose header carries the
/// engineer's experience at start (`experience`; absent: no profile then).
/// Bumped on any change an older reader would misread.
pub const FORMAT_VERSION: u32 = 3;
/// Records written before profiles existed: no `experience`, and its
/// absence says nothing about the engineer. Still read, and appended to
/// as version 1 (an attempt never changes what it recorded at start).
pub const FORMAT_VERSION_BEFORE_PROFILES: u32 = 1;
/// The version of a record whose drill identity is sealed (an open blind
/// attempt): its clear version + 1 (2 for a version-1 record, 4 for a
/// version-3 one), with `drill`, `title`, `class` and `difficulty` replaced
/// by `sealed`. A reader that predates sealing says "upgrade" instead of
/// calling the record damaged.
pub const SEALED_FORMAT_VERSION: u32 = FORMAT_VERSION + 1;
const SEALED_BEFORE_PROFILES: u32 = FORMAT_VERSION_BEFORE_PROFILES + 1;
/// The version of a test-first attempt's record (`drill start --test-first`)
/// and of one whose log holds `test_run` events (`drill watch`): 5, whose
/// header may say `test_first` and whose log may hold `check_test` and
/// `test_run` events. Only such records are written in it (a version-3
/// record becomes 5 with its first `test_run`), so every other record stays
/// readable by a kit that predates them; one that reads a version-5 record
/// says "upgrade" instead of misreading it.
pub const FORMAT_VERSION_TEST_FIRST: u32 = 5;
const SEALED_TEST_FIRST: u32 = FORMAT_VERSION_TEST_FIRST + 1;

/// The sealed version of a clear one (see [`SEALED_FORMAT_VERSION`]).
fn sealed_version(clear: u32) -> u32 {
    clear + 1
}

/// The clear version of a sealed one, if `v` is one.
fn clear_version(v: u32) -> Option<u32> {
    match v {
        SEALED_FORMAT_VERSION => Some(FORMAT_VERSION),
        SEALED_BEFORE_PROFILES => Some(FORMAT_VERSION_BEFORE_PROFILES),
        SEALED_TEST_FIRST => Some(FORMAT_VERSION_TEST_FIRST),
        _ => None,
    }
}

/// One attempt, as stored in `<results>/<id>.json`. Serialized through
/// [`seal`] while [`Record::sealed`]: the in-memory record always holds the
/// identity, the file of an open blind attempt never does.
#[derive(Debug, Clone, PartialEq)]
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
    /// Dealt without the engineer choosing or seeing it (`--random`,
    /// `--next`): the drill stays hidden until the attempt ends. `false`: the
    /// engineer picked the drill by id and could read it with `drill show`.
    pub blind: bool,
    /// The engineer had attempted this drill before (in either language)
    /// when this attempt started: a second look, not a first measurement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat: bool,
    /// The drill's `prevented_in` at start (the language whose compiler or
    /// idioms prevent the bug, so the drill exists in the other one only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevented_in: Option<String>,
    pub engineer: String,
    /// Toolchain name → the version line it printed (`go version go1.22.2 linux/amd64`).
    pub toolchains: BTreeMap<String, String>,
    pub kit_version: String,
    /// The catalog's git commit (with `-dirty` if it had local changes), or
    /// `unknown` when the catalog is not a git checkout.
    pub catalog_revision: String,
    /// The catalog folder the attempt was started from, so later commands
    /// find it (or say which one they need) without `--catalog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Where the workspace was created, on the engineer's machine.
    pub workspace: String,
    pub hints_available: u32,
    /// The attempt was timed by a test clock (`DRILL_TEST_CLOCK`); statistics
    /// must not mix it with real attempts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_clock: bool,
    /// The engineer's profile (`drill profile`) as it was when the attempt
    /// started: a copy, so a later change of the profile rewrites no
    /// history. `None`: no profile then (or a record from before profiles,
    /// `format_version` 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience: Option<crate::profile::Experience>,
    /// Started with `--test-first`: the engineer's first goal is a test that
    /// reproduces the incident (`drill check-test`), then the fix. Such a
    /// record is `format_version` 5.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_first: bool,
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
    /// `drill check-test` finished (test-first attempts only): the
    /// engineer's new or changed tests were run against the bugged and the
    /// reference-fixed trees. Logged at the end, like a submit, so
    /// `[at - verification_ms, at]` is the kit's time, excluded from active
    /// time.
    CheckTest {
        verdict: crate::testfirst::TestVerdict,
        /// The tests run (`pkg:TestName`, `target:name`, or a whole
        /// `pkg`/`target` when a helper changed).
        #[serde(default)]
        tests: Vec<String>,
        /// Runs per tree (1, or the timing-dependent drills' N).
        runs: u32,
        /// Runs that failed on the bugged tree.
        bugged_failed: u32,
        /// Runs that passed on the reference-fixed tree.
        fixed_passed: u32,
        verification_ms: u64,
    },
    /// `drill watch` rebuilt the engineer's code and ran the visible tests
    /// (on a save, or a key). The engineer's own build/test cycle: counted
    /// in active time, like `drill run`.
    TestRun {
        /// Built and every visible test passed.
        passed: bool,
        /// `None`: the code did not build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_ms: Option<u64>,
        duration_ms: u64,
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
    #[error(
        "this attempt's record (format_version {0}) predates watch runs; start a new attempt \
         to have them recorded"
    )]
    TooOld(u32),
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
    /// Test-first attempts: active time at the first `check-test` whose
    /// verdict was `reproducing`.
    pub time_to_test_ms: Option<u64>,
    /// `check-test` runs (each verdict counts).
    pub check_tests: u32,
    /// `drill watch` build/test cycles.
    pub test_runs: u32,
    /// Active time at the first `drill watch` cycle whose tests passed.
    pub time_to_green_ms: Option<u64>,
}

impl Record {
    /// A new attempt whose timer starts at `at`.
    pub fn new(attempt: Header, at: Timestamp) -> Self {
        Record {
            format: FORMAT_NAME.to_string(),
            format_version: if attempt.test_first {
                FORMAT_VERSION_TEST_FIRST
            } else {
                FORMAT_VERSION
            },
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
        if let EventKind::TestRun { .. } = kind {
            match self.format_version {
                FORMAT_VERSION => self.format_version = FORMAT_VERSION_TEST_FIRST,
                FORMAT_VERSION_TEST_FIRST => {}
                v => return Err(TransitionError::TooOld(v)),
            }
        }
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
        let has = |f: fn(&EventKind) -> bool| self.events.iter().any(|e| f(&e.kind));
        let check_tests = has(|k| matches!(k, EventKind::CheckTest { .. }));
        let test_runs = has(|k| matches!(k, EventKind::TestRun { .. }));
        match self.format_version {
            FORMAT_VERSION_TEST_FIRST if check_tests && !self.attempt.test_first => {
                return Err("a check_test event in an attempt that is not test_first".to_string())
            }
            FORMAT_VERSION_TEST_FIRST if self.attempt.test_first || test_runs => {}
            FORMAT_VERSION_TEST_FIRST => {
                return Err(format!(
                    "a format_version {FORMAT_VERSION_TEST_FIRST} record with neither \
                     attempt.test_first nor a test_run event"
                ))
            }
            _ if self.attempt.test_first || check_tests || test_runs => {
                return Err(format!(
                    "attempt.test_first, a check_test or a test_run event in a format_version {} \
                     record (those are format_version {FORMAT_VERSION_TEST_FIRST})",
                    self.format_version
                ))
            }
            FORMAT_VERSION => {}
            FORMAT_VERSION_BEFORE_PROFILES if self.attempt.experience.is_none() => {}
            FORMAT_VERSION_BEFORE_PROFILES => {
                return Err(format!(
                    "attempt.experience in a format_version {FORMAT_VERSION_BEFORE_PROFILES} \
                     record (experience is recorded from format_version {FORMAT_VERSION})"
                ))
            }
            v => {
                return Err(format!(
                    "format_version {v} is not supported by this drill (it reads \
                     {FORMAT_VERSION_BEFORE_PROFILES} to {SEALED_TEST_FIRST}); upgrade drillkit"
                ))
            }
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

/// The header fields a sealed record keeps out of its file.
const IDENTITY: [&str; 4] = ["drill", "title", "class", "difficulty"];

impl Record {
    /// An open blind attempt: its file keeps the drill's identity sealed.
    pub fn sealed(&self) -> bool {
        self.attempt.blind && !self.state().is_ended()
    }
}

#[derive(Serialize)]
struct RecordOut<'a, H: Serialize, E: Serialize> {
    format: &'a str,
    format_version: u32,
    attempt: H,
    events: E,
}

#[derive(Deserialize)]
struct RecordIn {
    format: String,
    format_version: u32,
    attempt: serde_json::Value,
    events: serde_json::Value,
}

/// The key of an event's sealed `reasons`: its own, so no two seals share one.
fn reasons_key(id: &str, index: usize) -> String {
    format!("{id}/events/{index}/reasons")
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.sealed() {
            return RecordOut {
                format: &self.format,
                format_version: self.format_version,
                attempt: &self.attempt,
                events: &self.events,
            }
            .serialize(s);
        }
        let mut header = match serde_json::to_value(&self.attempt).map_err(S::Error::custom)? {
            serde_json::Value::Object(map) => map,
            _ => return Err(S::Error::custom("a header serializes to an object")),
        };
        let mut identity = serde_json::Map::new();
        for key in IDENTITY {
            if let Some(v) = header.remove(key) {
                identity.insert(key.to_string(), v);
            }
        }
        let bytes = serde_json::to_vec(&identity).map_err(S::Error::custom)?;
        header.insert("sealed".into(), seal::seal(&self.attempt.id, &bytes).into());
        // A failed submit's reasons name the acceptance checks that failed,
        // which tell the drill as surely as its id: sealed too.
        let mut events = serde_json::to_value(&self.events).map_err(S::Error::custom)?;
        for (i, event) in events.as_array_mut().into_iter().flatten().enumerate() {
            let Some(event) = event.as_object_mut() else {
                continue;
            };
            match event.remove("reasons") {
                Some(serde_json::Value::Array(r)) if !r.is_empty() => {
                    let bytes = serde_json::to_vec(&r).map_err(S::Error::custom)?;
                    let sealed = seal::seal(&reasons_key(&self.attempt.id, i), &bytes);
                    event.insert("sealed_reasons".into(), sealed.into());
                }
                Some(r) => {
                    event.insert("reasons".into(), r);
                }
                None => {}
            }
        }
        RecordOut {
            format: &self.format,
            format_version: sealed_version(self.format_version),
            attempt: header,
            events,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let RecordIn {
            format,
            mut format_version,
            mut attempt,
            mut events,
        } = RecordIn::deserialize(d)?;
        let sealed = attempt.as_object_mut().and_then(|h| h.remove("sealed"));
        match (sealed, clear_version(format_version)) {
            (Some(sealed), Some(clear)) => {
                let id = attempt["id"].as_str().unwrap_or_default().to_string();
                let identity = sealed
                    .as_str()
                    .and_then(|hex| seal::unseal(&id, hex))
                    .and_then(|bytes| {
                        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
                            .ok()
                    })
                    .ok_or_else(|| {
                        D::Error::custom(
                            "attempt.sealed does not unseal with this attempt.id                              (the id or the seal was edited)",
                        )
                    })?;
                let header = attempt.as_object_mut().expect("had a `sealed` key");
                header.extend(identity);
                for (i, event) in events.as_array_mut().into_iter().flatten().enumerate() {
                    let Some(event) = event.as_object_mut() else {
                        continue;
                    };
                    let Some(sealed) = event.remove("sealed_reasons") else {
                        continue;
                    };
                    let reasons = sealed
                        .as_str()
                        .and_then(|hex| seal::unseal(&reasons_key(&id, i), hex))
                        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                        .ok_or_else(|| {
                            D::Error::custom(format!(
                                "events[{i}].sealed_reasons does not unseal with this attempt.id \
                                 (the id, the seal or the order of events was edited)"
                            ))
                        })?;
                    event.insert("reasons".into(), reasons);
                }
                format_version = clear;
            }
            (Some(_), None) => {
                return Err(D::Error::custom(format!(
                    "attempt.sealed in a format_version {format_version} record \
                     (sealed: {SEALED_BEFORE_PROFILES}, {SEALED_FORMAT_VERSION} or {SEALED_TEST_FIRST})"
                )))
            }
            (None, Some(_)) => {
                return Err(D::Error::custom(format!(
                    "a format_version {format_version} record without attempt.sealed"
                )))
            }
            (None, None) => {}
        }
        let attempt: Header = serde_json::from_value(attempt)
            .map_err(|e| D::Error::custom(format!("attempt: {e}")))?;
        let events: Vec<Event> =
            serde_json::from_value(events).map_err(|e| D::Error::custom(format!("events: {e}")))?;
        Ok(Record {
            format,
            format_version,
            attempt,
            events,
        })
    }
}

/// Keeps a blind attempt's drill out of sight in its file: the identity's
/// JSON XOR-ed with a keystream derived from the attempt id, as hex. This
/// obscures, it does not encrypt: anyone with this source can unseal it.
/// It keeps a `cat` or a `grep` of the results from naming the drill.
mod seal {
    fn keystream(id: &str) -> impl Iterator<Item = u8> {
        // FNV-1a of the id seeds a SplitMix64 sequence.
        let mut x = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        std::iter::from_fn(move || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Some(z ^ (z >> 31))
        })
        .flat_map(u64::to_le_bytes)
    }

    pub fn seal(id: &str, bytes: &[u8]) -> String {
        bytes
            .iter()
            .zip(keystream(id))
            .map(|(b, k)| format!("{:02x}", b ^ k))
            .collect()
    }

    pub fn unseal(id: &str, hex: &str) -> Option<Vec<u8>> {
        if !hex.len().is_multiple_of(2) {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .zip(keystream(id))
            .map(|(b, k)| Some(b? ^ k))
            .collect()
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
        | EventKind::CheckTest { .. }
        | EventKind::TestRun { .. }
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
        EventKind::Found { .. }
        | EventKind::Run { .. }
        | EventKind::Submit { .. }
        | EventKind::CheckTest { .. }
        | EventKind::TestRun { .. } => Ok(()),
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

/// The kit's own span ending at `at` (a submit's verification, a
/// check-test), clipped to the running interval it falls in.
fn kit_span(running_since: Option<Timestamp>, ms: u64, at: Timestamp) -> u64 {
    running_since.map_or(0, |r| ms.min(at.ms_since(r)))
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
        time_to_test_ms: None,
        check_tests: 0,
        test_runs: 0,
        time_to_green_ms: None,
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
            EventKind::TestRun { passed, .. } => {
                s.test_runs += 1;
                if *passed && s.time_to_green_ms.is_none() {
                    s.time_to_green_ms = Some(active_at(closed_ms, running_since, excluded_ms, at));
                }
            }
            EventKind::Submit {
                verdict,
                verification_ms,
                test_files_changed,
                ..
            } => {
                let span = kit_span(running_since, *verification_ms, at);
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
            EventKind::CheckTest {
                verdict,
                verification_ms,
                ..
            } => {
                let span = kit_span(running_since, *verification_ms, at);
                excluded_ms += span;
                s.verification_ms += span;
                s.check_tests += 1;
                if *verdict == crate::testfirst::TestVerdict::Reproducing
                    && s.time_to_test_ms.is_none()
                {
                    s.time_to_test_ms = Some(active_at(closed_ms, running_since, excluded_ms, at));
                }
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

/// Durations as a person reads them: [`crate::util::human_ms`], the one format.
pub fn human_duration(ms: u64) -> String {
    crate::util::human_ms(ms)
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
            repeat: false,
            prevented_in: None,
            engineer: "ada".into(),
            toolchains: BTreeMap::from([("go".into(), "go version go1.22.2".into())]),
            kit_version: "0.1.0".into(),
            catalog_revision: "abc123".into(),
            catalog: None,
            workspace: "/tmp/ws".into(),
            hints_available: 3,
            test_clock: true,
            experience: None,
            test_first: false,
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
    fn an_open_blind_record_names_no_drill_on_disk_and_reads_back_whole() {
        let (clock, mut r) = setup();
        r.attempt.blind = true;
        let json = serde_json::to_string_pretty(&r).unwrap();
        for secret in [
            "billing-ledger",
            "double-charge",
            "charged twice",
            "retry-idempotency",
        ] {
            assert!(!json.contains(secret), "the file shows {secret:?}:\n{json}");
        }
        assert!(json.contains("\"sealed\""), "{json}");
        assert!(json.contains("\"format_version\": 4"), "{json}");
        // A failed submit's reasons name checks: sealed as well.
        clock.advance_secs(MIN);
        let failed = EventKind::Submit {
            verdict: Verdict::Fail,
            reasons: vec!["check late_provider_answer_charges_once: 2 effects".into()],
            verification_ms: 1000,
            build_ms: None,
            test_files_changed: vec![],
        };
        r.push(failed, clock.now()).unwrap();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(!json.contains("late_provider"), "{json}");
        assert!(json.contains("\"sealed_reasons\""), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r, "the reader unseals the identity");
        back.validate().unwrap();

        // Once it ends, the file names the drill again, as version 1.
        clock.advance_secs(MIN);
        r.push(EventKind::Abandon, clock.now()).unwrap();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(
            json.contains("\"drill\": \"billing-ledger/double-charge\""),
            "{json}"
        );
        assert!(json.contains("\"format_version\": 3"), "{json}");
        assert!(!json.contains("sealed"), "{json}");
    }

    fn experience() -> crate::profile::Experience {
        crate::profile::Experience {
            updated_at: "2024-06-01T00:00:00Z".parse().unwrap(),
            languages: BTreeMap::from([(
                "go".to_string(),
                crate::profile::LanguageExperience {
                    years: 6.0,
                    oncall: true,
                },
            )]),
        }
    }

    #[test]
    fn the_experience_at_start_is_kept_sealed_or_not() {
        let (clock, mut r) = setup();
        r.attempt.experience = Some(experience());
        r.attempt.blind = true;
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"years\":6.0"), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!((back.format_version, &back), (FORMAT_VERSION, &r));
        back.validate().unwrap();
        r.push(EventKind::Abandon, clock.now()).unwrap();
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.attempt.experience, Some(experience()));
    }

    #[test]
    fn records_from_before_profiles_are_read_and_stay_version_1() {
        let (clock, mut r) = setup();
        r.format_version = FORMAT_VERSION_BEFORE_PROFILES;
        r.attempt.blind = true;
        let sealed = serde_json::to_string_pretty(&r).unwrap();
        assert!(sealed.contains("\"format_version\": 2"), "{sealed}");
        let mut back: Record = serde_json::from_str(&sealed).unwrap();
        back.validate().unwrap();
        back.push(EventKind::Abandon, clock.now()).unwrap();
        let ended = serde_json::to_string_pretty(&back).unwrap();
        assert!(ended.contains("\"format_version\": 1"), "{ended}");
        // A version-1 record cannot have carried an experience.
        let mut bad = back.clone();
        bad.attempt.experience = Some(experience());
        assert!(bad.validate().unwrap_err().contains("format_version 3"));
        r.push(EventKind::Abandon, clock.now()).unwrap();
        assert!(r.validate().is_ok());
    }

    #[test]
    fn a_seal_that_does_not_match_its_attempt_id_is_refused() {
        let (_, mut r) = setup();
        r.attempt.blind = true;
        let json = serde_json::to_string(&r).unwrap();
        let moved = json.replace("000001", "000002");
        let err = serde_json::from_str::<Record>(&moved)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not unseal"), "{err}");
    }

    #[test]
    fn repeat_and_prevented_in_are_written_only_when_set() {
        let (_, mut r) = setup();
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains("repeat") && !json.contains("prevented_in"),
            "{json}"
        );
        r.attempt.repeat = true;
        r.attempt.prevented_in = Some("rust".into());
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"repeat\":true"), "{json}");
        assert!(json.contains("\"prevented_in\":\"rust\""), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), r);
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
    fn a_watch_run_makes_a_record_version_5_and_time_to_green_is_the_first_pass() {
        let (clock, mut r) = setup();
        let run = |passed| EventKind::TestRun {
            passed,
            build_ms: Some(900),
            duration_ms: 2000,
        };
        clock.advance_secs(MIN);
        r.push(run(false), clock.now()).unwrap();
        assert_eq!(r.format_version, FORMAT_VERSION_TEST_FIRST);
        clock.advance_secs(MIN);
        r.push(run(true), clock.now()).unwrap();
        r.push(run(true), clock.now()).unwrap();
        let s = r.summary(clock.now());
        assert_eq!((s.test_runs, s.time_to_green_ms), (3, Some(2 * MIN * 1000)));
        assert_eq!(
            s.active_ms,
            2 * MIN * 1000,
            "a watch cycle is the engineer's time"
        );
        r.validate().unwrap();
        let mut old = r.clone();
        old.format_version = FORMAT_VERSION;
        assert!(old.validate().unwrap_err().contains("test_run"));
        let mut v1 = setup().1;
        v1.format_version = FORMAT_VERSION_BEFORE_PROFILES;
        assert_eq!(
            v1.push(run(true), clock.now()),
            Err(TransitionError::TooOld(FORMAT_VERSION_BEFORE_PROFILES))
        );
    }

    #[test]
    fn human_durations_read_naturally() {
        assert_eq!(human_duration(400), "0.4s");
        assert_eq!(human_duration(12_000), "12s");
        assert_eq!(human_duration(245_000), "4m05s");
        assert_eq!(human_duration(3_723_000), "1h02m03s");
    }
}
