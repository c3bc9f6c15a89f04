//! The few distributions the tests need: the standard normal (CDF and
//! quantile) and the chi-square with one degree of freedom. `erfc` comes from
//! `libm` (a port of musl's, accurate to an ulp or two); the quantile is
//! Acklam's rational approximation polished by one Halley step, which brings
//! it to full double precision.

use std::f64::consts::{PI, SQRT_2};

/// P(Z <= z) for a standard normal Z.
pub fn norm_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / SQRT_2)
}

/// P(Z > z), accurate in the far tail.
pub fn norm_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / SQRT_2)
}

/// The z with P(Z <= z) = p.
pub fn norm_ppf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    let x = if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on f(x) = cdf(x) - p.
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// P(X > x) for X ~ chi-square with one degree of freedom.
pub fn chi2_1_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    libm::erfc((x / 2.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn normal_matches_scipy() {
        // scipy 1.17.1: norm.cdf(1.96), norm.sf(5), norm.ppf(0.975), norm.ppf(1e-10), norm.ppf(0.3)
        assert!(close(norm_cdf(1.96), 0.9750021048517795, 1e-14));
        assert!(close(norm_sf(5.0), 2.866515718791933e-07, 1e-12));
        assert!(close(norm_ppf(0.975), 1.959963984540054, 1e-14));
        assert!(close(norm_ppf(1e-10), -6.361340902404056, 1e-12));
        assert!(close(norm_ppf(0.3), -0.5244005127080409, 1e-13));
    }

    #[test]
    fn chi2_one_df_matches_scipy() {
        // scipy 1.17.1: chi2.sf(3.84, 1), chi2.sf(0.5, 1), chi2.sf(20, 1)
        assert!(close(chi2_1_sf(3.84), 0.05004352124870519, 1e-12));
        assert!(close(chi2_1_sf(0.5), 0.47950012218695337, 1e-12));
        assert!(close(chi2_1_sf(20.0), 7.744216431044088e-06, 1e-11));
    }
}
