//! Cox proportional-hazards model, fitted as R's `coxph` (survival 3.5, `coxfit6`):
//! Newton–Raphson from β = 0 with step-halving, stopped when the relative change of the
//! log partial likelihood is at most 1e-9 (at most 20 iterations); ties by Efron (1977,
//! default) or Breslow (1974); covariates centred at their weighted means (which changes no
//! estimate). Optional robust (sandwich) variance clustered on a grouping (Lin & Wei 1989).

// Index loops mirror the published formulas (risk-set sums over covariates j, k); iterator
// chains would hide them.
#![allow(clippy::needless_range_loop)]

mod derivs;
mod residuals;
mod zph;
mod zph_one;

pub use zph::{cox_zph, Zph, ZphRow};

use derivs::{derivs, TwoValueRisk};
use residuals::score_residuals;

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// How tied event times enter the partial likelihood.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    #[default]
    Efron,
    Breslow,
}

impl Ties {
    pub fn name(self) -> &'static str {
        match self {
            Ties::Efron => "efron",
            Ties::Breslow => "breslow",
        }
    }
}

/// Data for a Cox fit: sorted by time ascending; `x` is column-major, `p` columns of `n`.
#[derive(Clone, Debug)]
pub struct CoxData<'a> {
    pub time: &'a [f64],
    pub status: &'a [bool],
    pub weight: &'a [f64],
    pub x: &'a [f64],
    pub p: usize,
}

/// A fitted Cox model.
#[derive(Clone, Debug)]
pub struct CoxFit {
    pub coef: Vec<f64>,
    /// Model-based variance (inverse information at the estimate), p × p.
    pub var: DMatrix<f64>,
    pub loglik_null: f64,
    pub loglik: f64,
    /// Score test of β = 0.
    pub score_test: f64,
    pub iterations: u32,
    pub converged: bool,
    /// R's "Loglik converged before variable …; coefficient may be infinite".
    pub may_be_infinite: bool,
    /// The coefficients R names in that warning (0-based).
    pub infinite: Vec<usize>,
    /// One two-valued covariate whose partial likelihood is monotone: the estimate is ±∞
    /// whatever the iterations did (see `TwoValueRisk::monotone`).
    pub monotone: bool,
    pub ties: Ties,
    /// Score residuals at the estimate (n × p), kept for the robust variance.
    score_residuals: Option<DMatrix<f64>>,
}

/// Why a Cox model could not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CoxError {
    #[error("no events")]
    NoEvents,
    #[error("the information matrix is singular (a covariate is constant or collinear)")]
    Singular,
}

pub const COX_EPS: f64 = 1e-9;
pub const COX_MAX_ITER: u32 = 20;

/// The covariates centred on their weighted means (column-major, as `CoxData::x`).
struct Centred {
    x: Vec<f64>,
    /// With one covariate taking at most two values (the arm): those values and the data
    /// summed per death time.
    two_valued: Option<TwoValueRisk>,
}

fn centred(d: &CoxData) -> Centred {
    let n = d.time.len();
    let wsum: f64 = d.weight.iter().sum();
    let mut xc = d.x.to_vec();
    for j in 0..d.p {
        let col = &mut xc[j * n..(j + 1) * n];
        let mean = col.iter().zip(d.weight).map(|(x, w)| x * w).sum::<f64>() / wsum;
        col.iter_mut().for_each(|x| *x -= mean);
    }
    let two_values = match xc.first() {
        Some(&x0) if d.p == 1 => {
            let x1 = xc.iter().copied().find(|&v| v != x0).unwrap_or(x0);
            // A fold, not `all`: without early exit the check vectorizes.
            let two = xc.iter().fold(true, |ok, &v| ok & ((v == x0) | (v == x1)));
            two.then_some([x0, x1])
        }
        _ => None,
    };
    let two_valued = two_values.map(|v| TwoValueRisk::new(d, &xc, v));
    Centred { x: xc, two_valued }
}

fn solve(imat: &DMatrix<f64>, u: &DVector<f64>) -> Option<DVector<f64>> {
    let chol = imat.clone().cholesky()?;
    Some(chol.solve(u))
}

