//! `drill bench <scenario> --sweep`: the highest rate each language sustains
//! within the workload's limits. Rates rise by a factor from a start rate
//! until a step breaks the latency limit (p99, or p95 when `bench.toml` sets
//! no p99 limit) or the error limit, then the gap between the last rate held
//! and the first one broken is halved (geometrically) a few times. The
//! languages take turns (A B A B …) so drift hits both; one that broke stops
//! while the other goes on.
//!
//! This module is the step logic only: what to measure next and what a
//! measurement means. `scenario::sweep` does the measuring.

use serde::{Deserialize, Serialize};

/// The error limit when `bench.toml` sets none.
pub const DEFAULT_ERROR_RATE: f64 = 0.01;
/// A step that achieves less than this share of its target rate broke.
pub const MIN_ACHIEVED: f64 = 0.95;

/// How a sweep steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub start: f64,
    /// Each rate is the last one held × this (> 1).
    pub factor: f64,
    /// No rate above this is tried: a language holding it sustains "at least" it.
    pub max: f64,
    /// Halvings of the gap between the last rate held and the first broken.
    pub refine: u32,
}

/// The limits a step is judged on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judge {
    /// `p99` or `p95`: which corrected percentile is limited.
    pub percentile: String,
    pub latency_ms: f64,
    pub error_rate: f64,
    /// Where each came from (`bench.toml limits.p99_ms`, `default`), for the reader.
    pub source: String,
    /// A step whose achieved rate is below this share of its target broke too.
    pub min_achieved: f64,
}

/// What one measurement at one rate gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub latency_ms: f64,
    pub error_rate: f64,
    pub achieved_rate: f64,
}

/// One step as measured and judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub rate: f64,
    pub point: Point,
    pub held: bool,
    /// Why it broke (`p99 31.2 ms > 25 ms`), empty when held.
    pub why: String,
}

/// A language's sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangSweep {
    pub lang: String,
    pub steps: Vec<Step>,
    /// The highest rate held (none: not even the start rate).
    pub sustained: Option<f64>,
    /// The lowest rate broken (none: held up to `plan.max`).
    pub broke_at: Option<f64>,
    pub done: bool,
}

/// The whole sweep: its plan, its judge, each language's steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub plan: Plan,
    pub judge: Judge,
    pub langs: Vec<LangSweep>,
}

impl Judge {
    /// Whether `p` at `rate` is within the limits, and why not.
    pub fn judge(&self, rate: f64, p: &Point) -> (bool, String) {
        let mut why = Vec::new();
        if p.latency_ms > self.latency_ms {
            why.push(format!(
                "{} {:.1} ms > {} ms",
                self.percentile, p.latency_ms, self.latency_ms
            ));
        }
        if p.error_rate > self.error_rate {
            why.push(format!(
                "errors {:.2}% > {}%",
                p.error_rate * 100.0,
                self.error_rate * 100.0
            ));
        }
        if p.achieved_rate < rate * self.min_achieved {
            why.push(format!(
                "achieved {:.0} of {:.0} req/s",
                p.achieved_rate, rate
            ));
        }
        (why.is_empty(), why.join(", "))
    }
}

/// Rates are rounded to whole requests per second (and at least 1).
fn whole(r: f64) -> f64 {
    r.round().max(1.0)
}

impl Sweep {
    pub fn new(langs: &[String], plan: Plan, judge: Judge) -> Sweep {
        Sweep {
            langs: langs
                .iter()
                .map(|l| LangSweep {
                    lang: l.clone(),
                    steps: Vec::new(),
                    sustained: None,
                    broke_at: None,
                    done: false,
                })
                .collect(),
            plan,
            judge,
        }
    }

    /// The next rate for one language, or none when its sweep is over.
    fn next_rate(&self, l: &LangSweep) -> Option<f64> {
        let p = &self.plan;
        match (l.sustained, l.broke_at) {
            _ if l.done => None,
            (None, None) => Some(whole(p.start)),
            // Broke at the start rate: nothing below it is tried.
            (None, Some(_)) => None,
            (Some(good), None) => {
                let r = whole((good * p.factor).min(p.max));
                (r > good).then_some(r)
            }
            (Some(good), Some(bad)) => {
                // Every step after the first break is a refinement.
                let first_break = l.steps.iter().position(|s| !s.held).unwrap_or(0);
                let made = (l.steps.len() - first_break - 1) as u32;
                let r = whole((good * bad).sqrt());
                (made < p.refine && r > good && r < bad).then_some(r)
            }
        }
    }

    /// The next measurement, (language, rate): the language with the fewest
    /// steps that is not done, the first in order on a tie (A B A B …).
    pub fn next(&self) -> Option<(String, f64)> {
        self.langs
            .iter()
            .filter_map(|l| self.next_rate(l).map(|r| (l, r)))
            .min_by_key(|(l, _)| l.steps.len())
            .map(|(l, r)| (l.lang.clone(), r))
    }

    /// Records what `lang` gave at `rate`.
    pub fn record(&mut self, lang: &str, rate: f64, point: Point) {
        let (held, why) = self.judge.judge(rate, &point);
        let Some(i) = self.langs.iter().position(|l| l.lang == lang) else {
            return;
        };
        let l = &mut self.langs[i];
        l.steps.push(Step {
            rate,
            point,
            held,
            why,
        });
        if held {
            l.sustained = Some(l.sustained.map_or(rate, |s| s.max(rate)));
        } else {
            l.broke_at = Some(l.broke_at.map_or(rate, |b| b.min(rate)));
        }
        let done = self.next_rate(&self.langs[i]).is_none();
        self.langs[i].done = done;
    }

