//! Kaplan–Meier estimator with R `survfit`'s conventions (survival 3.5).
//!
//! Kaplan & Meier (1958); Greenwood (1926) variance of the cumulative hazard, or the
//! infinitesimal jackknife where weights are not whole numbers (R's default); confidence
//! intervals as in R's `survfit_confint` (Kalbfleisch & Prentice 2002 for log-log);
//! median and its CI by Brookmeyer & Crowley (1982) with R's `quantile.survfit` rule for flat
//! stretches; restricted mean as R's `survmean` (Miller 1981).

mod quantile;
mod tables;

pub use tables::{time_tables, SquareSums, TimeTable};

use serde::{Deserialize, Serialize};

use super::dist::normal_quantile;
use super::SurvSample;

/// Tolerance R uses to decide that a survival value "is" a quantile: sqrt(machine epsilon).
pub const QUANTILE_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// How the pointwise confidence interval of S(t) is built.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
pub enum ConfType {
    /// exp(-exp(log(-log S) ± z·se/log S)): stays in (0, 1); SAS, Stata and lifelines' default.
    #[default]
    #[serde(rename = "log-log")]
    #[value(alias = "loglog")]
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

/// The counts of a KMunicate risk table at time `t` (Morris et al. 2019, BMJ Open 9:e030215):
/// the number at risk at `t` and how many have been censored and had the event before it.
/// Sums of weights, like [`KmCurve::n_risk`]: counts when the sample is unweighted. The three
/// split the sample: `n_risk + n_censored + n_events` is [`KmCurve::n`] at every `t`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RiskCounts {
    pub time: f64,
    /// At risk at `t`: time ≥ t (as [`Landmark::n_risk`] and R's `summary.survfit`).
    pub n_risk: f64,
    /// Censored before `t` (time < t), cumulative.
    pub n_censored: f64,
    /// Events before `t` (time < t), cumulative.
    pub n_events: f64,
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

impl KmCurve {}

#[cfg(test)]
mod tests {
    use super::quantile::{find_quantile, quantile_of_monotone};
    use super::tables::has_fractional_weights;
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
    fn kmunicate_counts_by_hand() {
        // Times 1 2 2 3 5 5 8, events at 1, 2, 3, 5; censored at 2, 5, 8 (the one at 2
        // weighs 2 in the weighted run). At risk: time ≥ t; censored and events: time < t.
        let time = vec![1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 8.0];
        let status = vec![true, false, true, true, false, true, false];
        let weight = vec![1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let count = |w: Option<Vec<f64>>| {
            let km = kaplan_meier(
                &SurvSample::new(time.clone(), status.clone(), w),
                ConfType::LogLog,
                0.95,
            );
            let rows: Vec<[f64; 3]> = [0.0, 1.0, 2.0, 2.5, 5.0, 6.0, 8.0, 9.0]
                .iter()
                .map(|&t| {
                    let c = km.counts_at(t);
                    assert_eq!(c.time, t);
                    assert_eq!(c.n_risk, km.at(t).n_risk, "t = {t}");
                    assert_eq!(c.n_risk + c.n_censored + c.n_events, km.n, "t = {t}");
                    // Never -0 (printed "-0").
                    assert!(c.n_censored.is_sign_positive() && c.n_events.is_sign_positive());
                    [c.n_risk, c.n_censored, c.n_events]
                })
                .collect();
            rows
        };
        assert_eq!(
            count(None),
            vec![
                [7.0, 0.0, 0.0],
                [7.0, 0.0, 0.0],
                [6.0, 0.0, 1.0],
                [4.0, 1.0, 2.0],
                [3.0, 1.0, 3.0],
                [1.0, 2.0, 4.0],
                [1.0, 2.0, 4.0],
                [0.0, 3.0, 4.0],
            ]
        );
        assert_eq!(
            count(Some(weight.clone())),
            vec![
                [8.0, 0.0, 0.0],
                [8.0, 0.0, 0.0],
                [7.0, 0.0, 1.0],
                [4.0, 2.0, 2.0],
                [3.0, 2.0, 3.0],
                [1.0, 3.0, 4.0],
                [1.0, 3.0, 4.0],
                [0.0, 4.0, 4.0],
            ]
        );
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
