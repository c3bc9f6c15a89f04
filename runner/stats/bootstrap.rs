//! Percentile bootstrap CIs for the ratio of two Kaplan–Meier medians: one
//! per group, and the overall one (docs/stats-format.md, "Methods").
//!
//! A resample draws every group × language sample ("stratum") with
//! replacement at its own size, computes each language's KM median and their
//! ratio. A resample whose median is not reached has an infinite median: the
//! ratio is then 0 or ∞, which is what that resample says, and it is kept.
//! Only ∞/∞ is undefined; such resamples are counted and reported.
//!
//! The overall interval is a *stratified* bootstrap when every stratum has at
//! least [`MIN_STRATUM`] attempts: the overall resample is the union of the
//! per-group resamples (group sizes stay as the experiment chose them), so no
//! second set of draws is needed. With smaller strata, where the stratified
//! bootstrap would understate the variance by the factor (n−1)/n of each
//! stratum, each language is resampled as one pooled sample instead.
//!
//! Reproducible: resample `i` of a group draws from its own generator seeded
//! with `(seed, group name, i)`, so the result depends neither on how many
//! threads ran it nor on which other groups were in the data.
//!
//! Cost, per resample: one 32-bit draw per attempt (two per 64-bit word,
//! exact: Lemire's method with its rejection step) into a vector of counts
//! over the time-sorted attempts; then a KM pass that stops at the median.
//! The pass uses that the KM product telescopes between censored attempts:
//! over a run of fixes, Π (r − d)/r = r_end / r_start, so it sums counts
//! (vectorised) and does a multiplication only at censored attempts, instead
//! of a division at every attempt.

use serde::Serialize;

use super::km::Obs;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256StarStar as Rng;

pub const DEFAULT_RESAMPLES: u32 = 10_000;
pub const DEFAULT_SEED: u64 = 20_250_101;
/// Smallest group × language stratum for which the overall interval is
/// stratified: there the stratified bootstrap's variance shrinkage, (n−1)/n,
/// is at most 2% (1% on the interval's width).
pub const MIN_STRATUM: usize = 50;

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
    /// 0: each language resampled as one sample. k > 0: stratified
    /// bootstrap over k group × language strata, each resampled at its own
    /// size (the overall comparison, when every stratum is large enough).
    pub strata: u32,
}

/// One group's two samples (either may be empty: the group then has no
/// interval of its own, but its attempts still count in the overall one).
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    pub name: &'a str,
    pub a: &'a [Obs],
    pub b: &'a [Obs],
}

/// Intervals for [`Group`]s, in their order (None when a side is empty),
/// and overall (None when a language has no attempts at all).
#[derive(Debug, Clone, PartialEq)]
pub struct Intervals {
    pub groups: Vec<Option<RatioCi>>,
    pub overall: Option<RatioCi>,
}

/// Tolerance for "the curve sits exactly on one half" (as km.rs, R's sqrt(eps)).
const FLAT: f64 = 1.5e-8;
const HALF: f64 = 0.5 + FLAT;
/// Rescaling of the KM product's numerator and denominator (exact: a power of two).
const BIG: f64 = 1e150;
const SCALE: f64 = 1.0 / (1u128 << 100) as f64 / (1u128 << 100) as f64 / (1u128 << 100) as f64;

/// Attempts sorted by time (fixes before censorings at equal times), with
/// the positions of the censored ones followed by `len` (a sentinel).
#[derive(Debug)]
struct Sorted {
    times: Vec<f64>,
    event: Vec<bool>,
    censored: Vec<u32>,
    /// Where each position's count lives in the resample's count vector.
    slot: Vec<u32>,
}

impl Sorted {
    fn new(mut obs: Vec<(Obs, u32)>) -> Sorted {
        assert!(
            obs.len() < u32::MAX as usize,
            "too many attempts to resample"
        );
        obs.sort_by(|(x, i), (y, j)| {
            x.time
                .total_cmp(&y.time)
                .then(y.event.cmp(&x.event))
                .then(i.cmp(j))
        });
        let mut censored: Vec<u32> = (0..obs.len() as u32)
            .filter(|&k| !obs[k as usize].0.event)
            .collect();
        censored.push(obs.len() as u32);
        Sorted {
            times: obs.iter().map(|o| o.0.time).collect(),
            event: obs.iter().map(|o| o.0.event).collect(),
            censored,
            slot: obs.iter().map(|o| o.1).collect(),
        }
    }

