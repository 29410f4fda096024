//! The test of proportional hazards of a fitted Cox model, as R's `cox.zph(fit)` of
//! survival 3.x (Grambsch & Therneau 1994, in its score-test form): time enters as
//! g(t) = 1 − KM(t−) (transform "km", the Kaplan–Meier of all rows, unweighted), centred at
//! its mean over the events; one test per model term (a factor's k − 1 columns together)
//! and a global test, each the score test of adding g(t)·x for the term's columns at the
//! fitted β (R's C routine `zph1`, one stratum). Also the scaled Schoenfeld residuals that
//! `plot(cox.zph(fit))` draws.

use nalgebra::{DMatrix, DVector};

use super::zph_one::{one_covariate_sums, zph_sums_one};
use super::{CoxData, Ties};
use crate::stats::dist::chi_square_upper;
use crate::stats::tied_runs_from_last;

/// One row of the test: a term (or the global test).
#[derive(Clone, Debug, PartialEq)]
pub struct ZphRow {
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
}

/// `cox.zph(fit)`: per term and global, and the residuals for the plot.
#[derive(Clone, Debug)]
pub struct Zph {
    pub terms: Vec<ZphRow>,
    pub global: ZphRow,
    /// Per event, in time order: the transformed time g(t) (not centred), R's `$x`.
    pub x: Vec<f64>,
    /// Per event: its time, R's `$time`.
    pub time: Vec<f64>,
    /// Per term, per event: the scaled Schoenfeld residual plus the coefficient (1 for a
    /// factor, whose residual is the combination weighted by its coefficients), R's `$y`.
    pub scaled: Vec<Vec<f64>>,
    /// Per term: the variance R's plot uses for the smooth's band (`$var` diagonal).
    pub var: Vec<f64>,
}

/// Each run of tied times (rows `start..end`, with `dead` deaths) with g = 1 − KM(t−) at
/// its time, the KM unweighted over all rows (R: `survfitKM` of `y`), first run first.
pub(super) fn km_runs(time: &[f64], status: &[bool]) -> Vec<(usize, usize, usize, f64)> {
    let n = time.len();
    let mut runs = Vec::new();
    // Forward over the distinct times: the survival just before each.
    let mut surv = 1.0;
    let mut start = 0;
    while start < n {
        let t = time[start];
        let mut end = start;
        let mut dead = 0usize;
        while end < n && time[end] == t {
            dead += usize::from(status[end]);
            end += 1;
        }
        runs.push((start, end, dead, 1.0 - surv));
        let at_risk = (n - start) as f64;
        surv *= 1.0 - dead as f64 / at_risk;
        start = end;
    }
    runs
}

/// 1 − KM(t−) of every row ([`km_runs`]).
fn km_transform(time: &[f64], status: &[bool]) -> Vec<f64> {
    let mut out = vec![0.0; time.len()];
    for (start, end, _, g) in km_runs(time, status) {
        out[start..end].fill(g);
    }
    out
}

/// The score vector u (2p) and information (2p × 2p) of adding g(t)·x at β (`exp_eta`: each
/// row's exp(x·β)), and the Schoenfeld residuals (events × p, in time order): R's `zph1` for one stratum.
pub(super) struct ZphSums {
    pub(super) u: DVector<f64>,
    pub(super) imat: DMatrix<f64>,
    pub(super) schoen: DMatrix<f64>,
}

// Index loops mirror R's C code (risk-set sums over covariates i, j).
#[allow(clippy::needless_range_loop)]
fn zph_sums(d: &CoxData, exp_eta: &[f64], gt: &[f64], ties: Ties, residuals: bool) -> ZphSums {
    if d.p == 1 {
        return zph_sums_one(d, exp_eta, gt, ties, residuals);
    }
    zph_sums_any(d, exp_eta, gt, ties, residuals)
}

