//! The smooth that R's `plot(cox.zph(fit))` draws through scaled Schoenfeld residuals: a
//! least-squares natural cubic spline with 4 degrees of freedom (`ns(x, df = 4, intercept =
//! TRUE)`: boundary knots at the range, interior knots at the 1/3 and 2/3 quantiles of the
//! residuals' x together with the 40 points it is drawn on), and a band of ±2 standard errors
//! (the SE of the fitted curve times the term's variance from `cox.zph`). Fitted values do
//! not depend on the basis, so the basis here is the truncated-power form of the same space
//! (Hastie, Tibshirani & Friedman, eq. 5.4–5.5).

use nalgebra::{DMatrix, DVector};

/// The smooth on its grid of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Smooth {
    pub x: Vec<f64>,
    pub fit: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// Points the smooth is drawn on (R's `nsmo`).
pub const SMOOTH_POINTS: usize = 40;

/// R's `quantile(x, p)` (type 7) of sorted values.
fn quantile7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The natural cubic spline basis with `knots` (ascending, boundaries first and last) at x.
fn basis(x: f64, knots: &[f64; 4]) -> [f64; 4] {
    let cube = |v: f64| if v > 0.0 { v * v * v } else { 0.0 };
    let k_last = knots[3];
    let d = |k: usize| (cube(x - knots[k]) - cube(x - k_last)) / (k_last - knots[k]);
    let d_pen = d(2);
    [1.0, x, d(0) - d_pen, d(1) - d_pen]
}

/// R's smooth of `y` against `x` with the band from `var`; `None` when it cannot be fitted
/// (fewer than 4 distinct x, as R skips a singular spline fit).
pub fn zph_smooth(x: &[f64], y: &[f64], var: f64) -> Option<Smooth> {
    let keep: Vec<usize> = (0..x.len()).filter(|&i| y[i].is_finite()).collect();
    if keep.len() < 4 {
        return None;
    }
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let grid: Vec<f64> = (0..SMOOTH_POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (SMOOTH_POINTS - 1) as f64)
        .collect();
    let mut all: Vec<f64> = grid.iter().chain(x).copied().collect();
    all.sort_by(f64::total_cmp);
    let knots = [
        lo,
        quantile7(&all, 1.0 / 3.0),
        quantile7(&all, 2.0 / 3.0),
        hi,
    ];
    if !(knots[0] < knots[1] && knots[1] < knots[2] && knots[2] < knots[3]) {
        return None;
    }
    let xm = DMatrix::from_fn(keep.len(), 4, |r, c| basis(x[keep[r]], &knots)[c]);
    let yv = DVector::from_iterator(keep.len(), keep.iter().map(|&i| y[i]));
    let qr = xm.clone().qr();
    let r = qr.r();
    if (0..4).any(|i| r[(i, i)].abs() <= 1e-10 * r[(0, 0)].abs()) {
        return None;
    }
    let rinv = r.try_inverse()?;
    let coef = &rinv * (qr.q().transpose() * &yv);
    let xtx_inv = &rinv * rinv.transpose();
    let mut fit = Vec::with_capacity(SMOOTH_POINTS);
    let mut lower = Vec::with_capacity(SMOOTH_POINTS);
    let mut upper = Vec::with_capacity(SMOOTH_POINTS);
    for &g in &grid {
        let b = DVector::from_row_slice(&basis(g, &knots));
        let f = b.dot(&coef);
        let se = 2.0 * (var * b.dot(&(&xtx_inv * &b))).sqrt();
        fit.push(f);
        lower.push(f - se);
        upper.push(f + se);
    }
    Some(Smooth {
        x: grid,
        fit,
        lower,
        upper,
    })
}