/// Fits the Cox model. `keep_residuals` stores score residuals for [`CoxFit::robust_var`].
pub fn cox_fit(d: &CoxData, ties: Ties, keep_residuals: bool) -> Result<CoxFit, CoxError> {
    if !d.status.iter().zip(d.weight).any(|(&s, &w)| s && w > 0.0) {
        return Err(CoxError::NoEvents);
    }
    let p = d.p;
    let xc = centred(d);
    let mut beta = vec![0.0; p];
    let init = derivs(d, &xc, &beta, ties);
    let loglik_null = init.loglik;
    let step = solve(&init.imat, &init.u).ok_or(CoxError::Singular)?;
    let score_test = init.u.dot(&step);
    let mut newbeta: Vec<f64> = (0..p).map(|j| beta[j] + step[j]).collect();
    let mut loglik = loglik_null;
    // R's coxfit6 (survival 3.5-3): after a step that lowers the log-likelihood, the k-th
    // retry in a row goes back to (new + k·old) / (k + 1).
    let mut halving = 0u32;
    let mut converged = false;
    let mut iterations = 0;
    let mut last = init;
    for iter in 1..=COX_MAX_ITER {
        iterations = iter;
        let cur = derivs(d, &xc, &newbeta, ties);
        let newlk = cur.loglik;
        if newlk.is_finite() && (1.0 - loglik / newlk).abs() <= COX_EPS {
            loglik = newlk;
            beta.clone_from(&newbeta);
            last = cur;
            converged = true;
            break;
        }
        if newlk < loglik || !newlk.is_finite() {
            halving += 1;
            let k = f64::from(halving);
            for j in 0..p {
                newbeta[j] = (newbeta[j] + k * beta[j]) / (k + 1.0);
            }
        } else {
            halving = 0;
            loglik = newlk;
            let step = solve(&cur.imat, &cur.u).ok_or(CoxError::Singular)?;
            beta.clone_from(&newbeta);
            for j in 0..p {
                newbeta[j] += step[j];
            }
            last = cur;
        }
    }
    if !converged {
        // Out of iterations: R reports the last accepted β, its log-likelihood and
        // information.
        last = derivs(d, &xc, &beta, ties);
        loglik = last.loglik;
    }
    let var = last
        .imat
        .clone()
        .cholesky()
        .map(|c| c.inverse())
        .ok_or(CoxError::Singular)?;
    // R's coxph.fit: |U·V| beyond eps and toler.inf·|β| means the log-likelihood converged
    // while a coefficient was still running away (monotone likelihood: β may be infinite).
    let uv = var.clone() * last.u.clone();
    let infinite: Vec<usize> = (0..p)
        .filter(|&j| {
            let v = uv[j].abs();
            converged && v > COX_EPS && v > COX_EPS.sqrt() * beta[j].abs()
        })
        .collect();
    let may_be_infinite = !infinite.is_empty();
    let monotone = xc.two_valued.as_ref().is_some_and(|r| r.monotone());
    let score_residuals = keep_residuals.then(|| score_residuals(d, &xc, &beta, ties));
    Ok(CoxFit {
        may_be_infinite,
        infinite,
        monotone,
        coef: beta,
        var,
        loglik_null,
        loglik,
        score_test,
        iterations,
        converged,
        ties,
        score_residuals,
    })
}

impl CoxFit {
    /// Standard error of coefficient `j` from the model-based variance.
    pub fn se(&self, j: usize) -> f64 {
        self.var[(j, j)].sqrt()
    }

    /// Wald statistic β'·V⁻¹·β of β = 0 (R's `coxph()$wald.test`).
    pub fn wald_test(&self) -> f64 {
        let b = DVector::from_column_slice(&self.coef);
        match self.var.clone().cholesky() {
            Some(c) => b.dot(&c.solve(&b)),
            None => f64::NAN,
        }
    }

    /// Likelihood-ratio statistic 2·(loglik − loglik_null).
    pub fn lr_test(&self) -> f64 {
        2.0 * (self.loglik - self.loglik_null)
    }

    /// Robust (sandwich) variance D'D where D are dfbeta residuals (score residuals times
    /// the model variance), summed within clusters first when `cluster` is given — R's
    /// `coxph(..., cluster = g)`. Needs a fit made with `keep_residuals`.
    pub fn robust_var(&self, weight: &[f64], cluster: Option<&[u32]>) -> Option<DMatrix<f64>> {
        let resid = self.score_residuals.as_ref()?;
        let n = resid.nrows();
        let p = resid.ncols();
        let mut dfbeta = resid * &self.var;
        for i in 0..n {
            for j in 0..p {
                dfbeta[(i, j)] *= weight[i];
            }
        }
        let rows: DMatrix<f64> = match cluster {
            None => dfbeta,
            Some(g) => {
                let groups = g.iter().copied().max().map_or(0, |m| m as usize + 1);
                let mut summed = DMatrix::zeros(groups, p);
                for i in 0..n {
                    for j in 0..p {
                        summed[(g[i] as usize, j)] += dfbeta[(i, j)];
                    }
                }
                summed
            }
        };
        Some(rows.transpose() * rows)
    }
}

