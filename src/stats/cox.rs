//! Cox proportional-hazards model, fitted as R's `coxph` (survival 3.5, `coxfit6`):
//! Newton–Raphson from β = 0 with step-halving, stopped when the relative change of the
//! log partial likelihood is at most 1e-9 (at most 20 iterations); ties by Efron (1977,
//! default) or Breslow (1974); covariates centred at their weighted means (which changes no
//! estimate). Optional robust (sandwich) variance clustered on a grouping (Lin & Wei 1989).

// Index loops mirror the published formulas (risk-set sums over covariates j, k); iterator
// chains would hide them.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::{kept, tied_runs_from_last};

/// How tied event times enter the partial likelihood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
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

struct Derivs {
    loglik: f64,
    u: DVector<f64>,
    imat: DMatrix<f64>,
}

/// exp(x·β) when x takes at most two values (the arm, every endpoint's model): each exp() is
/// taken once, and a subject's is picked without a branch.
#[derive(Clone, Copy)]
struct TwoValueExp {
    x0: f64,
    e0: f64,
    e1: f64,
}

impl TwoValueExp {
    fn new([x0, x1]: [f64; 2], beta: f64) -> Self {
        TwoValueExp {
            x0,
            e0: (x0 * beta).exp(),
            e1: (x1 * beta).exp(),
        }
    }

    #[inline]
    fn get(&self, x: f64) -> f64 {
        if x == self.x0 {
            self.e0
        } else {
            self.e1
        }
    }
}

/// [`derivs`] for one covariate that takes more than two values, with scalar accumulators.
fn derivs1(d: &CoxData, xc: &Centred, beta: f64, ties: Ties) -> Derivs {
    let mut cache = [(f64::NAN, 0.0); 2];
    derivs1_with(d, &xc.x, beta, ties, |_, zbeta| {
        exp_cached(&mut cache, zbeta)
    })
}

/// A death time's increments of the log-likelihood, score and information without Efron's
/// correction (Breslow, or a single death): `deadwt` the deaths' weight, `denom`, `a`, `c`
/// the risk set's Σ w·exp(xβ), Σ w·exp(xβ)·x, Σ w·exp(xβ)·x².
#[inline]
fn breslow_terms(deadwt: f64, denom: f64, a: f64, c: f64) -> (f64, f64, f64) {
    let tj = a / denom;
    (
        -(deadwt * denom.ln()),
        -(deadwt * tj),
        deadwt * (c - tj * a) / denom,
    )
}

/// One covariate taking two values (the arm: every endpoint's model), summed once per death
/// time. With x ∈ {x₀, x₁} every risk-set sum is e₀·W₀ + e₁·W₁ (eᵥ = exp(xᵥ·β), Wᵥ the
/// weight at risk with value v), so an iteration of Newton–Raphson walks the death times
/// instead of the subjects. The sums are the subject-by-subject ones regrouped: equal to
/// them up to rounding (see the test), not to the bit.
struct TwoValueRisk {
    x: [f64; 2],
    /// Per death time, last first: the weight at risk (time ≥ t) with each value.
    at_risk: Vec<[f64; 2]>,
    /// Per death time: the weight of the deaths with each value, and their number.
    dead: Vec<([f64; 2], u32)>,
}

impl TwoValueRisk {
    fn new(d: &CoxData, xc: &[f64], x: [f64; 2]) -> Self {
        let (mut at_risk, mut dead) = (Vec::new(), Vec::new());
        let mut w_at_risk = [0.0; 2];
        for (start, end) in tied_runs_from_last(d.time) {
            let mut w_dead = [0.0; 2];
            let mut ndead = 0u32;
            // Without branches: the arm and the status are at random from one subject to
            // the next (adding +0 leaves a sum unchanged).
            for i in start..end {
                let v = usize::from(xc[i] != x[0]);
                let w = d.weight[i];
                let dead = d.status[i];
                w_at_risk[v] += w;
                w_dead[v] += kept(w, dead);
                ndead += u32::from(dead);
            }
            if ndead > 0 {
                at_risk.push(w_at_risk);
                dead.push((w_dead, ndead));
            }
        }
        TwoValueRisk { x, at_risk, dead }
    }

