//! The game-day record (`<results>/gamedays/<id>.json`, docs/results-format.md):
//! a header and an append-only event log, written by the facilitator's
//! process and by the on-call's commands alike. Every append takes the game
//! day's lock, reads the record, adds the event and replaces the file
//! atomically, so a `kill -9` of any of them loses no recorded event.
//!
//! The clocks (detect, acknowledge, mitigate, fix, resolve) are derived
//! from the events only, measured from the fault's start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::definition::Inject;
use super::sli::{AlertRule, Slo};
use crate::clock::Timestamp;
use crate::results::{ResultsDir, ResultsError};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub id: String,
    pub drill: String,
    pub language: String,
    pub seed: u64,
    pub started_at: Timestamp,
    pub time_box_ms: u64,
    /// The game day's folder (workspace, logs, pager, control files).
    pub folder: PathBuf,
    pub slo: Slo,
    pub alert: AlertRule,
    /// The check whose fault rules are the fault inject.
    pub fault_check: String,
    pub schedule: Vec<Inject>,
    /// Who was on call (`--on-call`); absent in records written before it
    /// was kept (such a game day is selected by no `--engineer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_call: Option<String>,
    /// Dealt blind (`start --random`): until the game day ends, nothing the
    /// on-call sees names the drill, its class or its cause. `false` in
    /// records written before blind game days.
    #[serde(default)]
    pub blind: bool,
    /// The drill's bug class (`drill stats --gameday --class`); absent in
    /// records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeployOutcome {
    /// The new build answered its ready line and took the traffic.
    Live,
    /// It never became ready; the old one kept serving.
    NotReady,
    /// It did not build; nothing changed.
    BuildFailed,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MitigationAction {
    /// The running build started again (same binary, same environment).
    Restart,
    /// The build live before the current one (the bugged original when none).
    Rollback,
    /// The running build restarted with one environment variable changed.
    Set,
    /// The steady traffic drops a share of its requests at the generator.
    Shed,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MitigationOutcome {
    /// The started service answered its ready line and took the traffic.
    Live,
    /// It never became ready; the old one kept serving.
    NotReady,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Resolved,
    TimeBox,
    Interrupted,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The traffic started (the game day's zero).
    Started,
    Inject {
        kind: super::definition::InjectKind,
        text: String,
        /// The schedule entry's name (`fault`, `escalation-1`, ...); absent
        /// in records written before injects had names.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Fired by hand (`drill gameday inject NAME`), not by the timeline.
        #[serde(default)]
        manual: bool,
    },
    Alert {
        long_burn: f64,
        short_burn: f64,
    },
    AlertCleared {
        short_burn: f64,
    },
    Ack,
    Deploy {
        n: u32,
        outcome: DeployOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Requests that got no answer (refused, reset) from when the new
        /// build was started until the old one had stopped; absent when
        /// nothing was swapped (and in records written before it was counted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dropped: Option<u64>,
    },
    /// The deployed build of deploy `n` judged by the drill's checks, in a copy.
    Judged {
        n: u32,
        passed: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<String>,
    },
    Mitigated {
        windows: u32,
    },
    /// What live deploy `n` did to the SLI: the share of good requests over
    /// the long window before the switch and after it; `worse` when below
    /// the objective after and lower than before.
    DeployEffect {
        n: u32,
        before: Option<f64>,
        after: Option<f64>,
        worse: bool,
    },
    /// A line of the scribe's timeline (`drill gameday note`).
    Note {
        text: String,
        by: String,
    },
    /// A mitigation other than a deploy (`drill gameday mitigate`): what was
    /// done and whether the service it started took the traffic.
    Mitigation {
        action: MitigationAction,
        /// What exactly: the build restarted or rolled back to, `KEY=VALUE`, or `50%`.
        detail: String,
        outcome: MitigationOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// As a deploy's: requests that got no answer during the swap; absent
        /// for shedding (nothing swapped) and a start that never became ready.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dropped: Option<u64>,
    },
    Resolved,
    Ended {
        reason: EndReason,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub format_version: u32,
    pub gameday: Header,
    pub events: Vec<Event>,
}

/// One clock: reached after `ms` from the fault, or not reached before the
/// game day ended (censored at its end), or still running.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Clock {
    Reached { ms: u64 },
    Censored { at_ms: u64 },
    Running,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Clocks {
    /// When the fault started, ms after the traffic did; `None` before it.
    pub fault_start_ms: Option<u64>,
    pub detect: Clock,
    pub acknowledge: Clock,
    pub mitigate: Clock,
    pub fix: Clock,
    pub resolve: Clock,
}

impl Record {
    pub fn started(&self) -> Option<Timestamp> {
        self.first(|k| matches!(k, EventKind::Started))
    }

    pub fn fault_at(&self) -> Option<Timestamp> {
        self.first(|k| {
            matches!(
                k,
                EventKind::Inject {
                    kind: super::definition::InjectKind::Fault,
                    ..
                }
            )
        })
    }

    pub fn ended(&self) -> Option<(Timestamp, EndReason)> {
        self.events.iter().find_map(|e| match e.kind {
            EventKind::Ended { reason } => Some((e.at, reason)),
            _ => None,
        })
    }

    /// A blind game day that has not ended (nor been resolved: a resolve
    /// whose facilitator was killed before writing the end counts): what
    /// the on-call sees names no drill, class or cause.
    pub fn hides_drill(&self) -> bool {
        self.gameday.blind
            && self.ended().is_none()
            && !self.has(|k| matches!(k, EventKind::Resolved))
    }

    /// The events as the on-call may see them: while [`Record::hides_drill`],
    /// a judged deploy's failing checks are numbered, not named (as `submit`
    /// shows a blind attempt's), since a check's name tells the cause.
    pub fn on_call_events(&self) -> Vec<Event> {
        let mut events = self.events.clone();
        if self.hides_drill() {
            for e in &mut events {
                if let EventKind::Judged { reasons, .. } = &mut e.kind {
                    for (i, r) in reasons.iter_mut().enumerate() {
                        let observed = r.split_once(": ").map_or("failed", |(_, why)| why);
                        *r = format!("failing check {}: {observed}", i + 1);
                    }
                }
            }
        }
        events
    }

    pub fn has(&self, pred: impl Fn(&EventKind) -> bool) -> bool {
        self.events.iter().any(|e| pred(&e.kind))
    }

    fn first(&self, pred: impl Fn(&EventKind) -> bool) -> Option<Timestamp> {
        self.events.iter().find(|e| pred(&e.kind)).map(|e| e.at)
    }

    /// The deploy numbers given so far.
    pub fn next_deploy(&self) -> u32 {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Deploy { n, .. } | EventKind::Judged { n, .. } => Some(n),
                _ => None,
            })
            .max()
            .map_or(1, |n| n + 1)
    }

    /// The clocks, from the events only. `now` is used for a game day that
    /// has not ended (its clocks not reached are `Running`).
    pub fn clocks(&self) -> Clocks {
        let fault = self.fault_at();
        let start = self.started();
        let end = self.ended().map(|(at, _)| at);
        let clock = |reached: Option<Timestamp>| -> Clock {
            match (fault, reached, end) {
                (Some(f), Some(r), _) if r >= f => Clock::Reached { ms: r.ms_since(f) },
                (Some(f), _, Some(e)) => Clock::Censored {
                    at_ms: e.ms_since(f),
                },
                (None, _, Some(_)) => Clock::Censored { at_ms: 0 },
                _ => Clock::Running,
            }
        };
        // Only what happened at or after the fault stops a clock: an alert
        // before the fault is a false page, not a detection.
        let after = |pred: &dyn Fn(&EventKind) -> bool| {
            fault.and_then(|f| {
                self.events
                    .iter()
                    .find(|e| e.at >= f && pred(&e.kind))
                    .map(|e| e.at)
            })
        };
        let fixed_n: Vec<u32> = self
            .events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Judged {
                    n, passed: true, ..
                } => Some(n),
                _ => None,
            })
            .collect();
        // Fixed: when the deploy whose build passed went live.
        let fixed = after(
            &|k| matches!(k, EventKind::Deploy { n, outcome: DeployOutcome::Live, .. } if fixed_n.contains(n)),
        );
        Clocks {
            fault_start_ms: match (fault, start) {
                (Some(f), Some(s)) => Some(f.ms_since(s)),
                _ => None,
            },
            detect: clock(after(&|k| matches!(k, EventKind::Alert { .. }))),
            acknowledge: clock(after(&|k| matches!(k, EventKind::Ack))),
            mitigate: clock(after(&|k| matches!(k, EventKind::Mitigated { .. }))),
            fix: clock(fixed),
            resolve: clock(after(&|k| matches!(k, EventKind::Resolved))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("game-day record {} is damaged: {why}; move it aside or fix it", path.display())]
    Damaged { path: PathBuf, why: String },
    #[error("no game day {id} in {}", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("game day {id} has ended ({reason:?}); nothing more is recorded")]
    Ended { id: String, reason: EndReason },
}

fn lock_name(id: &str) -> String {
    format!("gameday-{id}")
}

pub fn load(results: &ResultsDir, id: &str) -> Result<Record, RecordError> {
    let path = results.gameday_path(id);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RecordError::NotFound {
                id: id.to_string(),
                dir: results.root().to_path_buf(),
            })
        }
        Err(e) => {
            return Err(RecordError::Damaged {
                path,
                why: e.to_string(),
            })
        }
    };
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| RecordError::Damaged {
        path: path.clone(),
        why: e.to_string(),
    })?;
    if record.format_version != FORMAT_VERSION || record.gameday.id != id {
        return Err(RecordError::Damaged {
            path,
            why: format!(
                "format_version {} / id {:?} (expected {FORMAT_VERSION} / {id:?})",
                record.format_version, record.gameday.id
            ),
        });
    }
    Ok(record)
}

