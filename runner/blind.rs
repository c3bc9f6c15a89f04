//! What an engineer has already seen, and what blind mode withholds.
//!
//! One history per results directory (attempt records, test-clock ones
//! included, and imported CSV batches) answers three questions:
//! - which drills an engineer has met: attempted in any language, or played
//!   on call in a game day, whose debrief shows the cause (never dealt again
//!   by `--random` or `--next`; a forced `start ID` on an attempted one is a
//!   repeat);
//! - which blind attempts are open;
//! - which drills could be the one an open blind attempt was dealt (its
//!   *pool*: the drills it could have been dealt when it started). `drill list` and
//!   `drill show` withhold those, so the catalog cannot be matched against
//!   the ticket in the workspace while the attempt runs. A blind game day
//!   (`gameday start --random`) that has not ended withholds its pool too.

use std::collections::BTreeSet;

use crate::catalog::{Catalog, Drill};
use crate::clock::Timestamp;
use crate::csvio;
use crate::results::ResultsDir;

/// One past or running attempt.
#[derive(Debug, Clone)]
pub struct Seen {
    pub id: String,
    pub engineer: String,
    pub drill: String,
    pub language: String,
    pub started: Timestamp,
    /// Still running (a record whose attempt has not ended).
    pub open: bool,
    pub blind: bool,
}

/// Every attempt of a results directory; unreadable records and batches are
/// left out here (the commands that read results report them).
#[derive(Debug, Default)]
pub struct History {
    pub attempts: Vec<Seen>,
    /// The blind game days not ended (`engineer`: who is on call). Kept
    /// apart from `attempts`: a game day is not an attempt of the drill.
    pub open_blind_gamedays: Vec<Seen>,
    /// Every game day with its on-call (`engineer`), ended or not: its
    /// debrief shows the cause, so its drill counts as met for a deal.
    pub gamedays: Vec<Seen>,
}

impl History {
    pub fn load(results: &ResultsDir) -> History {
        let mut attempts = Vec::new();
        if let Ok(listing) = results.list() {
            for (_, r) in listing.records {
                let started = r.events.first().map(|e| e.at);
                attempts.push(Seen {
                    open: !r.state().is_ended(),
                    id: r.attempt.id,
                    engineer: r.attempt.engineer,
                    drill: r.attempt.drill,
                    language: r.attempt.language,
                    started: started.unwrap_or(Timestamp::from_unix_ms(0)),
                    blind: r.attempt.blind,
                });
            }
        }
        for file in csvio::imported_files(results.root()) {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let Ok(rows) = csvio::parse_stored(&bytes, &file) else {
                continue;
            };
            let known: BTreeSet<String> = attempts.iter().map(|a| a.id.clone()).collect();
            attempts.extend(
                rows.into_iter()
                    .filter(|o| !known.contains(&o.id))
                    .map(|o| Seen {
                        id: o.id,
                        engineer: o.engineer,
                        drill: o.drill,
                        language: o.language,
                        started: o.started,
                        open: false,
                        blind: false,
                    }),
            );
        }
        attempts.sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
        let mut open_blind_gamedays = Vec::new();
        let mut gamedays = Vec::new();
        for r in crate::gameday::stats::load(&[results.root().to_path_buf()]).records {
            let hides = r.hides_drill();
            let seen = Seen {
                open: r.ended().is_none(),
                blind: r.gameday.blind,
                id: r.gameday.id,
                engineer: r.gameday.on_call.unwrap_or_default(),
                drill: r.gameday.drill,
                language: r.gameday.language,
                started: r.gameday.started_at,
            };
            if hides {
                open_blind_gamedays.push(seen.clone());
            }
            gamedays.push(seen);
        }
        History {
            attempts,
            open_blind_gamedays,
            gamedays,
        }
    }