    /// True when the partial likelihood is monotone in β, its maximum at ±∞ (a hazard ratio
    /// of 0 or infinity): unless each value has a death while the other value is at risk,
    /// the score keeps one sign. Exact, where R's check (below, in [`cox_fit`]) reads the
    /// last Newton step, which can overshoot into underflow and miss it.
    fn monotone(&self) -> bool {
        let crossed = |v: usize| {
            self.at_risk
                .iter()
                .zip(&self.dead)
                .any(|(risk, (dead, _))| dead[v] > 0.0 && risk[1 - v] > 0.0)
        };
        !(crossed(0) && crossed(1))
    }

    /// Log partial likelihood, score and information at `beta`, as [`derivs1`] gives.
    fn derivs(&self, beta: f64, ties: Ties) -> Derivs {
        let [x0, x1] = self.x;
        let (e0, e1) = ((x0 * beta).exp(), (x1 * beta).exp());
        let (mut loglik, mut u, mut imat) = (0.0, 0.0, 0.0);
        for (&[w0, w1], &([d0, d1], ndead)) in self.at_risk.iter().zip(&self.dead) {
            let (r0, r1) = (e0 * w0, e1 * w1);
            let denom = r0 + r1;
            let a = x0 * r0 + x1 * r1;
            let c = x0 * x0 * r0 + x1 * x1 * r1;
            let deadwt = d0 + d1;
            let xdead = x0 * d0 + x1 * d1;
            loglik += beta * xdead;
            u += xdead;
            if ties == Ties::Breslow || ndead == 1 {
                let (dl, du, di) = breslow_terms(deadwt, denom, a, c);
                (loglik, u, imat) = (loglik + dl, u + du, imat + di);
            } else {
                let (q0, q1) = (e0 * d0, e1 * d1);
                let denom2 = q0 + q1;
                let a2 = x0 * q0 + x1 * q1;
                let c2 = x0 * x0 * q0 + x1 * x1 * q1;
                let k = f64::from(ndead);
                let meanwt = deadwt / k;
                // Σₘ log(denom − (m/k)·denom2) = k·log(denom) + log Πₘ (1 − (m/k)·ratio):
                // each factor lies in [1/k, 1], so the product is taken in runs that cannot
                // underflow, and two logs serve all k tied deaths.
                let ratio = denom2 / denom;
                let mut log_sum = k * denom.ln();
                let mut prod = 1.0;
                for m in 0..ndead {
                    let frac = f64::from(m) / k;
                    prod *= 1.0 - frac * ratio;
                    if prod < 1e-200 {
                        log_sum += prod.ln();
                        prod = 1.0;
                    }
                    let d2 = denom - frac * denom2;
                    let tj = (a - frac * a2) / d2;
                    u -= meanwt * tj;
                    imat += meanwt * ((c - frac * c2) / d2 - tj * tj);
                }
                loglik -= meanwt * (log_sum + prod.ln());
            }
        }
        Derivs {
            loglik,
            u: DVector::from_element(1, u),
            imat: DMatrix::from_element(1, 1, imat),
        }
    }
}

/// The pass of [`derivs1`] with `exp_of(x, x·β)`. Deaths are counted by multiplying with
/// the status (0 or 1) rather than branching on it: the sums are the same to the bit.
fn derivs1_with(
    d: &CoxData,
    xc: &[f64],
    beta: f64,
    ties: Ties,
    mut exp_of: impl FnMut(f64, f64) -> f64,
) -> Derivs {
    let (mut loglik, mut u, mut imat) = (0.0, 0.0, 0.0);
    let (mut denom, mut a, mut c) = (0.0, 0.0, 0.0);
    for (start, end) in tied_runs_from_last(d.time) {
        let (mut ndead, mut deadwt, mut denom2, mut a2, mut c2) = (0u32, 0.0, 0.0, 0.0, 0.0);
        for i in start..end {
            let x = xc[i];
            let zbeta = x * beta;
            let w = d.weight[i];
            let risk = exp_of(x, zbeta) * w;
            denom += risk;
            a += risk * x;
            c += risk * x * x;
            let dead = d.status[i];
            let s = f64::from(u8::from(dead));
            ndead += u32::from(dead);
            deadwt += w * s;
            denom2 += risk * s;
            loglik += w * zbeta * s;
            u += w * x * s;
            a2 += risk * x * s;
            c2 += risk * x * x * s;
        }
        if ndead > 0 {
            if ties == Ties::Breslow || ndead == 1 {
                let (dl, du, di) = breslow_terms(deadwt, denom, a, c);
                (loglik, u, imat) = (loglik + dl, u + du, imat + di);
            } else {
                let meanwt = deadwt / ndead as f64;
                for m in 0..ndead {
                    let frac = m as f64 / ndead as f64;
                    let d2 = denom - frac * denom2;
                    loglik -= meanwt * d2.ln();
                    let tj = (a - frac * a2) / d2;
                    u -= meanwt * tj;
                    imat += meanwt * ((c - frac * c2) / d2 - tj * tj);
                }
            }
        }
    }
    Derivs {
        loglik,
        u: DVector::from_element(1, u),
        imat: DMatrix::from_element(1, 1, imat),
    }
}