    fn len(&self) -> usize {
        self.times.len()
    }

    /// KM median of one resample (∞ when not reached), R's midpoint rule
    /// included. `w.at(k)`: how many times the k-th attempt was drawn.
    fn median(&self, w: &impl Weights) -> f64 {
        // S = num / den at the start of each run of fixes, r at risk there.
        let (mut num, mut den) = (1.0f64, 1.0f64);
        let mut r = self.len() as u32;
        let mut start = 0usize;
        for &c in &self.censored {
            let c = c as usize;
            let r_end = r - w.sum(start, c);
            // S after the run is num/den · r_end/r; at or below one half?
            let dr = den * f64::from(r);
            if num * f64::from(r_end) <= HALF * dr {
                if let Some(t) = self.crossing(w, start, c, r, num, dr) {
                    return t;
                }
            }
            if c == self.len() {
                break;
            }
            num *= f64::from(r_end);
            den = dr;
            if den > BIG {
                (num, den) = rescale(num, den);
            }
            r = r_end - w.at(c);
            if r == 0 {
                break;
            }
            start = c + 1;
        }
        f64::INFINITY
    }

    /// The fix in `start..end` where S first gets to one half (S = num/dr · r
    /// at risk), and the midpoint to the next fix when S sits exactly on it.
    fn crossing(
        &self,
        w: &impl Weights,
        start: usize,
        end: usize,
        r: u32,
        num: f64,
        dr: f64,
    ) -> Option<f64> {
        let mut at_risk = r;
        for k in start..end {
            let d = w.at(k);
            if d == 0 {
                continue;
            }
            at_risk -= d;
            if num * f64::from(at_risk) <= HALF * dr {
                let t = self.times[k];
                if (num * f64::from(at_risk) / dr - 0.5).abs() <= FLAT {
                    if let Some(j) = (k + 1..self.len()).find(|&j| self.event[j] && w.at(j) > 0) {
                        return Some(t.midpoint(self.times[j]));
                    }
                }
                return Some(t);
            }
        }
        // Only when rounding put S on one half's other side at the run's
        // start: the pointwise test above is the one that counts.
        None
    }
}

/// Keeps the KM product's numerator and denominator in range (exactly: a
/// power of two). Rare, and kept out of line so the hot loop stays a loop.
#[cold]
#[inline(never)]
fn rescale(num: f64, den: f64) -> (f64, f64) {
    (num * SCALE, den * SCALE)
}

/// How many times each sorted attempt was drawn.
trait Weights {
    fn at(&self, k: usize) -> u32;
    fn sum(&self, lo: usize, hi: usize) -> u32;
}

/// A stratum's own counts, in its time order.
struct Direct<'a>(&'a [u32]);

impl Weights for Direct<'_> {
    #[inline]
    fn at(&self, k: usize) -> u32 {
        self.0[k]
    }
    #[inline]
    fn sum(&self, lo: usize, hi: usize) -> u32 {
        self.0[lo..hi].iter().sum()
    }
}

/// Pooled strata, in the pooled time order.
struct Gathered<'a> {
    counts: &'a [u32],
    slot: &'a [u32],
}

impl Weights for Gathered<'_> {
    #[inline]
    fn at(&self, k: usize) -> u32 {
        self.counts[self.slot[k] as usize]
    }
    #[inline]
    fn sum(&self, lo: usize, hi: usize) -> u32 {
        self.slot[lo..hi]
            .iter()
            .map(|&s| self.counts[s as usize])
            .sum()
    }
}

/// Fills `counts` with a uniform multinomial resample of its own length.
fn draw(rng: &mut Rng, counts: &mut [u32]) {
    counts.fill(0);
    let n = counts.len() as u32;
    if n == 0 {
        return;
    }
    // Lemire: (x · n) >> 32 is uniform once the low words below 2^32 mod n are rejected.
    let reject = n.wrapping_neg() % n;
    let below = |x: u32, rng: &mut Rng| {
        let mut m = u64::from(x) * u64::from(n);
        while (m as u32) < reject {
            m = u64::from(rng.next_u64() as u32) * u64::from(n);
        }
        (m >> 32) as usize
    };
    for _ in 0..n / 2 {
        let x = rng.next_u64();
        counts[below(x as u32, rng)] += 1;
        counts[below((x >> 32) as u32, rng)] += 1;
    }
    if n % 2 == 1 {
        let x = rng.next_u64();
        counts[below(x as u32, rng)] += 1;
    }
}

