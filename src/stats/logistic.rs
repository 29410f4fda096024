//! Logistic regression fitted as R's `glm(family = binomial)` (`glm.fit`): iteratively
//! reweighted least squares (McCullagh & Nelder 1989) started from mu = (y + 0.5) / 2,
//! stopped when |Δdeviance| / (|deviance| + 0.1) < 1e-8, at most 25 iterations; each weighted
//! least-squares step solved by a QR decomposition (nalgebra), as R's `Cdqrls`.

use nalgebra::{DMatrix, DVector};

pub const GLM_EPSILON: f64 = 1e-8;
pub const GLM_MAX_ITER: u32 = 25;
const THRESH: f64 = 30.0;

/// A fitted logistic regression.
#[derive(Clone, Debug)]
pub struct LogisticFit {
    pub coef: Vec<f64>,
    /// Standard errors as `summary.glm` (from the last IRLS step's weighted QR).
    pub se: Vec<f64>,
    pub deviance: f64,
    pub null_deviance: f64,
    pub iterations: u32,
    pub converged: bool,
    /// Linear predictor (logit of the fitted probability) per row.
    pub linear_predictor: Vec<f64>,
    /// Fitted probability per row.
    pub fitted: Vec<f64>,
    /// Some fitted probabilities are numerically 0 or 1 (separation).
    pub separation: bool,
}

/// Why the model could not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LogisticError {
    #[error("needs more rows ({n}) than coefficients ({p})")]
    TooFewRows { n: usize, p: usize },
    #[error("the outcome has only one value: every row is {only}")]
    ConstantOutcome { only: &'static str },
    #[error("the design matrix is rank deficient: column {column} is constant or a combination of the others")]
    RankDeficient { column: usize },
}

/// exp(η) as R's logit `linkinv` takes it (clamped to ε and 1/ε beyond |η| > 30): the
/// fitted probability is e/(1 + e) and, where |η| ≤ 30, dμ/dη is e/(1 + e)². Kept per unit
/// from one step to the next, so each costs one exp.
fn link_exp(eta: f64) -> f64 {
    if eta < -THRESH {
        f64::EPSILON
    } else if eta > THRESH {
        1.0 / f64::EPSILON
    } else {
        eta.exp()
    }
}

/// R's `mu.eta` at η, given e = [`link_exp`]`(η)`.
fn mu_eta(eta: f64, e: f64) -> f64 {
    if eta.abs() > THRESH {
        f64::EPSILON
    } else {
        e / ((1.0 + e) * (1.0 + e))
    }
}

/// Rows with identical covariates, grouped: `group_of[i]` indexes `first_row`. Grouping makes
/// the fit O(groups) per iteration instead of O(n) — clinical covariates are mostly categorical.
pub(crate) struct Groups {
    pub group_of: Vec<u32>,
    pub first_row: Vec<usize>,
}

/// The `n` rows grouped by `group` when grouping pays: tried from 2,000 rows on, kept when
/// it at least halves the rows.
pub(crate) fn groups_if_worth(n: usize, group: impl FnOnce() -> Groups) -> Option<Groups> {
    (n >= 2000)
        .then(group)
        .filter(|g| g.first_row.len() * 2 <= n)
}

/// One column of the rows to group: numbers (equal when `==`, so -0 and +0 alike and NaN
/// equal to nothing) or codes (a factor's levels).
#[derive(Clone, Copy)]
pub(crate) enum KeyColumn<'a> {
    Values(&'a [f64]),
    Codes(&'a [u32]),
}

impl KeyColumn<'_> {
    fn equal(&self, a: usize, b: usize) -> bool {
        match self {
            KeyColumn::Values(v) => v[a] == v[b],
            KeyColumn::Codes(c) => c[a] == c[b],
        }
    }

    /// Every row equals its group's first row in this column.
    fn confirms(&self, groups: &Groups) -> bool {
        fn check<T: Copy + PartialEq>(col: &[T], g: &Groups) -> bool {
            // The groups' values first (a small table), then one sequential pass.
            let first: Vec<T> = g.first_row.iter().map(|&r| col[r]).collect();
            g.group_of
                .iter()
                .zip(col)
                .all(|(&k, &v)| v == first[k as usize])
        }
        match self {
            KeyColumn::Values(v) => check(v, groups),
            KeyColumn::Codes(c) => check(c, groups),
        }
    }
}

