//! Percentile bootstrap CI for the ratio of two Kaplan–Meier medians.
//!
//! Each resample draws both groups with replacement (sizes fixed), computes
//! each group's KM median and their ratio. A resample whose median is not
//! reached has an infinite median: the ratio is then 0 or ∞, which is what
//! that resample says, and it is kept. Only ∞/∞ is undefined; such resamples
//! are counted and reported.
//!
//! Reproducible: resample `i` draws from its own generator seeded with
//! `(seed, i)`, so the result does not depend on how many threads ran it.
//! Cost is linear per resample (the groups are sorted once; a resample is a
//! vector of counts over the sorted observations).

use serde::Serialize;

use super::km::Obs;
use super::rng::Rng;

pub const DEFAULT_RESAMPLES: u32 = 10_000;
pub const DEFAULT_SEED: u64 = 20_250_101;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioCi {
    /// Percentile interval of median(b) / median(a); may be 0 or infinite.
    pub lo: f64,
    pub hi: f64,
    pub conf: f64,
    pub resamples: u32,
    /// Resamples where neither median was reached (ratio undefined).
    pub undefined: u32,
    pub seed: u64,
}

/// A group prepared for resampling: observations sorted by time, and where
/// each run of equal times ends.
struct Prepared {
    times: Vec<f64>,
    event: Vec<bool>,
    /// The last observation of a run of equal times.
    run_end: Vec<bool>,
}

impl Prepared {
    fn new(obs: &[Obs]) -> Prepared {
        let mut sorted = obs.to_vec();
        sorted.sort_by(|a, b| a.time.total_cmp(&b.time).then(b.event.cmp(&a.event)));
        let run_end = (0..sorted.len())
            .map(|i| i + 1 == sorted.len() || sorted[i + 1].time != sorted[i].time)
            .collect();
        Prepared {
            times: sorted.iter().map(|o| o.time).collect(),
            event: sorted.iter().map(|o| o.event).collect(),
            run_end,
        }
    }

    /// KM median of one resample (∞ when not reached), R's midpoint rule included.
    fn resample_median(&self, rng: &mut Rng, counts: &mut [u32]) -> f64 {
        counts.iter_mut().for_each(|c| *c = 0);
        let n = self.times.len();
        for _ in 0..n {
            counts[rng.below(n)] += 1;
        }
        let mut at_risk = n as u32;
        let mut surv = 1.0f64;
        let (mut d, mut c) = (0u32, 0u32);
        for i in 0..n {
            // One pass in time order; a run of equal times is applied at its last member.
            let w = counts[i];
            if self.event[i] {
                d += w;
            } else {
                c += w;
            }
            if !self.run_end[i] {
                continue;
            }
            if d > 0 {
                surv *= 1.0 - f64::from(d) / f64::from(at_risk);
                if surv <= 0.5 + 1.5e-8 {
                    let t = self.times[i];
                    if (surv - 0.5).abs() <= 1.5e-8 && at_risk > d + c {
                        // Exactly one half: midpoint to the next time with a fix.
                        if let Some(j) = (i + 1..n).find(|&j| self.event[j] && counts[j] > 0) {
                            return (t + self.times[j]) / 2.0;
                        }
                    }
                    return t;
                }
            }
            at_risk -= d + c;
            d = 0;
            c = 0;
        }
        f64::INFINITY
    }
}

