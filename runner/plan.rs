//! `drill plan`: a counterbalanced experiment design.
//!
//! Each engineer meets every chosen bug class once in each language, never
//! the same drill twice, with languages alternating from one assignment to
//! the next. The order of classes follows the rows of a Williams square
//! (balanced for first-order carry-over: every class follows every other
//! class equally often across rows), the starting language alternates across
//! engineers, and which of a class's drills gets which language rotates, so
//! learning effects and drill difficulty cancel across the team.
//!
//! The plan is saved as `<results>/plan.drill-plan` ([`PLAN_FILE`]);
//! progress is read from the attempts in the same results directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::profile::Experience;
use crate::stats::dataset::{Observation, Outcome};

/// The plan's file name inside a results directory. Not `*.json`, so the
/// attempt reader never mistakes it for a (damaged) record.
pub const PLAN_FILE: &str = "plan.drill-plan";
pub const FORMAT_NAME: &str = "drillkit-plan";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// 1-based position in the engineer's sequence.
    pub order: usize,
    pub drill: String,
    pub class: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub format_version: u32,
    pub languages: [String; 2],
    pub classes: Vec<String>,
    /// Engineer → assignments in order.
    pub engineers: BTreeMap<String, Vec<Assignment>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("class {class} has {count} drill(s) ({drills}); each engineer does a class once per language and never the same drill twice, so it needs at least 2")]
    TooFewDrills {
        class: String,
        count: usize,
        drills: String,
    },
    #[error("no engineers given (--engineers a,b,c)")]
    NoEngineers,
    #[error("no drills or classes given")]
    NoDrills,
    #[error("engineer {0:?} appears twice in --engineers")]
    DuplicateEngineer(String),
    #[error("no plan in {0} (make one with `drill plan --engineers ... --drills ...`)")]
    NoPlan(PathBuf),
    #[error("{action} {path}: {why}")]
    Io {
        action: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("engineer {engineer:?} is not in the plan (engineers: {known})")]
    UnknownEngineer { engineer: String, known: String },
}

/// Rows of a Williams design for `n` treatments: n rows for even n, 2n
/// (the square and its mirror) for odd n.
pub fn williams(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return Vec::new();
    }
    // First row 0, 1, n-1, 2, n-2, ...
    let mut first = vec![0usize];
    let (mut lo, mut hi) = (1usize, n - 1);
    while first.len() < n {
        first.push(lo);
        lo += 1;
        if first.len() < n {
            first.push(hi);
            hi -= 1;
        }
    }
    let mut rows: Vec<Vec<usize>> = (0..n)
        .map(|r| first.iter().map(|&c| (c + r) % n).collect())
        .collect();
    if n % 2 == 1 {
        let mirrored: Vec<Vec<usize>> = rows
            .iter()
            .map(|r| r.iter().rev().copied().collect())
            .collect();
        rows.extend(mirrored);
    }
    rows
}

/// Builds the plan. `drills` pairs each drill id with its bug class; every
/// class used needs at least two drills.
pub fn make(
    engineers: &[String],
    drills: &[(String, String)],
    languages: [String; 2],
) -> Result<Plan, PlanError> {
    if engineers.is_empty() {
        return Err(PlanError::NoEngineers);
    }
    for (i, e) in engineers.iter().enumerate() {
        if engineers[..i].contains(e) {
            return Err(PlanError::DuplicateEngineer(e.clone()));
        }
    }
    let mut by_class: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, class) in drills {
        let v = by_class.entry(class.clone()).or_default();
        if !v.contains(id) {
            v.push(id.clone());
        }
    }
    if by_class.is_empty() {
        return Err(PlanError::NoDrills);
    }
    for (class, ids) in &by_class {
        if ids.len() < 2 {
            return Err(PlanError::TooFewDrills {
                class: class.clone(),
                count: ids.len(),
                drills: ids.join(", "),
            });
        }
    }
    let classes: Vec<String> = by_class.keys().cloned().collect();
    let c = classes.len();
    let rows = williams(c);
    let mut out = BTreeMap::new();
    for (e, name) in engineers.iter().enumerate() {
        let row = &rows[e % rows.len()];
        let start = start_language(e, rows.len());
        // Second pass: the same order for odd c; rotated by one for even c,
        // so each class's two visits get different languages while the
        // language still alternates at every step.
        let second: Vec<usize> = if c % 2 == 1 {
            row.clone()
        } else {
            (0..c).map(|i| row[(i + 1) % c]).collect()
        };
        let mut seq = Vec::with_capacity(2 * c);
        for (pos, &k) in row.iter().chain(&second).enumerate() {
            let lang = (start + pos) % 2;
            let ids = &by_class[&classes[k]];
            // Drill for language 0 rotates with the engineer; language 1
            // takes the next one, so the two never coincide.
            let d = (e + lang) % ids.len();
            seq.push(Assignment {
                order: pos + 1,
                drill: ids[d].clone(),
                class: classes[k].clone(),
                language: languages[lang].clone(),
            });
        }
        out.insert(name.clone(), seq);
    }
    Ok(Plan {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        languages,
        classes,
        engineers: out,
    })
}

