//! Rank tests and estimators: Mann–Whitney U (exact when the sample is small,
//! ties included, via the permutation distribution of the midranks),
//! Hodges–Lehmann shift with its confidence interval, Wilcoxon signed-rank,
//! log-rank, and Holm's step-down correction.
//!
//! Censored times enter the rank tests as `f64::INFINITY`: a give-up ranks as
//! slower than every fix ("worst rank"), and give-ups tie with each other.
//! The log-rank test uses the censoring times themselves.

use serde::Serialize;

use super::dist::{chi2_1_sf, norm_ppf, norm_sf};
use super::km::Obs;

/// Largest pooled sample for which p-values are computed exactly.
pub const EXACT_MAX: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The exact permutation distribution (ties handled by midranks).
    Exact,
    /// Normal approximation (tie-corrected).
    Asymptotic,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U for the first sample: pairs where it is larger, ties counting one half.
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub method: Method,
}

/// Midranks (1-based) of `values`, and Σ(t³ − t) over tie groups.
fn midranks(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (ranks, ties)
}

/// Distribution of the sum of `k` items drawn without replacement from
/// `scores` (non-negative integers): `counts[s]` = number of subsets.
fn subset_sum_counts(scores: &[usize], k: usize) -> Vec<f64> {
    let total: usize = scores.iter().sum();
    // dp[j][s]: subsets of size j with sum s.
    let mut dp = vec![vec![0.0f64; total + 1]; k + 1];
    dp[0][0] = 1.0;
    for &w in scores {
        for j in (1..=k).rev() {
            let (below, above) = dp.split_at_mut(j);
            let (src, dst) = (&below[j - 1], &mut above[0]);
            for s in (w..=total).rev() {
                dst[s] += src[s - w];
            }
        }
    }
    dp.swap_remove(k)
}

/// Two-sided exact p from a null distribution given as counts: twice the
/// smaller tail, capped at 1 (SciPy's convention).
fn two_sided(counts: &[f64], observed: usize) -> f64 {
    let total: f64 = counts.iter().sum();
    let le: f64 = counts[..=observed.min(counts.len() - 1)].iter().sum();
    let ge: f64 = counts[observed.min(counts.len())..].iter().sum();
    (2.0 * le.min(ge) / total).min(1.0)
}

/// Mann–Whitney U test of `x` against `y`, two-sided.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> MannWhitney {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return MannWhitney {
            u: f64::NAN,
            p: 1.0,
            method: Method::Exact,
        };
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = midranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let n = n1 + n2;
    if n <= EXACT_MAX {
        // Doubled midranks are integers: the exact conditional distribution.
        let scores: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let counts = subset_sum_counts(&scores, n1);
        let observed = (r1 * 2.0).round() as usize;
        return MannWhitney {
            u,
            p: two_sided(&counts, observed),
            method: Method::Exact,
        };
    }
    let (a, b, nn) = (n1 as f64, n2 as f64, n as f64);
    let mu = a * b / 2.0;
    let sd = (a * b / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)))).sqrt();
    let big = u.max(a * b - u);
    let z = (big - mu - 0.5) / sd;
    MannWhitney {
        u,
        p: if sd > 0.0 {
            (2.0 * norm_sf(z)).min(1.0)
        } else {
            1.0
        },
        method: Method::Asymptotic,
    }
}

/// The smallest two-sided p-value a Mann–Whitney test on samples of these
/// sizes can produce (no ties): 2 / C(n1 + n2, n1). With 3 vs 3 it is 0.10.
pub fn min_attainable_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (k, n) = (n1.min(n2), n1 + n2);
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    (2.0 / c).min(1.0)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shift {
    /// Median of all pairwise differences x − y.
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    /// The confidence level the interval actually has (exact intervals
    /// cannot hit 95% exactly; with tiny samples it can be far below).
    pub conf: f64,
    pub method: Method,
}

/// Number of pairs with x − y <= d; x and y sorted, infinities allowed
/// (∞ − ∞ counts as 0: two give-ups tie).
fn pairs_at_most(x: &[f64], y: &[f64], d: f64) -> u64 {
    let yf_end = y.partition_point(|v| v.is_finite());
    let (yf, yinf) = (&y[..yf_end], (y.len() - yf_end) as u64);
    let mut count = 0u64;
    // For each x, the y with y >= x - d, among finite y.
    let mut j = yf.len();
    for &xv in x.iter().rev() {
        if xv.is_infinite() {
            if d == f64::INFINITY {
                count += yf.len() as u64;
            }
            if d >= 0.0 {
                count += yinf;
            }
            continue;
        }
        // Compare the computed difference itself (not y >= x - d), so the
        // count agrees bit for bit with the differences `kth_difference` snaps to.
        while j > 0 && xv - yf[j - 1] <= d {
            j -= 1;
        }
        count += (yf.len() - j) as u64 + yinf;
    }
    count
}

