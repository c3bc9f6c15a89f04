//! Kaplan–Meier estimate of "fraction fixed by time t" for right-censored
//! times, with Greenwood variances and log-log confidence bands (as R's
//! `survfit(conf.type = "log-log")` and SciPy's `ecdf(...).sf.confidence_interval(method="log-log")`).
//!
//! Quantiles follow R's `quantile.survfit`: the first time the survival
//! curve is at or below `1 - p`, the midpoint to the next drop when it sits
//! exactly on `1 - p`, and "not reached" (reported as `> t`, t the longest
//! follow-up) when it never gets there. The median's confidence interval is
//! read off the bands the same way (Brookmeyer–Crowley).

use serde::Serialize;

/// One attempt's time: `event` true when it was fixed (or found), false
/// when it was censored (abandoned, timed out, still open) at `time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub time: f64,
    pub event: bool,
}

impl Obs {
    pub fn event(time: f64) -> Obs {
        Obs { time, event: true }
    }
    pub fn censored(time: f64) -> Obs {
        Obs { time, event: false }
    }
}

/// A time the data reached, or a bound it did not reach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "seconds", rename_all = "snake_case")]
pub enum Time {
    /// The estimate, in seconds.
    At(f64),
    /// Not reached within the follow-up: only "more than this many seconds" is known.
    After(f64),
    /// No data at all.
    Unknown,
}

impl Time {
    pub fn value(self) -> Option<f64> {
        match self {
            Time::At(t) => Some(t),
            _ => None,
        }
    }

    /// The same time (or bound) times `k`: a time in seconds priced, say.
    pub fn scaled(self, k: f64) -> Time {
        match self {
            Time::At(t) => Time::At(t * k),
            Time::After(t) => Time::After(t * k),
            Time::Unknown => Time::Unknown,
        }
    }

    /// The time as a number where "not reached" is +infinity (for ratios, ordering).
    pub fn or_infinite(self) -> f64 {
        match self {
            Time::At(t) => t,
            Time::After(_) | Time::Unknown => f64::INFINITY,
        }
    }
}

/// One distinct time at which at least one attempt was fixed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Step {
    pub time: f64,
    pub at_risk: u32,
    pub events: u32,
    /// Estimated fraction still unfixed just after `time`.
    pub surv: f64,
    /// Greenwood's sum Σ d / (n (n - d)) up to `time`: Var(log S).
    pub greenwood: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    pub n: usize,
    pub events: usize,
    pub steps: Vec<Step>,
    /// The longest time observed (fixed or censored): the end of follow-up.
    pub max_time: f64,
}

/// Tolerance for "the curve sits exactly on 1 - p" (R uses sqrt(eps)).
const FLAT: f64 = 1.5e-8;

impl KaplanMeier {
    pub fn fit(obs: &[Obs]) -> KaplanMeier {
        let mut sorted: Vec<Obs> = obs.to_vec();
        sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
        let n = sorted.len();
        let mut steps = Vec::new();
        let mut at_risk = n as u32;
        let (mut surv, mut gw) = (1.0f64, 0.0f64);
        let mut i = 0;
        while i < n {
            let t = sorted[i].time;
            let (mut d, mut c) = (0u32, 0u32);
            while i < n && sorted[i].time == t {
                if sorted[i].event {
                    d += 1;
                } else {
                    c += 1;
                }
                i += 1;
            }
            if d > 0 {
                let (r, dd) = (f64::from(at_risk), f64::from(d));
                surv *= 1.0 - dd / r;
                gw += if at_risk > d {
                    dd / (r * (r - dd))
                } else {
                    f64::INFINITY
                };
                steps.push(Step {
                    time: t,
                    at_risk,
                    events: d,
                    surv,
                    greenwood: gw,
                });
            }
            at_risk -= d + c;
        }
        KaplanMeier {
            n,
            events: steps.iter().map(|s| s.events as usize).sum(),
            steps,
            max_time: sorted.last().map_or(0.0, |o| o.time),
        }
    }

    /// Estimated fraction still unfixed at `t` (right-continuous).
    pub fn surv_at(&self, t: f64) -> f64 {
        let k = self.steps.partition_point(|s| s.time <= t);
        if k == 0 {
            1.0
        } else {
            self.steps[k - 1].surv
        }
    }

