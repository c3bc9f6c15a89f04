//! Power before the experiment (`drill plan --power`): by simulation, how
//! many engineers a counterbalanced plan needs for its comparisons to detect
//! a given ratio of median time-to-fix.
//!
//! The design is the plan's: every engineer meets each of the plan's
//! classes once in each language, so with `e` engineers a class has `e`
//! attempts a language and the overall comparison `e × classes`. A
//! simulated experiment draws the first language's times from the
//! baseline — the pilot attempts in the results (their times and give-ups,
//! resampled), or a stated log-normal assumption — and the second
//! language's as the same draws scaled by the ratio (give-ups stay
//! give-ups, at the scaled time). It is detected when the log-rank test
//! gives p < α (α / classes for one class: Holm's first step, the hardest)
//! and the Kaplan–Meier medians lie on the ratio's side of 1. The verdict of
//! `drill stats` also asks the bootstrap interval to exclude 1, so these
//! counts are a floor, not a promise.

use rand_xoshiro::rand_core::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256StarStar;
use serde::Serialize;

use super::hypothesis::log_rank;
use super::km::{KaplanMeier, Obs, Time};

/// Fewest fixes among the pilot attempts for them to be the baseline.
pub const MIN_PILOT_FIXES: usize = 5;
pub const DEFAULT_SIMULATIONS: u32 = 500;
pub const DEFAULT_POWER: f64 = 0.8;
/// The most engineers the search considers.
pub const MAX_ENGINEERS: usize = 200;

/// The stated assumption when there is no pilot: log-normal times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assumption {
    /// Median time-to-fix of the first language, in seconds.
    pub median_s: f64,
    /// Standard deviation of ln(time): 0.6 is about a 3× spread between
    /// the quickest and slowest quarter.
    pub sigma: f64,
    /// Fraction of attempts given up.
    pub give_up: f64,
}