/// Log partial likelihood, score and information at `beta` (x already centred).
fn derivs(d: &CoxData, xc: &Centred, beta: &[f64], ties: Ties) -> Derivs {
    if let Some(risk) = &xc.two_valued {
        return risk.derivs(beta[0], ties);
    }
    if d.p == 1 {
        return derivs1(d, xc, beta[0], ties);
    }
    let xc = &xc.x;
    let (n, p) = (d.time.len(), d.p);
    let mut loglik = 0.0;
    let mut u = DVector::zeros(p);
    let mut imat = DMatrix::zeros(p, p);
    let mut a = vec![0.0; p];
    let mut a2 = vec![0.0; p];
    let mut cmat = vec![0.0; p * p];
    let mut cmat2 = vec![0.0; p * p];
    let mut denom = 0.0;
    let mut xi = vec![0.0; p];
    let mut cache = [(f64::NAN, 0.0); 2];
    for (start, end) in tied_runs_from_last(d.time) {
        // Add everyone with this time to the risk set; collect the deaths.
        let (mut ndead, mut deadwt, mut denom2) = (0u32, 0.0, 0.0);
        a2.iter_mut().for_each(|v| *v = 0.0);
        cmat2.iter_mut().for_each(|v| *v = 0.0);
        for i in start..end {
            let mut zbeta = 0.0;
            for j in 0..p {
                xi[j] = xc[j * n + i];
                zbeta += xi[j] * beta[j];
            }
            let w = d.weight[i];
            let risk = exp_cached(&mut cache, zbeta) * w;
            denom += risk;
            for j in 0..p {
                a[j] += risk * xi[j];
                for k in 0..=j {
                    cmat[j * p + k] += risk * xi[j] * xi[k];
                }
            }
            if d.status[i] {
                ndead += 1;
                deadwt += w;
                denom2 += risk;
                loglik += w * zbeta;
                for j in 0..p {
                    u[j] += w * xi[j];
                    a2[j] += risk * xi[j];
                    for k in 0..=j {
                        cmat2[j * p + k] += risk * xi[j] * xi[k];
                    }
                }
            }
        }
        if ndead > 0 {
            if ties == Ties::Breslow || ndead == 1 {
                loglik -= deadwt * denom.ln();
                for j in 0..p {
                    let tj = a[j] / denom;
                    u[j] -= deadwt * tj;
                    for k in 0..=j {
                        imat[(j, k)] += deadwt * (cmat[j * p + k] - tj * a[k]) / denom;
                    }
                }
            } else {
                let meanwt = deadwt / ndead as f64;
                for m in 0..ndead {
                    let frac = m as f64 / ndead as f64;
                    let d2 = denom - frac * denom2;
                    loglik -= meanwt * d2.ln();
                    for j in 0..p {
                        let tj = (a[j] - frac * a2[j]) / d2;
                        u[j] -= meanwt * tj;
                        for k in 0..=j {
                            let tk = (a[k] - frac * a2[k]) / d2;
                            imat[(j, k)] += meanwt
                                * ((cmat[j * p + k] - frac * cmat2[j * p + k]) / d2 - tj * tk);
                        }
                    }
                }
            }
        }
    }
    for j in 0..p {
        for k in 0..j {
            imat[(k, j)] = imat[(j, k)];
        }
    }
    Derivs { loglik, u, imat }
}