/// The language (0 or 1) the engineer at position `e` starts with, among
/// `rows` Williams rows: it alternates across engineers and across passes
/// through the rows, so it is not tied to a row.
fn start_language(e: usize, rows: usize) -> usize {
    (e + e / rows) % 2
}

/// Engineers whose years in the two languages differ by less than this are
/// about even (then on-call experience decides, if only one has it).
pub const EVEN_YEARS: f64 = 1.0;

/// Which language an engineer is the more experienced in, by their profile:
/// the groups the first language is alternated within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stratum {
    /// Stronger in the plan's first language.
    First,
    /// About even.
    Even,
    Second,
    /// No profile, or one without both languages.
    Unknown,
}

impl Stratum {
    pub fn of(experience: Option<&Experience>, languages: &[String; 2]) -> Stratum {
        let Some(e) = experience else {
            return Stratum::Unknown;
        };
        let (Some(a), Some(b)) = (e.get(&languages[0]), e.get(&languages[1])) else {
            return Stratum::Unknown;
        };
        let d = a.years - b.years;
        if d >= EVEN_YEARS || (d > -EVEN_YEARS && a.oncall && !b.oncall) {
            Stratum::First
        } else if d <= -EVEN_YEARS || (d < EVEN_YEARS && b.oncall && !a.oncall) {
            Stratum::Second
        } else {
            Stratum::Even
        }
    }
}

/// How [`balanced_order`] placed the engineers.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// The engineers in the order [`make`] takes them.
    pub order: Vec<String>,
    /// Each stratum's engineers, in the order given.
    pub strata: BTreeMap<Stratum, Vec<String>>,
}

/// The engineers ordered for [`make`] so that, within each stratum of
/// experience, the first language alternates: Go-stronger engineers do not
/// all start in Go. (Every engineer does every class in both languages
/// anyway, so both languages get the same engineers; what a plan can still
/// tie to experience is the order, hence the learning effect.) Engineers
/// without a usable profile form their own stratum.
pub fn balanced_order(
    engineers: &[String],
    experience: &BTreeMap<String, Experience>,
    languages: &[String; 2],
    classes: usize,
) -> Balance {
    let mut strata: BTreeMap<Stratum, Vec<String>> = BTreeMap::new();
    for e in engineers {
        strata
            .entry(Stratum::of(experience.get(e), languages))
            .or_default()
            .push(e.clone());
    }
    let rows = williams(classes).len().max(1);
    // Free positions by the language they start with.
    let mut free: [std::collections::VecDeque<usize>; 2] = Default::default();
    for pos in 0..engineers.len() {
        free[start_language(pos, rows)].push_back(pos);
    }
    let mut order = vec![String::new(); engineers.len()];
    for members in strata.values() {
        // Each stratum starts with the language that has more positions left.
        let mut want = usize::from(free[1].len() > free[0].len());
        for m in members {
            let lang = if free[want].is_empty() {
                1 - want
            } else {
                want
            };
            let pos = free[lang].pop_front().expect("a position per engineer");
            order[pos] = m.clone();
            want = 1 - lang;
        }
    }
    Balance { order, strata }
}

pub fn path_in(results: &Path) -> PathBuf {
    results.join(PLAN_FILE)
}

pub fn save(plan: &Plan, results: &Path) -> Result<PathBuf, PlanError> {
    let path = path_in(results);
    let io = |action, why: std::io::Error| PlanError::Io {
        action,
        path: path.clone(),
        why: why.to_string(),
    };
    fs::create_dir_all(results).map_err(|e| io("creating the directory of", e))?;
    let tmp = results.join(format!(".{PLAN_FILE}.{}.tmp", std::process::id()));
    let mut text = serde_json::to_string_pretty(plan).expect("plans serialize");
    text.push('\n');
    fs::write(&tmp, text).map_err(|e| io("writing", e))?;
    fs::rename(&tmp, &path).map_err(|e| io("renaming into place", e))?;
    Ok(path)
}