/// The k-th smallest (1-based) pairwise difference x − y.
fn kth_difference(x: &[f64], y: &[f64], k: u64) -> f64 {
    if pairs_at_most(x, y, f64::NEG_INFINITY) >= k {
        return f64::NEG_INFINITY;
    }
    let finite = |v: &[f64]| -> Vec<f64> { v.iter().copied().filter(|t| t.is_finite()).collect() };
    let (xf, yf) = (finite(x), finite(y));
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    if let (Some(&x0), Some(&x1), Some(&y0), Some(&y1)) =
        (xf.first(), xf.last(), yf.first(), yf.last())
    {
        lo = lo.min(x0 - y1);
        hi = hi.max(x1 - y0);
    }
    if pairs_at_most(x, y, hi) < k {
        return f64::INFINITY;
    }
    // Strictly below every difference, even where 1.0 is below the
    // resolution of the times (1e16 s and up).
    lo = (lo - 1.0).next_down();
    // Bisection until few pairs lie in (lo, hi]: then the k-th is picked
    // among them exactly.
    let few = (x.len() + y.len()) as u64;
    let inf = |v: &[f64]| v.iter().filter(|t| t.is_infinite()).count() as u64;
    // Give-up against give-up: as many zero differences (not enumerated).
    let zeros = inf(x) * inf(y);
    let (mut below_lo, mut up_to_hi) = (pairs_at_most(x, y, lo), pairs_at_most(x, y, hi));
    for _ in 0..200 {
        let z = if lo < 0.0 && 0.0 <= hi { zeros } else { 0 };
        if up_to_hi - below_lo - z <= few {
            return kth_between(&xf, &yf, lo, hi, z, k - below_lo);
        }
        let mid = lo.midpoint(hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let c = pairs_at_most(x, y, mid);
        if c >= k {
            (hi, up_to_hi) = (mid, c);
        } else {
            (lo, below_lo) = (mid, c);
        }
    }
    // Bisection to adjacent floats, then snap to a real difference.
    let mut best = f64::NEG_INFINITY;
    for &a in &xf {
        let j = yf.partition_point(|&b| a - b > hi);
        if j < yf.len() {
            best = best.max(a - yf[j]);
        }
    }
    if hi.abs() < 1e-9 && x.iter().any(|v| v.is_infinite()) && y.iter().any(|v| v.is_infinite()) {
        best = best.max(0.0);
    }
    best
}

/// The k-th smallest (1-based) difference x − y among those in (lo, hi]:
/// the finite ones (from the finite parts `xf`, `yf`) and `zeros` more
/// zeros (∞ − ∞ counts as 0, as in `pairs_at_most`).
fn kth_between(xf: &[f64], yf: &[f64], lo: f64, hi: f64, zeros: u64, k: u64) -> f64 {
    let (mut neg, mut zero, mut pos) = (Vec::new(), zeros, Vec::new());
    for &a in xf {
        // yf sorted: a − b falls as b rises.
        let first = yf.partition_point(|&b| a - b > hi);
        for d in yf[first..].iter().map(|&b| a - b).take_while(|&d| d > lo) {
            if d < 0.0 {
                neg.push(d);
            } else if d > 0.0 {
                pos.push(d);
            } else {
                zero += 1;
            }
        }
    }
    let kth =
        |v: &mut Vec<f64>, k: u64| *v.select_nth_unstable_by(k as usize - 1, f64::total_cmp).1;
    let n = neg.len() as u64;
    if k <= n {
        kth(&mut neg, k)
    } else if k <= n + zero {
        0.0
    } else {
        kth(&mut pos, k - n - zero)
    }
}

/// The median of all pairwise differences x − y (x, y sorted, not empty).
fn median_difference(xs: &[f64], ys: &[f64]) -> f64 {
    let m = (xs.len() * ys.len()) as u64;
    let kth = |k: u64| kth_difference(xs, ys, k);
    if m % 2 == 1 {
        kth(m.div_ceil(2))
    } else {
        let (a, b) = (kth(m / 2), kth(m / 2 + 1));
        if a == b {
            a
        } else {
            a.midpoint(b)
        }
    }
}

/// The Hodges–Lehmann estimate alone (NaN when a side is empty).
pub fn hodges_lehmann_estimate(x: &[f64], y: &[f64]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return f64::NAN;
    }
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    median_difference(&xs, &ys)
}