/// 95% (or `conf`) percentile bootstrap interval of median(b) / median(a).
pub fn ratio_of_medians(a: &[Obs], b: &[Obs], resamples: u32, seed: u64, conf: f64) -> RatioCi {
    let (pa, pb) = (Prepared::new(a), Prepared::new(b));
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = (resamples as usize).div_ceil(threads);
    let mut ratios: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (pa, pb) = (&pa, &pb);
                scope.spawn(move || {
                    let mut ca = vec![0u32; pa.times.len()];
                    let mut cb = vec![0u32; pb.times.len()];
                    let start = t * chunk;
                    let end = ((t + 1) * chunk).min(resamples as usize);
                    (start..end)
                        .map(|i| {
                            let mut rng =
                                Rng::seeded(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                            let ma = pa.resample_median(&mut rng, &mut ca);
                            let mb = pb.resample_median(&mut rng, &mut cb);
                            mb / ma
                        })
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bootstrap thread"))
            .collect()
    });
    let undefined = ratios.iter().filter(|r| r.is_nan()).count() as u32;
    ratios.retain(|r| !r.is_nan());
    ratios.sort_by(f64::total_cmp);
    let (lo, hi) = if ratios.is_empty() {
        (0.0, f64::INFINITY)
    } else {
        let alpha = 1.0 - conf;
        (
            percentile(&ratios, alpha / 2.0),
            percentile(&ratios, 1.0 - alpha / 2.0),
        )
    };
    RatioCi {
        lo,
        hi,
        conf,
        resamples,
        undefined,
        seed,
    }
}

/// Linear interpolation between order statistics (NumPy's default), with
/// infinities taken as they are.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let (a, b) = (sorted[i], sorted[(i + 1).min(sorted.len() - 1)]);
    if frac == 0.0 || a == b {
        a
    } else {
        a + (b - a) * frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(times: &[f64]) -> Vec<Obs> {
        times.iter().map(|&t| Obs::event(t)).collect()
    }

    #[test]
    fn same_seed_same_interval_different_seed_close() {
        let a = group(&[10., 12., 15., 18., 20., 22., 25., 30., 34., 40.]);
        let b = group(&[14., 17., 20., 26., 28., 31., 35., 41., 47., 60.]);
        let r1 = ratio_of_medians(&a, &b, 10_000, 7, 0.95);
        let r2 = ratio_of_medians(&a, &b, 10_000, 7, 0.95);
        assert_eq!(r1, r2);
        let r3 = ratio_of_medians(&a, &b, 10_000, 8, 0.95);
        assert!((r1.lo - r3.lo).abs() < 0.1 && (r1.hi - r3.hi).abs() < 0.15);
        // Point ratio 29.5/21 = 1.40 lies inside.
        assert!(r1.lo < 1.40 && 1.40 < r1.hi, "{r1:?}");
        assert_eq!(r1.undefined, 0);
    }

    #[test]
    fn the_interval_agrees_with_the_exact_bootstrap_distribution_of_a_median() {
        // For uncensored data the bootstrap distribution of the sample median
        // is known exactly: P(median* <= x_(k)) = P(Bin(n, k/n) >= (n+1)/2)
        // (n odd). With a = {1} (median 1 always), the ratio is median*(b),
        // so its 2.5% and 97.5% percentiles must match the exact quantiles
        // of that distribution: for b = 1..=21, x_(7) = 7 and x_(15) = 15
        // (SciPy binom.sf(10, 21, k/21): k=6 0.0183, k=7 0.0557, k=14 0.9443,
        // k=15 0.9817, so the 2.5% point is 7 and the 97.5% point is 15).
        let a = group(&[1.0]);
        let b = group(&(1..=21).map(f64::from).collect::<Vec<_>>());
        let r = ratio_of_medians(&a, &b, 20_000, 1, 0.95);
        assert!((r.lo - 7.0).abs() <= 1.0, "{r:?}");
        assert!((r.hi - 15.0).abs() <= 1.0, "{r:?}");
    }

    #[test]
    fn a_median_not_reached_gives_an_unbounded_interval_not_an_invented_one() {
        let a = group(&[10., 11., 12., 13., 14.]);
        let mut b = group(&[20.]);
        b.extend([30., 30., 30., 30.].map(Obs::censored));
        let r = ratio_of_medians(&a, &b, 10_000, 3, 0.95);
        assert_eq!(r.hi, f64::INFINITY);
    }
}
