//! The log partial likelihood, its score and information at a coefficient vector (Breslow or
//! Efron ties): one backward walk over the subjects' tied death times for any covariates,
//! and for the arm's two-valued covariate a walk over the death times' sums, prepared once.

use nalgebra::{DMatrix, DVector};

use super::{Centred, CoxData, Ties};
use crate::stats::{kept, tied_runs_from_last};

pub(super) struct Derivs {
    pub(super) loglik: f64,
    pub(super) u: DVector<f64>,
    pub(super) imat: DMatrix<f64>,
}

/// exp(x·β) when x takes at most two values (the arm, every endpoint's model): each exp() is
/// taken once, and a subject's is picked without a branch.
#[derive(Clone, Copy)]
pub(super) struct TwoValueExp {
    pub(super) x0: f64,
    pub(super) e0: f64,
    pub(super) e1: f64,
}

impl TwoValueExp {
    pub(super) fn new([x0, x1]: [f64; 2], beta: f64) -> Self {
        TwoValueExp {
            x0,
            e0: (x0 * beta).exp(),
            e1: (x1 * beta).exp(),
        }
    }

    #[inline]
    pub(super) fn get(&self, x: f64) -> f64 {
        if x == self.x0 {
            self.e0
        } else {
            self.e1
        }
    }
}

/// A death time's increments of the log-likelihood, score and information without Efron's
/// correction (Breslow, or a single death): `deadwt` the deaths' weight, `denom`, `a`, `c`
/// the risk set's Σ w·exp(xβ), Σ w·exp(xβ)·x, Σ w·exp(xβ)·x².
#[inline]
pub(super) fn breslow_terms(deadwt: f64, denom: f64, a: f64, c: f64) -> (f64, f64, f64) {
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
pub(super) struct TwoValueRisk {
    pub(super) x: [f64; 2],
    /// Per death time, last first: the weight at risk (time ≥ t) with each value.
    pub(super) at_risk: Vec<[f64; 2]>,
    /// Per death time: the weight of the deaths with each value, and their number.
    pub(super) dead: Vec<([f64; 2], u32)>,
}

impl TwoValueRisk {
    pub(super) fn new(d: &CoxData, xc: &[f64], x: [f64; 2]) -> Self {
        if d.weight.iter().all(|&w| w == 1.0) {
            return Self::counted(d, xc, x);
        }
        Self::summed(d, xc, x)
    }

    /// [`TwoValueRisk::new`] of an unweighted sample: every sum of weights is a count, which
    /// floating point adds exactly in any order; counted with integers, the same to the bit.
    fn counted(d: &CoxData, xc: &[f64], x: [f64; 2]) -> Self {
        let (mut at_risk, mut dead) = (Vec::new(), Vec::new());
        let mut n_at_risk = [0usize; 2];
        for (start, end) in tied_runs_from_last(d.time) {
            let (mut n_second, mut dead_second, mut ndead) = (0usize, 0usize, 0usize);
            for i in start..end {
                let v = usize::from(xc[i] != x[0]);
                let e = usize::from(d.status[i]);
                n_second += v;
                dead_second += v & e;
                ndead += e;
            }
            n_at_risk[0] += end - start - n_second;
            n_at_risk[1] += n_second;
            if ndead > 0 {
                at_risk.push(n_at_risk.map(|k| k as f64));
                let dead_first = ndead - dead_second;
                dead.push(([dead_first as f64, dead_second as f64], ndead as u32));
            }
        }
        TwoValueRisk { x, at_risk, dead }
    }

    fn summed(d: &CoxData, xc: &[f64], x: [f64; 2]) -> Self {
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
    /// the score keeps one sign. Exact, where R's check (below, in
    /// [`cox_fit`](super::cox_fit)) reads the last Newton step, which can overshoot into
    /// underflow and miss it.
    pub(super) fn monotone(&self) -> bool {
        let crossed = |v: usize| {
            self.at_risk
                .iter()
                .zip(&self.dead)
                .any(|(risk, (dead, _))| dead[v] > 0.0 && risk[1 - v] > 0.0)
        };
        !(crossed(0) && crossed(1))
    }

    /// Log partial likelihood, score and information at `beta`, as the subjects' walk
    /// ([`derivs`]) gives.
    pub(super) fn derivs(&self, beta: f64, ties: Ties) -> Derivs {
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

/// Log partial likelihood, score and information at `beta` (x already centred).
pub(super) fn derivs(d: &CoxData, xc: &Centred, beta: &[f64], ties: Ties) -> Derivs {
    if let Some(risk) = &xc.two_valued {
        return risk.derivs(beta[0], ties);
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
pub(super) fn exp_cached(cache: &mut [(f64, f64); 2], z: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Counting an unweighted sample's death-time sums gives the summed ones to the bit.
    #[test]
    fn counted_death_time_sums_are_the_summed_ones_to_the_bit() {
        let mut rng = SplitMix64::new(41);
        for (n, distinct) in [(700, 50.0), (300, 2.0), (40, 1000.0)] {
            let mut time: Vec<f64> = (0..n)
                .map(|_| (rng.next_f64() * distinct).floor())
                .collect();
            time.sort_by(f64::total_cmp);
            let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.6).collect();
            let weight = vec![1.0; n];
            // A centred arm: two values, neither 0 or 1.
            let xc: Vec<f64> = (0..n)
                .map(|_| if rng.next_f64() < 0.45 { 0.55 } else { -0.45 })
                .collect();
            let d = CoxData {
                time: &time,
                status: &status,
                weight: &weight,
                x: &xc,
                p: 1,
            };
            let x = [xc[0], if xc[0] == 0.55 { -0.45 } else { 0.55 }];
            let counted = TwoValueRisk::counted(&d, &xc, x);
            let summed = TwoValueRisk::summed(&d, &xc, x);
            assert!(!summed.dead.is_empty());
            let bits = |v: &[[f64; 2]]| v.iter().map(|p| p.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&counted.at_risk), bits(&summed.at_risk));
            let dead = |r: &TwoValueRisk| {
                r.dead
                    .iter()
                    .map(|(w, k)| (w.map(f64::to_bits), *k))
                    .collect::<Vec<_>>()
            };
            assert_eq!(dead(&counted), dead(&summed));
        }
    }
}
