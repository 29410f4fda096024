//! Proportions: exact (Clopper–Pearson 1934) confidence intervals and Fisher's exact test.

use serde::Serialize;

use super::dist::beta_quantile;

/// A proportion x / n with its exact Clopper–Pearson confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Proportion {
    pub x: u64,
    pub n: u64,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Clopper–Pearson interval, as R's `binom.test(x, n)$conf.int`. NaN when n = 0.
pub fn clopper_pearson(x: u64, n: u64, conf_level: f64) -> Proportion {
    let alpha = 1.0 - conf_level;
    if n == 0 || x > n {
        return Proportion {
            x,
            n,
            estimate: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
        };
    }
    let (xf, nf) = (x as f64, n as f64);
    let lower = if x == 0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, xf, nf - xf + 1.0)
    };
    let upper = if x == n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, xf + 1.0, nf - xf)
    };
    Proportion {
        x,
        n,
        estimate: xf / nf,
        lower,
        upper,
    }
}

/// Two-sided Fisher exact test for the 2×2 table [[a, b], [c, d]], as R's `fisher.test`:
/// the sum of the probabilities of all tables with the same margins whose probability is at
/// most the observed one × (1 + 1e-7). NaN when a margin is empty.
pub fn fisher_exact_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    // R: m = first column sum, n = second column sum, k = first row sum, x = a.
    let m = a + c;
    let n = b + d;
    let k = a + b;
    if m + n == 0 {
        return f64::NAN;
    }
    let lo = k.saturating_sub(n);
    let hi = k.min(m);
    // log P(x) up to a constant, by the ratio P(x+1)/P(x) = (k−x)(m−x) / ((x+1)(n−k+x+1)).
    let mut logp = Vec::with_capacity((hi - lo + 1) as usize);
    let mut cur = 0.0_f64;
    logp.push(cur);
    for x in lo..hi {
        let (xf, kf, mf, nf) = (x as f64, k as f64, m as f64, n as f64);
        cur += ((kf - xf) * (mf - xf)).ln() - ((xf + 1.0) * (nf - kf + xf + 1.0)).ln();
        logp.push(cur);
    }
    let max = logp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let dens: Vec<f64> = logp.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = dens.iter().sum();
    let observed = dens[(a - lo) as usize] / total;
    let threshold = observed * (1.0 + 1e-7);
    let p: f64 = dens
        .iter()
        .map(|v| v / total)
        .filter(|&v| v <= threshold)
        .sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_symmetric_table_is_one() {
        assert!((fisher_exact_two_sided(3, 3, 3, 3) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn clopper_pearson_edges() {
        let p = clopper_pearson(0, 10, 0.95);
        assert_eq!(p.lower, 0.0);
        // R: binom.test(0, 10)$conf.int[2] = 0.3084971078187608
        assert!((p.upper - 0.3084971078187608).abs() < 1e-12);
    }
}
