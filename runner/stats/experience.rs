//! Experience: whether the two languages' attempts come from like
//! experience, and the comparison within experience bands.
//!
//! Every attempt carries its engineer's profile as it was at start (the
//! record's `experience`); what counts is the experience in the attempt's
//! own language. Each side is summarized (median years, share on call,
//! attempts without a profile), the sides are checked against each other
//! (`unbalanced_experience`, `experience_not_recorded` warnings), and Go is
//! compared with Rust inside each band ([`Band`]) that has at least
//! [`MIN_PER_SIDE`] attempts a side, with the same comparison as the groups
//! (`super::compare`). Methods in docs/stats-format.md, "Experience".

use std::collections::BTreeMap;

use serde::Serialize;

use super::dataset::Observation;
use super::{bootstrap, Comparison, Options, Warning, WarningKind, MIN_PER_SIDE};
use crate::profile::Band;

/// Median years differing by at least this much, and by this factor, are
/// unbalanced.
const YEARS_APART: f64 = 1.0;
const YEARS_FACTOR: f64 = 1.5;
/// Shares (on call, no profile) this far apart are unbalanced.
const SHARE_APART: f64 = 0.25;

/// One language's compared attempts, by their engineers' experience in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub language: String,
    pub attempts: usize,
    /// Attempts whose record carries the engineer's experience in this
    /// language (the others: no profile at start, the language not in it,
    /// a record from before profiles, or an imported row).
    pub with_experience: usize,
    /// Median years in the language over `with_experience`.
    pub median_years: Option<f64>,
    /// Share of `with_experience` whose engineer had been on call for a
    /// service in the language.
    pub oncall_share: Option<f64>,
    /// Band → attempts (each attempt is in one years band and one on-call band).
    pub bands: BTreeMap<Band, usize>,
}

/// A band's Go vs Rust comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandComparison {
    pub band: Band,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// A band with fewer than [`MIN_PER_SIDE`] attempts on a side: not compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThinBand {
    pub band: Band,
    pub n: [usize; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperienceReport {
    pub sides: [Side; 2],
    /// What differs between the sides (`years`, `oncall`, `not_recorded`);
    /// empty when nothing does, or when a side has no experience at all.
    pub unbalanced: Vec<String>,
    /// Within each band with at least [`MIN_PER_SIDE`] attempts a side, in
    /// band order; Holm corrects across them.
    pub band_comparisons: Vec<BandComparison>,
    /// The bands left out, with their sizes.
    pub bands_too_thin: Vec<ThinBand>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    (!v.is_empty()).then(|| super::median_of(&mut v))
}

fn side(language: &str, obs: &[&Observation]) -> Side {
    let known: Vec<_> = obs.iter().filter_map(|o| o.flags.experience).collect();
    let mut bands = BTreeMap::new();
    for e in &known {
        for b in Band::of(*e) {
            *bands.entry(b).or_insert(0) += 1;
        }
    }
    Side {
        language: language.to_string(),
        attempts: obs.len(),
        with_experience: known.len(),
        median_years: median(known.iter().map(|e| e.years).collect()),
        oncall_share: (!known.is_empty())
            .then(|| known.iter().filter(|e| e.oncall).count() as f64 / known.len() as f64),
        bands,
    }
}

fn in_band<'a>(obs: &[&'a Observation], band: Band) -> Vec<&'a Observation> {
    obs.iter()
        .filter(|o| {
            o.flags
                .experience
                .is_some_and(|e| Band::of(e).contains(&band))
        })
        .copied()
        .collect()
}

/// What differs between the sides, by the rules of docs/stats-format.md.
fn unbalanced(s: &[Side; 2]) -> Vec<String> {
    let mut v = Vec::new();
    if let (Some(a), Some(b)) = (s[0].median_years, s[1].median_years) {
        let (lo, hi) = (a.min(b), a.max(b));
        if hi - lo >= YEARS_APART && hi >= YEARS_FACTOR * lo {
            v.push("years".to_string());
        }
    }
    if let (Some(a), Some(b)) = (s[0].oncall_share, s[1].oncall_share) {
        if (a - b).abs() >= SHARE_APART {
            v.push("oncall".to_string());
        }
    }
    let missing = |x: &Side| 1.0 - x.with_experience as f64 / x.attempts.max(1) as f64;
    if s.iter().any(|x| x.with_experience > 0)
        && (missing(&s[0]) - missing(&s[1])).abs() >= SHARE_APART
    {
        v.push("not_recorded".to_string());
    }
    v
}