    /// Log-log confidence band for S at step `k`, as (lower, upper).
    pub fn band(&self, k: usize, z: f64) -> (f64, f64) {
        let s = self.steps[k];
        loglog_band(s.surv, s.greenwood, z)
    }

    /// Fraction fixed by `t` with its confidence interval: (estimate, lo, hi).
    pub fn fixed_by(&self, t: f64, conf: f64) -> (f64, f64, f64) {
        let z = super::dist::norm_ppf(0.5 + conf / 2.0);
        let k = self.steps.partition_point(|s| s.time <= t);
        if k == 0 {
            return (0.0, 0.0, 0.0);
        }
        let (lo, hi) = self.band(k - 1, z);
        (1.0 - self.steps[k - 1].surv, 1.0 - hi, 1.0 - lo)
    }

    /// The time by which a fraction `p` of attempts is fixed (0.5: the median).
    pub fn quantile(&self, p: f64) -> Time {
        if self.n == 0 {
            return Time::Unknown;
        }
        let curve: Vec<(f64, f64)> = self.steps.iter().map(|s| (s.time, s.surv)).collect();
        first_at_or_below(&curve, 1.0 - p).unwrap_or(Time::After(self.max_time))
    }

    /// Brookmeyer–Crowley confidence interval for the `p` quantile.
    pub fn quantile_ci(&self, p: f64, conf: f64) -> (Time, Time) {
        if self.n == 0 {
            return (Time::Unknown, Time::Unknown);
        }
        let z = super::dist::norm_ppf(0.5 + conf / 2.0);
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        for k in 0..self.steps.len() {
            let (lo, hi) = self.band(k, z);
            lower.push((self.steps[k].time, lo));
            upper.push((self.steps[k].time, hi));
        }
        let beyond = Time::After(self.max_time);
        // The lower band crosses first, giving the lower limit.
        (
            first_at_or_below(&lower, 1.0 - p).unwrap_or(beyond),
            first_at_or_below(&upper, 1.0 - p).unwrap_or(beyond),
        )
    }
}

/// S^exp(±z·se) with se = sqrt(Var log S) / |log S|.
pub fn loglog_band(surv: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if surv <= 0.0 || !greenwood.is_finite() {
        return (0.0, 0.0);
    }
    if surv >= 1.0 {
        return (1.0, 1.0);
    }
    let se = greenwood.sqrt() / surv.ln().abs();
    (surv.powf((z * se).exp()), surv.powf((-z * se).exp()))
}

