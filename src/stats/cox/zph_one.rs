//! The sums of `cox.zph` for a model of one covariate (every endpoint's arm-only model):
//! the same operations in the same order as the general walk of `zph`, to the bit, with the
//! sums in locals instead of matrices, and without residuals in two walks instead of six.

use nalgebra::{DMatrix, DVector};

use super::zph::{km_runs, ZphSums};
use super::{CoxData, Ties};
use crate::stats::tied_runs_from_last;

/// `zph::zph_sums` for one covariate (every endpoint's arm-only model): the same operations in
/// the same order, to the bit, with the sums held in locals instead of matrices.
pub(super) fn zph_sums_one(
    d: &CoxData,
    exp_eta: &[f64],
    gt: &[f64],
    ties: Ties,
    residuals: bool,
) -> ZphSums {
    let runs = tied_runs_from_last(d.time).map(|(start, end)| (start, end, gt[start]));
    one_covariate_walk(d, |i| exp_eta[i], runs, ties, residuals)
}

/// The walk of [`zph_sums_one`] over `runs` (each run of tied times, last first, with its
/// centred g(t)), `exp_eta(i)` giving row i's exp(x·β).
fn one_covariate_walk(
    d: &CoxData,
    exp_eta: impl Fn(usize) -> f64,
    runs: impl Iterator<Item = (usize, usize, f64)>,
    ties: Ties,
    residuals: bool,
) -> ZphSums {
    let n = d.time.len();
    let mean_x = d.x.iter().sum::<f64>() / n as f64;
    let nevent = d.status.iter().filter(|&&s| s).count();
    let mut schoen = vec![0.0; if residuals { nevent } else { 0 }];
    let (mut u0, mut u1) = (0.0f64, 0.0f64);
    let (mut i00, mut i01, mut i11) = (0.0f64, 0.0f64, 0.0f64);
    let (mut denom, mut a, mut cmat) = (0.0f64, 0.0f64, 0.0f64);
    let mut next_event = nevent;
    for (start, end, timewt) in runs {
        let (mut ndead, mut deadwt, mut denom2) = (0usize, 0.0f64, 0.0f64);
        let (mut a2, mut cmat2) = (0.0f64, 0.0f64);
        for i in (start..end).rev() {
            let xi = d.x[i] - mean_x;
            let w = d.weight[i];
            let risk = exp_eta(i) * w;
            if !d.status[i] {
                denom += risk;
                a += risk * xi;
                cmat += risk * xi * xi;
            } else {
                ndead += 1;
                deadwt += w;
                denom2 += risk;
                next_event -= 1;
                if residuals {
                    schoen[next_event] = xi;
                }
                u0 += w * xi;
                u1 += timewt * w * xi;
                a2 += risk * xi;
                cmat2 += risk * xi * xi;
            }
        }
        if ndead == 0 {
            continue;
        }
        let first = next_event;
        match ties {
            Ties::Breslow => {
                denom += denom2;
                a += a2;
                let mean = a / denom;
                u0 -= deadwt * mean;
                u1 -= timewt * deadwt * mean;
                cmat += cmat2;
                let v = deadwt * (cmat - mean * a) / denom;
                i00 += v;
                i01 += v * timewt;
                i11 += v * timewt * timewt;
                if residuals {
                    for r in &mut schoen[first..first + ndead] {
                        *r -= mean;
                    }
                }
            }
            Ties::Efron => {
                let nd = ndead as f64;
                let wtave = deadwt / nd;
                if residuals {
                    let mut tmean = 0.0;
                    for r in 0..ndead {
                        let frac = (r + 1) as f64 / nd;
                        tmean += (a + a2 * frac) / (denom + denom2 * frac);
                    }
                    for r in &mut schoen[first..first + ndead] {
                        *r -= tmean / nd;
                    }
                }
                for _ in 0..ndead {
                    denom += denom2 / nd;
                    a += a2 / nd;
                    let mean = a / denom;
                    u0 -= wtave * mean;
                    u1 -= timewt * wtave * mean;
                    cmat += cmat2 / nd;
                    let v = wtave * (cmat - mean * a) / denom;
                    i00 += v;
                    i01 += timewt * v;
                    i11 += timewt * timewt * v;
                }
            }
        }
    }
    ZphSums {
        u: DVector::from_vec(vec![u0, u1]),
        imat: DMatrix::from_row_slice(2, 2, &[i00, i01, i01, i11]),
        schoen: DMatrix::from_vec(schoen.len(), 1, schoen),
    }
}

/// The sums of `cox_zph` for one covariate without residuals (every endpoint's PH test),
/// in two walks instead of six: forwards the Kaplan–Meier transform per run of tied times
/// with the events' sum of it, backwards the risk sets, each exp(xβ) taken as needed. The
/// same numbers, to the bit, as `cox_zph`'s steps one after the other.
pub(super) fn one_covariate_sums(d: &CoxData, coef: f64, ties: Ties) -> ZphSums {
    // Forwards: g(t) = 1 − KM(t−) per run, and its sum over the events in row order.
    let runs = km_runs(d.time, d.status);
    let (mut sum_event, mut n_event) = (0.0f64, 0usize);
    for &(_, _, dead, g) in &runs {
        for _ in 0..dead {
            sum_event += g;
        }
        n_event += dead;
    }
    let mean_event = sum_event / n_event as f64;
    // exp(x·β) of the last two values seen (the arm has two).
    let seen = std::cell::Cell::new([(f64::NAN, f64::NAN); 2]);
    let exp_eta = |i: usize| {
        let eta = d.x[i] * coef;
        let [s0, s1] = seen.get();
        if eta == s0.0 {
            s0.1
        } else if eta == s1.0 {
            s1.1
        } else {
            let e = eta.exp();
            seen.set([(eta, e), s0]);
            e
        }
    };
    let runs = runs
        .iter()
        .rev()
        .map(|&(start, end, _, g)| (start, end, g - mean_event));
    one_covariate_walk(d, exp_eta, runs, ties, false)
}
