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

fn linkinv(eta: f64) -> f64 {
    let tmp = if eta < -THRESH {
        f64::EPSILON
    } else if eta > THRESH {
        1.0 / f64::EPSILON
    } else {
        eta.exp()
    };
    tmp / (1.0 + tmp)
}

fn mu_eta(eta: f64) -> f64 {
    if eta.abs() > THRESH {
        f64::EPSILON
    } else {
        let e = eta.exp();
        e / ((1.0 + e) * (1.0 + e))
    }
}

fn deviance(y: &[f64], mu: &[f64]) -> f64 {
    y.iter()
        .zip(mu)
        .map(|(&yi, &m)| {
            if yi > 0.5 {
                -2.0 * m.ln()
            } else {
                -2.0 * (1.0 - m).ln()
            }
        })
        .sum()
}

/// Fits `y ~ X` (X: n × p, with the intercept column if wanted; y: 0/1).
pub fn logistic_fit(x: &DMatrix<f64>, y: &[f64]) -> Result<LogisticFit, LogisticError> {
    let (n, p) = (x.nrows(), x.ncols());
    if n <= p {
        return Err(LogisticError::TooFewRows { n, p });
    }
    let ones = y.iter().filter(|&&v| v > 0.5).count();
    if ones == 0 || ones == n {
        let only = if ones == 0 { "0" } else { "1" };
        return Err(LogisticError::ConstantOutcome { only });
    }
    let mut mu: Vec<f64> = y.iter().map(|&v| (v + 0.5) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| (m / (1.0 - m)).ln()).collect();
    let mut devold = deviance(y, &mu);
    let ybar = ones as f64 / n as f64;
    let null_deviance = deviance(y, &vec![ybar; n]);
    let mut coef = DVector::zeros(p);
    let mut converged = false;
    let mut iterations = 0;
    let mut last_r = DMatrix::zeros(p, p);
    let mut dev = devold;
    for iter in 1..=GLM_MAX_ITER {
        iterations = iter;
        let mut xw = x.clone();
        let mut zw = DVector::zeros(n);
        for i in 0..n {
            let me = mu_eta(eta[i]);
            let var = mu[i] * (1.0 - mu[i]);
            let w = (me * me / var).sqrt();
            zw[i] = (eta[i] + (y[i] - mu[i]) / me) * w;
            for j in 0..p {
                xw[(i, j)] *= w;
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
        let new_eta = x * &coef;
        for i in 0..n {
            eta[i] = new_eta[i];
            mu[i] = linkinv(eta[i]);
        }
        dev = deviance(y, &mu);
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
    let separation = mu.iter().any(|&m| m > 1.0 - eps10 || m < eps10);
    Ok(LogisticFit {
        coef: coef.iter().copied().collect(),
        se,
        deviance: dev,
        null_deviance,
        iterations,
        converged,
        linear_predictor: eta,
        fitted: mu,
        separation,
    })
}