    /// Stops every language (a stop request): what was measured stays.
    pub fn stop(&mut self) {
        for l in &mut self.langs {
            l.done = true;
        }
    }

    /// The most steps a language can take (for a progress bar).
    pub fn max_steps(&self) -> u64 {
        let p = &self.plan;
        let climbs = if p.factor > 1.0 && p.max > p.start {
            ((p.max / p.start).ln() / p.factor.ln()).ceil() as u64 + 1
        } else {
            1
        };
        climbs + u64::from(p.refine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge() -> Judge {
        Judge {
            percentile: "p99".into(),
            latency_ms: 50.0,
            error_rate: 0.01,
            source: "test".into(),
            min_achieved: 0.95,
        }
    }

    /// A fake service: p99 grows with the rate and passes the limit at `knee`.
    fn service(knee: f64) -> impl Fn(f64) -> Point {
        move |rate| Point {
            latency_ms: 50.0 * rate / knee,
            error_rate: 0.0,
            achieved_rate: rate,
        }
    }

    fn run(s: &mut Sweep, services: &[(&str, &dyn Fn(f64) -> Point)]) -> Vec<(String, f64)> {
        let mut order = Vec::new();
        while let Some((lang, rate)) = s.next() {
            let f = services.iter().find(|(l, _)| *l == lang).unwrap().1;
            s.record(&lang, rate, f(rate));
            order.push((lang, rate));
            assert!(order.len() < 100, "the sweep does not end: {order:?}");
        }
        order
    }

    #[test]
    fn rates_climb_by_the_factor_then_the_gap_is_halved_and_languages_take_turns() {
        let plan = Plan {
            start: 100.0,
            factor: 2.0,
            max: 10_000.0,
            refine: 2,
        };
        let mut s = Sweep::new(&["go".into(), "rust".into()], plan, judge());
        // go breaks above 500 req/s, rust above 1000.
        let go = service(500.0);
        let rust = service(1000.0);
        let order = run(&mut s, &[("go", &go), ("rust", &rust)]);
        let rates = |lang: &str| -> Vec<f64> {
            order
                .iter()
                .filter(|(l, _)| l == lang)
                .map(|(_, r)| *r)
                .collect()
        };
        // go: 100 200 400 held, 800 broke; sqrt(400 × 800) = 566 broke;
        // sqrt(400 × 566) = 476 held. Two refinements, then done.
        assert_eq!(rates("go"), [100.0, 200.0, 400.0, 800.0, 566.0, 476.0]);
        assert_eq!(s.langs[0].sustained, Some(476.0));
        assert_eq!(s.langs[0].broke_at, Some(566.0));
        // rust: 800 held, 1600 broke, 1131 broke, 951 held.
        assert_eq!(
            rates("rust"),
            [100.0, 200.0, 400.0, 800.0, 1600.0, 1131.0, 951.0]
        );
        assert_eq!(s.langs[1].sustained, Some(951.0));
        // A B A B …: while both go on, they alternate.
        let first: Vec<&str> = order.iter().take(12).map(|(l, _)| l.as_str()).collect();
        assert_eq!(first, ["go", "rust"].repeat(6));
        assert!(s.langs.iter().all(|l| l.done));
    }

    #[test]
    fn errors_a_short_rate_or_the_start_itself_break_a_step() {
        let j = judge();
        let ok = Point {
            latency_ms: 10.0,
            error_rate: 0.0,
            achieved_rate: 100.0,
        };
        assert_eq!(j.judge(100.0, &ok), (true, String::new()));
        let errors = Point {
            error_rate: 0.05,
            ..ok
        };
        assert_eq!(j.judge(100.0, &errors).1, "errors 5.00% > 1%");
        let slow = Point {
            achieved_rate: 90.0,
            ..ok
        };
        assert_eq!(j.judge(100.0, &slow).1, "achieved 90 of 100 req/s");

        // Broken at the start rate: one step, nothing sustained.
        let plan = Plan {
            start: 100.0,
            factor: 1.5,
            max: 1000.0,
            refine: 3,
        };
        let mut s = Sweep::new(&["go".into()], plan, judge());
        let bad = |_r: f64| Point {
            latency_ms: 80.0,
            ..ok
        };
        run(&mut s, &[("go", &bad)]);
        assert_eq!(s.langs[0].steps.len(), 1);
        assert_eq!(
            (s.langs[0].sustained, s.langs[0].broke_at),
            (None, Some(100.0))
        );
    }

    #[test]
    fn a_language_holding_the_highest_rate_sustains_at_least_it() {
        let plan = Plan {
            start: 100.0,
            factor: 3.0,
            max: 500.0,
            refine: 2,
        };
        let mut s = Sweep::new(&["rust".into()], plan.clone(), judge());
        let fast = service(1e9);
        let order = run(&mut s, &[("rust", &fast)]);
        // 100, 300, then capped at 500; nothing above the maximum.
        assert_eq!(
            order.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
            [100.0, 300.0, 500.0]
        );
        assert_eq!(
            (s.langs[0].sustained, s.langs[0].broke_at),
            (Some(500.0), None)
        );
        // Three climbs (100, 300, 500) and two refinements at most.
        assert_eq!(Sweep::new(&[], plan, judge()).max_steps(), 3 + 2);
    }
}
