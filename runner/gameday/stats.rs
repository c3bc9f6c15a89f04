//! The clocks of many game days (`drill stats --gameday`, the report's
//! game-day section; docs/stats-format.md, "Game days"): time to detect,
//! acknowledge, mitigate, fix and resolve per language, as Kaplan–Meier
//! distributions with the honesty rules of time-to-fix — the estimator is
//! the stats module's ([`KaplanMeier`], [`Distribution`]), not a second one.
//!
//! A clock not reached when its game day ended is a censored observation at
//! the end; no interval comes from fewer than [`MIN_PER_SIDE`] game days on
//! a side; a median the data does not reach is a bound (`> t`). Game days
//! that have not ended (or whose facilitator was killed) are left out, and
//! counted, like open attempts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::record::{self, Clock, Clocks, EndReason, EventKind, Record};
use crate::clock::Timestamp;
use crate::export::{self, Unit};
use crate::results::{ResultsDir, GAMEDAYS_DIR};
use crate::stats::km::{KaplanMeier, Obs};
use crate::stats::{Distribution, MIN_PER_SIDE};

pub const FORMAT_NAME: &str = "drillkit-gameday-stats";
/// Bumped on any change a reader of the previous version would misread.
pub const FORMAT_VERSION: u32 = 1;

/// The clocks, in the order a game day reaches them.
pub const CLOCKS: [&str; 5] = ["detect", "acknowledge", "mitigate", "fix", "resolve"];

fn clock_of<'c>(c: &'c Clocks, name: &str) -> &'c Clock {
    match name {
        "detect" => &c.detect,
        "acknowledge" => &c.acknowledge,
        "mitigate" => &c.mitigate,
        "fix" => &c.fix,
        _ => &c.resolve,
    }
}

/// A record that could not be read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Damaged {
    pub path: PathBuf,
    pub why: String,
}

/// The game-day records of some results directories, merged by id (a copy
/// with more events wins: it was copied later).
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<Record>,
    pub damaged: Vec<Damaged>,
}

pub fn load(dirs: &[PathBuf]) -> Loaded {
    let mut by_id: BTreeMap<String, Record> = BTreeMap::new();
    let mut damaged = Vec::new();
    for dir in dirs {
        let results = ResultsDir::at(dir);
        let folder = dir.join(GAMEDAYS_DIR);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(".json")?;
                (!id.starts_with('.') && !id.ends_with(".sli")).then(|| id.to_string())
            })
            .collect();
        ids.sort();
        for id in ids {
            match record::load(&results, &id) {
                Ok(r) => {
                    let keep = by_id
                        .get(&id)
                        .is_none_or(|old| r.events.len() > old.events.len());
                    if keep {
                        by_id.insert(id, r);
                    }
                }
                Err(e) => damaged.push(Damaged {
                    path: results.gameday_path(&id),
                    why: e.to_string(),
                }),
            }
        }
    }
    Loaded {
        records: by_id.into_values().collect(),
        damaged,
    }
}

/// What a blind game day that has not ended shows for its drill.
pub const HIDDEN: &str = "hidden (blind, not ended)";

/// Which game days: the stats selection's filters that apply to them.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub drills: Vec<String>,
    pub scenarios: Vec<String>,
    pub languages: Vec<String>,
    /// Who was on call (a record that names nobody is left out when given).
    pub engineers: Vec<String>,
    /// The drill's bug class (the header's, else `class_of` gives it).
    pub classes: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Filter {
    pub fn keeps(&self, r: &Record) -> bool {
        let h = &r.gameday;
        let scenario = h.drill.split('/').next().unwrap_or_default();
        // A blind game day still running is matched by no drill or class:
        // being selected by one would tell which it is.
        if r.hides_drill() && !(self.drills.is_empty() && self.classes.is_empty()) {
            return false;
        }
        (self.drills.is_empty() || self.drills.contains(&h.drill))
            && (self.engineers.is_empty()
                || h.on_call
                    .as_ref()
                    .is_some_and(|o| self.engineers.contains(o)))
            && (self.classes.is_empty()
                || h.class.as_ref().is_some_and(|c| self.classes.contains(c)))
            && (self.scenarios.is_empty() || self.scenarios.iter().any(|s| s == scenario))
            && (self.languages.is_empty() || self.languages.contains(&h.language))
            && self.since.is_none_or(|t| h.started_at >= t)
            && self.until.is_none_or(|t| h.started_at < t)
    }
}

