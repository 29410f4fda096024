//! Score residuals (R's `residuals(fit, "score")`), for the robust (sandwich) variance.

use nalgebra::DMatrix;

use super::derivs::TwoValueExp;
use super::{Centred, CoxData, Ties};
use crate::stats::tied_runs_from_last;

/// Score residuals (n × p) at `beta`, R's `residuals(fit, type = "score")` (Therneau,
/// Grambsch & Fleming 1990), with Efron's tie handling as in R's `coxscore2`.
pub(super) fn score_residuals(d: &CoxData, xc: &Centred, beta: &[f64], ties: Ties) -> DMatrix<f64> {
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
    let steps = hazard_steps(d, xc, &risk, ties);
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

/// One distinct event time of the backward pass.
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

/// The backward pass: per distinct event time (last first), the hazard increment and the
/// weighted means of x over the risk set, Efron's terms for tied deaths.
fn hazard_steps(d: &CoxData, xc: &[f64], risk: &[f64], ties: Ties) -> Vec<Step> {
    let (n, p) = (d.time.len(), d.p);
    let x = |i: usize, j: usize| xc[j * n + i];
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
    steps
}
