//! Distribution functions used for p-values and confidence limits.
//!
//! Every p-value is computed from an upper-tail function (complemented error function,
//! upper regularized incomplete gamma), never as `1 - cdf`, so that tiny p-values keep
//! their significant digits.

use statrs::function::beta::{beta_reg, ln_beta};
use statrs::function::erf::{erfc, erfc_inv};
use statrs::function::gamma::gamma_ur;

/// The standard normal quantile `qnorm(p)`.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}

/// Two-sided normal p-value for a z statistic: `2 * pnorm(-|z|)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// Upper tail of the chi-square distribution, `pchisq(x, df, lower.tail = FALSE)`.
pub fn chi_square_upper(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

/// Quantile of the Beta(a, b) distribution, `qbeta(p, a, b)`, to full double precision:
/// two adjacent doubles `lo < hi` with `I(lo) < p <= I(hi)` (`I` the regularized incomplete
/// beta function), and of those the one whose `I` is closer to `p`.
///
/// The bracket [0, 1] is narrowed by Newton steps on `I` (its derivative is the Beta density)
/// where they land inside it, by halving where they do not; a step too small to move steps
/// one double instead. A handful of evaluations instead of bisection's ~60 (up to ~1,100
/// near 0). Where the computed `I` wobbles by an ulp around `p` the pair found may be another
/// crossing a few doubles from the one bisection finds: both are roots to the last bit `I`
/// is computed to.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let shape = |v: f64| v > 0.0 && v.is_finite();
    if !(0.0..=1.0).contains(&p) || !shape(a) || !shape(b) {
        return f64::NAN;
    }
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 {
        return 1.0;
    }
    let log_norm = ln_beta(a, b);
    let density = |x: f64| ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - log_norm).exp();
    let ulp = |x: f64| x.next_up() - x;
    // I(0) = 0 < p and I(1) = 1 >= p: [0, 1] brackets the root.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let (mut f_lo, mut f_hi) = (0.0_f64, 1.0_f64);
    // Start at the mean: the Clopper–Pearson limits lie near it.
    let mut x = a / (a + b);
    let mut probe = 0.0_f64;
    // 100 iterations with Newton, then at most ~1,075 halvings (down to 2^-1074).
    for iteration in 0..1300 {
        let f = beta_reg(a, b, x);
        if f < p {
            (lo, f_lo) = (x, f);
        } else {
            (hi, f_hi) = (x, f);
        }
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let newton = x - (f - p) / density(x);
        let inside = |c: f64| c > lo && c < hi;
        // In a bracket of a few doubles, and after 100 evaluations: halve. (Where Newton keeps
        // leaving the bracket, as for a shape a ≪ 1 where I ≈ C·x^a, every step halves: as
        // slow as bisection alone, never slower.)
        x = if iteration >= 100 || hi - lo <= 64.0 * ulp(hi) {
            mid
        } else if (newton - x).abs() <= 2.0 * ulp(x) {
            // Newton has settled on x, but the root's other side is not known yet (the computed
            // I can wobble by an ulp there): look 1, 2, 4, … doubles past x for it.
            probe = (2.0 * probe).max(1.0);
            let past = if f < p {
                x + probe * ulp(x)
            } else {
                x - probe * ulp(x)
            };
            if inside(past) {
                past
            } else {
                mid
            }
        } else if inside(newton) {
            probe = 0.0;
            newton
        } else {
            mid
        };
    }
    if (p - f_lo).abs() <= (f_hi - p).abs() {
        lo
    } else {
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain bisection `beta_quantile` replaced: halve [0, 1] down to adjacent doubles.
    fn beta_quantile_by_bisection(p: f64, a: f64, b: f64) -> f64 {
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        loop {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if beta_reg(a, b, mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let (flo, fhi) = (beta_reg(a, b, lo), beta_reg(a, b, hi));
        if (p - flo).abs() <= (fhi - p).abs() {
            lo
        } else {
            hi
        }
    }

    /// `q` is a crossing: `I(q⁻) < p <= I(q⁺)` for `q` and the double next to it on one side,
    /// `q` the one of the two closer to `p`.
    fn assert_crossing(q: f64, p: f64, a: f64, b: f64) {
        let f = |x: f64| beta_reg(a, b, x);
        let (lo, hi) = if f(q) < p {
            (q, q.next_up())
        } else {
            (q.next_down(), q)
        };
        let why = format!("qbeta({p}, {a}, {b}) = {q:e}");
        assert!(f(lo) < p && p <= f(hi), "{why}: not a crossing");
        let closer = if (p - f(lo)).abs() <= (f(hi) - p).abs() {
            lo
        } else {
            hi
        };
        assert_eq!(
            q.to_bits(),
            closer.to_bits(),
            "{why}: the other double is closer"
        );
    }

    #[test]
    fn beta_quantile_is_a_crossing_next_to_bisections() {
        // The Clopper–Pearson limits of x / n (both tails, three levels) and skewed shapes.
        let mut cases = vec![
            (1e-10, 0.5, 0.5),
            (0.999_999, 0.3, 7.0),
            (0.5, 1.0, 1.0),
            (0.3, 40.0, 0.2),
            (0.5, 1e-3, 1e6),
            (0.01, 1e6, 1e-3),
        ];
        for n in [1_u32, 2, 3, 7, 20, 61, 250, 1000, 4000] {
            for x in (0..=n).step_by((n as usize / 12).max(1)) {
                for alpha in [0.01, 0.05, 0.1] {
                    let (xf, nf) = (f64::from(x), f64::from(n));
                    if x > 0 {
                        cases.push((alpha / 2.0, xf, nf - xf + 1.0));
                    }
                    if x < n {
                        cases.push((1.0 - alpha / 2.0, xf + 1.0, nf - xf));
                    }
                }
            }
        }
        assert!(cases.len() > 300, "{}", cases.len());
        for &(p, a, b) in &cases {
            let (got, want) = (beta_quantile(p, a, b), beta_quantile_by_bisection(p, a, b));
            assert_crossing(got, p, a, b);
            // Where the computed I wobbles around p (its last ~2 digits), another crossing:
            // seen up to 20 doubles (4e-15) away.
            let apart = (got - want).abs() / want;
            assert!(
                apart <= 1e-13,
                "qbeta({p}, {a}, {b}) = {got:e}, bisection {want:e}"
            );
        }
    }

    #[test]
    fn beta_quantile_of_no_distribution_is_nan() {
        for (p, a, b) in [
            (0.5, f64::INFINITY, 2.0),
            (0.5, 2.0, f64::NAN),
            (0.5, 0.0, 1.0),
            (1.5, 1.0, 1.0),
        ] {
            assert!(beta_quantile(p, a, b).is_nan(), "qbeta({p}, {a}, {b})");
        }
    }

    #[test]
    fn normal_quantile_matches_r() {
        // R 4.2.2: qnorm(0.975) = 1.959963984540054, qnorm(0.95) = 1.644853626951472
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((normal_quantile(0.95) - 1.644853626951472).abs() < 1e-14);
    }

    #[test]
    fn small_p_values_keep_digits() {
        // R: 2 * pnorm(-8) = 1.244192114854357e-15; pchisq(64, 1, lower = FALSE) same value
        let p = normal_two_sided_p(8.0);
        assert!((p / 1.244192114854357e-15 - 1.0).abs() < 1e-9);
        let q = chi_square_upper(64.0, 1.0);
        assert!((q / 1.244192114854357e-15 - 1.0).abs() < 1e-9);
    }
}