/// One clock in one language.
#[derive(Debug, Clone, Serialize)]
pub struct LanguageClock {
    pub language: String,
    pub gamedays: usize,
    pub reached: usize,
    pub censored: usize,
    /// Kaplan–Meier in seconds from the fault.
    pub distribution: Distribution,
    /// The curve itself (the report draws it); not in the JSON.
    #[serde(skip)]
    pub km: KaplanMeier,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClockStats {
    pub clock: &'static str,
    pub by_language: Vec<LanguageClock>,
}

/// One game day, as the table lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    /// `hidden (blind, not ended)` for a blind game day that has not ended.
    pub drill: String,
    pub language: String,
    /// Who was on call; `None` for a record from before it was kept.
    pub on_call: Option<String>,
    pub started_at: Timestamp,
    /// `None`: not ended (left out of the distributions).
    pub ended: Option<EndReason>,
    pub clocks: Clocks,
    /// Deploys that went live, and how many of them made the SLI worse.
    pub live_deploys: usize,
    pub worse_deploys: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GamedayStats {
    pub format_name: &'static str,
    pub format_version: u32,
    /// The level of every interval (Brookmeyer–Crowley on the log-log band).
    pub conf: f64,
    pub min_per_side: usize,
    /// Game days in the distributions (ended).
    pub gamedays: usize,
    /// Game days selected but not ended: listed, not counted.
    pub not_ended: usize,
    pub clocks: Vec<ClockStats>,
    /// Every selected game day, oldest first.
    pub rows: Vec<Row>,
}

fn obs(c: &Clock) -> Option<Obs> {
    match *c {
        Clock::Reached { ms } => Some(Obs::event(ms as f64 / 1000.0)),
        Clock::Censored { at_ms } => Some(Obs::censored(at_ms as f64 / 1000.0)),
        Clock::Running => None,
    }
}

pub fn analyze(records: &[&Record], conf: f64) -> GamedayStats {
    let mut rows: Vec<Row> = records
        .iter()
        .map(|r| {
            let live = r
                .events
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        EventKind::Deploy {
                            outcome: record::DeployOutcome::Live,
                            ..
                        }
                    )
                })
                .count();
            let worse = r
                .events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::DeployEffect { worse: true, .. }))
                .count();
            Row {
                id: r.gameday.id.clone(),
                drill: if r.hides_drill() {
                    HIDDEN.to_string()
                } else {
                    r.gameday.drill.clone()
                },
                language: r.gameday.language.clone(),
                on_call: r.gameday.on_call.clone(),
                started_at: r.gameday.started_at,
                ended: r.ended().map(|(_, reason)| reason),
                clocks: r.clocks(),
                live_deploys: live,
                worse_deploys: worse,
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
    let ended: Vec<&Row> = rows.iter().filter(|r| r.ended.is_some()).collect();
    let mut languages: Vec<&str> = ended.iter().map(|r| r.language.as_str()).collect();
    languages.sort_unstable();
    languages.dedup();
    let clocks = CLOCKS
        .iter()
        .map(|&name| ClockStats {
            clock: name,
            by_language: languages
                .iter()
                .map(|&lang| {
                    let o: Vec<Obs> = ended
                        .iter()
                        .filter(|r| r.language == lang)
                        .filter_map(|r| obs(clock_of(&r.clocks, name)))
                        .collect();
                    let km = KaplanMeier::fit(&o);
                    LanguageClock {
                        language: lang.to_string(),
                        gamedays: o.len(),
                        reached: o.iter().filter(|o| o.event).count(),
                        censored: o.iter().filter(|o| !o.event).count(),
                        distribution: Distribution::of(&km, conf),
                        km,
                    }
                })
                .collect(),
        })
        .collect();
    GamedayStats {
        format_name: FORMAT_NAME,
        format_version: FORMAT_VERSION,
        conf,
        min_per_side: MIN_PER_SIDE,
        gamedays: ended.len(),
        not_ended: rows.len() - ended.len(),
        clocks,
        rows,
    }
}