/// A hash of each row (-0 and +0 alike), built column by column (each column one contiguous
/// slice) in blocks of rows whose hashes stay in the first-level cache while every column
/// passes.
fn row_hashes(columns: &[KeyColumn], n: usize) -> Vec<u64> {
    const BLOCK: usize = 1024;
    let mut hashes = vec![0x9E37_79B9_7F4A_7C15u64; n];
    let mix = |h: &mut u64, key: u64| {
        let m = (*h ^ key).wrapping_mul(0x100_0000_01B3);
        *h = m ^ (m >> 29);
    };
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for col in columns {
            let block = hashes[start..end].iter_mut();
            match col {
                KeyColumn::Values(v) => {
                    for (h, &x) in block.zip(&v[start..end]) {
                        mix(h, (x + 0.0).to_bits());
                    }
                }
                KeyColumn::Codes(c) => {
                    for (h, &x) in block.zip(&c[start..end]) {
                        mix(h, u64::from(x));
                    }
                }
            }
        }
    }
    hashes
}

/// The `n` rows of `columns` grouped (numbered by first appearance).
pub(crate) fn group_rows(columns: &[KeyColumn], n: usize) -> Groups {
    let hashes = row_hashes(columns, n);
    // Group by the 64-bit hash alone, then confirm column by column: reading down a column
    // is sequential (comparing two rows across columns is p scattered reads each). Equal rows
    // always share a hash, so when every row equals its group's first row the groups are
    // exactly those of comparing rows; a hash collision (different rows, one hash) sends
    // the grouping to the row-by-row comparison.
    let groups = group_by_hash(&hashes, |_, _| true);
    if columns.iter().all(|c| c.confirms(&groups)) {
        groups
    } else {
        let same = |a: usize, b: usize| columns.iter().all(|c| c.equal(a, b));
        group_by_hash(&hashes, same)
    }
}

fn matrix_columns(x: &DMatrix<f64>) -> Vec<KeyColumn<'_>> {
    let n = x.nrows();
    (0..x.ncols())
        .map(|j| KeyColumn::Values(&x.as_slice()[j * n..(j + 1) * n]))
        .collect()
}