/// exp(z) remembering the last two arguments: with one binary covariate (the arm) every
/// subject has one of two linear predictors, so this saves nearly every exp().
#[inline]
fn exp_cached(cache: &mut [(f64, f64); 2], z: f64) -> f64 {
    if cache[0].0 == z {
        return cache[0].1;
    }
    if cache[1].0 == z {
        cache.swap(0, 1);
        return cache[0].1;
    }
    let e = z.exp();
    cache[1] = cache[0];
    cache[0] = (z, e);
    e
}

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
    let mut halving = false;
    let mut converged = false;
    let mut iterations = 0;
    let mut last = init;
    for iter in 1..=COX_MAX_ITER {
        iterations = iter;
        let cur = derivs(d, &xc, &newbeta, ties);
        let newlk = cur.loglik;
        if (1.0 - loglik / newlk).abs() <= COX_EPS && !halving {
            loglik = newlk;
            beta.clone_from(&newbeta);
            last = cur;
            converged = true;
            break;
        }
        if iter == COX_MAX_ITER {
            last = cur;
            loglik = newlk;
            beta.clone_from(&newbeta);
            break;
        }
        if newlk < loglik || !newlk.is_finite() {
            halving = true;
            for j in 0..p {
                newbeta[j] = (newbeta[j] + beta[j]) / 2.0;
            }
        } else {
            halving = false;
            loglik = newlk;
            let step = solve(&cur.imat, &cur.u).ok_or(CoxError::Singular)?;
            beta.clone_from(&newbeta);
            for j in 0..p {
                newbeta[j] += step[j];
            }
            last = cur;
        }
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
    let may_be_infinite = converged
        && (0..p).any(|j| {
            let v = uv[j].abs();
            v > COX_EPS && v > COX_EPS.sqrt() * beta[j].abs()
        });
    let monotone = xc.two_valued.as_ref().is_some_and(|r| r.monotone());
    let score_residuals = keep_residuals.then(|| score_residuals(d, &xc, &beta, ties));
    Ok(CoxFit {
        may_be_infinite,
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

/// Score residuals (n × p) at `beta`, R's `residuals(fit, type = "score")` (Therneau,
/// Grambsch & Fleming 1990), with Efron's tie handling as in R's `coxscore2`.
fn score_residuals(d: &CoxData, xc: &Centred, beta: &[f64], ties: Ties) -> DMatrix<f64> {
    let (n, p) = (d.time.len(), d.p);
    let two_valued = std::hint::black_box(
        xc.two_valued
            .as_ref()
            .map(|r| TwoValueExp::new(r.x, beta[0])),
    );
    let xc = &xc.x;
    let x = |i: usize, j: usize| xc[j * n + i];
    let risk: Vec<f64> = match two_valued {
        Some(table) => xc.iter().map(|&x| table.get(x)).collect(),
        None => (0..n)
            .map(|i| (0..p).map(|j| x(i, j) * beta[j]).sum::<f64>().exp())
            .collect(),
    };
    let mut resid = DMatrix::zeros(n, p);
    // Backwards pass: per distinct event time, the hazard increment and the means of x.
    // Forward pass: each subject collects the hazard terms of the event times up to its own.
    struct Step {
        t: f64,
        haz: f64,
        /// Σ over the (Efron) steps of hazard × mean x.
        xhaz: Vec<f64>,
        /// The mean of x a death at this time is compared with (Efron: averaged over steps).
        own_mean: Vec<f64>,
        /// Efron: the hazard terms a death at this time sees, (1 − m/k)-weighted.
        efron: Option<(f64, Vec<f64>)>,
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut denom = 0.0;
    let mut a = vec![0.0; p];
    for (start, end) in tied_runs_from_last(d.time) {
        let t = d.time[start];
        let (mut ndead, mut deadwt, mut denom2) = (0u32, 0.0, 0.0);
        let mut a2 = vec![0.0; p];
        for i in start..end {
            let r = risk[i] * d.weight[i];
            denom += r;
            for j in 0..p {
                a[j] += r * x(i, j);
            }
            if d.status[i] {
                ndead += 1;
                deadwt += d.weight[i];
                denom2 += r;
                for j in 0..p {
                    a2[j] += r * x(i, j);
                }
            }
        }
        if ndead > 0 {
            if ties == Ties::Breslow || ndead == 1 {
                let haz = deadwt / denom;
                let own_mean: Vec<f64> = (0..p).map(|j| a[j] / denom).collect();
                let xhaz = own_mean.iter().map(|m| haz * m).collect();
                steps.push(Step {
                    t,
                    haz,
                    xhaz,
                    own_mean,
                    efron: None,
                });
            } else {
                // Efron: the m-th of k tied deaths sees denominators denom − (m/k)·denom2.
                let k = ndead as f64;
                let meanwt = deadwt / k;
                let (mut haz, mut haz_tied) = (0.0, 0.0);
                let mut xhaz = vec![0.0; p];
                let mut xhaz_tied = vec![0.0; p];
                let mut own_mean = vec![0.0; p];
                for m in 0..ndead {
                    let frac = m as f64 / k;
                    let d2 = denom - frac * denom2;
                    let h = meanwt / d2;
                    haz += h;
                    haz_tied += h * (1.0 - frac);
                    for j in 0..p {
                        let xbar = (a[j] - frac * a2[j]) / d2;
                        xhaz[j] += h * xbar;
                        xhaz_tied[j] += h * (1.0 - frac) * xbar;
                        own_mean[j] += xbar / k;
                    }
                }
                steps.push(Step {
                    t,
                    haz,
                    xhaz,
                    own_mean,
                    efron: Some((haz_tied, xhaz_tied)),
                });
            }
        }
    }
    steps.reverse();
    // Cumulative sums over event times <= t, for subjects not tied with deaths at t.
    let mut cum_haz = 0.0;
    let mut cum_xhaz = vec![0.0; p];
    let mut s = 0;
    let mut i = 0;
    while i < n {
        let t = d.time[i];
        let mut stop = i;
        while stop < n && d.time[stop] == t {
            stop += 1;
        }
        // Hazard terms strictly before t.
        while s < steps.len() && steps[s].t < t {
            cum_haz += steps[s].haz;
            for j in 0..p {
                cum_xhaz[j] += steps[s].xhaz[j];
            }
            s += 1;
        }
        let at_t = steps.get(s).filter(|st| st.t == t);
        for r in i..stop {
            for j in 0..p {
                let xi = x(r, j);
                let (h, xh) = match (at_t, d.status[r]) {
                    (Some(st), true) => match &st.efron {
                        Some((ht, xht)) => (cum_haz + ht, cum_xhaz[j] + xht[j]),
                        None => (cum_haz + st.haz, cum_xhaz[j] + st.xhaz[j]),
                    },
                    (Some(st), false) => (cum_haz + st.haz, cum_xhaz[j] + st.xhaz[j]),
                    (None, _) => (cum_haz, cum_xhaz[j]),
                };
                let mut res = risk[r] * (xh - xi * h);
                if d.status[r] {
                    if let Some(st) = at_t {
                        res += xi - st.own_mean[j];
                    }
                }
                resid[(r, j)] = res;
            }
        }
        i = stop;
    }
    resid
}

impl CoxFit {
    /// Standard error of coefficient `j` from the model-based variance.
    pub fn se(&self, j: usize) -> f64 {
        self.var[(j, j)].sqrt()
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
            let mut time: Vec<f64> = (0..n)
                .map(|_| (rng.next_f64() * distinct).floor())
                .collect();
            time.sort_by(f64::total_cmp);
            let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < p_death).collect();
            let weight: Vec<f64> = (0..n)
                .map(|_| match rng.next_f64() {
                    u if u < 0.2 => 0.5,
                    u if u < 0.25 => 0.0,
                    _ => 1.0,
                })
                .collect();
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
            for beta in [-3.0, -1.3, 0.0, 0.45, 3.0] {
                for ties in [Ties::Efron, Ties::Breslow] {
                    let fast = sums.derivs(beta, ties);
                    let plain = derivs1_with(&d, &xc.x, beta, ties, |_, z| z.exp());
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