impl GamedayStats {
    /// One unit for every table: by the largest median reached.
    pub fn unit(&self) -> Unit {
        let typical = self
            .clocks
            .iter()
            .flat_map(|c| c.by_language.iter())
            .filter_map(|l| l.distribution.median.value())
            .fold(0.0, f64::max);
        Unit::of_seconds(typical)
    }

    /// A row per clock × language: the distribution table.
    pub fn clock_rows(&self, unit: Unit) -> Vec<Vec<String>> {
        let level = export::level(self.conf);
        let mut rows = vec![vec![
            "clock".to_string(),
            "language".into(),
            "game days".into(),
            "reached".into(),
            "censored".into(),
            "median".into(),
            format!("median {level} CI"),
            "q1".into(),
            "q3".into(),
            "p90".into(),
        ]];
        for c in &self.clocks {
            for l in &c.by_language {
                let d = &l.distribution;
                rows.push(vec![
                    c.clock.to_string(),
                    l.language.clone(),
                    l.gamedays.to_string(),
                    l.reached.to_string(),
                    l.censored.to_string(),
                    export::time(d.median, unit),
                    match &d.median_ci {
                        Some([lo, hi]) => {
                            format!("[{}, {}]", export::time(*lo, unit), export::time(*hi, unit))
                        }
                        None if l.gamedays < MIN_PER_SIDE => {
                            format!("(no CI: < {MIN_PER_SIDE} game days)")
                        }
                        None => "(no CI: the band does not hold the median)".to_string(),
                    },
                    export::time(d.q1, unit),
                    export::time(d.q3, unit),
                    export::time(d.p90, unit),
                ]);
            }
        }
        rows
    }

    /// A row per game day.
    pub fn gameday_rows(&self, unit: Unit) -> Vec<Vec<String>> {
        let mut rows = vec![vec![
            "game day".to_string(),
            "drill".into(),
            "language".into(),
            "outcome".into(),
            "detect".into(),
            "acknowledge".into(),
            "mitigate".into(),
            "fix".into(),
            "resolve".into(),
            "deploys (worse)".into(),
            "on call".into(),
        ]];
        for r in &self.rows {
            let mut row = vec![
                r.id.clone(),
                r.drill.clone(),
                r.language.clone(),
                r.ended
                    .map_or("not ended", super::debrief::reason_text)
                    .to_string(),
            ];
            for name in CLOCKS {
                row.push(match clock_of(&r.clocks, name) {
                    Clock::Reached { ms } => unit.num(*ms as f64 / 1000.0),
                    Clock::Censored { at_ms } => {
                        format!("> {} (censored)", unit.num(*at_ms as f64 / 1000.0))
                    }
                    Clock::Running => "running".to_string(),
                });
            }
            row.push(format!("{} ({})", r.live_deploys, r.worse_deploys));
            row.push(r.on_call.clone().unwrap_or_else(|| "-".into()));
            rows.push(row);
        }
        rows
    }

    /// The sentences under the tables.
    pub fn notes(&self) -> Vec<String> {
        let mut n = vec![format!(
            "Clocks run from the fault's start. A clock not reached when its game day ended is a censored observation (shown as > t); medians not reached are bounds (> the longest follow-up); no interval from fewer than {} game days on a side; intervals are {} (Brookmeyer–Crowley on the log-log band).",
            self.min_per_side,
            export::level(self.conf)
        )];
        if self.not_ended > 0 {
            n.push(format!(
                "{} game day(s) not ended (still running, or the facilitator was killed) are listed but not counted.",
                self.not_ended
            ));
        }
        n
    }

