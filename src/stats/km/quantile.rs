//! Reading a Kaplan–Meier curve: quantiles and the median with their Brookmeyer–Crowley
//! limits (R's `quantile.survfit`, `findq`), survival at landmarks, the counts of a
//! KMunicate risk table, restricted mean (RMST).

use super::{confidence_limits, KmCurve, Landmark, Quantile, RiskCounts, Rmst, QUANTILE_TOLERANCE};
use crate::stats::dist::normal_quantile;

/// R's `findq` (survival 3.5, `quantile.survfit`): the time where the cumulative
/// distribution `y` (with `y[0] = 0` at `x[0]`) first reaches `p`, with the midpoint rule
/// for a flat stretch within `tol` of `p`. NaN entries of `y` (R's NA) are skipped.
pub(super) fn find_quantile(x: &[f64], y: &[f64], p: f64, tol: f64) -> f64 {
    let max_y = y
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    if max_y < p {
        return f64::NAN;
    }
    let Some(&xmax) = x.last() else {
        return f64::NAN;
    };
    // Drop repeated y values (censoring times), keeping the first; NaN repeats NaN. For a
    // non-decreasing y (the usual case) repeats are adjacent and the knots already sorted.
    let finite = || y.iter().copied().filter(|v| !v.is_nan());
    let monotone = finite().zip(finite().skip(1)).all(|(a, b)| a <= b);
    let mut xs: Vec<f64> = Vec::with_capacity(x.len());
    let mut ys: Vec<f64> = Vec::with_capacity(y.len());
    let mut seen_nan = false;
    let mut seen = std::collections::HashSet::new();
    let mut last = f64::NAN;
    for (&xv, &yv) in x.iter().zip(y) {
        let duplicate = if yv.is_nan() {
            std::mem::replace(&mut seen_nan, true)
        } else if monotone {
            let dup = yv == last;
            last = yv;
            dup
        } else {
            // R's duplicated(): a value seen anywhere before.
            !seen.insert((yv + 0.0).to_bits())
        };
        if !duplicate {
            xs.push(xv);
            ys.push(yv);
        }
    }
    // approx(y ± tol, 1:n, p, method = "constant", f = 1): the first knot at or above p.
    let first_knot_at_or_above = |shift: f64| -> Option<usize> {
        // Sized once (collecting a filter would grow the vector step by step).
        let mut knots: Vec<(f64, usize)> = Vec::with_capacity(ys.len());
        knots.extend(
            ys.iter()
                .enumerate()
                .filter(|(_, v)| !v.is_nan())
                .map(|(k, &v)| (v + shift, k)),
        );
        if !monotone {
            knots.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let (first, last) = (knots.first()?, knots.last()?);
        if p < first.0 || p > last.0 {
            return None;
        }
        let at = knots.partition_point(|(v, _)| *v < p);
        knots.get(at).map(|&(_, k)| k)
    };
    let i1 = first_knot_at_or_above(tol);
    let i2 = first_knot_at_or_above(-tol);
    let mut quant = match (i1, i2) {
        (Some(a), Some(b)) => (xs[a] + xs[b]) / 2.0,
        _ => f64::NAN,
    };
    if let (Some(&ylast), Some(a)) = (ys.last(), i1) {
        if !ylast.is_nan() && (p - ylast).abs() < tol {
            quant = (xs[a] + xmax) / 2.0;
        }
    }
    quant
}

/// [`find_quantile`] of the curve `s` at `time` (x = [0, time…], y = [0, 1 − s…]) without
/// building x and y, for the usual shape: the non-NaN values of `s` one run, non-increasing,
/// at most 1 (a Kaplan–Meier estimate; its confidence limits, NaN before the first event
/// (log-log) or after the curve reaches 0). `None` for any other shape.
pub(super) fn quantile_of_monotone(time: &[f64], s: &[f64], p: f64, tol: f64) -> Option<f64> {
    if p.is_nan() || tol.is_nan() {
        return None;
    }
    let b = s.iter().position(|v| !v.is_nan()).unwrap_or(s.len());
    let e = s.iter().rposition(|v| !v.is_nan()).map_or(b, |e| e + 1);
    let run = &s[b..e];
    let ordered = run.iter().all(|v| !v.is_nan()) && run.windows(2).all(|w| w[1] <= w[0]);
    if !ordered || run.first().is_some_and(|&v| 1.0 - v < 0.0) {
        return None;
    }
    // y's knots: 0 (at x = 0), then 1 − v along the run (at time[b + k]).
    let y_max = run.last().map_or(0.0, |&v| 1.0 - v);
    if y_max < p {
        return Some(f64::NAN);
    }
    let x_max = time.last().copied().unwrap_or(0.0);
    // The first knot at or above p after shifting every knot by `shift` (R's approx).
    let first_at_or_above = |shift: f64| -> Option<f64> {
        if p < 0.0 + shift || p > y_max + shift {
            return None;
        }
        if 0.0 + shift >= p {
            return Some(0.0);
        }
        Some(time[b + run.partition_point(|&v| (1.0 - v) + shift < p)])
    };
    let (x1, x2) = (first_at_or_above(tol), first_at_or_above(-tol));
    let mut quant = match (x1, x2) {
        (Some(a), Some(c)) => (a + c) / 2.0,
        _ => f64::NAN,
    };
    // Is the last knot kept after dropping repeats NaN (R's duplicated() keeps the first NaN
    // once)? The kept values are 0, the first NaN and the first of each value along the run:
    // the NaN is last when it heads the tail. (A NaN head comes before every value but 0,
    // and a y_max of 0 is never within tol of a p that x1 is found for.)
    let last_is_nan = b == 0 && e < s.len();
    if let (false, Some(a)) = (last_is_nan, x1) {
        if (p - y_max).abs() < tol {
            quant = (a + x_max) / 2.0;
        }
    }
    Some(quant)
}

impl KmCurve {
    /// Quantile `prob` of the distribution (0.5 = median) with its Brookmeyer–Crowley CI:
    /// where the lower and upper confidence curves cross 1 − prob. Start time 0.
    pub fn quantile(&self, prob: f64) -> Quantile {
        let x = || {
            let mut x = Vec::with_capacity(self.time.len() + 1);
            x.push(0.0);
            x.extend_from_slice(&self.time);
            x
        };
        let cdf = |s: &[f64]| -> Vec<f64> {
            let mut y = Vec::with_capacity(s.len() + 1);
            y.push(0.0);
            y.extend(s.iter().map(|v| 1.0 - v));
            y
        };
        let find = |s: &[f64]| {
            quantile_of_monotone(&self.time, s, prob, QUANTILE_TOLERANCE)
                .unwrap_or_else(|| find_quantile(&x(), &cdf(s), prob, QUANTILE_TOLERANCE))
        };
        Quantile {
            estimate: find(&self.surv),
            lower: find(&self.lower),
            upper: find(&self.upper),
        }
    }

    /// Median survival with its Brookmeyer–Crowley confidence interval.
    pub fn median(&self) -> Quantile {
        self.quantile(0.5)
    }

    /// Survival, CI and number at risk at time `t`: the curve's value at the last distinct
    /// time ≤ t (1 before the first), as R's `summary.survfit(times = t)`.
    pub fn at(&self, t: f64) -> Landmark {
        let k = self.time.partition_point(|&x| x <= t);
        let n_risk = self.n_risk_at(t);
        if k == 0 {
            let z = normal_quantile(1.0 - (1.0 - self.conf_level) / 2.0);
            let (lower, upper) = confidence_limits(1.0, 0.0, self.conf_type, z);
            return Landmark {
                time: t,
                surv: 1.0,
                lower,
                upper,
                n_risk,
            };
        }
        Landmark {
            time: t,
            surv: self.surv[k - 1],
            lower: self.lower[k - 1],
            upper: self.upper[k - 1],
            n_risk,
        }
    }

    /// At risk at `t`: those whose time is ≥ t, the at-risk sum of the first distinct time
    /// at or after `t` (0 after the last).
    fn n_risk_at(&self, t: f64) -> f64 {
        let j = self.time.partition_point(|&x| x < t);
        self.n_risk.get(j).copied().unwrap_or(0.0)
    }

    /// The KMunicate counts at `t` (Morris et al. 2019): at risk at `t` as [`KmCurve::at`]
    /// gives it (time ≥ t), and the censored and the events of the times before `t`,
    /// cumulative. A subject whose time is exactly `t` is still at risk at `t`, so each
    /// subject is in exactly one of the three and they add up to [`KmCurve::n`] (survminer's
    /// and the KMunicate package's cumulative counts also take in the times equal to `t`,
    /// counting such a subject twice). Weighted sums, like the number at risk.
    pub fn counts_at(&self, t: f64) -> RiskCounts {
        let j = self.time.partition_point(|&x| x < t);
        // From +0 (an empty `sum` of f64 is -0, which would print as "-0").
        let total = |v: &[f64]| v[..j].iter().fold(0.0, |s, x| s + x);
        RiskCounts {
            time: t,
            n_risk: self.n_risk_at(t),
            n_censored: total(&self.n_censor),
            n_events: total(&self.n_event),
        }
    }

    /// Restricted mean survival time up to `horizon` and its standard error, as R's
    /// `survmean` (start time 0; the variance sums, over event times, the squared area
    /// beyond each time times the Greenwood increment).
    pub fn rmst(&self, horizon: f64) -> Rmst {
        if self.time.is_empty() {
            return Rmst {
                horizon,
                value: f64::NAN,
                se: f64::NAN,
            };
        }
        let keep = self.time.partition_point(|&x| x <= horizon);
        let mut times: Vec<f64> = self.time[..keep].to_vec();
        let mut survs: Vec<f64> = self.surv[..keep].to_vec();
        let mut hh: Vec<f64> = (0..keep)
            .map(|i| {
                let (n, d) = (self.n_risk[i], self.n_event[i]);
                if n - d == 0.0 {
                    0.0
                } else {
                    d / (n * (n - d))
                }
            })
            .collect();
        if keep == 0 {
            times = vec![horizon];
            survs = vec![1.0];
            hh = vec![0.0];
        } else {
            times.push(horizon);
            survs.push(survs[keep - 1]);
            hh.push(0.0);
        }
        let n = times.len();
        let mut rect = Vec::with_capacity(n);
        let mut prev_t = 0.0;
        for k in 0..n {
            let height = if k == 0 { 1.0 } else { survs[k - 1] };
            rect.push((times[k] - prev_t) * height);
            prev_t = times[k];
        }
        let value: f64 = rect.iter().sum();
        let mut var = 0.0;
        let mut tail = 0.0;
        for k in (1..n).rev() {
            tail += rect[k];
            var += tail * tail * hh[k - 1];
        }
        Rmst {
            horizon,
            value,
            se: var.sqrt(),
        }
    }
}