/// A random sample for the tests: `n` times in `0..distinct` whole units, sorted; deaths
/// with probability `p_death`; weights 1, else 0 (5 %) or `fraction` (20 %).
#[cfg(test)]
pub(super) fn random_sample(
    rng: &mut crate::rng::SplitMix64,
    n: usize,
    (distinct, p_death): (f64, f64),
    fraction: f64,
) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut time: Vec<f64> = (0..n)
        .map(|_| (rng.next_f64() * distinct).floor())
        .collect();
    time.sort_by(f64::total_cmp);
    let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < p_death).collect();
    let weight: Vec<f64> = (0..n)
        .map(|_| match rng.next_f64() {
            u if u < 0.2 => fraction,
            u if u < 0.25 => 0.0,
            _ => 1.0,
        })
        .collect();
    (time, status, weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The monotone-likelihood check is its definition: each value has a death (weight > 0)
    /// while a subject with the other value (weight > 0) is at risk.
    #[test]
    fn monotone_is_no_death_against_the_other_value_at_risk() {
        let mut rng = SplitMix64::new(11);
        let (mut monotone, mut cases) = (0, 0);
        for _ in 0..3000 {
            let n = 2 + (rng.next_f64() * 12.0) as usize;
            let mut time: Vec<f64> = (0..n).map(|_| (rng.next_f64() * 6.0).floor()).collect();
            time.sort_by(f64::total_cmp);
            let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.5).collect();
            let weight: Vec<f64> = (0..n)
                .map(|_| if rng.next_f64() < 0.15 { 0.0 } else { 1.0 })
                .collect();
            let x: Vec<f64> = (0..n)
                .map(|_| f64::from(u8::from(rng.next_f64() < 0.5)))
                .collect();
            let d = CoxData {
                time: &time,
                status: &status,
                weight: &weight,
                x: &x,
                p: 1,
            };
            let Some(sums) = centred(&d).two_valued else {
                continue;
            };
            let crossed = |v: f64| {
                (0..n).any(|i| {
                    status[i]
                        && weight[i] > 0.0
                        && x[i] == v
                        && (0..n).any(|j| x[j] != v && weight[j] > 0.0 && time[j] >= time[i])
                })
            };
            let want = !(crossed(0.0) && crossed(1.0));
            assert_eq!(
                sums.monotone(),
                want,
                "{time:?} {status:?} {weight:?} {x:?}"
            );
            cases += 1;
            monotone += usize::from(want);
        }
        assert!(
            monotone > 200 && cases - monotone > 200,
            "{monotone} of {cases}"
        );
    }

    /// The death-time sums of a two-valued covariate give what the subject-by-subject pass
    /// with one exp() per subject gives, up to rounding: tied times (2000 deaths at one time,
    /// where Efron's product of factors must be taken in runs), censoring, fractional
    /// and zero weights, both ties methods, β up to ±3.
    #[test]
    fn death_time_sums_equal_the_subject_pass() {
        let mut rng = SplitMix64::new(5);
        for (n, distinct, p_death) in [(400, 40.0, 0.7), (3000, 3.0, 0.7), (2000, 1.0, 1.0)] {
            let (time, status, weight) = random_sample(&mut rng, n, (distinct, p_death), 0.5);
            let x: Vec<f64> = (0..n)
                .map(|_| f64::from(u8::from(rng.next_f64() < 0.4)))
                .collect();
            let d = CoxData {
                time: &time,
                status: &status,
                weight: &weight,
                x: &x,
                p: 1,
            };
            let xc = centred(&d);
            let sums = xc.two_valued.as_ref().expect("two values");
            // The same covariate walked subject by subject, as any other covariate is.
            let subjects = Centred {
                x: xc.x.clone(),
                two_valued: None,
            };
            for beta in [-3.0, -1.3, 0.0, 0.45, 3.0] {
                for ties in [Ties::Efron, Ties::Breslow] {
                    let fast = sums.derivs(beta, ties);
                    let plain = derivs(&d, &subjects, &[beta], ties);
                    for (a, b) in [
                        (fast.loglik, plain.loglik),
                        (fast.u[0], plain.u[0]),
                        (fast.imat[(0, 0)], plain.imat[(0, 0)]),
                    ] {
                        let scale = b.abs().max(1.0);
                        assert!(
                            (a - b).abs() <= 1e-12 * scale,
                            "n {n} beta {beta} {ties:?}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}