impl Default for Assumption {
    fn default() -> Assumption {
        Assumption {
            median_s: 25.0 * 60.0,
            sigma: 0.6,
            give_up: 0.12,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Baseline {
    /// The first language's attempts in the results.
    Pilot {
        attempts: Vec<PilotAttempt>,
    },
    Assumed(Assumption),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PilotAttempt {
    pub seconds: f64,
    pub fixed: bool,
}

impl Baseline {
    /// The pilot when it has enough fixes, else the assumption.
    pub fn from_pilot(pilot: &[Obs], assumption: Assumption) -> Baseline {
        let fixes = pilot
            .iter()
            .filter(|o| o.event && o.time.is_finite())
            .count();
        if fixes >= MIN_PILOT_FIXES {
            Baseline::Pilot {
                attempts: pilot
                    .iter()
                    .filter(|o| o.time.is_finite())
                    .map(|o| PilotAttempt {
                        seconds: o.time,
                        fixed: o.event,
                    })
                    .collect(),
            }
        } else {
            Baseline::Assumed(assumption)
        }
    }

    fn draw(&self, rng: &mut Xoshiro256StarStar) -> Obs {
        match self {
            Baseline::Pilot { attempts } => {
                let a = attempts[below(rng, attempts.len())];
                Obs {
                    time: a.seconds,
                    event: a.fixed,
                }
            }
            Baseline::Assumed(a) => {
                let t = (a.median_s.ln() + a.sigma * normal(rng)).exp();
                Obs {
                    time: t,
                    event: uniform(rng) >= a.give_up,
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Query {
    /// median(second) / median(first) to detect (> 0, not 1).
    pub ratio: f64,
    /// Classes in the plan (each engineer meets each once per language).
    pub classes: usize,
    pub alpha: f64,
    /// Wanted probability of detection.
    pub power: f64,
    pub simulations: u32,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub engineers: usize,
    /// Detection probability of the overall comparison.
    pub overall: f64,
    /// Of one class's comparison (at α / classes).
    pub per_class: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub query: Query,
    pub baseline: Baseline,
    /// Fewest engineers for the overall comparison; None beyond [`MAX_ENGINEERS`].
    pub overall: Option<usize>,
    /// Fewest engineers for each class's own comparison.
    pub per_class: Option<usize>,
    /// The powers the search computed, by engineers.
    pub curve: Vec<Point>,
}

fn below(rng: &mut Xoshiro256StarStar, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

fn uniform(rng: &mut Xoshiro256StarStar) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut Xoshiro256StarStar) -> f64 {
    // Box–Muller; u1 in (0, 1].
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Probability that one comparison of `n` against `n` attempts detects the ratio at `alpha`.
fn detect_probability(
    baseline: &Baseline,
    ratio: f64,
    n: usize,
    alpha: f64,
    sims: u32,
    seed: u64,
) -> f64 {
    let mut hits = 0u32;
    for s in 0..sims {
        let mut rng = Xoshiro256StarStar::seed_from_u64(
            seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(s),
        );
        let a: Vec<Obs> = (0..n).map(|_| baseline.draw(&mut rng)).collect();
        let b: Vec<Obs> = (0..n)
            .map(|_| {
                let o = baseline.draw(&mut rng);
                Obs {
                    time: o.time * ratio,
                    event: o.event,
                }
            })
            .collect();
        let lr = log_rank(&a, &b);
        if lr.p >= alpha {
            continue;
        }
        let (ma, mb) = (
            KaplanMeier::fit(&a).quantile(0.5),
            KaplanMeier::fit(&b).quantile(0.5),
        );
        let value = |t: Time| match t {
            Time::At(v) => v,
            _ => f64::INFINITY,
        };
        let (ma, mb) = (value(ma), value(mb));
        let right_side = if ratio > 1.0 { mb > ma } else { mb < ma };
        if right_side {
            hits += 1;
        }
    }
    f64::from(hits) / f64::from(sims.max(1))
}

/// The fewest engineers (2..=MAX) whose power reaches the target, by
/// doubling then bisection (power grows with n, up to simulation noise).
fn fewest(mut power_at: impl FnMut(usize) -> f64, target: f64) -> Option<usize> {
    let mut hi = 2;
    while power_at(hi) < target {
        if hi >= MAX_ENGINEERS {
            return None;
        }
        hi = (hi * 2).min(MAX_ENGINEERS);
    }
    let mut lo = hi / 2; // below target (or 1)
    if lo < 2 {
        return Some(hi);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if power_at(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// How many engineers the plan needs to detect `query.ratio`.
pub fn estimate(baseline: Baseline, query: Query) -> Estimate {
    let mut curve: Vec<Point> = Vec::new();
    let point = |e: usize, curve: &mut Vec<Point>| -> Point {
        if let Some(p) = curve.iter().find(|p| p.engineers == e) {
            return *p;
        }
        let p = at(&baseline, &query, e);
        curve.push(p);
        p
    };
    let overall = fewest(|e| point(e, &mut curve).overall, query.power);
    let per_class = fewest(|e| point(e, &mut curve).per_class, query.power);
    curve.sort_by_key(|p| p.engineers);
    Estimate {
        query,
        baseline,
        overall,
        per_class,
        curve,
    }
}

/// What `drill plan --power` prints. `languages` are the plan's (ratios
/// are second/first); `named`: the engineers the command was given, whose
/// power is shown too.
pub fn render(
    e: &Estimate,
    languages: &[String; 2],
    pilot_from: &str,
    named: Option<Point>,
) -> String {
    use std::fmt::Write as _;
    let [a, b] = languages;
    let q = &e.query;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Engineers needed to detect {b}/{a} = {:.2} in median time-to-fix, with {:.0}% power at α = {} ({} simulated experiments per size)",
        q.ratio,
        q.power * 100.0,
        q.alpha,
        q.simulations
    );
    let _ = writeln!(
        s,
        "Design: each engineer meets each of the plan's {} class(es) once in each language.",
        q.classes
    );
    match &e.baseline {
        Baseline::Pilot { attempts } => {
            let fixed = attempts.iter().filter(|p| p.fixed).count();
            let _ = writeln!(
                s,
                "Baseline: the {} {a} attempt(s) in {pilot_from} ({fixed} fixed), resampled; {b} = the same times × {:.2}.",
                attempts.len(),
                q.ratio
            );
        }
        Baseline::Assumed(x) => {
            let _ = writeln!(
                s,
                "Baseline: an assumption (no pilot with at least {MIN_PILOT_FIXES} {a} fixes in {pilot_from}): {a} median {:.1} min, log-sd {:.2}, {:.0}% give-ups, log-normal; {b} = the same times × {:.2}.",
                x.median_s / 60.0,
                x.sigma,
                x.give_up * 100.0,
                q.ratio
            );
        }
    }
    let say = |n: Option<usize>| match n {
        Some(n) => format!("{n} engineer(s)"),
        None => format!("more than {MAX_ENGINEERS} engineers"),
    };
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  the overall comparison (all classes pooled): {}",
        say(e.overall)
    );
    let _ = writeln!(
        s,
        "  each class on its own (Holm, α/{}):          {}",
        q.classes,
        say(e.per_class)
    );
    if let Some(p) = named {
        let _ = writeln!(
            s,
            "  with the {} engineer(s) named: overall {:.0}%, each class {:.0}%",
            p.engineers,
            p.overall * 100.0,
            p.per_class * 100.0
        );
    }
    let _ = writeln!(
        s,
        "\nA floor, not a promise: `drill stats` also needs the bootstrap interval to exclude 1, and an engineer-to-engineer spread wider than the baseline's is not modelled."
    );
    s
}

/// The power with exactly `engineers` (for the engineers a plan names).
pub fn at(baseline: &Baseline, query: &Query, engineers: usize) -> Point {
    let classes = query.classes.max(1);
    Point {
        engineers,
        overall: detect_probability(
            baseline,
            query.ratio,
            engineers * classes,
            query.alpha,
            query.simulations,
            query.seed,
        ),
        per_class: detect_probability(
            baseline,
            query.ratio,
            engineers,
            query.alpha / classes as f64,
            query.simulations,
            query.seed ^ 1,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(ratio: f64, classes: usize) -> Query {
        Query {
            ratio,
            classes,
            alpha: 0.05,
            power: 0.8,
            simulations: 300,
            seed: 7,
        }
    }

    #[test]
    fn a_larger_ratio_needs_fewer_engineers_and_one_class_needs_more_than_all() {
        let base = Baseline::Assumed(Assumption::default());
        let big = estimate(base.clone(), query(2.0, 4));
        let small = estimate(base, query(1.3, 4));
        let (b, s) = (big.overall.unwrap(), small.overall.unwrap());
        assert!(b < s, "{big:?} {small:?}");
        assert!(big.per_class.unwrap() > b, "{big:?}");
        // No ratio at all is never "detected" more often than α allows.
        let none = detect_probability(
            &Baseline::Assumed(Assumption::default()),
            1.0,
            20,
            0.05,
            1000,
            3,
        );
        assert!(none < 0.05, "{none}");
    }

    #[test]
    fn the_power_matches_schoenfelds_formula_for_the_log_rank_test() {
        // Exponential times (proportional hazards, where the log-rank test
        // is the right test and the ratio of medians is the hazard ratio):
        // Schoenfeld gives power Φ(|ln HR| √(D/4) − z_{α/2}) with D events,
        // here 2n without censoring: Φ(ln 2 · √(33/2) − 1.96) = 0.80 for
        // HR 2 and n = 33 a side. The pilot is 4,000 exponential quantiles.
        let pilot: Vec<Obs> = (0..4000)
            .map(|i| Obs::event(-(1.0 - (f64::from(i) + 0.5) / 4000.0).ln() * 1000.0))
            .collect();
        let base = Baseline::from_pilot(&pilot, Assumption::default());
        let p = detect_probability(&base, 2.0, 33, 0.05, 2000, 11);
        assert!((p - 0.80).abs() < 0.05, "{p}");
    }

    #[test]
    fn the_pilot_is_the_baseline_only_with_enough_fixes() {
        let few: Vec<Obs> = [60.0, 90.0, 120.0].map(Obs::event).to_vec();
        assert!(matches!(
            Baseline::from_pilot(&few, Assumption::default()),
            Baseline::Assumed(_)
        ));
        let mut enough: Vec<Obs> = (1..=8).map(|i| Obs::event(60.0 * f64::from(i))).collect();
        enough.push(Obs::censored(900.0));
        let Baseline::Pilot { attempts } = Baseline::from_pilot(&enough, Assumption::default())
        else {
            panic!("a pilot of 8 fixes is the baseline")
        };
        assert_eq!(attempts.len(), 9);
    }
}