pub fn load(results: &Path) -> Result<Plan, PlanError> {
    let path = path_in(results);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PlanError::NoPlan(results.to_path_buf()))
        }
        Err(e) => {
            return Err(PlanError::Io {
                action: "reading",
                path,
                why: e.to_string(),
            })
        }
    };
    let plan: Plan = serde_json::from_str(&text).map_err(|e| PlanError::Io {
        action: "parsing",
        path: path.clone(),
        why: e.to_string(),
    })?;
    if plan.format != FORMAT_NAME || plan.format_version != FORMAT_VERSION {
        return Err(PlanError::Io {
            action: "reading",
            path,
            why: format!(
                "format {} version {} is not supported (this drill reads {FORMAT_NAME} {FORMAT_VERSION})",
                plan.format, plan.format_version
            ),
        });
    }
    Ok(plan)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    Done,
    InProgress,
    Todo,
}

/// Where each assignment stands, from the attempts in the results.
pub fn progress(
    plan: &Plan,
    attempts: &[Observation],
) -> BTreeMap<String, Vec<(Assignment, Progress)>> {
    plan.engineers
        .iter()
        .map(|(eng, seq)| {
            let rows = seq
                .iter()
                .map(|a| {
                    let mine = attempts.iter().filter(|o| {
                        &o.engineer == eng && o.drill == a.drill && o.language == a.language
                    });
                    let mut state = Progress::Todo;
                    for o in mine {
                        state = if o.outcome == Outcome::Open {
                            Progress::InProgress
                        } else {
                            Progress::Done
                        };
                        if state == Progress::Done {
                            break;
                        }
                    }
                    (a.clone(), state)
                })
                .collect();
            (eng.clone(), rows)
        })
        .collect()
}

/// What `drill start --next` deals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Assignment(Assignment),
    /// Every assignment's drill has been attempted (in the plan or outside it).
    NothingLeft {
        assignments: usize,
    },
}