// Index loops mirror R's C code (risk-set sums over covariates i, j).
#[allow(clippy::needless_range_loop)]
fn zph_sums_any(d: &CoxData, exp_eta: &[f64], gt: &[f64], ties: Ties, residuals: bool) -> ZphSums {
    let n = d.time.len();
    let p = d.p;
    // Centred on the (unweighted) means, as zph1 does for stability.
    let mut cov = d.x.to_vec();
    for j in 0..p {
        let col = &mut cov[j * n..(j + 1) * n];
        let mean = col.iter().sum::<f64>() / n as f64;
        col.iter_mut().for_each(|x| *x -= mean);
    }
    let x = |j: usize, i: usize| cov[j * n + i];
    let nevent = d.status.iter().filter(|&&s| s).count();
    let mut u = DVector::<f64>::zeros(2 * p);
    let mut imat = DMatrix::<f64>::zeros(2 * p, 2 * p);
    // The residuals only when asked (a registry's are millions of rows).
    let mut schoen = DMatrix::zeros(if residuals { nevent } else { 0 }, p);
    let mut a = vec![0.0; p];
    let mut a2 = vec![0.0; p];
    let mut cmat = DMatrix::<f64>::zeros(p, p);
    let mut cmat2 = DMatrix::<f64>::zeros(p, p);
    let mut denom = 0.0;
    let mut next_event = nevent;
    for (start, end) in tied_runs_from_last(d.time) {
        let timewt = gt[start];
        let (mut ndead, mut deadwt, mut denom2) = (0usize, 0.0, 0.0);
        for i in (start..end).rev() {
            let risk = exp_eta[i] * d.weight[i];
            if !d.status[i] {
                denom += risk;
                for k in 0..p {
                    a[k] += risk * x(k, i);
                    for l in 0..=k {
                        cmat[(k, l)] += risk * x(k, i) * x(l, i);
                    }
                }
            } else {
                ndead += 1;
                deadwt += d.weight[i];
                denom2 += risk;
                next_event -= 1;
                for k in 0..p {
                    if residuals {
                        schoen[(next_event, k)] = x(k, i);
                    }
                    u[k] += d.weight[i] * x(k, i);
                    u[k + p] += timewt * d.weight[i] * x(k, i);
                    a2[k] += risk * x(k, i);
                    for l in 0..=k {
                        cmat2[(k, l)] += risk * x(k, i) * x(l, i);
                    }
                }
            }
        }
        if ndead == 0 {
            continue;
        }
        let first = next_event;
        match ties {
            Ties::Breslow => {
                denom += denom2;
                for k in 0..p {
                    a[k] += a2[k];
                    let mean = a[k] / denom;
                    u[k] -= deadwt * mean;
                    u[k + p] -= timewt * deadwt * mean;
                    for l in 0..=k {
                        cmat[(k, l)] += cmat2[(k, l)];
                        let v = deadwt * (cmat[(k, l)] - mean * a[l]) / denom;
                        imat[(l, k)] += v;
                        imat[(l, k + p)] += v * timewt;
                        imat[(l + p, k + p)] += v * timewt * timewt;
                    }
                    if residuals {
                        for e in 0..ndead {
                            schoen[(first + e, k)] -= mean;
                        }
                    }
                }
            }
            Ties::Efron => {
                let nd = ndead as f64;
                let wtave = deadwt / nd;
                for k in 0..p {
                    let mut tmean = 0.0;
                    for r in 0..ndead {
                        let frac = (r + 1) as f64 / nd;
                        tmean += (a[k] + a2[k] * frac) / (denom + denom2 * frac);
                    }
                    if residuals {
                        for e in 0..ndead {
                            schoen[(first + e, k)] -= tmean / nd;
                        }
                    }
                }
                for _ in 0..ndead {
                    denom += denom2 / nd;
                    for k in 0..p {
                        a[k] += a2[k] / nd;
                        let mean = a[k] / denom;
                        u[k] -= wtave * mean;
                        u[k + p] -= timewt * wtave * mean;
                        for l in 0..=k {
                            cmat[(k, l)] += cmat2[(k, l)] / nd;
                            let v = wtave * (cmat[(k, l)] - mean * a[l]) / denom;
                            imat[(l, k)] += v;
                            imat[(l, k + p)] += timewt * v;
                            imat[(l + p, k + p)] += timewt * timewt * v;
                        }
                    }
                }
            }
        }
        a2.iter_mut().for_each(|v| *v = 0.0);
        cmat2.fill(0.0);
    }
    for k in 0..p {
        for l in 0..k {
            imat[(k, l)] = imat[(l, k)];
            imat[(k, l + p)] = imat[(l, k + p)];
            imat[(k + p, l + p)] = imat[(l + p, k + p)];
        }
    }
    for k in 0..p {
        for l in 0..p {
            imat[(k + p, l)] = imat[(l, k + p)];
        }
    }
    ZphSums { u, imat, schoen }
}

/// u'·A⁻¹·u, or NaN when A is singular.
fn quad_solve(a: DMatrix<f64>, u: &DVector<f64>) -> f64 {
    match a.clone().cholesky() {
        Some(c) => u.dot(&c.solve(u)),
        None => a.lu().solve(u).map_or(f64::NAN, |s| u.dot(&s)),
    }
}

