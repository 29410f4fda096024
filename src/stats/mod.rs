//! Pure statistical functions: no I/O, no UI, nothing of ours below them.

pub mod cox;
pub mod dist;
pub mod km;
pub mod logistic;
pub mod logrank;
pub mod proportion;

/// Right-censored survival data for one group, sorted by time (stable: ties keep input order).
#[derive(Clone, Debug, Default)]
pub struct SurvSample {
    pub time: Vec<f64>,
    /// `true` = event, `false` = censored.
    pub status: Vec<bool>,
    /// Case weights; all 1 for an unweighted sample.
    pub weight: Vec<f64>,
}

impl SurvSample {
    /// Builds a sample, sorting by time. `weight = None` means every weight is 1.
    pub fn new(time: Vec<f64>, status: Vec<bool>, weight: Option<Vec<f64>>) -> Self {
        let n = time.len();
        let weight = weight.unwrap_or_else(|| vec![1.0; n]);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        SurvSample {
            time: order.iter().map(|&i| time[i]).collect(),
            status: order.iter().map(|&i| status[i]).collect(),
            weight: order.iter().map(|&i| weight[i]).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// True when some weight differs from 1.
    pub fn is_weighted(&self) -> bool {
        self.weight.iter().any(|&w| w != 1.0)
    }

    /// The same subjects with the roles of event and censoring swapped (reverse
    /// Kaplan–Meier for the median follow-up, Schemper & Smith 1996).
    pub fn reversed(&self) -> Self {
        SurvSample {
            time: self.time.clone(),
            status: self.status.iter().map(|s| !s).collect(),
            weight: self.weight.clone(),
        }
    }
}

/// R's `aeqSurv` (`timefix = TRUE` in `survfit`, `survdiff` and `coxph`): times whose
/// difference is at most sqrt(machine epsilon), absolutely or relative to the mean absolute
/// distinct time, are merged into the smallest of them. Applied to all times of one fit.
pub fn timefix(times: &mut [f64]) {
    let tol = km::QUANTILE_TOLERANCE;
    let mut unique: Vec<f64> = times.iter().copied().filter(|t| t.is_finite()).collect();
    unique.sort_by(f64::total_cmp);
    unique.dedup();
    if unique.len() < 2 {
        return;
    }
    let mean_abs = unique.iter().map(|t| t.abs()).sum::<f64>() / unique.len() as f64;
    let mut cuts = Vec::with_capacity(unique.len());
    cuts.push(unique[0]);
    let mut any_tied = false;
    for w in unique.windows(2) {
        let dy = w[1] - w[0];
        let tied = dy <= tol || dy / mean_abs <= tol;
        any_tied |= tied;
        if !tied {
            cuts.push(w[1]);
        }
    }
    if !any_tied {
        return;
    }
    for t in times.iter_mut().filter(|t| t.is_finite()) {
        // findInterval: the last cut <= t.
        let k = cuts.partition_point(|&c| c <= *t);
        if k > 0 {
            *t = cuts[k - 1];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timefix_merges_near_ties() {
        let mut t = vec![1.1, f64::from_bits(1.1f64.to_bits() + 1), 2.0, 5.0];
        timefix(&mut t);
        assert_eq!(t[0], t[1]);
        assert_eq!(t[2], 2.0);
    }
}
