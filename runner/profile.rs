//! Engineer profiles: what each engineer says of their own experience per
//! language (years, and whether they have been on call for a service in
//! it), and the experience bands statistics compare within.
//!
//! Pure data. The profile files live in the results directory (one per
//! engineer, written by `results.rs`; format in `docs/results-format.md`),
//! and every attempt record carries a copy of its engineer's profile as it
//! was when the attempt started (`attempt::Header::experience`), so changing
//! a profile later changes no attempt.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// The `format` field of a profile file.
pub const FORMAT_NAME: &str = "drillkit-profile";
/// Bumped on any change a version-1 reader would misread.
pub const FORMAT_VERSION: u32 = 1;
/// More years than anyone has worked in a language: a typo, refused.
pub const MAX_YEARS: f64 = 60.0;

/// One language, self-reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LanguageExperience {
    /// Years of work in the language (decimals allowed: 0.5).
    pub years: f64,
    /// Has been on call for a service written in it.
    pub oncall: bool,
}

/// An engineer's experience as of `updated_at`: the body of a profile file,
/// and the snapshot an attempt record carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experience {
    /// When the engineer last changed their profile.
    pub updated_at: Timestamp,
    /// Language key (`go`, `rust`) → experience; a language not named is
    /// unknown (not zero).
    pub languages: BTreeMap<String, LanguageExperience>,
}

impl Experience {
    pub fn get(&self, language: &str) -> Option<LanguageExperience> {
        self.languages.get(language).copied()
    }
}

/// `<results>/profiles/<file>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub format: String,
    pub format_version: u32,
    /// The engineer's name exactly as attempts record it.
    pub engineer: String,
    #[serde(flatten)]
    pub experience: Experience,
}

/// What `drill profile` (or `drill start`) was told about one language;
/// `None` keeps what the profile already says.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub language: String,
    pub years: Option<f64>,
    pub oncall: Option<bool>,
}

/// The flag that sets a language's on-call answer, for messages.
pub fn oncall_flags(language: &str) -> String {
    format!("--{language}-oncall or --no-{language}-oncall")
}

fn check_years(language: &str, years: f64) -> Result<(), String> {
    if years.is_finite() && (0.0..=MAX_YEARS).contains(&years) {
        Ok(())
    } else {
        Err(format!(
            "--{language}-years {years}: give the years you have worked in {language}, \
             0 to {MAX_YEARS} (decimals allowed, e.g. 0.5)"
        ))
    }
}

impl Profile {
    /// `changes` applied to `existing` (or to a new profile) at `now`. A
    /// language the profile does not have yet needs both answers: an
    /// unanswered on-call question is not a "no".
    pub fn updated(
        existing: Option<Profile>,
        engineer: &str,
        changes: &[Change],
        now: Timestamp,
    ) -> Result<Profile, String> {
        let mut p = existing.unwrap_or_else(|| Profile {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            engineer: engineer.to_string(),
            experience: Experience {
                updated_at: now,
                languages: BTreeMap::new(),
            },
        });
        for c in changes {
            if let Some(y) = c.years {
                check_years(&c.language, y)?;
            }
            let l = &c.language;
            let merged = match (p.experience.get(l), c.years, c.oncall) {
                (_, None, None) => continue,
                (Some(old), years, oncall) => LanguageExperience {
                    years: years.unwrap_or(old.years),
                    oncall: oncall.unwrap_or(old.oncall),
                },
                (None, Some(years), Some(oncall)) => LanguageExperience { years, oncall },
                (None, Some(_), None) => {
                    return Err(format!(
                        "have you been on call for a {l} service? pass {} with --{l}-years",
                        oncall_flags(l)
                    ))
                }
                (None, None, Some(_)) => {
                    return Err(format!(
                        "how many years have you worked in {l}? pass --{l}-years N with the on-call answer"
                    ))
                }
            };
            p.experience.languages.insert(l.clone(), merged);
        }
        p.experience.updated_at = now;
        Ok(p)
    }