fn row(chi_square: f64, df: usize) -> ZphRow {
    ZphRow {
        chi_square,
        df,
        p_value: chi_square_upper(chi_square, df as f64),
    }
}

/// `cox.zph(fit)` for the model fitted to `d` (sorted by time) with coefficients `coef`;
/// `terms` lists each term's columns of `d.x` (a factor's indicators together). With
/// `residuals`, also the scaled Schoenfeld residuals (else `x`, `time` and `scaled` are
/// empty: at a registry's size they are millions of numbers no view of that model draws).
pub fn cox_zph(
    d: &CoxData,
    coef: &[f64],
    ties: Ties,
    terms: &[Vec<usize>],
    residuals: bool,
) -> Zph {
    if d.p == 1 && !residuals {
        let sums = one_covariate_sums(d, coef[0], ties);
        return zph_of_sums(d, &sums, coef, terms, false, (Vec::new(), Vec::new(), 0));
    }
    let (sums, found) = stepwise_sums(d, coef, ties, residuals, zph_sums);
    zph_of_sums(d, &sums, coef, terms, residuals, found)
}

/// The risk-set walk of [`stepwise_sums`]: [`zph_sums`], or in the tests the general walk.
type Walk = fn(&CoxData, &[f64], &[f64], Ties, bool) -> ZphSums;

/// The sums of [`cox_zph`] step by step (any number of covariates), and the events' g(t),
/// times (with `residuals`) and number.
fn stepwise_sums(
    d: &CoxData,
    coef: &[f64],
    ties: Ties,
    residuals: bool,
    walk: Walk,
) -> (ZphSums, (Vec<f64>, Vec<f64>, usize)) {
    let n = d.time.len();
    let p = d.p;
    // exp(η) of each row. The arm's model has two values of η, so a value's exp() is taken
    // once and reused (the same number, to the bit, as taking it row by row).
    let mut seen = [(f64::NAN, f64::NAN); 2];
    let exp_eta: Vec<f64> = (0..n)
        .map(|i| {
            let eta: f64 = (0..p).map(|j| d.x[j * n + i] * coef[j]).sum();
            if eta == seen[0].0 {
                seen[0].1
            } else if eta == seen[1].0 {
                seen[1].1
            } else {
                let e = eta.exp();
                seen = [(eta, e), seen[0]];
                e
            }
        })
        .collect();
    let mut gt = km_transform(d.time, d.status);
    let (mut sum_event, mut n_event) = (0.0, 0usize);
    for (g, &s) in gt.iter().zip(d.status) {
        if s {
            sum_event += g;
            n_event += 1;
        }
    }
    let mean_event = sum_event / n_event as f64;
    let (x, time): (Vec<f64>, Vec<f64>) = if residuals {
        (0..n)
            .filter(|&i| d.status[i])
            .map(|i| (gt[i], d.time[i]))
            .unzip()
    } else {
        (Vec::new(), Vec::new())
    };
    gt.iter_mut().for_each(|g| *g -= mean_event);
    let sums = walk(d, &exp_eta, &gt, ties, residuals);
    (sums, (x, time, n_event))
}

/// The tests (per term and global) and, with `residuals`, the scaled residuals, from the
/// sums; `x`, `time` and the number of events as [`cox_zph`] found them.
fn zph_of_sums(
    d: &CoxData,
    sums: &ZphSums,
    coef: &[f64],
    terms: &[Vec<usize>],
    residuals: bool,
    (x, time, n_event): (Vec<f64>, Vec<f64>, usize),
) -> Zph {
    let p = d.p;
    let rows = terms
        .iter()
        .map(|cols| {
            let kk: Vec<usize> = (0..p).chain(cols.iter().map(|c| c + p)).collect();
            let sub = sums.imat.select_rows(&kk).select_columns(&kk);
            let mut u = DVector::zeros(kk.len());
            for (r, c) in cols.iter().enumerate() {
                u[p + r] = sums.u[p + c];
            }
            row(quad_solve(sub, &u), cols.len())
        })
        .collect();
    let mut u = sums.u.clone();
    u.rows_mut(0, p).fill(0.0);
    let global = row(quad_solve(sums.imat.clone(), &u), p);

    let (scaled, var) = if residuals {
        scaled_residuals(d, sums, coef, terms, n_event)
    } else {
        (Vec::new(), Vec::new())
    };
    Zph {
        terms: rows,
        global,
        x,
        time,
        scaled,
        var,
    }
}