/// The engineer's first assignment whose drill they have not attempted in
/// any language (`seen`): an assignment under way or done is never dealt
/// again, and neither is one whose drill they met outside the plan (it
/// would be a repeat). A planned attempt is blind, so this is all it says.
pub fn next_unseen(
    plan: &Plan,
    engineer: &str,
    seen: &std::collections::BTreeSet<&str>,
) -> Result<Next, PlanError> {
    let seq = plan
        .engineers
        .get(engineer)
        .ok_or_else(|| PlanError::UnknownEngineer {
            engineer: engineer.to_string(),
            known: plan
                .engineers
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Ok(
        match seq.iter().find(|a| !seen.contains(a.drill.as_str())) {
            Some(a) => Next::Assignment(a.clone()),
            None => Next::NothingLeft {
                assignments: seq.len(),
            },
        },
    )
}

/// Whether `plan status` may name an assignment's drill and class: only
/// once it is done. A planned attempt is dealt blind, so the ones to come
/// (and the one under way) stay hidden.
pub fn shown(progress: Progress) -> bool {
    progress == Progress::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn drills(classes: usize, per: usize) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for c in 0..classes {
            for d in 0..per {
                v.push((format!("s/c{c}-d{d}"), format!("class{c}")));
            }
        }
        v
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("e{i}")).collect()
    }

    fn langs() -> [String; 2] {
        ["go".to_string(), "rust".to_string()]
    }

    #[test]
    fn williams_rows_balance_first_order_carry_over() {
        for n in 2..=7 {
            let rows = williams(n);
            assert_eq!(rows.len(), if n % 2 == 0 { n } else { 2 * n });
            let mut follows = BTreeMap::new();
            for r in &rows {
                assert_eq!(r.iter().collect::<BTreeSet<_>>().len(), n, "a permutation");
                for w in r.windows(2) {
                    *follows.entry((w[0], w[1])).or_insert(0) += 1;
                }
            }
            // Every ordered pair of distinct classes appears equally often.
            let counts: BTreeSet<i32> = follows.values().copied().collect();
            assert_eq!(follows.len(), n * (n - 1), "n={n}");
            assert_eq!(counts.len(), 1, "n={n}: {follows:?}");
        }
    }

    #[test]
    fn each_engineer_meets_each_class_once_per_language_never_the_same_drill_twice() {
        for (classes, per, engineers) in [(1, 2, 2), (2, 2, 4), (3, 2, 6), (4, 3, 5)] {
            let plan = make(&names(engineers), &drills(classes, per), langs()).unwrap();
            for seq in plan.engineers.values() {
                assert_eq!(seq.len(), 2 * classes);
                let pairs: BTreeSet<(&str, &str)> = seq
                    .iter()
                    .map(|a| (a.class.as_str(), a.language.as_str()))
                    .collect();
                assert_eq!(pairs.len(), 2 * classes, "class × language once each");
                let ids: BTreeSet<&str> = seq.iter().map(|a| a.drill.as_str()).collect();
                assert_eq!(ids.len(), seq.len(), "never the same drill twice");
                for w in seq.windows(2) {
                    assert_ne!(w[0].language, w[1].language, "languages alternate");
                }
            }
        }
    }

    fn exp(a: (f64, bool), b: (f64, bool)) -> Experience {
        use crate::profile::LanguageExperience;
        let l = |(years, oncall)| LanguageExperience { years, oncall };
        Experience {
            updated_at: crate::clock::Timestamp::from_unix_ms(0),
            languages: [("go".to_string(), l(a)), ("rust".to_string(), l(b))].into(),
        }
    }

    #[test]
    fn the_first_language_alternates_within_each_experience_stratum() {
        for classes in 1..=4 {
            // Given so that plain alternation would start every Go-stronger
            // engineer in the same language.
            let team = names(8);
            let go_strong = exp((6.0, true), (1.0, false));
            let rust_strong = exp((0.5, false), (4.0, true));
            let profiles: BTreeMap<String, Experience> = team
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < 6)
                .map(|(i, e)| {
                    let p = if i % 4 < 2 { &go_strong } else { &rust_strong };
                    (e.clone(), p.clone())
                })
                .collect();
            let b = balanced_order(&team, &profiles, &langs(), classes);
            assert_eq!(b.strata[&Stratum::First].len(), 4);
            assert_eq!(b.strata[&Stratum::Unknown].len(), 2);
            let mut order = b.order.clone();
            order.sort();
            assert_eq!(order, team, "every engineer placed once");
            let plan = make(&b.order, &drills(classes, 2), langs()).unwrap();
            for (stratum, members) in &b.strata {
                let go = members
                    .iter()
                    .filter(|m| plan.engineers[*m][0].language == "go")
                    .count();
                assert_eq!(2 * go, members.len(), "{classes} classes, {stratum:?}");
            }
        }
    }

    #[test]
    fn strata_follow_years_then_on_call() {
        let l = langs();
        let s = |a, b| Stratum::of(Some(&exp(a, b)), &l);
        assert_eq!(s((6.0, false), (1.0, true)), Stratum::First);
        assert_eq!(s((2.0, false), (2.5, false)), Stratum::Even);
        assert_eq!(s((2.0, false), (2.5, true)), Stratum::Second);
        assert_eq!(Stratum::of(None, &l), Stratum::Unknown);
    }

    #[test]
    fn starting_language_and_first_class_are_counterbalanced() {
        let plan = make(&names(8), &drills(4, 2), langs()).unwrap();
        let first_lang: Vec<&str> = plan
            .engineers
            .values()
            .map(|s| s[0].language.as_str())
            .collect();
        assert_eq!(first_lang.iter().filter(|l| **l == "go").count(), 4);
        let first_class: BTreeSet<&str> = plan
            .engineers
            .values()
            .map(|s| s[0].class.as_str())
            .collect();
        assert_eq!(first_class.len(), 4);
    }

    #[test]
    fn next_skips_every_assignment_whose_drill_the_engineer_has_attempted() {
        let plan = make(&names(2), &drills(2, 2), langs()).unwrap();
        let seq = &plan.engineers["e0"];
        let mut seen = BTreeSet::new();
        assert_eq!(
            next_unseen(&plan, "e0", &seen).unwrap(),
            Next::Assignment(seq[0].clone())
        );
        // The first two drills met (one outside the plan, in any language).
        seen.insert(seq[0].drill.as_str());
        seen.insert(seq[1].drill.as_str());
        assert_eq!(
            next_unseen(&plan, "e0", &seen).unwrap(),
            Next::Assignment(seq[2].clone())
        );
        for a in seq {
            seen.insert(a.drill.as_str());
        }
        assert_eq!(
            next_unseen(&plan, "e0", &seen).unwrap(),
            Next::NothingLeft { assignments: 4 }
        );
        assert!(next_unseen(&plan, "nobody", &seen).is_err());
    }

    #[test]
    fn a_class_with_one_drill_is_refused_with_the_reason() {
        let err = make(&names(2), &drills(1, 1), langs())
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs at least 2"), "{err}");
    }
}