/// Hodges–Lehmann estimate of the shift x − y with a `conf` interval: exact
/// (inverting the Mann–Whitney distribution, as R's `wilcox.test(conf.int =
/// TRUE)`) for small samples without ties, else Lehmann's normal
/// approximation for the order statistics of the pairwise differences.
pub fn hodges_lehmann(x: &[f64], y: &[f64], conf: f64) -> Shift {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let (n1, n2) = (xs.len() as u64, ys.len() as u64);
    let m = n1 * n2;
    if m == 0 {
        return Shift {
            estimate: f64::NAN,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
            conf: 0.0,
            method: Method::Exact,
        };
    }
    let kth = |k: u64| kth_difference(&xs, &ys, k);
    let estimate = median_difference(&xs, &ys);
    let pooled: Vec<f64> = xs.iter().chain(&ys).copied().collect();
    let (_, ties) = midranks(&pooled);
    let alpha = 1.0 - conf;
    let n = (n1 + n2) as usize;
    if ties == 0.0 && n <= EXACT_MAX {
        // Null distribution of U (0..=m) from the rank-sum distribution.
        let ranks: Vec<usize> = (1..=n).collect();
        let sums = subset_sum_counts(&ranks, n1 as usize);
        let offset = (n1 * (n1 + 1) / 2) as usize;
        let counts = &sums[offset..=offset + m as usize];
        let total: f64 = counts.iter().sum();
        let cdf = |q: u64| -> f64 { counts[..=q as usize].iter().sum::<f64>() / total };
        // R: qu <- qwilcox(alpha/2, n1, n2); if (qu == 0) qu <- 1
        let mut qu = (0..=m)
            .find(|&q| cdf(q) >= alpha / 2.0 - 1e-12)
            .unwrap_or(m);
        if qu == 0 {
            qu = 1;
        }
        let ql = m - qu;
        let achieved = 1.0 - 2.0 * cdf(qu - 1);
        return Shift {
            estimate,
            lo: kth(qu),
            hi: kth(ql + 1),
            conf: achieved,
            method: Method::Exact,
        };
    }
    let (a, b, nn) = (n1 as f64, n2 as f64, n as f64);
    let sd = (a * b / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)))).sqrt();
    let z = norm_ppf(1.0 - alpha / 2.0);
    let k = ((a * b / 2.0 - z * sd).floor() as u64).max(1);
    Shift {
        estimate,
        lo: kth(k),
        hi: kth(m - k + 1),
        conf,
        method: Method::Asymptotic,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedRank {
    /// Pairs with a non-zero difference (zeros are dropped, as SciPy's default).
    pub n: usize,
    /// Sum of the ranks of the positive differences.
    pub w_plus: f64,
    pub p: f64,
    pub method: Method,
}

/// Wilcoxon signed-rank test on paired differences, two-sided.
pub fn wilcoxon_signed_rank(d: &[f64]) -> SignedRank {
    let nz: Vec<f64> = d
        .iter()
        .copied()
        .filter(|v| *v != 0.0 && !v.is_nan())
        .collect();
    let n = nz.len();
    if n == 0 {
        return SignedRank {
            n,
            w_plus: 0.0,
            p: 1.0,
            method: Method::Exact,
        };
    }
    let abs: Vec<f64> = nz.iter().map(|v| v.abs()).collect();
    let (ranks, ties) = midranks(&abs);
    let w_plus: f64 = ranks
        .iter()
        .zip(&nz)
        .filter(|(_, v)| **v > 0.0)
        .map(|(r, _)| r)
        .sum();
    if n <= EXACT_MAX {
        // Each rank is + or − with probability 1/2: a subset-sum distribution
        // over doubled ranks (any subset size).
        let scores: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let total: usize = scores.iter().sum();
        let mut counts = vec![0.0f64; total + 1];
        counts[0] = 1.0;
        for &w in &scores {
            for s in (w..=total).rev() {
                counts[s] += counts[s - w];
            }
        }
        let observed = (w_plus * 2.0).round() as usize;
        return SignedRank {
            n,
            w_plus,
            p: two_sided(&counts, observed),
            method: Method::Exact,
        };
    }
    let nn = n as f64;
    let mu = nn * (nn + 1.0) / 4.0;
    let var = nn * (nn + 1.0) * (2.0 * nn + 1.0) / 24.0 - ties / 48.0;
    let z = (w_plus - mu).abs() / var.sqrt();
    SignedRank {
        n,
        w_plus,
        p: (2.0 * norm_sf(z)).min(1.0),
        method: Method::Asymptotic,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRank {
    pub chi2: f64,
    pub p: f64,
    /// Observed and expected fixes in the first and the second group.
    pub observed: [f64; 2],
    pub expected: [f64; 2],
}

/// Log-rank (Mantel–Cox) test of two censored samples.
pub fn log_rank(a: &[Obs], b: &[Obs]) -> LogRank {
    let mut all: Vec<(f64, bool, bool)> = a
        .iter()
        .map(|o| (o.time, o.event, true))
        .chain(b.iter().map(|o| (o.time, o.event, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut n_a, mut n) = (a.len() as f64, all.len() as f64);
    let (mut o_a, mut e_a, mut var, mut o_total) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        let (mut d, mut d_a, mut leave, mut leave_a) = (0.0, 0.0, 0.0, 0.0);
        while i < all.len() && all[i].0 == t {
            let (_, event, in_a) = all[i];
            if event {
                d += 1.0;
                if in_a {
                    d_a += 1.0;
                }
            }
            leave += 1.0;
            if in_a {
                leave_a += 1.0;
            }
            i += 1;
        }
        if d > 0.0 {
            e_a += d * n_a / n;
            if n > 1.0 {
                var += d * (n_a / n) * (1.0 - n_a / n) * (n - d) / (n - 1.0);
            }
            o_a += d_a;
            o_total += d;
        }
        n -= leave;
        n_a -= leave_a;
    }
    let chi2 = if var > 0.0 {
        (o_a - e_a).powi(2) / var
    } else {
        0.0
    };
    LogRank {
        chi2,
        p: chi2_1_sf(chi2),
        observed: [o_a, o_total - o_a],
        expected: [e_a, o_total - e_a],
    }
}

/// Holm's step-down adjustment: adjusted p-values in the input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-12)
    }

    #[test]
    fn kth_difference_is_the_kth_of_all_pairwise_differences() {
        // Against full enumeration (∞ − ∞ = 0), with ties, give-ups on both
        // sides and a tie of many give-up pairs at zero; sizes that end the
        // bisection early (pick among few) and ones that do not.
        use crate::stats::test_rng::below;
        use rand_xoshiro::rand_core::SeedableRng as _;
        let mut rng = rand_xoshiro::Xoshiro256StarStar::seed_from_u64(3);
        for case in 0..60 {
            let n = [3, 12, 40, 150][case % 4];
            let mut side = |n: usize| -> Vec<f64> {
                let mut v: Vec<f64> = (0..n)
                    .map(|_| match below(&mut rng, 10) {
                        0..=2 => f64::INFINITY,
                        _ => (below(&mut rng, 50) * 30) as f64 + 0.5 * below(&mut rng, 2) as f64,
                    })
                    .collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (x, y) = (side(n), side(n + case % 3));
            let mut all: Vec<f64> = x
                .iter()
                .flat_map(|&a| {
                    y.iter().map(move |&b| {
                        if a.is_infinite() && b.is_infinite() {
                            0.0
                        } else {
                            a - b
                        }
                    })
                })
                .collect();
            all.sort_by(f64::total_cmp);
            let m = all.len() as u64;
            for k in [1, 2, m / 4, m / 2, m / 2 + 1, (3 * m) / 4, m - 1, m] {
                let k = k.clamp(1, m);
                assert_eq!(
                    kth_difference(&x, &y, k),
                    all[k as usize - 1],
                    "case {case} k {k}"
                );
            }
        }
    }

    #[test]
    fn times_beyond_the_resolution_of_one_second_do_not_break_the_shift() {
        // 1e16 s and up: `lo - 1.0 == lo` there, which once made the
        // bisection count a pair on both sides of its lower end.
        for big in [1e16, 3.3e17, 1e300] {
            let x = [big, big * 2.0, f64::INFINITY];
            let y = [0.0, big, big * 3.0];
            let s = hodges_lehmann(&x, &y, 0.95);
            assert!(s.lo <= s.estimate && s.estimate <= s.hi, "{s:?}");
            assert_eq!(kth_difference(&x, &y, 1), x[0] - y[2]);
        }
    }

    // References: SciPy 1.17.1 (`scipy.stats`), computed for these exact inputs.
    // Exact tests with ties: `permutation_test(..., n_resamples=np.inf)` (full
    // enumeration of the permutation distribution, independent of the DP here).

    #[test]
    fn mann_whitney_exact_without_ties_matches_scipy() {
        // mannwhitneyu(x, y, method="exact") -> U = 19, p = 0.031746031746031744
        let x = [12.1, 15.3, 9.8, 22.4, 30.0];
        let y = [7.2, 8.9, 11.0, 6.5];
        let r = mann_whitney(&x, &y);
        assert_eq!((r.u, r.method), (19.0, Method::Exact));
        assert!(close(r.p, 0.031746031746031744, 1e-12), "{}", r.p);
    }

    #[test]
    fn three_against_three_cannot_go_below_one_tenth() {
        // mannwhitneyu([4,5,6], [1,2,3], method="exact") -> p = 0.1
        let r = mann_whitney(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]);
        assert!(close(r.p, 0.1, 1e-12));
        assert!(close(min_attainable_p(3, 3), 0.1, 1e-12));
        assert!(close(min_attainable_p(5, 4), 2.0 / 126.0, 1e-12));
    }

    #[test]
    fn mann_whitney_exact_with_ties_matches_a_full_permutation_test() {
        // permutation_test((x, y), rank-sum of x, permutation_type="independent",
        // n_resamples=inf) -> p = 0.24675324675324675; U = 22
        let x = [3.0, 3.0, 5.0, 7.0, 9.0, 9.0];
        let y = [1.0, 3.0, 4.0, 4.0, 6.0];
        let r = mann_whitney(&x, &y);
        assert_eq!(r.u, 22.0);
        assert!(close(r.p, 0.24675324675324675, 1e-12), "{}", r.p);
    }

    #[test]
    fn give_ups_rank_last_and_tie_with_each_other() {
        // As above with the give-ups at 1e12: p = 0.3142857142857143, U = 12
        let inf = f64::INFINITY;
        let r = mann_whitney(&[10.0, 20.0, inf, inf], &[5.0, 8.0, 12.0, inf]);
        assert_eq!(r.u, 12.0);
        assert!(close(r.p, 0.3142857142857143, 1e-12), "{}", r.p);
    }

    const XA: [f64; 40] = [
        20., 24., 17., 12., 15., 11., 21., 45., 15., 14., 27., 25., 21., 11., 20., 30., 9., 15.,
        6., 9., 7., 17., 9., 24., 22., 18., 4., 15., 20., 21., 8., 15., 11., 12., 38., 12., 20.,
        34., 14., 19.,
    ];
    const YA: [f64; 35] = [
        29., 28., 13., 28., 61., 11., 45., 29., 18., 90., 43., 13., 28., 38., 24., 41., 26., 40.,
        64., 18., 31., 21., 29., 13., 19., 24., 46., 54., 12., 17., 40., 8., 21., 26., 58.,
    ];

    #[test]
    fn mann_whitney_asymptotic_matches_scipy() {
        // mannwhitneyu(XA, YA, method="asymptotic") -> U = 326, p = 7.197460225296099e-05
        let r = mann_whitney(&XA, &YA);
        assert_eq!((r.u, r.method), (326.0, Method::Asymptotic));
        assert!(close(r.p, 7.197460225296099e-05, 1e-9), "{}", r.p);
    }

    #[test]
    fn hodges_lehmann_exact_interval_follows_r() {
        // R's wilcox.test(x, y, conf.int=TRUE) algorithm (qwilcox on the exact
        // null distribution), recomputed in Python by enumerating all
        // C(9,5) rank sets: estimate 7.25, CI (0.9, 22.8), achieved 0.9682539682539683.
        let x = [12.1, 15.3, 9.8, 22.4, 30.0];
        let y = [7.2, 8.9, 11.0, 6.5];
        let s = hodges_lehmann(&x, &y, 0.95);
        assert_eq!(s.method, Method::Exact);
        assert!(close(s.estimate, 7.25, 1e-12));
        assert!(close(s.lo, 0.9, 1e-9) && close(s.hi, 22.8, 1e-12), "{s:?}");
        assert!(close(s.conf, 0.9682539682539683, 1e-12));
        // 3 vs 3: the best an exact interval can do is 90%.
        let s = hodges_lehmann(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0], 0.95);
        assert_eq!((s.estimate, s.lo, s.hi), (3.0, 1.0, 5.0));
        assert!(close(s.conf, 0.9, 1e-12));
    }

    #[test]
    fn hodges_lehmann_large_sample_interval_matches_brute_force() {
        // Python brute force over all 1400 differences with Lehmann's
        // k = floor(m/2 - z*sd) (tie-corrected sd): -11, (-17, -6).
        let s = hodges_lehmann(&XA, &YA, 0.95);
        assert_eq!(s.method, Method::Asymptotic);
        assert_eq!((s.estimate, s.lo, s.hi), (-11.0, -17.0, -6.0));
    }

    #[test]
    fn signed_rank_exact_matches_scipy() {
        // wilcoxon(d, method="exact") -> statistic min(W+, W-) = 5, p = 0.078125
        let d = [0.31, -0.12, 0.45, 0.22, 0.05, 0.38, -0.07, 0.51];
        let r = wilcoxon_signed_rank(&d);
        assert_eq!((r.n, r.w_plus), (8, 31.0));
        assert!(close(r.p, 0.078125, 1e-12));
    }

    #[test]
    fn signed_rank_with_ties_and_zeros_matches_a_full_permutation_test() {
        // Zeros dropped; permutation_test((d_nonzero,), W+, permutation_type="samples",
        // n_resamples=inf) -> p = 0.09375
        let d = [0.2, -0.2, 0.3, 0.3, 0.5, -0.1, 0.4, 0.0];
        let r = wilcoxon_signed_rank(&d);
        assert_eq!(r.n, 7);
        assert!(close(r.p, 0.09375, 1e-12), "{}", r.p);
    }

    #[test]
    fn signed_rank_asymptotic_matches_scipy() {
        // wilcoxon(dl, method="asymptotic") (zeros dropped, no continuity
        // correction) -> statistic 1043.5, p = 0.42874631801110563
        let dl = [
            0.44, -0.06, -0.08, -0.03, 0.86, -0.11, -0.05, 0.28, 0.04, 0.0, -0.46, 0.09, -0.12,
            0.68, 0.43, 0.09, 0.43, -0.07, 0.63, 0.1, 0.39, -0.55, 0.27, -0.74, -0.92, -0.05,
            -0.35, 0.18, 1.22, -0.32, -0.21, 0.2, 0.35, 0.01, -0.0, 0.45, 0.36, -0.42, 0.06, 0.12,
            -0.43, 0.23, -0.33, 0.59, 0.2, 0.14, -0.2, 0.04, -0.9, -0.47, 0.28, -0.96, 0.52, -0.77,
            0.48, -0.32, 0.49, 0.17, -0.67, 0.72, 0.82, 0.07, -0.04, 0.02, -0.39, 0.65, -0.17,
            0.07, -0.3, -0.21,
        ];
        let r = wilcoxon_signed_rank(&dl);
        assert_eq!(r.method, Method::Asymptotic);
        let w_minus = (r.n * (r.n + 1)) as f64 / 2.0 - r.w_plus;
        assert_eq!(r.w_plus.min(w_minus), 1043.5);
        assert!(close(r.p, 0.42874631801110563, 1e-9), "{}", r.p);
    }

    #[test]
    fn log_rank_matches_scipy() {
        // logrank(CensoredData(a), CensoredData(b)) -> statistic z with
        // z^2 = 1.0477156792931606, p = 0.30603377358963957
        let mk = |t: &[f64], e: &[u8]| -> Vec<Obs> {
            t.iter()
                .zip(e)
                .map(|(&time, &ev)| Obs {
                    time,
                    event: ev == 1,
                })
                .collect()
        };
        let a = mk(
            &[4., 6., 6., 9., 11., 12., 15., 15., 20., 23., 30., 41.],
            &[1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1],
        );
        let b = mk(
            &[8., 10., 14., 18., 18., 25., 31., 33., 40., 45.],
            &[1, 1, 1, 0, 1, 1, 0, 1, 0, 0],
        );
        let r = log_rank(&a, &b);
        assert!(close(r.chi2, 1.0477156792931606, 1e-12), "{}", r.chi2);
        assert!(close(r.p, 0.30603377358963957, 1e-12));
        assert_eq!(r.observed, [8.0, 6.0]);
    }

    #[test]
    fn holm_adjusts_step_down_and_stays_monotone() {
        // By hand (Holm 1979): sorted 0.005*4 = 0.02, 0.01*3 = 0.03,
        // 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!(close(*a, w, 1e-12), "{adj:?}");
        }
        assert_eq!(holm(&[0.5, 0.9]), vec![1.0, 1.0]);
    }
}
