//! The attempts a statistic is computed over: read from one or more results
//! directories (JSON records and imported CSV batches), merged with
//! duplicates by attempt id counted once, filtered.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::attempt::{Record, State};
use crate::clock::Timestamp;
use crate::csvio;
use crate::results::{Damaged, ResultsDir, ResultsError};

use super::km::Obs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fixed,
    Abandoned,
    TimedOut,
    /// Still running: censored at its active time so far.
    Open,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fixed => "fixed",
            Outcome::Abandoned => "abandoned",
            Outcome::TimedOut => "timed_out",
            Outcome::Open => "open",
        }
    }
}

/// One attempt, reduced to what the statistics use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub id: String,
    pub engineer: String,
    pub drill: String,
    pub class: String,
    pub language: String,
    pub started: Timestamp,
    pub outcome: Outcome,
    /// Active seconds to the first correct `found`, if there was one.
    pub time_to_find_s: Option<f64>,
    /// Active seconds to the fix, or to the censoring (give-up, time-out, now).
    pub time_s: f64,
    /// Test-first attempts: active seconds to the first reproducing test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_test_s: Option<f64>,
    pub submits: u32,
    pub hints: u32,
    /// Where it came from: a record's path, or `file.csv:line`.
    pub source: String,
    pub flags: Flags,
}

/// What the record's header says about how the attempt was run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Flags {
    /// Started with `--random`: the drill was hidden until it ended.
    pub blind: bool,
    /// The engineer had met this drill before: left out of comparisons.
    pub repeat: bool,
    /// The drill exists in one language only; the other prevents the bug.
    pub prevented_in: Option<String>,
    /// The engineer's experience in the attempt's language when it started
    /// (from the record's profile copy); `None`: not recorded.
    pub experience: Option<crate::profile::LanguageExperience>,
    /// Started `--test-first`: a reproducing test was the first goal.
    pub test_first: bool,
}

impl Observation {
    pub fn from_record(path: &Path, record: &Record, now: Timestamp) -> Observation {
        let s = record.summary(now);
        let h = &record.attempt;
        let outcome = match s.state {
            State::Fixed => Outcome::Fixed,
            State::Abandoned => Outcome::Abandoned,
            State::Active | State::Paused => Outcome::Open,
        };
        Observation {
            id: h.id.clone(),
            engineer: h.engineer.clone(),
            drill: h.drill.clone(),
            class: h.class.clone(),
            language: h.language.clone(),
            started: s.started_at,
            outcome,
            time_to_find_s: s.time_to_find_ms.map(|ms| ms as f64 / 1000.0),
            time_s: s.time_to_fix_ms.unwrap_or(s.active_ms) as f64 / 1000.0,
            time_to_test_s: s.time_to_test_ms.map(|ms| ms as f64 / 1000.0),
            submits: s.submits,
            hints: s.hints,
            source: path.display().to_string(),
            flags: Flags {
                blind: h.blind,
                repeat: h.repeat,
                prevented_in: h.prevented_in.clone(),
                experience: h.experience.as_ref().and_then(|e| e.get(&h.language)),
                test_first: h.test_first,
            },
        }
    }

    pub fn scenario(&self) -> &str {
        self.drill.split('/').next().unwrap_or(&self.drill)
    }

    pub fn fixed(&self) -> bool {
        self.outcome == Outcome::Fixed
    }

    /// Time-to-fix as a possibly censored observation.
    pub fn fix_obs(&self) -> Obs {
        Obs {
            time: self.time_s,
            event: self.fixed(),
        }
    }

    /// Time-to-find: the first correct `found`; a fix with no claim proves
    /// the cause was found by the fix (an upper bound, used as the time);
    /// otherwise censored where the attempt ended.
    pub fn find_obs(&self) -> Obs {
        match self.time_to_find_s {
            Some(t) => Obs::event(t),
            None if self.fixed() => Obs::event(self.time_s),
            None => Obs::censored(self.time_s),
        }
    }

    /// Time to a reproducing test, for a test-first attempt only: censored
    /// where the attempt ended (or now) when no test reproduced. A fix
    /// without one proves nothing about the test, so it stays censored.
    pub fn test_obs(&self) -> Option<Obs> {
        self.flags.test_first.then(|| match self.time_to_test_s {
            Some(t) => Obs::event(t),
            None => Obs::censored(self.time_s),
        })
    }