    pub fn terminal(&self) -> String {
        let mut o = String::new();
        if self.rows.is_empty() {
            o.push_str(
                "No game day in the selection: `drill gameday start ID --lang L` records one.\n",
            );
            return o;
        }
        let unit = self.unit();
        let _ = writeln!(
            o,
            "Game-day clocks per language (Kaplan–Meier from the fault; times in {}; {} game day(s) counted)\n",
            unit.name(),
            self.gamedays
        );
        if self.gamedays == 0 {
            o.push_str("No game day has ended yet: nothing to estimate.\n");
        } else {
            o.push_str(&crate::console::table(&self.clock_rows(unit)));
        }
        let _ = writeln!(o, "\nGame days\n");
        o.push_str(&crate::console::table(&self.gameday_rows(unit)));
        o.push('\n');
        for n in self.notes() {
            let _ = writeln!(o, "{n}");
        }
        o
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializes")
    }
}

/// The game days of `dirs` that `filter` keeps.
pub fn select<'r>(loaded: &'r Loaded, filter: &Filter) -> Vec<&'r Record> {
    loaded.records.iter().filter(|r| filter.keeps(r)).collect()
}

/// Whether a results directory holds any game-day record (the report shows
/// its section only then).
pub fn any_in(dir: &Path) -> bool {
    std::fs::read_dir(dir.join(GAMEDAYS_DIR)).is_ok_and(|mut e| {
        e.any(|e| {
            e.is_ok_and(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(".json") && !n.starts_with('.')
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gameday::definition::InjectKind;
    use crate::gameday::record::{DeployOutcome, Event, Header, FORMAT_VERSION as RV};
    use crate::stats::km::Time;

    fn at(s: f64) -> Timestamp {
        Timestamp::from_unix_ms(1_000_000_000 + (s * 1000.0) as i64)
    }

    /// A game day in `lang` whose fault starts at 5 s; `reach` gives the
    /// seconds after the fault of detect, ack, mitigated, fix, resolve (or
    /// `None`); `end` the seconds after the fault it ended (`None`: running).
    fn gd(id: &str, lang: &str, reach: [Option<f64>; 5], end: Option<f64>) -> Record {
        let mut ev = vec![
            (0.0, EventKind::Started),
            (
                5.0,
                EventKind::Inject {
                    kind: InjectKind::Fault,
                    text: "f".into(),
                    name: None,
                    manual: false,
                },
            ),
        ];
        let f = |s: Option<f64>| s.map(|s| 5.0 + s);
        if let Some(t) = f(reach[0]) {
            ev.push((
                t,
                EventKind::Alert {
                    long_burn: 20.0,
                    short_burn: 30.0,
                },
            ));
        }
        if let Some(t) = f(reach[1]) {
            ev.push((t, EventKind::Ack));
        }
        if let Some(t) = f(reach[2]) {
            ev.push((t, EventKind::Mitigated { windows: 5 }));
        }
        if let Some(t) = f(reach[3]) {
            ev.push((
                t,
                EventKind::Deploy {
                    n: 1,
                    outcome: DeployOutcome::Live,
                    reason: None,
                    dropped: None,
                },
            ));
            ev.push((
                t + 0.5,
                EventKind::Judged {
                    n: 1,
                    passed: true,
                    reasons: vec![],
                },
            ));
        }
        if let Some(t) = f(reach[4]) {
            ev.push((t, EventKind::Resolved));
        }
        if let Some(t) = f(end) {
            ev.push((
                t,
                EventKind::Ended {
                    reason: if reach[4].is_some() {
                        EndReason::Resolved
                    } else {
                        EndReason::TimeBox
                    },
                },
            ));
        }
        ev.sort_by(|a, b| a.0.total_cmp(&b.0));
        Record {
            format_version: RV,
            gameday: Header {
                id: id.into(),
                language: lang.into(),
                started_at: at(0.0),
                time_box_ms: 600_000,
                folder: PathBuf::from("gd"),
                ..crate::gameday::record::test_header()
            },
            events: ev
                .into_iter()
                .map(|(s, kind)| Event { at: at(s), kind })
                .collect(),
        }
    }

    fn lang<'s>(s: &'s GamedayStats, clock: &str, l: &str) -> Option<&'s LanguageClock> {
        s.clocks
            .iter()
            .find(|c| c.clock == clock)?
            .by_language
            .iter()
            .find(|x| x.language == l)
    }

    #[test]
    fn no_game_day_gives_no_distribution_and_says_how_to_get_one() {
        let s = analyze(&[], 0.95);
        assert_eq!(s.gamedays, 0);
        assert!(s.clocks.iter().all(|c| c.by_language.is_empty()));
        assert!(s.terminal().contains("No game day in the selection"));
    }

    #[test]
    fn one_game_day_has_medians_and_no_interval() {
        let r = gd(
            "a",
            "go",
            [Some(4.0), Some(9.0), Some(30.0), Some(25.0), Some(40.0)],
            Some(40.0),
        );
        let s = analyze(&[&r], 0.95);
        assert_eq!(s.gamedays, 1);
        let d = lang(&s, "detect", "go").unwrap();
        assert_eq!((d.gamedays, d.reached, d.censored), (1, 1, 0));
        assert_eq!(d.distribution.median, Time::At(4.0));
        assert_eq!(
            d.distribution.median_ci, None,
            "no interval from one game day"
        );
        assert!(lang(&s, "detect", "rust").is_none(), "one side only");
        let text = s.terminal();
        assert!(text.contains("(no CI: < 2 game days)"), "{text}");
        assert!(text.contains("median 95% CI"), "{text}");
    }

    #[test]
    fn censored_clocks_stay_in_the_estimate_and_an_unreached_median_is_a_bound() {
        // Three time-boxed go game days: detected, never fixed.
        let rs: Vec<Record> = (0..3)
            .map(|i| {
                gd(
                    &format!("g{i}"),
                    "go",
                    [Some(4.0 + i as f64), None, None, None, None],
                    Some(60.0 + i as f64),
                )
            })
            .collect();
        let refs: Vec<&Record> = rs.iter().collect();
        let s = analyze(&refs, 0.95);
        let fix = lang(&s, "fix", "go").unwrap();
        assert_eq!((fix.reached, fix.censored), (0, 3));
        assert_eq!(fix.distribution.median, Time::After(62.0));
        assert_eq!(fix.distribution.fraction, 0.0);
        let detect = lang(&s, "detect", "go").unwrap();
        assert_eq!(detect.distribution.median, Time::At(5.0));
        assert!(
            detect.distribution.median_ci.is_some(),
            "three game days: an interval"
        );
        let text = s.terminal();
        assert!(text.contains("> 62"), "{text}");
        assert!(text.contains("(censored)"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(v["format_name"], FORMAT_NAME);
        assert_eq!(v["clocks"][3]["clock"], "fix");
        assert_eq!(
            v["clocks"][3]["by_language"][0]["distribution"]["median"],
            serde_json::json!({"kind": "after", "seconds": 62.0})
        );
        assert!(v["clocks"][3]["by_language"][0].get("km").is_none());
    }

    #[test]
    fn a_game_day_ended_before_its_fault_censors_every_clock_and_estimates_nothing() {
        let mut r = gd("z", "rust", [None; 5], None);
        r.events.retain(|e| matches!(e.kind, EventKind::Started));
        r.events.push(Event {
            at: at(2.0),
            kind: EventKind::Ended {
                reason: EndReason::Interrupted,
            },
        });
        let s = analyze(&[&r], 0.95);
        assert_eq!(s.gamedays, 1);
        for name in CLOCKS {
            let l = lang(&s, name, "rust").unwrap();
            assert_eq!((l.reached, l.censored), (0, 1), "{name}");
            assert_eq!(l.distribution.median, Time::After(0.0), "{name}");
            assert_eq!(l.distribution.median_ci, None);
        }
        let rows = s.gameday_rows(Unit::Seconds);
        assert_eq!(rows[1][3], "interrupted");
        assert_eq!(rows[1][4], "> 0 (censored)");
    }

    #[test]
    fn a_running_game_day_is_listed_not_counted_and_languages_are_apart() {
        let rs = [
            gd("a", "go", [Some(4.0), Some(8.0), None, None, None], None),
            gd(
                "b",
                "rust",
                [Some(3.0), Some(6.0), None, None, None],
                Some(30.0),
            ),
            gd(
                "c",
                "rust",
                [Some(5.0), Some(7.0), None, None, None],
                Some(30.0),
            ),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        let s = analyze(&refs, 0.95);
        assert_eq!((s.gamedays, s.not_ended, s.rows.len()), (2, 1, 3));
        assert!(lang(&s, "detect", "go").is_none());
        assert_eq!(
            lang(&s, "acknowledge", "rust").unwrap().distribution.median,
            Time::At(6.5),
            "6 and 7: the curve sits on one half between them"
        );
        assert!(s.terminal().contains("1 game day(s) not ended"));
        let rows = s.gameday_rows(Unit::Seconds);
        assert_eq!(rows[1][3], "not ended");
        assert_eq!(rows[1][4], "4");
        assert_eq!(rows[1][6], "running");
    }

    #[test]
    fn the_on_call_and_the_class_select_and_a_running_blind_game_day_names_no_drill() {
        let a = gd("a", "go", [Some(4.0), None, None, None, None], Some(9.0));
        let mut b = gd("b", "go", [Some(4.0), None, None, None, None], Some(9.0));
        b.gameday.on_call = Some("lee".into());
        b.gameday.class = Some("deadlock".into());
        let mut old = gd("c", "go", [Some(4.0), None, None, None, None], Some(9.0));
        old.gameday.on_call = None;
        old.gameday.class = None;
        let mut running = gd("d", "go", [None, None, None, None, None], None);
        running
            .events
            .retain(|e| !matches!(e.kind, EventKind::Ended { .. }));
        running.gameday.blind = true;
        let loaded = Loaded {
            records: vec![a, b, old, running],
            damaged: vec![],
        };
        let ids = |f: &Filter| -> Vec<String> {
            select(&loaded, f)
                .iter()
                .map(|r| r.gameday.id.clone())
                .collect()
        };
        let by = |who: &str| Filter {
            engineers: vec![who.into()],
            ..Filter::default()
        };
        assert_eq!(ids(&by("ana")), ["a", "d"]);
        assert_eq!(ids(&by("lee")), ["b"]);
        let class = Filter {
            classes: vec!["missing-timeout".into()],
            ..Filter::default()
        };
        assert_eq!(
            ids(&class),
            ["a"],
            "neither the old record nor the running blind one"
        );
        let s = analyze(&select(&loaded, &Filter::default()), 0.95);
        let d = s.rows.iter().find(|r| r.id == "d").unwrap();
        assert_eq!(d.drill, HIDDEN);
        assert_eq!(s.rows.iter().filter(|r| r.drill == HIDDEN).count(), 1);
        assert_eq!(s.not_ended, 1, "listed, not counted");
        let table = s.gameday_rows(s.unit());
        assert_eq!(table[0].last().unwrap(), "on call");
        assert_eq!(table.iter().filter(|r| r.last().unwrap() == "-").count(), 1);
    }

    #[test]
    fn records_merge_by_id_from_several_directories_and_damage_is_reported() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let short = gd("x", "go", [Some(4.0), None, None, None, None], None);
        let long = gd(
            "x",
            "go",
            [Some(4.0), Some(5.0), None, None, None],
            Some(9.0),
        );
        for (dir, r) in [(a.path(), &short), (b.path(), &long)] {
            let res = ResultsDir::at(dir);
            res.save_gameday("x", &serde_json::to_vec(r).unwrap())
                .unwrap();
        }
        std::fs::write(a.path().join("gamedays/bad.json"), b"{").unwrap();
        std::fs::write(a.path().join("gamedays/x.sli.jsonl"), b"").unwrap();
        let l = load(&[a.path().to_path_buf(), b.path().to_path_buf()]);
        assert_eq!(l.records.len(), 1);
        assert_eq!(l.records[0].events.len(), long.events.len());
        assert_eq!(l.damaged.len(), 1, "{:?}", l.damaged);
        assert!(l.damaged[0].path.ends_with("gamedays/bad.json"));
        let f = Filter {
            languages: vec!["rust".into()],
            ..Filter::default()
        };
        assert!(select(&l, &f).is_empty());
        assert!(any_in(a.path()));
    }
}
