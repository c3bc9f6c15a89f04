//! The honest comparison of two languages' rounds: each figure's median and
//! spread across rounds, flagged noisy above 5% coefficient of variation, and
//! the ratio of the medians (second language over first: Rust/Go) with a
//! seeded, paired percentile bootstrap over the rounds.
//!
//! Paired, because the rounds are interleaved (A B A B …): round *i* of both
//! languages ran under the same drift of the machine, so a resample draws
//! whole rounds (both languages' values of round *i* together).

use rand_xoshiro::rand_core::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256StarStar as Rng;
use serde::{Deserialize, Serialize};

/// Above this coefficient of variation across rounds a figure is noisy.
pub const NOISY_CV: f64 = 0.05;
pub const RESAMPLES: u32 = 5000;
pub const CONF: f64 = 0.95;

/// A figure's values across rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation over the mean; none below two rounds.
    pub cv: Option<f64>,
    /// `cv` above 5%.
    pub noisy: bool,
    /// One value per round, in round order.
    pub values: Vec<f64>,
}

pub fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => s[n / 2],
        _ => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let cv = (n > 1 && mean != 0.0).then(|| {
            let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            var.sqrt() / mean.abs()
        });
        Some(Spread {
            n,
            median: median(values),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            cv,
            noisy: cv.is_some_and(|c| c > NOISY_CV),
            values: values.to_vec(),
        })
    }
}

/// median(b) / median(a) with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub ratio: f64,
    /// None below two paired rounds (no interval from one observation).
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub conf: f64,
    pub resamples: u32,
    pub seed: u64,
}

/// The ratio of medians `b / a` over rounds paired by index; `None` when
/// `a`'s median is 0 (a ratio of nothing) or there is no round.
pub fn ratio(a: &[f64], b: &[f64], seed: u64) -> Option<Ratio> {
    let n = a.len().min(b.len());
    if n == 0 {
        return None;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let den = median(a);
    if den == 0.0 || !den.is_finite() {
        return None;
    }
    let point = median(b) / den;
    let (mut lo, mut hi) = (None, None);
    if n >= 2 {
        let mut rng = Rng::seed_from_u64(seed);
        let mut ratios = Vec::with_capacity(RESAMPLES as usize);
        let (mut ra, mut rb) = (vec![0.0; n], vec![0.0; n]);
        for _ in 0..RESAMPLES {
            for k in 0..n {
                let i = (rng.next_u64() % n as u64) as usize;
                ra[k] = a[i];
                rb[k] = b[i];
            }
            let d = median(&ra);
            if d != 0.0 {
                ratios.push(median(&rb) / d);
            }
        }
        ratios.sort_by(f64::total_cmp);
        if !ratios.is_empty() {
            let q = |p: f64| {
                ratios[((p * (ratios.len() - 1) as f64).round() as usize).min(ratios.len() - 1)]
            };
            lo = Some(q((1.0 - CONF) / 2.0));
            hi = Some(q(1.0 - (1.0 - CONF) / 2.0));
        }
    }
    Some(Ratio {
        ratio: point,
        lo,
        hi,
        conf: CONF,
        resamples: RESAMPLES,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_reports_median_range_and_noise() {
        let s = Spread::of(&[10.0, 10.1, 9.9, 10.0]).unwrap();
        assert_eq!(s.median, 10.0);
        assert_eq!((s.min, s.max), (9.9, 10.1));
        assert!(!s.noisy && s.cv.unwrap() < 0.01);
        let s = Spread::of(&[10.0, 14.0, 8.0]).unwrap();
        assert!(s.noisy);
        let one = Spread::of(&[3.0]).unwrap();
        assert_eq!((one.cv, one.noisy), (None, false));
    }

    #[test]
    fn the_ratio_is_seeded_and_holds_its_estimate() {
        let go = [100.0, 104.0, 98.0, 101.0, 99.0];
        let rust = [60.0, 63.0, 58.0, 61.0, 59.0];
        let r = ratio(&go, &rust, 7).unwrap();
        assert!((r.ratio - 0.6).abs() < 0.01, "{r:?}");
        let (lo, hi) = (r.lo.unwrap(), r.hi.unwrap());
        assert!(lo <= r.ratio && r.ratio <= hi && hi - lo < 0.1, "{r:?}");
        assert_eq!(r, ratio(&go, &rust, 7).unwrap());
        let single = ratio(&[1.0], &[2.0], 7).unwrap();
        assert_eq!((single.ratio, single.lo), (2.0, None));
        assert!(ratio(&[0.0, 0.0], &[1.0, 1.0], 7).is_none());
    }
}