/// The scaled Schoenfeld residuals per term, as `cox.zph` returns them (one stratum):
/// residuals times the inverse of the information per event, plus the coefficient; a
/// factor's columns combined with its coefficients as weights (then plus 1).
fn scaled_residuals(
    d: &CoxData,
    sums: &ZphSums,
    coef: &[f64],
    terms: &[Vec<usize>],
    nevent: usize,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let p = d.p;
    let n = d.time.len();
    // Columns constant over the rows get no events' weight (R's `used`).
    let used: Vec<f64> = (0..p)
        .map(|j| {
            let col = &d.x[j * n..(j + 1) * n];
            if col.iter().any(|&v| v != col[0]) {
                nevent as f64
            } else {
                0.0
            }
        })
        .collect();
    let mut vmean = sums.imat.view((0, 0), (p, p)).into_owned();
    for k in 0..p {
        for l in 0..p {
            let w = used[k].min(used[l]);
            if w != 0.0 {
                vmean[(k, l)] /= w;
            }
        }
    }
    let nterm = terms.len();
    let multi = terms.iter().any(|t| t.len() > 1);
    let (resid, vm) = if multi {
        let mut tmat = DMatrix::zeros(p, nterm);
        for (i, cols) in terms.iter().enumerate() {
            for &j in cols {
                tmat[(j, i)] = if cols.len() == 1 { 1.0 } else { coef[j] };
            }
        }
        (&sums.schoen * &tmat, tmat.transpose() * &vmean * &tmat)
    } else {
        (sums.schoen.clone(), vmean)
    };
    let inv = vm
        .clone()
        .try_inverse()
        .unwrap_or_else(|| DMatrix::from_element(nterm, nterm, f64::NAN));
    let scaled_all = resid * &inv;
    let scaled = terms
        .iter()
        .enumerate()
        .map(|(i, cols)| {
            let add = if cols.len() == 1 { coef[cols[0]] } else { 1.0 };
            scaled_all.column(i).iter().map(|v| v + add).collect()
        })
        .collect();
    let var = (0..nterm).map(|i| inv[(i, i)]).collect();
    (scaled, var)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The one-covariate sums are the general ones to the bit: tied times, censoring,
    /// fractional and zero weights, a two-valued and a continuous covariate, both ties
    /// methods, with and without the residuals.
    #[test]
    fn one_covariate_sums_equal_the_general_ones_to_the_bit() {
        let mut rng = SplitMix64::new(23);
        for (n, distinct, two_valued) in [(500, 30.0, true), (800, 400.0, false), (300, 2.0, true)]
        {
            let (time, status, weight) =
                super::super::random_sample(&mut rng, n, (distinct, 0.6), 0.7);
            let x: Vec<f64> = (0..n)
                .map(|_| {
                    let u = rng.next_f64();
                    if two_valued {
                        f64::from(u8::from(u < 0.4))
                    } else {
                        u * 3.0 - 1.0
                    }
                })
                .collect();
            let d = CoxData {
                time: &time,
                status: &status,
                weight: &weight,
                x: &x,
                p: 1,
            };
            let exp_eta: Vec<f64> = x.iter().map(|v| (0.37 * v).exp()).collect();
            let gt: Vec<f64> = (0..n).map(|i| time[i] / distinct - 0.4).collect();
            for ties in [Ties::Efron, Ties::Breslow] {
                for residuals in [false, true] {
                    let one = zph_sums_one(&d, &exp_eta, &gt, ties, residuals);
                    let any = zph_sums_any(&d, &exp_eta, &gt, ties, residuals);
                    let bits = |m: &[f64]| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(one.u.as_slice()), bits(any.u.as_slice()), "{ties:?}");
                    assert_eq!(bits(one.imat.as_slice()), bits(any.imat.as_slice()));
                    assert_eq!(bits(one.schoen.as_slice()), bits(any.schoen.as_slice()));
                    assert_eq!(one.schoen.nrows(), any.schoen.nrows());
                }
                // The two-walk sums of the PH test (no residuals) are the stepwise ones.
                for coef in [0.37, -1.2, 0.0] {
                    let (stepwise, _) = stepwise_sums(&d, &[coef], ties, false, zph_sums_any);
                    let fused = one_covariate_sums(&d, coef, ties);
                    let bits = |m: &[f64]| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(fused.u.as_slice()), bits(stepwise.u.as_slice()));
                    assert_eq!(bits(fused.imat.as_slice()), bits(stepwise.imat.as_slice()));
                }
            }
        }
    }
}