/// Rows in groups of equal hash for which `same(first row of the group, row)` holds, numbered
/// by first appearance (open addressing on the hash).
fn group_by_hash(hashes: &[u64], same: impl Fn(usize, usize) -> bool) -> Groups {
    let n = hashes.len();
    let cap = (2 * n).next_power_of_two().max(16);
    let mask = cap - 1;
    // The slot from the top bits of the hash times a constant (Fibonacci hashing): every
    // bit of the hash stirs them.
    let shift = 64 - cap.trailing_zeros();
    let mut table: Vec<u32> = vec![u32::MAX; cap];
    let mut groups = Groups {
        group_of: Vec::with_capacity(n),
        first_row: Vec::new(),
    };
    for i in 0..n {
        let mut slot = (hashes[i].wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
        loop {
            let g = table[slot];
            if g == u32::MAX {
                table[slot] = groups.first_row.len() as u32;
                groups.group_of.push(groups.first_row.len() as u32);
                groups.first_row.push(i);
                break;
            }
            let first = groups.first_row[g as usize];
            if hashes[first] == hashes[i] && same(first, i) {
                groups.group_of.push(g);
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    groups
}

/// Binomial deviance of `s` successes in `m` trials at probability `mu` (0·log 0 = 0).
fn unit_deviance(s: f64, m: f64, mu: f64) -> f64 {
    let mut d = 0.0;
    if s > 0.0 {
        d -= 2.0 * s * mu.ln();
    }
    if m - s > 0.0 {
        d -= 2.0 * (m - s) * (1.0 - mu).ln();
    }
    d
}

/// Fits `y ~ X` (X: n × p, with the intercept column if wanted; y: 0/1).
///
/// Rows with identical covariates are fitted as one binomial unit when that at least halves
/// the work; the iterations are then exactly R's per-row iterations (the first step's working
/// response is averaged within the unit, every later step depends on the covariates only), so
/// the path, the iteration count and the estimate are the same up to rounding.
pub fn logistic_fit(x: &DMatrix<f64>, y: &[f64]) -> Result<LogisticFit, LogisticError> {
    let n = x.nrows();
    match groups_if_worth(n, || group_rows(&matrix_columns(x), n)) {
        None => logistic_fit_units(x.clone(), None, y),
        Some(g) => {
            // Column by column: the first rows ascend, so each column is read front to back
            // (row by row, every value would be a different cache line of a large matrix).
            let p = x.ncols();
            let mut xu = DMatrix::zeros(g.first_row.len(), p);
            for j in 0..p {
                let (from, to) = (x.column(j), &mut xu.column_mut(j));
                for (u, &r) in g.first_row.iter().enumerate() {
                    to[u] = from[r];
                }
            }
            logistic_fit_units(xu, Some(&g.group_of), y)
        }
    }
}

fn check(n: usize, p: usize, y: &[f64]) -> Result<usize, LogisticError> {
    if n <= p {
        return Err(LogisticError::TooFewRows { n, p });
    }
    let ones = y.iter().filter(|&&v| v > 0.5).count();
    if ones == 0 || ones == n {
        let only = if ones == 0 { "0" } else { "1" };
        return Err(LogisticError::ConstantOutcome { only });
    }
    Ok(ones)
}

/// [`logistic_fit`] of rows already grouped by the caller: `xu` holds one row per group
/// and `group_of[i]` is row i's group (`None`: `xu` is the rows themselves).
pub(crate) fn logistic_fit_units(
    xu: DMatrix<f64>,
    group_of: Option<&[u32]>,
    y: &[f64],
) -> Result<LogisticFit, LogisticError> {
    let n = y.len();
    let p = xu.ncols();
    let ones = check(n, p, y)?;
    // Units: rows, or groups of identical rows with trials m and successes s.
    let (m, s) = match group_of {
        None => (vec![1.0; n], y.to_vec()),
        Some(group_of) => {
            let k = xu.nrows();
            let (mut m, mut s) = (vec![0.0; k], vec![0.0; k]);
            for (i, &gi) in group_of.iter().enumerate() {
                m[gi as usize] += 1.0;
                s[gi as usize] += y[i];
            }
            (m, s)
        }
    };
    let k = xu.nrows();
    // R's start mu = (y + 0.5) / 2 per row: every row has weight 3/16 and working response
    // ±(logit(3/4) + 4/3); a unit takes the mean of its rows' working responses.
    let start_z = 0.75f64.ln() - 0.25f64.ln() + 0.25 / 0.1875;
    let mut devold = -2.0 * n as f64 * 0.75f64.ln();
    let null_mu = ones as f64 / n as f64;
    let null_deviance: f64 = (0..k).map(|u| unit_deviance(s[u], m[u], null_mu)).sum();
    let mut eta = vec![0.0; k];
    let mut mu = vec![0.0; k];
    let mut ex = vec![0.0; k];
    let mut coef = DVector::zeros(p);
    let mut converged = false;
    let mut iterations = 0;
    let mut last_r = DMatrix::zeros(p, p);
    let mut dev = devold;
    for iter in 1..=GLM_MAX_ITER {
        iterations = iter;
        let mut xw = xu.clone();
        let mut zw = DVector::zeros(k);
        let mut sws = vec![0.0; k];
        for u in 0..k {
            let (z, w) = if iter == 1 {
                let ybar = s[u] / m[u];
                (start_z * (2.0 * ybar - 1.0), m[u] * 0.1875)
            } else {
                let me = mu_eta(eta[u], ex[u]);
                let var = mu[u] * (1.0 - mu[u]);
                (eta[u] + (s[u] / m[u] - mu[u]) / me, m[u] * me * me / var)
            };
            let sw = w.sqrt();
            zw[u] = z * sw;
            sws[u] = sw;
        }
        for j in 0..p {
            for (v, sw) in xw.column_mut(j).iter_mut().zip(&sws) {
                *v *= sw;
            }
        }
        // Column scale for the rank check, as dqrdc2's relative tolerance.
        let norms: Vec<f64> = (0..p).map(|j| xw.column(j).norm()).collect();
        let qr = xw.qr();
        let r = qr.r();
        for j in 0..p {
            if r[(j, j)].abs() <= 1e-7 * norms[j].max(f64::MIN_POSITIVE) {
                return Err(LogisticError::RankDeficient { column: j });
            }
        }
        let mut qtz = zw;
        qr.q_tr_mul(&mut qtz);
        let rhs = qtz.rows(0, p).into_owned();
        let Some(start) = r.solve_upper_triangular(&rhs) else {
            return Err(LogisticError::RankDeficient { column: 0 });
        };
        coef = start;
        last_r = r;
        let new_eta = &xu * &coef;
        for u in 0..k {
            eta[u] = new_eta[u];
            ex[u] = link_exp(eta[u]);
            mu[u] = ex[u] / (1.0 + ex[u]);
        }
        dev = (0..k).map(|u| unit_deviance(s[u], m[u], mu[u])).sum();
        if (dev - devold).abs() / (dev.abs() + 0.1) < GLM_EPSILON {
            converged = true;
            break;
        }
        devold = dev;
    }
    // Unscaled covariance (R'R)^-1 from the last step's QR, as summary.glm does.
    let se = match last_r.clone().try_inverse() {
        Some(rinv) => {
            let cov = &rinv * rinv.transpose();
            (0..p).map(|j| cov[(j, j)].sqrt()).collect()
        }
        None => vec![f64::NAN; p],
    };
    let eps10 = 10.0 * f64::EPSILON;
    let separation = mu.iter().any(|&v| v > 1.0 - eps10 || v < eps10);
    let (linear_predictor, fitted) = match group_of {
        None => (eta, mu),
        Some(group_of) => (
            group_of.iter().map(|&u| eta[u as usize]).collect(),
            group_of.iter().map(|&u| mu[u as usize]).collect(),
        ),
    };
    Ok(LogisticFit {
        coef: coef.iter().copied().collect(),
        se,
        deviance: dev,
        null_deviance,
        iterations,
        converged,
        linear_predictor,
        fitted,
        separation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grouping by hash and confirming down the columns gives the groups of comparing rows
    /// (whatever slots the hash picks), also when the confirmation fails (rows with NaN
    /// share a hash but equal nothing).
    #[test]
    fn column_confirmed_groups_equal_row_compared_groups() {
        let mut rng = crate::rng::SplitMix64::new(9);
        for case in 0..40 {
            let (n, p) = (50 + case * 7, 1 + case % 5);
            let mut x = DMatrix::from_fn(n, p, |_, _| (rng.next_f64() * 3.0).floor());
            if case % 4 == 0 {
                x[(3, 0)] = f64::NAN;
                x[(7, 0)] = f64::NAN;
            }
            if case % 3 == 0 {
                x[(5, 0)] = -0.0;
            }
            let fast = group_rows(&matrix_columns(&x), n);
            let same = |a: usize, b: usize| (0..p).all(|j| x[(a, j)] == x[(b, j)]);
            let exact = group_by_hash(&row_hashes(&matrix_columns(&x), n), same);
            assert_eq!(fast.group_of, exact.group_of, "case {case}");
            assert_eq!(fast.first_row, exact.first_row, "case {case}");
            // And the groups of the definition: each row with the first earlier row equal
            // to it, numbered by first appearance.
            let mut first_row: Vec<usize> = Vec::new();
            let group_of: Vec<u32> = (0..n)
                .map(|i| match first_row.iter().position(|&f| same(f, i)) {
                    Some(g) => g as u32,
                    None => {
                        first_row.push(i);
                        (first_row.len() - 1) as u32
                    }
                })
                .collect();
            assert_eq!(fast.group_of, group_of, "case {case}");
            assert_eq!(fast.first_row, first_row, "case {case}");
        }
    }

    /// Grouped and per-row fits of the same data agree (the grouped path is exact).
    #[test]
    fn grouped_fit_equals_row_fit() {
        let mut rng = crate::rng::SplitMix64::new(3);
        let n = 6000;
        let mut x = DMatrix::zeros(n, 3);
        let mut y = vec![0.0; n];
        for i in 0..n {
            let a = rng.below(3) as f64;
            let b = rng.below(2) as f64;
            x[(i, 0)] = 1.0;
            x[(i, 1)] = a;
            x[(i, 2)] = b;
            let p = 1.0 / (1.0 + (-(0.3 - 0.5 * a + 0.8 * b)).exp());
            y[i] = f64::from(u8::from(rng.next_f64() < p));
        }
        let grouped = logistic_fit(&x, &y).unwrap();
        // 1999 rows take the per-row path; three copies of them (5997 rows) the grouped path.
        // Tripling the data keeps the estimate, the iterations, and divides the SE by √3.
        let small_n = 1999;
        let xs = x.rows(0, small_n).into_owned();
        let ys = &y[..small_n];
        let row_fit = logistic_fit(&xs, ys).unwrap();
        let mut x3 = DMatrix::zeros(3 * small_n, 3);
        let mut y3 = Vec::with_capacity(3 * small_n);
        for c in 0..3 {
            for i in 0..small_n {
                for j in 0..3 {
                    x3[(c * small_n + i, j)] = xs[(i, j)];
                }
                y3.push(ys[i]);
            }
        }
        let g3 = logistic_fit(&x3, &y3).unwrap();
        for j in 0..3 {
            assert!((g3.coef[j] - row_fit.coef[j]).abs() < 1e-9, "coef {j}");
            assert!(
                (g3.se[j] * 3f64.sqrt() - row_fit.se[j]).abs() < 1e-9,
                "se {j}"
            );
        }
        assert_eq!(g3.iterations, row_fit.iterations);
        assert!((g3.deviance - 3.0 * row_fit.deviance).abs() < 1e-7);
        assert!(grouped.converged);
    }
}
