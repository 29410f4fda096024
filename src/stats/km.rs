//! Kaplan–Meier estimator with R `survfit`'s conventions (survival 3.5).
//!
//! Kaplan & Meier (1958); Greenwood (1926) variance of the cumulative hazard, or the
//! infinitesimal jackknife where weights are not whole numbers (R's default); confidence
//! intervals as in R's `survfit_confint` (Kalbfleisch & Prentice 2002 for log-log);
//! median and its CI by Brookmeyer & Crowley (1982) with R's `quantile.survfit` rule for flat
//! stretches; restricted mean as R's `survmean` (Miller 1981).

use serde::{Deserialize, Serialize};

use super::dist::normal_quantile;
use super::{kept, tied_runs_from_last, SurvSample};

/// Tolerance R uses to decide that a survival value "is" a quantile: sqrt(machine epsilon).
pub const QUANTILE_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// How the pointwise confidence interval of S(t) is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ConfType {
    /// exp(-exp(log(-log S) ± z·se/log S)): stays in (0, 1); SAS, Stata and lifelines' default.
    #[default]
    #[serde(rename = "log-log")]
    LogLog,
    /// S·exp(±z·se), upper limit capped at 1: R's default.
    #[serde(rename = "log")]
    Log,
    /// S ± z·se·S, clipped to [0, 1].
    #[serde(rename = "plain")]
    Plain,
}

impl ConfType {
    /// The name R uses for `conf.type`.
    pub fn r_name(self) -> &'static str {
        match self {
            ConfType::LogLog => "log-log",
            ConfType::Log => "log",
            ConfType::Plain => "plain",
        }
    }

    /// Parses R's name (`log-log`, `log`, `plain`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "log-log" | "loglog" => Some(ConfType::LogLog),
            "log" => Some(ConfType::Log),
            "plain" => Some(ConfType::Plain),
            _ => None,
        }
    }
}

/// A Kaplan–Meier curve: one entry per distinct time (event or censoring), like R's `survfit`.
/// `std_err` is the standard error of −log S: Greenwood's (R's `$std.err`), infinite where S
/// drops to 0; with a weight that is not a whole number the infinitesimal-jackknife one, as
/// R's `survfit` then gives (R stores it times S), 0 where S drops to 0. `lower`/`upper` are
/// NaN where R gives NA.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KmCurve {
    pub time: Vec<f64>,
    pub n_risk: Vec<f64>,
    pub n_event: Vec<f64>,
    pub n_censor: Vec<f64>,
    pub surv: Vec<f64>,
    pub std_err: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    #[serde(skip)]
    pub conf_type: ConfType,
    #[serde(skip)]
    pub conf_level: f64,
    /// Σ weights (the number of subjects when unweighted).
    #[serde(skip)]
    pub n: f64,
    /// Σ weights of events.
    #[serde(skip)]
    pub events: f64,
}

/// A quantile of the survival distribution with its confidence interval (NaN = not reached).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantile {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Survival at a landmark time, as R's `summary(fit, times = t)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Landmark {
    pub time: f64,
    pub surv: f64,
    pub lower: f64,
    pub upper: f64,
    pub n_risk: f64,
}

/// Restricted mean survival time up to `horizon` with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rmst {
    pub horizon: f64,
    pub value: f64,
    pub se: f64,
}

/// Pointwise confidence limits for survival `p` with `se` the standard error of −log S,
/// as R's `survfit_confint` (logse = TRUE, ulimit = TRUE). Returns NaN where R gives NA.
pub fn confidence_limits(p: f64, se: f64, conf_type: ConfType, z: f64) -> (f64, f64) {
    match conf_type {
        ConfType::Plain => {
            let se2 = se * p * z;
            // R's pmax/pmin keep a NaN: where S is 0 with an infinite (Greenwood) SE. With
            // the robust SE, 0 there, the limits are 0.
            if se2.is_nan() {
                return (f64::NAN, f64::NAN);
            }
            ((p - se2).max(0.0), (p + se2).min(1.0))
        }
        ConfType::Log => {
            if p == 0.0 {
                return (f64::NAN, f64::NAN);
            }
            let se2 = z * se;
            let lp = p.ln();
            ((lp - se2).exp(), (lp + se2).exp().min(1.0))
        }
        ConfType::LogLog => {
            if p == 0.0 || p == 1.0 {
                return (f64::NAN, f64::NAN);
            }
            let lp = p.ln();
            let se2 = z * se / lp;
            let c = (-lp).ln();
            ((-(c - se2).exp()).exp(), (-(c + se2).exp()).exp())
        }
    }
}