fn save(results: &ResultsDir, record: &Record) -> Result<(), RecordError> {
    let bytes = serde_json::to_vec_pretty(record).expect("a record serializes");
    results.save_gameday(&record.gameday.id, &bytes)?;
    Ok(())
}

/// Writes a new game day's record with its first event.
pub fn create(
    results: &ResultsDir,
    header: Header,
    first: EventKind,
    at: Timestamp,
) -> Result<Record, RecordError> {
    let _lock = results.lock(&lock_name(&header.id), "gameday start")?;
    let record = Record {
        format_version: FORMAT_VERSION,
        gameday: header,
        events: vec![Event { at, kind: first }],
    };
    save(results, &record)?;
    Ok(record)
}

/// Appends one event under the game day's lock; refused once it has ended
/// (except the end itself, written once).
pub fn append(
    results: &ResultsDir,
    id: &str,
    command: &str,
    kind: EventKind,
    at: Timestamp,
) -> Result<Record, RecordError> {
    let lock = loop {
        match results.lock(&lock_name(id), command) {
            Ok(l) => break l,
            // Another kit process is writing; appends take milliseconds.
            Err(ResultsError::Busy { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut record = load(results, id)?;
    if let Some((_, reason)) = record.ended() {
        return Err(RecordError::Ended {
            id: id.to_string(),
            reason,
        });
    }
    // Events stay in time order even if a clock stepped back.
    let at = record.events.last().map_or(at, |e| e.at.max(at));
    record.events.push(Event { at, kind });
    save(results, &record)?;
    drop(lock);
    Ok(record)
}

/// A header for the unit tests of the record and its readers: game day
/// `g1` of drill `s/b` in Go, started at the epoch, the default SLO and
/// alert rule, a 60 s time box, no schedule.
#[cfg(test)]
pub(crate) fn test_header() -> Header {
    Header {
        id: "g1".into(),
        drill: "s/b".into(),
        language: "go".into(),
        seed: 1,
        started_at: Timestamp::from_unix_ms(0),
        time_box_ms: 60_000,
        folder: PathBuf::from("/tmp/g"),
        slo: Slo {
            availability: 0.99,
            latency_ms: 500,
            window_ms: 1000,
        },
        alert: AlertRule {
            burn_rate: 14.4,
            long_windows: 10,
            short_windows: 2,
            mitigated_windows: 5,
        },
        fault_check: "c".into(),
        schedule: vec![],
        on_call: Some("ana".into()),
        blind: false,
        class: Some("missing-timeout".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gameday::definition::InjectKind;

    fn header() -> Header {
        test_header()
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_ms(1_000_000 + s * 1000)
    }

    fn fault() -> EventKind {
        EventKind::Inject {
            kind: InjectKind::Fault,
            text: "f".into(),
            name: Some("fault".into()),
            manual: false,
        }
    }

    #[test]
    fn format_version_1_records_without_the_new_fields_still_read() {
        let old = r#"{"at":"2026-12-02T06:01:46.402Z","event":"inject","kind":"fault","text":"x"}"#;
        let e: Event = serde_json::from_str(old).unwrap();
        assert_eq!(
            e.kind,
            EventKind::Inject {
                kind: InjectKind::Fault,
                text: "x".into(),
                name: None,
                manual: false
            }
        );
        let m = EventKind::Mitigation {
            action: MitigationAction::Set,
            detail: "HEALTH_TIMEOUT_MS=200".into(),
            outcome: MitigationOutcome::Live,
            reason: None,
            dropped: None,
        };
        let json = serde_json::to_string(&Event {
            at: at(1),
            kind: m.clone(),
        })
        .unwrap();
        assert!(json.contains(r#""event":"mitigation""#), "{json}");
        assert!(json.contains(r#""action":"set""#), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back.kind, m);
        let n: Event = serde_json::from_str(
            r#"{"at":"2026-12-02T06:01:46.402Z","event":"note","text":"t","by":"ana"}"#,
        )
        .unwrap();
        assert_eq!(
            n.kind,
            EventKind::Note {
                text: "t".into(),
                by: "ana".into()
            }
        );
    }

    #[test]
    fn clocks_run_from_the_fault_and_a_page_before_it_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let results = ResultsDir::at(dir.path());
        create(&results, header(), EventKind::Started, at(0)).unwrap();
        let alert = EventKind::Alert {
            long_burn: 20.0,
            short_burn: 30.0,
        };
        for (s, k) in [
            (3, alert.clone()),
            (8, fault()),
            (15, alert),
            (20, EventKind::Ack),
            (
                30,
                EventKind::Judged {
                    n: 1,
                    passed: false,
                    reasons: vec!["x".into()],
                },
            ),
            (
                31,
                EventKind::Deploy {
                    n: 1,
                    outcome: DeployOutcome::Live,
                    reason: None,
                    dropped: None,
                },
            ),
            (
                40,
                EventKind::Deploy {
                    n: 2,
                    outcome: DeployOutcome::Live,
                    reason: None,
                    dropped: None,
                },
            ),
            (45, EventKind::Mitigated { windows: 5 }),
            (
                50,
                EventKind::Judged {
                    n: 2,
                    passed: true,
                    reasons: vec![],
                },
            ),
        ] {
            append(&results, "g1", "test", k, at(s)).unwrap();
        }
        let r = load(&results, "g1").unwrap();
        let c = r.clocks();
        assert_eq!(c.fault_start_ms, Some(8000));
        assert_eq!(c.detect, Clock::Reached { ms: 7000 });
        assert_eq!(c.acknowledge, Clock::Reached { ms: 12_000 });
        assert_eq!(c.mitigate, Clock::Reached { ms: 37_000 });
        assert_eq!(
            c.fix,
            Clock::Reached { ms: 32_000 },
            "the passing build went live at 40 s"
        );
        assert_eq!(c.resolve, Clock::Running);
        assert_eq!(r.next_deploy(), 3);

        append(
            &results,
            "g1",
            "test",
            EventKind::Ended {
                reason: EndReason::TimeBox,
            },
            at(68),
        )
        .unwrap();
        let c = load(&results, "g1").unwrap().clocks();
        assert_eq!(c.resolve, Clock::Censored { at_ms: 60_000 });
        let e = append(&results, "g1", "test", EventKind::Resolved, at(70)).unwrap_err();
        assert!(matches!(e, RecordError::Ended { .. }), "{e}");
    }

    #[test]
    fn a_header_without_the_newer_fields_reads_with_their_defaults() {
        let mut v = serde_json::to_value(header()).unwrap();
        let m = v.as_object_mut().unwrap();
        for k in ["on_call", "blind", "class"] {
            assert!(m.remove(k).is_some(), "{k} is written");
        }
        let old: Header = serde_json::from_value(v).unwrap();
        assert_eq!(
            (old.on_call, old.blind, old.class),
            (None, false, None),
            "an older record: no on-call, not blind, no class"
        );
        // None is left out when written, so an older reader sees its own shape.
        let h = Header {
            on_call: None,
            class: None,
            ..header()
        };
        let text = serde_json::to_string(&h).unwrap();
        assert!(
            !text.contains("on_call") && !text.contains("class"),
            "{text}"
        );
    }

    #[test]
    fn a_blind_game_day_numbers_its_failing_checks_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let results = ResultsDir::at(dir.path());
        let h = Header {
            blind: true,
            ..header()
        };
        create(&results, h, EventKind::Started, at(0)).unwrap();
        let judged = EventKind::Judged {
            n: 1,
            passed: false,
            reasons: vec!["hung_upstream_is_taken_out_of_rotation: got 504, want 200".into()],
        };
        let r = append(&results, "g1", "t", judged.clone(), at(1)).unwrap();
        assert!(r.hides_drill());
        let shown = serde_json::to_string(&r.on_call_events()).unwrap();
        assert!(!shown.contains("hung_upstream"), "{shown}");
        assert!(
            shown.contains("failing check 1: got 504, want 200"),
            "{shown}"
        );
        let ended = EventKind::Ended {
            reason: EndReason::Resolved,
        };
        let r = append(&results, "g1", "t", ended, at(2)).unwrap();
        assert!(!r.hides_drill());
        assert_eq!(
            r.on_call_events()[1].kind,
            judged,
            "all shown after the end"
        );
    }

    #[test]
    fn a_game_day_ended_before_its_fault_censors_every_clock() {
        let dir = tempfile::tempdir().unwrap();
        let results = ResultsDir::at(dir.path());
        create(&results, header(), EventKind::Started, at(0)).unwrap();
        append(
            &results,
            "g1",
            "t",
            EventKind::Ended {
                reason: EndReason::Interrupted,
            },
            at(2),
        )
        .unwrap();
        let c = load(&results, "g1").unwrap().clocks();
        assert_eq!(c.fault_start_ms, None);
        assert_eq!(c.detect, Clock::Censored { at_ms: 0 });
    }
}