/// R's rule on a step curve given at its drops: the first drop to `<= target`,
/// or the midpoint to the next drop when the curve sits exactly on `target`.
fn first_at_or_below(curve: &[(f64, f64)], target: f64) -> Option<Time> {
    let k = curve.iter().position(|&(_, s)| s <= target + FLAT)?;
    let (t, s) = curve[k];
    if (s - target).abs() <= FLAT {
        // Flat exactly on the target until the next drop (if there is one).
        if let Some(&(next, _)) = curve[k + 1..].iter().find(|&&(_, s2)| s2 < s - FLAT) {
            return Some(Time::At(t.midpoint(next)));
        }
    }
    Some(Time::At(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Minutes to fix, `c` = censored. The same data as the SciPy/lifelines
    /// references below.
    fn data() -> Vec<Obs> {
        let raw: [(f64, bool); 12] = [
            (4.0, true),
            (6.0, true),
            (6.0, false),
            (9.0, true),
            (11.0, true),
            (12.0, false),
            (15.0, true),
            (15.0, true),
            (20.0, false),
            (23.0, true),
            (30.0, false),
            (41.0, true),
        ];
        raw.iter()
            .map(|&(t, e)| Obs { time: t, event: e })
            .collect()
    }

    #[test]
    fn survival_and_log_log_band_match_scipy() {
        // SciPy 1.17.1:
        //   x = [4,6,6,9,11,12,15,15,20,23,30,41]; uncensored = [1,1,0,1,1,0,1,1,0,1,0,1]
        //   r = stats.ecdf(stats.CensoredData(uncensored=..., right=...)).sf
        //   r.probabilities, r.confidence_interval(0.95, method="log-log")
        // Values at the fixing times 4, 6, 9, 11, 15, 23 (41 takes S to 0,
        // where the log-log band is undefined: SciPy says nan, R NA).
        let expected_surv = [
            0.9166666666666666,
            0.8333333333333333,
            0.7407407407407406,
            0.648148148148148,
            0.4320987654320987,
            0.2880658436213991,
            0.0,
        ];
        let expected_lo = [
            0.5389771805707412,
            0.4817149421953787,
            0.39067612760778186,
            0.3096622270171607,
            0.1410104920796935,
            0.052763943369029565,
        ];
        let expected_hi = [
            0.987825565400458,
            0.9555093657280649,
            0.9086238694040617,
            0.851797512335439,
            0.698075655490163,
            0.5906646102803411,
        ];
        let km = KaplanMeier::fit(&data());
        let times: Vec<f64> = km.steps.iter().map(|s| s.time).collect();
        assert_eq!(times, [4.0, 6.0, 9.0, 11.0, 15.0, 23.0, 41.0]);
        let z = crate::stats::dist::norm_ppf(0.975);
        for (k, s) in km.steps.iter().enumerate() {
            assert!(close(s.surv, expected_surv[k], 1e-12), "surv at {k}");
            if k < expected_lo.len() {
                let (lo, hi) = km.band(k, z);
                assert!(close(lo, expected_lo[k], 1e-9), "lo at {k}: {lo}");
                assert!(close(hi, expected_hi[k], 1e-9), "hi at {k}: {hi}");
            }
        }
        assert_eq!(km.n, 12);
        assert_eq!(km.events, 8);
    }

    #[test]
    fn median_and_its_ci_match_lifelines() {
        // lifelines 0.30.3: KaplanMeierFitter().fit(x, uncensored)
        //   median_survival_time_ = 15.0
        //   median_survival_times(confidence_interval_) = (6.0, 41.0)
        // (lifelines' band is the same log-log Greenwood band as above.)
        let km = KaplanMeier::fit(&data());
        assert_eq!(km.quantile(0.5), Time::At(15.0));
        assert_eq!(km.quantile_ci(0.5, 0.95), (Time::At(6.0), Time::At(41.0)));
    }

    #[test]
    fn a_median_the_data_cannot_reach_is_reported_as_beyond_follow_up() {
        // 2 of 6 fixed: S never drops to 0.5.
        let obs = [
            Obs::event(5.0),
            Obs::censored(7.0),
            Obs::event(8.0),
            Obs::censored(10.0),
            Obs::censored(12.0),
            Obs::censored(30.0),
        ];
        let km = KaplanMeier::fit(&obs);
        assert_eq!(km.quantile(0.5), Time::After(30.0));
        let (lo, hi) = km.quantile_ci(0.5, 0.95);
        // lifelines 0.30.3 on the same data: median inf, CI (5.0, inf).
        assert_eq!((lo, hi), (Time::At(5.0), Time::After(30.0)));
    }

    #[test]
    fn a_curve_exactly_at_one_half_takes_the_midpoint_like_r() {
        // R: quantile(survfit(Surv(c(1,2,3,4), rep(1,4)) ~ 1), 0.5) = 2.5
        // (S = 0.5 on [2, 3), so the median is the midpoint).
        let obs: Vec<Obs> = [1.0, 2.0, 3.0, 4.0].map(Obs::event).to_vec();
        assert_eq!(KaplanMeier::fit(&obs).quantile(0.5), Time::At(2.5));
    }

    #[test]
    fn censored_attempts_are_kept_at_risk_not_dropped_or_capped() {
        // Uncensored median of the fixed ones alone would be 6; treating
        // the give-ups as fixed at the cap would give 8. KM gives neither.
        let obs = [
            Obs::event(2.0),
            Obs::event(6.0),
            Obs::event(10.0),
            Obs::censored(8.0),
            Obs::censored(8.0),
        ];
        let km = KaplanMeier::fit(&obs);
        // S: 2 -> 4/5, 6 -> 3/5, 10 -> 0 (1 at risk).
        assert!(close(km.surv_at(6.0), 0.6, 1e-12));
        assert_eq!(km.quantile(0.5), Time::At(10.0));
        let (f, lo, hi) = km.fixed_by(6.0, 0.95);
        assert!(close(f, 0.4, 1e-12) && lo < f && f < hi);
    }
}