    /// Time-to-fix for rank tests: a censored attempt ranks after every fix.
    pub fn rank_time(&self) -> f64 {
        if self.fixed() {
            self.time_s
        } else {
            f64::INFINITY
        }
    }
}

/// Which attempts to keep; empty lists keep everything.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    pub engineers: Vec<String>,
    pub scenarios: Vec<String>,
    pub classes: Vec<String>,
    pub languages: Vec<String>,
    pub drills: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Filter {
    pub fn keeps(&self, o: &Observation) -> bool {
        let ok = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        ok(&self.engineers, &o.engineer)
            && ok(&self.scenarios, o.scenario())
            && ok(&self.classes, &o.class)
            && ok(&self.languages, &o.language)
            && ok(&self.drills, &o.drill)
            && self.since.is_none_or(|t| o.started >= t)
            && self.until.is_none_or(|t| o.started < t)
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Dataset {
    pub results_dirs: Vec<PathBuf>,
    pub observations: Vec<Observation>,
    /// Records that could not be read: reported, never silently skipped.
    pub damaged: Vec<Damaged>,
    /// Attempts met more than once (same id in several places), counted once.
    pub duplicates: usize,
    /// Records timed by a test clock (`DRILL_TEST_CLOCK`), left out.
    pub test_clock_excluded: usize,
    /// Open blind attempts, left out whatever is asked: counted in any row,
    /// one would tell its drill, scenario or class while it must stay hidden.
    pub blind_open_excluded: usize,
    /// Attempts the filter left out.
    pub filtered_out: usize,
}

/// Reads every directory; `now` is the time open attempts are censored at.
pub fn load(dirs: &[PathBuf], filter: &Filter, now: Timestamp) -> Result<Dataset, ResultsError> {
    let mut ds = Dataset::default();
    let mut seen: HashSet<String> = HashSet::new();
    for dir in dirs {
        let results = ResultsDir::at(dir);
        ds.results_dirs.push(results.root().to_path_buf());
        let (mut batch, damaged, test_clock, blind_open) = read_records(results.root(), now)?;
        ds.damaged.extend(damaged);
        ds.test_clock_excluded += test_clock;
        ds.blind_open_excluded += blind_open;
        for file in csvio::imported_files(results.root()) {
            let parsed = std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|bytes| csvio::parse_stored(&bytes, &file).map_err(|e| e.to_string()));
            match parsed {
                Ok(rows) => batch.extend(rows),
                Err(why) => ds.damaged.push(Damaged { path: file, why }),
            }
        }
        for o in batch {
            if !seen.insert(o.id.clone()) {
                ds.duplicates += 1;
            } else if filter.keeps(&o) {
                ds.observations.push(o);
            } else {
                ds.filtered_out += 1;
            }
        }
    }
    ds.observations
        .sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
    ds.damaged.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ds)
}

/// Observations, damaged records, test-clock and open blind records left out.
type Read = (Vec<Observation>, Vec<Damaged>, usize, usize);

/// The records of one directory (the same files `ResultsDir::list` reads),
/// each reduced to an observation as soon as it is read, so memory holds
/// observations, not event logs; read on every core.
fn read_records(root: &Path, now: Timestamp) -> Result<Read, ResultsError> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => {
            return Err(ResultsError::Io {
                action: "reading the results directory",
                path: root.to_path_buf(),
                source,
            })
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ResultsError::Io {
            action: "reading the results directory",
            path: root.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') && name.ends_with(".json") {
            paths.push(entry.path());
        }
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = paths.len().div_ceil(threads).max(1);
    let parts: Vec<Read> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut out: Read = Default::default();
                    for path in part {
                        match crate::results::read_record(path) {
                            Ok(r) if r.attempt.test_clock => out.2 += 1,
                            Ok(r) if r.sealed() => out.3 += 1,
                            Ok(r) => out.0.push(Observation::from_record(path, &r, now)),
                            Err(ResultsError::Damaged { path, why }) => {
                                out.1.push(Damaged { path, why })
                            }
                            Err(e) => out.1.push(Damaged {
                                path: path.clone(),
                                why: e.to_string(),
                            }),
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread"))
            .collect()
    });
    let mut all: Read = Default::default();
    for (o, d, t, b) in parts {
        all.0.extend(o);
        all.1.extend(d);
        all.2 += t;
        all.3 += b;
    }
    Ok(all)
}