/// A sample summed per distinct time: at risk (Σ weights with time ≥ t), events and
/// censorings (Σ weights at t); `n` is Σ weights. What Kaplan–Meier and the log-rank test
/// need, built for both arms and the pooled sample in one pass by [`time_tables`].
#[derive(Clone, Debug, Default)]
pub struct TimeTable {
    pub time: Vec<f64>,
    pub n_risk: Vec<f64>,
    pub n_event: Vec<f64>,
    pub n_censor: Vec<f64>,
    pub n: f64,
    /// The same sums of squared weights, present when some weight of the sample is not a
    /// whole number: R's `survfit` then gives the infinitesimal-jackknife (robust) variance.
    pub squares: Option<SquareSums>,
}

/// Σ w² per distinct time: at risk, events, censorings (see [`TimeTable::squares`]).
#[derive(Clone, Debug, Default)]
pub struct SquareSums {
    pub risk: Vec<f64>,
    pub event: Vec<f64>,
    pub censor: Vec<f64>,
}

impl TimeTable {
    /// Event and censoring swapped (reverse Kaplan–Meier for the median follow-up,
    /// Schemper & Smith 1996).
    pub fn reversed(&self) -> TimeTable {
        TimeTable {
            time: self.time.clone(),
            n_risk: self.n_risk.clone(),
            n_event: self.n_censor.clone(),
            n_censor: self.n_event.clone(),
            n: self.n,
            squares: self.squares.as_ref().map(|q| SquareSums {
                risk: q.risk.clone(),
                event: q.censor.clone(),
                censor: q.event.clone(),
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    fn push(&mut self, time: f64, n_risk: f64, n_event: f64, n_censor: f64) {
        self.time.push(time);
        self.n_risk.push(n_risk);
        self.n_event.push(n_event);
        self.n_censor.push(n_censor);
    }

    fn reverse_rows(&mut self) {
        self.time.reverse();
        self.n_risk.reverse();
        self.n_event.reverse();
        self.n_censor.reverse();
        if let Some(q) = &mut self.squares {
            q.risk.reverse();
            q.event.reverse();
            q.censor.reverse();
        }
    }
}

/// R's rule (`survfitKM`): with a weight that is not a whole number the curve's variance is
/// the robust one.
fn has_fractional_weights(weight: &[f64]) -> bool {
    weight.iter().any(|w| w.floor() != *w)
}

/// Walks the distinct times from the last, summing `value(w)` for the subjects with
/// `first(i)` (group 0), the others (1) and all (2): at risk (time ≥ t, summed from the last
/// subject backwards), events and censorings at t (forwards), each from +0 without
/// branching on the group or the status. `visit(start, sums)` gets each time's first index
/// and `[at risk, events, censorings]` per group, `None` for a group without a subject at t.
fn sums_by_time(
    sample: &SurvSample,
    first: &impl Fn(usize) -> bool,
    value: impl Fn(f64) -> f64,
    mut visit: impl FnMut(usize, [Option<[f64; 3]>; 3]),
) {
    let (time, status, weight) = (&sample.time, &sample.status, &sample.weight);
    let mut at_risk = [0.0f64; 3];
    for (start, end) in tied_runs_from_last(time) {
        for i in (start..end).rev() {
            let (w, f) = (value(weight[i]), first(i));
            at_risk[0] += kept(w, f);
            at_risk[1] += kept(w, !f);
            at_risk[2] += w;
        }
        let (mut event, mut censor, mut n_first) = ([0.0f64; 3], [0.0f64; 3], 0usize);
        for i in start..end {
            let (w, f, e) = (value(weight[i]), first(i), status[i]);
            let (we, wc) = (kept(w, e), kept(w, !e));
            event[0] += kept(we, f);
            event[1] += kept(we, !f);
            event[2] += we;
            censor[0] += kept(wc, f);
            censor[1] += kept(wc, !f);
            censor[2] += wc;
            n_first += usize::from(f);
        }
        let present = [n_first > 0, n_first < end - start, true];
        visit(
            start,
            std::array::from_fn(|g| present[g].then_some([at_risk[g], event[g], censor[g]])),
        );
    }
}

/// The [`SquareSums`] of the three tables of [`time_tables`], summed in the same order.
fn add_square_sums(
    tables: &mut [TimeTable; 3],
    sample: &SurvSample,
    first: &impl Fn(usize) -> bool,
) {
    let mut sums: [SquareSums; 3] = Default::default();
    sums_by_time(
        sample,
        first,
        |w| w * w,
        |_, by_group| {
            for (s, sums_at_t) in sums.iter_mut().zip(by_group) {
                if let Some([risk, event, censor]) = sums_at_t {
                    s.risk.push(risk);
                    s.event.push(event);
                    s.censor.push(censor);
                }
            }
        },
    );
    for (table, s) in tables.iter_mut().zip(sums) {
        table.squares = Some(s);
    }
}

/// The tables of the subjects with `first(i)`, of the others, and of all, from one sample
/// sorted by time, in one pass without branching on the group or the status (both are at
/// random from one subject to the next). The sums are the ones a pass over each group alone
/// gives, to the bit: at risk is summed from the last subject backwards, events and
/// censorings forwards within each time, `n` forwards, each from +0 (a subject outside a
/// group adds +0, which leaves a sum unchanged). A time is written +0 where it was -0 (the
/// two are one time).
pub fn time_tables(sample: &SurvSample, first: impl Fn(usize) -> bool) -> [TimeTable; 3] {
    let n = sample.len();
    let (time, weight) = (&sample.time, &sample.weight);
    let mut tables: [TimeTable; 3] = Default::default();
    for (i, &w) in weight.iter().enumerate().take(n) {
        let f = first(i);
        tables[0].n += kept(w, f);
        tables[1].n += kept(w, !f);
        tables[2].n += w;
    }
    sums_by_time(
        sample,
        &first,
        |w| w,
        |start, by_group| {
            let t = time[start] + 0.0;
            for (table, sums_at_t) in tables.iter_mut().zip(by_group) {
                if let Some([at_risk, event, censor]) = sums_at_t {
                    table.push(t, at_risk, event, censor);
                }
            }
        },
    );
    if has_fractional_weights(weight) {
        add_square_sums(&mut tables, sample, &first);
    }
    for table in &mut tables {
        table.reverse_rows();
    }
    tables
}

/// Kaplan–Meier estimate for one group. `sample` must be sorted by time (see [`SurvSample`]).
/// `conf_level` defaults to 0.95 in every front end.
pub fn kaplan_meier(sample: &SurvSample, conf_type: ConfType, conf_level: f64) -> KmCurve {
    let [table, ..] = time_tables(sample, |_| true);
    kaplan_meier_table(table, conf_type, conf_level)
}

/// [`kaplan_meier`] from the sample's [`TimeTable`].
pub fn kaplan_meier_table(table: TimeTable, conf_type: ConfType, conf_level: f64) -> KmCurve {
    let z = normal_quantile(1.0 - (1.0 - conf_level) / 2.0);
    let m = table.len();
    let (mut surv_v, mut std_err, mut lower, mut upper) = (
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
    );
    let mut events = 0.0;
    let mut surv = 1.0_f64;
    let mut varhaz = 0.0_f64;
    // The robust variance (see `robust_se`): Σ w²·c² of the subjects who have left.
    let mut left_sq = 0.0_f64;
    let mut se = 0.0_f64;
    for k in 0..m {
        let (at_risk, d) = (table.n_risk[k], table.n_event[k]);
        if d > 0.0 {
            // With fractional weights, "everyone left has the event" can miss zero by an ulp.
            let left = at_risk - d;
            let left = if left.abs() <= 1e-12 * at_risk {
                0.0
            } else {
                left
            };
            surv = if left == 0.0 {
                0.0
            } else {
                (surv * (1.0 - d / at_risk)).max(0.0)
            };
            let before = varhaz;
            // n - d == 0 gives +inf, as R does where the curve drops to zero.
            varhaz += d / (at_risk * left);
            se = match &table.squares {
                None => varhaz.sqrt(),
                Some(q) => robust_se(q, k, at_risk, before, varhaz, surv, &mut left_sq),
            };
        } else if let Some(q) = &table.squares {
            // The censored leave with the current sum; R keeps the variance of the last event
            // time until the next one.
            left_sq += q.censor[k] * varhaz * varhaz;
        }
        // Without an event the estimate and its SE are unchanged, and so are the limits
        // (the reverse Kaplan–Meier curves of follow-up step only at censorings).
        let (lo, hi) = match (lower.last(), upper.last()) {
            (Some(&lo), Some(&hi)) if d == 0.0 => (lo, hi),
            _ => confidence_limits(surv, se, conf_type, z),
        };
        surv_v.push(surv);
        std_err.push(se);
        lower.push(lo);
        upper.push(hi);
        events += d;
    }
    KmCurve {
        time: table.time,
        n_risk: table.n_risk,
        n_event: table.n_event,
        n_censor: table.n_censor,
        surv: surv_v,
        std_err,
        lower,
        upper,
        conf_type,
        conf_level,
        n: table.n,
        events,
    }
}

/// The infinitesimal-jackknife standard error of −log S at event time `k` (R's `survfitKM`
/// with `robust = TRUE`, its default when a weight is not a whole number, each observation
/// its own cluster; R returns the SE of S, divided by S for the limits). R updates every
/// subject's influence at each event time, O(n) per time; written as u = influence / S it
/// stays w·A(t) while the subject is at risk, A being the Greenwood sum Σ d/(n(n − d)) (here
/// `before` → `after`), and once the subject has left it is fixed: w·A at a censoring,
/// w·(A_before − 1/n) at its event. So Σu² = A²·Σw²(still at risk) + Σw²c²(left), O(1) per
/// time. Where S reaches 0 every influence is 0, and so is R's standard error.
fn robust_se(
    q: &SquareSums,
    k: usize,
    at_risk: f64,
    before: f64,
    after: f64,
    surv: f64,
    left_sq: &mut f64,
) -> f64 {
    if surv == 0.0 {
        return 0.0;
    }
    *left_sq += q.event[k] * (before - 1.0 / at_risk).powi(2) + q.censor[k] * after * after;
    let still_at_risk = q.risk.get(k + 1).copied().unwrap_or(0.0);
    (after * after * still_at_risk + *left_sq).sqrt()
}

/// R's `findq` (survival 3.5, `quantile.survfit`): the time where the cumulative
/// distribution `y` (with `y[0] = 0` at `x[0]`) first reaches `p`, with the midpoint rule
/// for a flat stretch within `tol` of `p`. NaN entries of `y` (R's NA) are skipped.
fn find_quantile(x: &[f64], y: &[f64], p: f64, tol: f64) -> f64 {
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
fn quantile_of_monotone(time: &[f64], s: &[f64], p: f64, tol: f64) -> Option<f64> {
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
        // At risk at t: those whose time is >= t (the first distinct time at or after t).
        let j = self.time.partition_point(|&x| x < t);
        let n_risk = if j < self.time.len() {
            self.n_risk[j]
        } else {
            0.0
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// R's `survfitKM` infinitesimal jackknife as its C code runs it (every subject's
    /// influence updated at each event time): the SE of S per distinct time, then divided by
    /// S as `survfit_confint` does (0 stays 0).
    fn robust_se_by_recurrence(s: &SurvSample) -> Vec<f64> {
        let n = s.len();
        let mut times: Vec<f64> = s.time.clone();
        times.dedup();
        let (mut inf, mut gwt) = (vec![0.0; n], s.weight.clone());
        let (mut km, mut v1, mut person) = (1.0_f64, 0.0_f64, 0);
        let mut out = Vec::new();
        for &t in &times {
            let at: Vec<usize> = (0..n).filter(|&i| s.time[i] >= t).collect();
            let n_risk: f64 = at.iter().map(|&i| s.weight[i]).sum();
            let d: f64 = (0..n)
                .filter(|&i| s.time[i] == t && s.status[i])
                .map(|i| s.weight[i])
                .sum();
            if d > 0.0 {
                let haz = d / n_risk;
                for k in 0..n {
                    inf[k] = inf[k] * (1.0 - haz) + gwt[k] * km * haz / n_risk;
                }
                while person < n && s.time[person] == t {
                    if s.status[person] {
                        inf[person] -= km * s.weight[person] / n_risk;
                    }
                    gwt[person] = 0.0;
                    person += 1;
                }
                km *= 1.0 - haz;
                v1 = inf.iter().map(|x| x * x).sum();
            } else {
                while person < n && s.time[person] == t {
                    gwt[person] = 0.0;
                    person += 1;
                }
            }
            let se = v1.sqrt();
            out.push(if se == 0.0 { 0.0 } else { se / km });
        }
        out
    }

    #[test]
    fn robust_se_is_rs_infinitesimal_jackknife() {
        let mut rng = crate::rng::SplitMix64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = |m: u64| rng.below(m as usize) as u64;
        let mut robust_cases = 0;
        for case in 0..400 {
            let n = 1 + next(60) as usize;
            let distinct = 1 + next(25);
            let time: Vec<f64> = (0..n).map(|_| next(distinct) as f64).collect();
            let status: Vec<bool> = (0..n).map(|_| next(3) != 0).collect();
            // Matching weights: 1 for most, fractions for some (whole numbers in a few
            // samples, where R keeps Greenwood).
            let whole = case % 7 == 0;
            let weight: Vec<f64> = (0..n)
                .map(|_| match next(4) {
                    0 if !whole => 1.0 / (2 + next(3)) as f64,
                    1 => (1 + next(3)) as f64,
                    2 if !whole => 0.3 + next(9) as f64 / 7.0,
                    _ => 1.0,
                })
                .collect();
            let sample = SurvSample::new(time, status, Some(weight));
            let curve = kaplan_meier(&sample, ConfType::Plain, 0.95);
            if !has_fractional_weights(&sample.weight) {
                let [table, ..] = time_tables(&sample, |_| true);
                assert!(table.squares.is_none());
                continue;
            }
            robust_cases += 1;
            let want = robust_se_by_recurrence(&sample);
            assert_eq!(curve.std_err.len(), want.len());
            for (k, (&got, &w)) in curve.std_err.iter().zip(&want).enumerate() {
                if curve.surv[k] == 0.0 {
                    assert_eq!(got, 0.0, "case {case} time {k}");
                    // R's plain limits where the curve is 0 with a 0 SE.
                    assert_eq!((curve.lower[k], curve.upper[k]), (0.0, 0.0));
                    continue;
                }
                assert!(
                    (got - w).abs() <= 1e-12 * w.abs().max(1e-300),
                    "case {case} time {k}: closed form {got}, recurrence {w}"
                );
            }
            // The reverse curve (follow-up) swaps events and censorings, squares too.
            let [table, ..] = time_tables(&sample, |_| true);
            let rev = kaplan_meier_table(table.reversed(), ConfType::Plain, 0.95);
            let flipped = SurvSample {
                status: sample.status.iter().map(|s| !s).collect(),
                ..sample.clone()
            };
            let want = robust_se_by_recurrence(&flipped);
            for (k, (&got, &w)) in rev.std_err.iter().zip(&want).enumerate() {
                if rev.surv[k] > 0.0 {
                    assert!(
                        (got - w).abs() <= 1e-12 * w.abs().max(1e-300),
                        "reverse {k}"
                    );
                }
            }
        }
        assert!(robust_cases > 250, "{robust_cases}");
    }

    #[test]
    fn monotone_quantile_is_find_quantile() {
        // Curves with ties, flat stretches at exactly 1 - p, NaN heads and tails (log-log
        // limits), values of 1, and a few shapes the shortcut must leave alone.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let (mut shortcut, mut cases) = (0, 0);
        for _ in 0..20_000 {
            let len = next(14) as usize;
            let mut v = if next(4) == 0 {
                1.0
            } else {
                1.0 - next(8) as f64 / 16.0
            };
            let mut s: Vec<f64> = (0..len)
                .map(|_| {
                    match next(6) {
                        0 | 1 => {}
                        2 => v -= 0.25,
                        3 => v = 0.5,
                        _ => v -= next(5) as f64 / 17.0,
                    }
                    v = v.max(0.0);
                    v
                })
                .collect();
            let head = (next(3) as usize).min(len);
            let tail = (next(3) as usize).min(len - head);
            s[..head].fill(f64::NAN);
            s[len - tail..].fill(f64::NAN);
            match next(16) {
                0 if len > 2 => s[len / 2] = f64::NAN,
                1 if len > 1 => s[0] = 1.25,
                2 if len > 2 => s[len - 1] = 0.9,
                3 if len > 1 => s[len - 1] = -0.0,
                4 if len > 1 => s[len - 1] = f64::NEG_INFINITY,
                5 if len > 1 => s[len - 1] = -0.5,
                6 if len > 1 => s[len - 1] = 1e-20,
                7 if len > 0 => s[0] = f64::INFINITY,
                _ => {}
            }
            let time: Vec<f64> = (0..len)
                .map(|k| (k + 1 + next(2) as usize * k) as f64)
                .collect();
            let mut x = vec![0.0];
            x.extend_from_slice(&time);
            let mut y = vec![0.0];
            y.extend(s.iter().map(|v| 1.0 - v));
            let tol = QUANTILE_TOLERANCE;
            let probabilities = [
                0.5,
                0.25,
                0.75,
                0.5 + tol / 2.0,
                0.5 - tol / 2.0,
                1.0,
                0.0,
                -0.0,
            ];
            for p in probabilities
                .into_iter()
                .chain([f64::NAN, -1.0, f64::INFINITY])
            {
                let want = find_quantile(&x, &y, p, tol);
                if let Some(got) = quantile_of_monotone(&time, &s, p, tol) {
                    assert_eq!(got.to_bits(), want.to_bits(), "p = {p}, s = {s:?}");
                    shortcut += 1;
                }
                cases += 1;
            }
        }
        // Most shapes take the shortcut, and the odd ones do not.
        assert!(
            shortcut * 2 > cases && shortcut < cases,
            "{shortcut} of {cases}"
        );
    }

    #[test]
    fn flat_stretch_at_one_half_gives_midpoint() {
        // Four subjects, events at 1, 2, 3, 4: S = 0.75, 0.5, 0.25, 0 -> median (2 + 3) / 2.
        let s = SurvSample::new(vec![1.0, 2.0, 3.0, 4.0], vec![true; 4], None);
        let km = kaplan_meier(&s, ConfType::Log, 0.95);
        assert_eq!(km.median().estimate, 2.5);
    }

    #[test]
    fn curve_ending_flat_at_one_half_uses_last_time() {
        // Events at 1, 2; censored at 3, 4: S stays at 0.5 to the end.
        let s = SurvSample::new(
            vec![1.0, 2.0, 3.0, 4.0],
            vec![true, true, false, false],
            None,
        );
        let km = kaplan_meier(&s, ConfType::Log, 0.95);
        assert_eq!(km.median().estimate, 3.0);
    }

    #[test]
    fn median_not_reached_is_nan() {
        let s = SurvSample::new(vec![1.0, 2.0, 3.0], vec![true, false, false], None);
        assert!(kaplan_meier(&s, ConfType::LogLog, 0.95)
            .median()
            .estimate
            .is_nan());
    }
}