/// A stable 64-bit key for a group name (FNV-1a, then SplitMix64's finaliser).
fn name_key(name: &str) -> u64 {
    if name.is_empty() {
        return 0;
    }
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// One group prepared: its two strata and where their counts live.
struct Prepared {
    key: u64,
    a: Sorted,
    b: Sorted,
    /// Counts of `a` then `b` in the resample's count vector.
    offset: usize,
    /// Whether it gets an interval (both sides present).
    compare: bool,
    /// Whether it is drawn at all.
    draw: bool,
}

struct Plan {
    groups: Vec<Prepared>,
    /// The pooled samples, their slots pointing into the groups' counts.
    stratified: Option<(Sorted, Sorted)>,
    strata: u32,
    len: usize,
}

impl Plan {
    fn new(groups: &[Group<'_>], overall: bool) -> Plan {
        let stratum = |obs: &[Obs], offset: usize| {
            Sorted::new(
                obs.iter()
                    .enumerate()
                    .map(|(i, &o)| (o, i as u32))
                    .collect(),
            )
            .with_offset(offset)
        };
        let sizes = || groups.iter().flat_map(|g| [g.a.len(), g.b.len()]);
        let has = |side: fn(&Group<'_>) -> usize| groups.iter().any(|g| side(g) > 0);
        let overall = overall && has(|g| g.a.len()) && has(|g| g.b.len());
        let stratified = overall && sizes().all(|n| n == 0 || n >= MIN_STRATUM);
        let mut prepared = Vec::new();
        let mut len = 0;
        for g in groups {
            let compare = !g.a.is_empty() && !g.b.is_empty();
            let offset = len;
            prepared.push(Prepared {
                key: name_key(g.name),
                a: stratum(g.a, offset),
                b: stratum(g.b, offset + g.a.len()),
                offset,
                compare,
                draw: compare || stratified,
            });
            len += g.a.len() + g.b.len();
        }
        if overall && !stratified {
            // Each language as one sample, drawn on its own (key 0).
            let a: Vec<Obs> = groups.iter().flat_map(|g| g.a.iter().copied()).collect();
            let b: Vec<Obs> = groups.iter().flat_map(|g| g.b.iter().copied()).collect();
            prepared.push(Prepared {
                key: 0,
                a: stratum(&a, len),
                b: stratum(&b, len + a.len()),
                offset: len,
                compare: true,
                draw: true,
            });
            len += a.len() + b.len();
        }
        let pooled = |side: fn(&Prepared) -> &Sorted| {
            let mut v = Vec::new();
            for g in &prepared {
                let s = side(g);
                v.extend((0..s.len()).map(|k| {
                    (
                        Obs {
                            time: s.times[k],
                            event: s.event[k],
                        },
                        s.slot[k],
                    )
                }));
            }
            Sorted::new(v)
        };
        let stratified = stratified.then(|| (pooled(|g| &g.a), pooled(|g| &g.b)));
        Plan {
            strata: if stratified.is_some() {
                sizes().filter(|&n| n > 0).count() as u32
            } else {
                0
            },
            groups: prepared,
            stratified,
            len,
        }
    }

    /// The ratios resample `i` gives: one per compared group, then the
    /// stratified overall one.
    fn resample(&self, seed: u64, i: u32, counts: &mut [u32], out: &mut Vec<f64>) {
        let stream = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for g in self.groups.iter().filter(|g| g.draw) {
            let mut rng = Rng::seed_from_u64(seed ^ g.key ^ stream);
            let (na, nb) = (g.a.len(), g.b.len());
            let (ca, rest) = counts[g.offset..g.offset + na + nb].split_at_mut(na);
            draw(&mut rng, ca);
            draw(&mut rng, rest);
            if g.compare {
                let ma = g.a.median(&Direct(ca));
                let mb = g.b.median(&Direct(rest));
                out.push(mb / ma);
            }
        }
        if let Some((a, b)) = &self.stratified {
            let ma = a.median(&Gathered {
                counts,
                slot: &a.slot,
            });
            let mb = b.median(&Gathered {
                counts,
                slot: &b.slot,
            });
            out.push(mb / ma);
        }
    }
}

impl Sorted {
    /// Slots of a stratum are its own positions, shifted to where its counts live.
    fn with_offset(mut self, offset: usize) -> Sorted {
        // A stratum's counts are kept in its time order: slot k is offset + k.
        for (k, s) in self.slot.iter_mut().enumerate() {
            *s = (offset + k) as u32;
        }
        self
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// 95% (or `conf`) percentile bootstrap intervals of median(b) / median(a)
/// for every group with both samples, and overall (stratified by group when
/// every group × language stratum has at least [`MIN_STRATUM`] attempts).
pub fn ratio_intervals(groups: &[Group<'_>], resamples: u32, seed: u64, conf: f64) -> Intervals {
    intervals(groups, true, resamples, seed, conf, threads())
}

/// 95% (or `conf`) percentile bootstrap interval of median(b) / median(a),
/// each sample resampled as a whole.
pub fn ratio_of_medians(a: &[Obs], b: &[Obs], resamples: u32, seed: u64, conf: f64) -> RatioCi {
    let g = Group { name: "", a, b };
    intervals(&[g], false, resamples, seed, conf, threads()).groups[0]
        .clone()
        .unwrap_or_else(|| interval(Vec::new(), conf, resamples, seed, 0))
}

fn intervals(
    groups: &[Group<'_>],
    overall: bool,
    resamples: u32,
    seed: u64,
    conf: f64,
    threads: usize,
) -> Intervals {
    let plan = Plan::new(groups, overall);
    let mut columns = plan.ratios(resamples, seed, threads).into_iter();
    let per_group = plan
        .groups
        .iter()
        .take(groups.len())
        .map(|g| {
            g.compare
                .then(|| interval(columns.next().expect("a column"), conf, resamples, seed, 0))
        })
        .collect();
    let overall = columns.next().map(|c| {
        let strata = if plan.stratified.is_some() {
            plan.strata
        } else {
            0
        };
        interval(c, conf, resamples, seed, strata)
    });
    Intervals {
        groups: per_group,
        overall,
    }
}

impl Plan {
    /// The bootstrap distributions: one column of `resamples` ratios per
    /// compared group, then the overall one (if any).
    fn ratios(&self, resamples: u32, seed: u64, threads: usize) -> Vec<Vec<f64>> {
        let outputs = self.groups.iter().filter(|g| g.compare).count()
            + usize::from(self.stratified.is_some());
        let threads = threads.clamp(1, (resamples as usize).max(1));
        let chunk = (resamples as usize).div_ceil(threads);
        // Row i: the ratios of resample i (threads take contiguous runs of i).
        let rows: Vec<f64> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let mut counts = vec![0u32; self.len];
                        let start = (t * chunk).min(resamples as usize);
                        let end = ((t + 1) * chunk).min(resamples as usize);
                        let mut out = Vec::with_capacity((end - start) * outputs);
                        for i in start..end {
                            self.resample(seed, i as u32, &mut counts, &mut out);
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("bootstrap thread"))
                .collect()
        });
        (0..outputs)
            .map(|j| rows.iter().skip(j).step_by(outputs).copied().collect())
            .collect()
    }
}

fn interval(mut ratios: Vec<f64>, conf: f64, resamples: u32, seed: u64, strata: u32) -> RatioCi {
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
        strata,
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
    use crate::stats::km::{KaplanMeier, Time};
    use crate::stats::test_rng::below;

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

    /// KM median of a resample the slow, validated way: expand the counts
    /// into attempts and fit (km.rs, checked against R and lifelines).
    fn reference_median(obs: &[(f64, bool)], counts: &[u32]) -> f64 {
        let expanded: Vec<Obs> = obs
            .iter()
            .zip(counts)
            .flat_map(|(&(time, event), &c)| (0..c).map(move |_| Obs { time, event }))
            .collect();
        match KaplanMeier::fit(&expanded).quantile(0.5) {
            Time::At(t) => t,
            _ => f64::INFINITY,
        }
    }

    /// Attempts with many ties (whole minutes), censorings among them.
    fn tied(rng: &mut Rng, n: usize, censored_pct: usize) -> Vec<Obs> {
        (0..n)
            .map(|_| Obs {
                time: (1 + below(rng, 12)) as f64 * 60.0,
                event: below(rng, 100) >= censored_pct,
            })
            .collect()
    }

    #[test]
    fn the_fast_median_equals_kaplan_meier_on_the_expanded_resample() {
        // Ties of fixes and censorings, curves sitting exactly on one half
        // (midpoint rule), medians not reached, empty stretches: the
        // telescoped pass must give R's median every time, per stratum and
        // over pooled strata.
        let mut rng = Rng::seed_from_u64(11);
        let mut midpoints = 0;
        let mut unreached = 0;
        for case in 0..400 {
            let sizes = [
                1 + below(&mut rng, 9),
                1 + below(&mut rng, 30),
                1 + below(&mut rng, 5),
            ];
            let pct = [0, 20, 50, 80][case % 4];
            let strata: Vec<Vec<Obs>> = sizes.iter().map(|&n| tied(&mut rng, n, pct)).collect();
            let groups: Vec<Group<'_>> = strata
                .iter()
                .map(|s| Group {
                    name: "g",
                    a: s,
                    b: &[],
                })
                .collect();
            let plan = Plan::new(&groups, false);
            let mut counts = vec![0u32; plan.len];
            for g in &plan.groups {
                draw(&mut rng, &mut counts[g.offset..g.offset + g.a.len()]);
            }
            let pooled = {
                let mut v = Vec::new();
                for g in &plan.groups {
                    v.extend((0..g.a.len()).map(|k| {
                        (
                            Obs {
                                time: g.a.times[k],
                                event: g.a.event[k],
                            },
                            g.a.slot[k],
                        )
                    }));
                }
                Sorted::new(v)
            };
            let mut check = |s: &Sorted, w: &dyn Fn(usize) -> u32, fast: f64| {
                let obs: Vec<(f64, bool)> =
                    (0..s.len()).map(|k| (s.times[k], s.event[k])).collect();
                let c: Vec<u32> = (0..s.len()).map(w).collect();
                let slow = reference_median(&obs, &c);
                assert_eq!(fast, slow, "case {case}: {obs:?} × {c:?}");
                if slow.is_infinite() {
                    unreached += 1;
                } else if slow % 60.0 != 0.0 {
                    midpoints += 1;
                }
            };
            for g in &plan.groups {
                let w = &counts[g.offset..g.offset + g.a.len()];
                check(&g.a, &|k| w[k], g.a.median(&Direct(w)));
            }
            let gathered = Gathered {
                counts: &counts,
                slot: &pooled.slot,
            };
            check(
                &pooled,
                &|k| counts[pooled.slot[k] as usize],
                pooled.median(&gathered),
            );
        }
        assert!(midpoints > 20 && unreached > 20, "{midpoints} {unreached}");
    }

    #[test]
    fn draws_are_uniform_and_sum_to_the_sample_size() {
        let mut rng = Rng::seed_from_u64(5);
        let mut total = [0u64; 7];
        let mut counts = [0u32; 7];
        for _ in 0..20_000 {
            draw(&mut rng, &mut counts);
            assert_eq!(counts.iter().sum::<u32>(), 7);
            for (t, c) in total.iter_mut().zip(counts) {
                *t += u64::from(c);
            }
        }
        // Each expects 20,000 (sd ~131): 6 sd either way.
        assert!(
            total.iter().all(|&t| (19_200..=20_800).contains(&t)),
            "{total:?}"
        );
    }

    /// Eight groups like the benchmark's (log-normal times, ~12% give-ups,
    /// Rust faster on some and slower on others), `n` attempts per group and
    /// language. `spread`: whether group medians differ (12 to 40 minutes) or
    /// all are 25 minutes.
    fn design(n: usize, spread: bool) -> Vec<(String, Vec<Obs>, Vec<Obs>)> {
        let mut rng = Rng::seed_from_u64(2025);
        let mut normal = move || {
            // Box–Muller from two uniforms in (0, 1).
            let u = |r: &mut Rng| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + 1e-17;
            let (u1, u2) = (u(&mut rng), u(&mut rng));
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let factor = [1.4, 0.8, 1.0, 1.0, 0.7, 1.3, 1.0, 1.1];
        (0..8)
            .map(|g| {
                let median = if spread { 12.0 + 4.0 * g as f64 } else { 25.0 };
                let mut side = |f: f64| -> Vec<Obs> {
                    (0..n)
                        .map(|i| {
                            let minutes = ((median * f).ln() + 0.6 * normal()).exp();
                            let t = (minutes * 60_000.0).round() / 1000.0;
                            if i % 8 == 0 {
                                Obs::censored(t)
                            } else {
                                Obs::event(t)
                            }
                        })
                        .collect()
                };
                (format!("class-{g}"), side(1.0), side(factor[g]))
            })
            .collect()
    }

    fn as_groups(d: &[(String, Vec<Obs>, Vec<Obs>)]) -> Vec<Group<'_>> {
        d.iter().map(|(name, a, b)| Group { name, a, b }).collect()
    }

    #[test]
    fn the_thread_count_does_not_change_any_interval() {
        let d = design(60, true);
        let groups = as_groups(&d);
        let one = intervals(&groups, true, 2_000, 9, 0.95, 1);
        assert_eq!(one.overall.as_ref().map(|c| c.strata), Some(16));
        for threads in [2, 3, 7, 64] {
            assert_eq!(
                intervals(&groups, true, 2_000, 9, 0.95, threads),
                one,
                "{threads} threads"
            );
        }
        // Small strata: the pooled overall bootstrap, equally reproducible.
        let small = design(20, true);
        let groups = as_groups(&small);
        let one = intervals(&groups, true, 2_000, 9, 0.95, 1);
        assert_eq!(one.overall.as_ref().map(|c| c.strata), Some(0));
        assert_eq!(intervals(&groups, true, 2_000, 9, 0.95, 3), one);
        // A group's interval does not depend on the other groups in the data.
        let alone = intervals(&groups[3..4], true, 2_000, 9, 0.95, 2);
        assert_eq!(alone.groups[0], one.groups[3]);
    }

    /// Monte Carlo standard error of the q quantile of `sorted` (B draws):
    /// sqrt(q(1 − q)/B) over the density, read off the order statistics.
    fn mc_se(sorted: &[f64], q: f64) -> f64 {
        let b = sorted.len() as f64;
        let h = 2.0 * (q * (1.0 - q) / b).sqrt();
        let spread = percentile(sorted, q + h) - percentile(sorted, q - h);
        (q * (1.0 - q) / b).sqrt() * spread / (2.0 * h)
    }

    /// Sorted bootstrap distributions of the overall ratio: stratified by
    /// group, and each language pooled (different seeds).
    fn stratified_and_pooled(d: &[(String, Vec<Obs>, Vec<Obs>)]) -> (Vec<f64>, Vec<f64>) {
        let groups = as_groups(d);
        let strat = Plan::new(&groups, true);
        assert_eq!(strat.strata, 16);
        let pooled_a: Vec<Obs> = d.iter().flat_map(|g| g.1.iter().copied()).collect();
        let pooled_b: Vec<Obs> = d.iter().flat_map(|g| g.2.iter().copied()).collect();
        let pooled = Plan::new(
            &[Group {
                name: "",
                a: &pooled_a,
                b: &pooled_b,
            }],
            false,
        );
        let mut s = strat.ratios(10_000, 1, 2).pop().unwrap();
        let mut p = pooled.ratios(10_000, 2, 2).pop().unwrap();
        s.sort_by(f64::total_cmp);
        p.sort_by(f64::total_cmp);
        (s, p)
    }

    #[test]
    fn the_stratified_overall_interval_agrees_with_the_pooled_one() {
        // Groups alike: stratifying changes nothing but the Monte Carlo
        // noise, so the 2.5%, 50% and 97.5% points agree within 4 MC
        // standard errors.
        let (s, p) = stratified_and_pooled(&design(150, false));
        for q in [0.025, 0.5, 0.975] {
            let (x, y) = (percentile(&s, q), percentile(&p, q));
            let se = (mc_se(&s, q).powi(2) + mc_se(&p, q).powi(2)).sqrt();
            assert!(
                (x - y).abs() <= 4.0 * se,
                "q {q}: stratified {x}, pooled {y}, MC se {se}"
            );
        }
        // Groups with medians 12 to 40 minutes: the centre still agrees, and
        // the stratified interval is narrower, by the variation of the group
        // mix that the pooled resamples add and a design does not have
        // (about 10% here; docs/stats-format.md).
        let d = design(150, true);
        let (s, p) = stratified_and_pooled(&d);
        let q = 0.5;
        let se = (mc_se(&s, q).powi(2) + mc_se(&p, q).powi(2)).sqrt();
        assert!((percentile(&s, q) - percentile(&p, q)).abs() <= 4.0 * se);
        let width = |v: &[f64]| percentile(v, 0.975) - percentile(v, 0.025);
        let ratio = width(&s) / width(&p);
        assert!((0.8..0.97).contains(&ratio), "width ratio {ratio}");
        // The interval the API reports is the stratified column's.
        let ci = intervals(&as_groups(&d), true, 10_000, 1, 0.95, 2)
            .overall
            .unwrap();
        assert_eq!(
            (ci.lo, ci.hi),
            (percentile(&s, 0.025), percentile(&s, 0.975))
        );
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