    /// The engineer's attempts on `drill` (any language), oldest first.
    pub fn attempts_on<'h>(
        &'h self,
        engineer: &'h str,
        drill: &'h str,
    ) -> impl Iterator<Item = &'h Seen> {
        self.attempts
            .iter()
            .filter(move |a| a.engineer == engineer && a.drill == drill)
    }

    /// The drills `engineer` had met (attempted in any language, or played
    /// on call in a game day) before `before` (everything, with `None`).
    pub fn seen_by(&self, engineer: &str, before: Option<Timestamp>) -> BTreeSet<&str> {
        self.attempts
            .iter()
            .chain(&self.gamedays)
            .filter(|a| a.engineer == engineer && before.is_none_or(|t| a.started < t))
            .map(|a| a.drill.as_str())
            .collect()
    }

    /// What a blind deal may give `engineer` in `lang` now: the drills with
    /// a `lang` version that they have not attempted in any language.
    pub fn pool<'c>(
        &self,
        catalog: &'c Catalog,
        engineer: &str,
        lang: Option<&str>,
    ) -> Vec<&'c Drill> {
        pool_before(catalog, &self.seen_by(engineer, None), lang)
    }

    /// The open blind attempts.
    pub fn open_blind(&self) -> impl Iterator<Item = &Seen> {
        self.attempts.iter().filter(|a| a.open && a.blind)
    }

    /// The drills `list` and `show` withhold: every drill that an open blind
    /// attempt or game day could have been dealt, so which one it was cannot
    /// be told. (A game day's pool is taken as wide as an attempt's: every
    /// drill of its language its on-call had not attempted.)
    pub fn withheld(&self, catalog: &Catalog) -> Withheld {
        let mut drills = BTreeSet::new();
        let mut by = Vec::new();
        let mut gamedays = Vec::new();
        for (a, gameday) in self
            .open_blind()
            .map(|a| (a, false))
            .chain(self.open_blind_gamedays.iter().map(|g| (g, true)))
        {
            let seen = self.seen_by(&a.engineer, Some(a.started));
            for d in pool_before(catalog, &seen, Some(&a.language)) {
                drills.insert(d.id.clone());
            }
            if gameday {
                gamedays.push(a.id.clone());
            } else {
                by.push(a.id.clone());
            }
        }
        Withheld {
            drills,
            attempts: by,
            gamedays,
        }
    }
}

/// The drills of `catalog` not in `seen` that have a `lang` version (any
/// language with `None`): what a blind deal may give. `start --random` and
/// `gameday start --random` both deal from it.
pub fn pool_before<'c>(
    catalog: &'c Catalog,
    seen: &BTreeSet<&str>,
    lang: Option<&str>,
) -> Vec<&'c Drill> {
    catalog
        .drills
        .iter()
        .filter(|d| !seen.contains(d.id.as_str()))
        .filter(|d| lang.is_none_or(|l| d.languages.iter().any(|x| x == l)))
        .collect()
}

/// The drills hidden from the catalog commands, and the open blind attempts
/// that hide them.
#[derive(Debug, Default)]
pub struct Withheld {
    pub drills: BTreeSet<String>,
    pub attempts: Vec<String>,
    /// The blind game days not ended that hide them.
    pub gamedays: Vec<String>,
}

impl Withheld {
    /// The withheld drills of the catalog at `results` (none when it cannot
    /// be read: nothing is open there that this machine knows of).
    pub fn in_results(catalog: &Catalog, results: Option<&ResultsDir>) -> Withheld {
        results.map_or_else(Withheld::default, |r| History::load(r).withheld(catalog))
    }

    pub fn contains(&self, drill: &str) -> bool {
        self.drills.contains(drill)
    }

    /// Why a drill is withheld, for `show`'s refusal and `list`'s footer.
    pub fn reason(&self, results: &ResultsDir) -> String {
        let mut open = Vec::new();
        if !self.attempts.is_empty() {
            open.push(format!(
                "a blind attempt is open in {} ({}); the drills it could be are withheld \
                 until it ends (`drill submit` passes or `drill abandon`)",
                results.root().display(),
                self.attempts.join(", ")
            ));
        }
        if !self.gamedays.is_empty() {
            open.push(format!(
                "a blind game day is running in {} ({}); the drills it could be are withheld \
                 until it ends (`drill gameday resolve`, or its time box)",
                results.root().display(),
                self.gamedays.join(", ")
            ));
        }
        format!(
            "{}, so its ticket cannot be matched to the catalog",
            open.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: &str, engineer: &str, drill: &str, at: &str, open: bool, blind: bool) -> Seen {
        Seen {
            id: id.into(),
            engineer: engineer.into(),
            drill: drill.into(),
            language: "go".into(),
            started: at.parse().unwrap(),
            open,
            blind,
        }
    }

    #[test]
    fn an_engineer_has_seen_a_drill_in_any_language_only_before_the_time_asked() {
        let h = History {
            attempts: vec![
                seen("1", "ada", "s/a", "2030-01-01T09:00:00Z", false, false),
                seen("2", "bob", "s/b", "2030-01-01T10:00:00Z", false, false),
                seen("3", "ada", "s/c", "2030-01-01T11:00:00Z", true, true),
            ],
            open_blind_gamedays: vec![],
            gamedays: vec![seen(
                "g1",
                "bob",
                "s/d",
                "2030-01-01T08:00:00Z",
                false,
                false,
            )],
        };
        assert_eq!(h.seen_by("ada", None), BTreeSet::from(["s/a", "s/c"]));
        // A game day played on call counts as met: its debrief showed the cause.
        assert_eq!(h.seen_by("bob", None), BTreeSet::from(["s/b", "s/d"]));
        let before = "2030-01-01T11:00:00Z".parse().ok();
        assert_eq!(h.seen_by("ada", before), BTreeSet::from(["s/a"]));
        assert_eq!(h.attempts_on("ada", "s/a").count(), 1);
        assert_eq!(
            h.open_blind().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["3"]
        );
    }
}
