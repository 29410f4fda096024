//! Log-rank test for two groups, as R's `survdiff(rho = 0)` (Mantel 1966; Peto & Peto 1972).

use serde::Serialize;

use super::dist::chi_square_upper;
use super::km::{time_tables, TimeTable};
use super::SurvSample;

/// Result of the two-group log-rank test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LogRank {
    pub chi_square: f64,
    pub df: u32,
    pub p_value: f64,
    /// Observed and expected events in the first group (the one passed as `a`).
    pub observed_a: f64,
    pub expected_a: f64,
    pub observed_b: f64,
    pub expected_b: f64,
    /// Variance of O − E in the first group (hypergeometric, with the tie correction).
    pub variance: f64,
}

/// Two-group log-rank test; both samples sorted by time and unweighted.
pub fn log_rank(a: &SurvSample, b: &SurvSample) -> LogRank {
    let [a, ..] = time_tables(a, |_| true);
    let [b, ..] = time_tables(b, |_| true);
    log_rank_tables(&a, &b)
}

/// [`log_rank`] from the two groups' [`TimeTable`]s.
pub fn log_rank_tables(a: &TimeTable, b: &TimeTable) -> LogRank {
    let (mut ia, mut ib) = (0usize, 0usize);
    let (mut obs_a, mut exp_a, mut obs_b, mut exp_b, mut var) = (0.0, 0.0, 0.0, 0.0, 0.0);
    // At a time where a group has no row, its number at risk is that of its next row.
    let at = |g: &TimeTable, i: usize, t: f64| -> (f64, f64, bool) {
        match g.time.get(i) {
            Some(&ti) => (
                g.n_risk[i],
                if ti == t { g.n_event[i] } else { 0.0 },
                ti == t,
            ),
            None => (0.0, 0.0, false),
        }
    };
    while ia < a.len() || ib < b.len() {
        let ta = a.time.get(ia).copied().unwrap_or(f64::INFINITY);
        let tb = b.time.get(ib).copied().unwrap_or(f64::INFINITY);
        let t = ta.min(tb);
        let (n_a, d_a, here_a) = at(a, ia, t);
        let (n_b, d_b, here_b) = at(b, ib, t);
        ia += usize::from(here_a);
        ib += usize::from(here_b);
        let d = d_a + d_b;
        let n = n_a + n_b;
        if d > 0.0 {
            let e_a = d * n_a / n;
            exp_a += e_a;
            exp_b += d * n_b / n;
            obs_a += d_a;
            obs_b += d_b;
            if n > 1.0 {
                var += d * (n_a / n) * (1.0 - n_a / n) * (n - d) / (n - 1.0);
            }
        }
    }
    let chi_square = if var > 0.0 {
        (obs_a - exp_a).powi(2) / var
    } else {
        f64::NAN
    };
    LogRank {
        chi_square,
        df: 1,
        p_value: chi_square_upper(chi_square, 1.0),
        observed_a: obs_a,
        expected_a: exp_a,
        observed_b: obs_b,
        expected_b: exp_b,
        variance: var,
    }
}