    /// What serde cannot check: the format, the version, the years.
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
        if self.engineer.trim().is_empty() {
            return Err("engineer is empty".to_string());
        }
        for (l, e) in &self.experience.languages {
            check_years(l, e.years).map_err(|_| format!("languages.{l}.years is {}", e.years))?;
        }
        Ok(())
    }
}

/// `6 years, on call` / `1 year, never on call`.
pub fn describe(e: LanguageExperience) -> String {
    let years = if e.years == e.years.trunc() {
        format!("{}", e.years as u32)
    } else {
        format!("{}", e.years)
    };
    format!(
        "{years} year{}, {}",
        if e.years == 1.0 { "" } else { "s" },
        if e.oncall {
            "has been on call"
        } else {
            "never on call"
        }
    )
}

/// The experience bands statistics compare Go and Rust within (by the
/// experience in the attempt's own language; docs/stats-format.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Less than a year in the language.
    YearsUnder1,
    /// 1 year or more, less than 3.
    Years1To3,
    /// 3 years or more.
    Years3Plus,
    /// Has been on call for a service in the language.
    Oncall,
    /// Never on call for one.
    NotOncall,
}

impl Band {
    pub const ALL: [Band; 5] = [
        Band::YearsUnder1,
        Band::Years1To3,
        Band::Years3Plus,
        Band::Oncall,
        Band::NotOncall,
    ];

    /// The two bands an attempt is in: one by years, one by on-call.
    pub fn of(e: LanguageExperience) -> [Band; 2] {
        let years = if e.years < 1.0 {
            Band::YearsUnder1
        } else if e.years < 3.0 {
            Band::Years1To3
        } else {
            Band::Years3Plus
        };
        [
            years,
            if e.oncall {
                Band::Oncall
            } else {
                Band::NotOncall
            },
        ]
    }

    /// As the tables print it (also the comparison's `group`).
    pub fn label(self) -> &'static str {
        match self {
            Band::YearsUnder1 => "< 1 year",
            Band::Years1To3 => "1–3 years",
            Band::Years3Plus => "≥ 3 years",
            Band::Oncall => "on call",
            Band::NotOncall => "never on call",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2030-01-01T09:00:00Z".parse().unwrap()
    }

    fn change(l: &str, years: Option<f64>, oncall: Option<bool>) -> Change {
        Change {
            language: l.into(),
            years,
            oncall,
        }
    }

    #[test]
    fn a_new_language_needs_both_answers_and_a_known_one_takes_either() {
        let err = Profile::updated(None, "ada", &[change("go", Some(6.0), None)], now());
        assert!(err.unwrap_err().contains("--go-oncall"));
        let p =
            Profile::updated(None, "ada", &[change("go", Some(6.0), Some(true))], now()).unwrap();
        let later = now().plus_ms(1000);
        let p =
            Profile::updated(Some(p), "ada", &[change("go", None, Some(false))], later).unwrap();
        assert_eq!(
            p.experience.get("go"),
            Some(LanguageExperience {
                years: 6.0,
                oncall: false
            })
        );
        assert_eq!(p.experience.updated_at, later);
        p.validate().unwrap();
    }

    #[test]
    fn impossible_years_are_refused() {
        for y in [-1.0, 61.0, f64::NAN, f64::INFINITY] {
            let r = Profile::updated(None, "ada", &[change("rust", Some(y), Some(true))], now());
            assert!(r.unwrap_err().contains("--rust-years"), "{y}");
        }
    }

    #[test]
    fn bands_split_years_at_one_and_three() {
        let b = |years, oncall| Band::of(LanguageExperience { years, oncall });
        assert_eq!(b(0.5, false), [Band::YearsUnder1, Band::NotOncall]);
        assert_eq!(b(1.0, true), [Band::Years1To3, Band::Oncall]);
        assert_eq!(b(2.9, true)[0], Band::Years1To3);
        assert_eq!(b(3.0, false)[0], Band::Years3Plus);
    }

    #[test]
    fn experience_reads_as_a_sentence() {
        let e = |years, oncall| describe(LanguageExperience { years, oncall });
        assert_eq!(e(1.0, false), "1 year, never on call");
        assert_eq!(e(6.0, true), "6 years, has been on call");
        assert_eq!(e(0.5, false), "0.5 years, never on call");
    }
}