/// The experience of the compared attempts `a` (first language) and `b`.
pub fn analyze(a: &[&Observation], b: &[&Observation], opts: &Options) -> ExperienceReport {
    let [la, lb] = [opts.compare[0].as_str(), opts.compare[1].as_str()];
    let sides = [side(la, a), side(lb, b)];
    let mut band_comparisons = Vec::new();
    let mut bands_too_thin = Vec::new();
    for band in Band::ALL {
        let (xa, xb) = (in_band(a, band), in_band(b, band));
        if xa.is_empty() && xb.is_empty() {
            continue;
        }
        if xa.len() < MIN_PER_SIDE || xb.len() < MIN_PER_SIDE {
            bands_too_thin.push(ThinBand {
                band,
                n: [xa.len(), xb.len()],
            });
            continue;
        }
        let fix = |v: &[&Observation]| v.iter().map(|o| o.fix_obs()).collect::<Vec<_>>();
        let ci =
            bootstrap::ratio_of_medians(&fix(&xa), &fix(&xb), opts.resamples, opts.seed, opts.conf);
        band_comparisons.push(BandComparison {
            band,
            comparison: super::compare(band.label(), &xa, &xb, opts, ci),
        });
    }
    let mut comparisons: Vec<Comparison> = band_comparisons
        .iter()
        .map(|c| c.comparison.clone())
        .collect();
    let tested = comparisons.len();
    super::holm_and_verdicts(&mut comparisons, tested, opts.alpha);
    for (bc, c) in band_comparisons.iter_mut().zip(comparisons) {
        bc.comparison = c;
    }
    ExperienceReport {
        unbalanced: unbalanced(&sides),
        sides,
        band_comparisons,
        bands_too_thin,
    }
}

fn years(y: Option<f64>) -> String {
    y.map_or("—".to_string(), |y| format!("{y:.1}"))
}

fn share(s: Option<f64>) -> String {
    s.map_or("—".to_string(), |s| format!("{:.0}%", 100.0 * s))
}

/// `go: median 6.0 years of go, 80% on call (10 of 12 attempts with a profile)`.
pub fn describe(s: &Side) -> String {
    format!(
        "{l}: median {} years of {l}, {} on call ({} of {} attempts with experience recorded)",
        years(s.median_years),
        share(s.oncall_share),
        s.with_experience,
        s.attempts,
        l = s.language
    )
}

/// The warnings a careful reader needs about experience.
pub fn warnings(x: &ExperienceReport, out: &mut Vec<Warning>) {
    let [a, b] = &x.sides;
    let missing = a.attempts - a.with_experience + b.attempts - b.with_experience;
    if missing > 0 {
        out.push(Warning {
            kind: WarningKind::ExperienceNotRecorded,
            group: None,
            message: format!(
                "experience not recorded for {} of {} {} and {} of {} {} attempt(s) (no profile \
                 when they started, or recorded before profiles): they are in no experience band; \
                 record profiles with `drill profile`",
                a.attempts - a.with_experience,
                a.attempts,
                a.language,
                b.attempts - b.with_experience,
                b.attempts,
                b.language
            ),
        });
    }
    if !x.unbalanced.is_empty() {
        let what: Vec<&str> = x
            .unbalanced
            .iter()
            .map(|u| match u.as_str() {
                "years" => "years in the language",
                "oncall" => "on-call experience",
                _ => "how many carry a profile",
            })
            .collect();
        out.push(Warning {
            kind: WarningKind::UnbalancedExperience,
            group: None,
            message: format!(
                "experience unbalanced ({}): {}; {}. The comparison mixes language with \
                 experience; see the comparison within experience bands",
                what.join(", "),
                describe(a),
                describe(b)
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::LanguageExperience;
    use crate::stats::dataset::Outcome;

    fn o(i: usize, lang: &str, minutes: f64, years: Option<f64>, oncall: bool) -> Observation {
        let mut o = crate::stats::tests::obs(i, "e", "c", lang, minutes * 60.0, Outcome::Fixed);
        o.flags.experience = years.map(|years| LanguageExperience { years, oncall });
        o
    }

    #[test]
    fn sides_are_summarized_and_differences_named() {
        let a: Vec<_> = (0..4).map(|i| o(i, "go", 10.0, Some(6.0), true)).collect();
        let mut b: Vec<_> = (0..4)
            .map(|i| o(10 + i, "rust", 12.0, Some(0.5), false))
            .collect();
        b.push(o(20, "rust", 12.0, None, false));
        let opts = Options::new(crate::clock::Timestamp::from_unix_ms(0));
        let (ra, rb): (Vec<_>, Vec<_>) = (a.iter().collect(), b.iter().collect());
        let x = analyze(&ra, &rb, &opts);
        assert_eq!(x.sides[0].median_years, Some(6.0));
        assert_eq!(x.sides[1].with_experience, 4);
        assert_eq!(x.sides[1].oncall_share, Some(0.0));
        assert_eq!(x.unbalanced, vec!["years", "oncall"]);
        // No band has both languages: nothing compared, every band thin.
        assert!(x.band_comparisons.is_empty());
        assert_eq!(x.bands_too_thin.len(), 4, "{:?}", x.bands_too_thin);
    }
}
