//! "Table 1": the covariates per arm, before and after matching — counts and percentages
//! for factors, mean (SD) and median \[quartiles\] for numbers — from the balance sums.

use super::{BaselineCell, BaselineRow, ColumnSums, Summary};
use crate::cohort::Cohort;
use crate::propensity::Design;
use crate::sample::Sample;

/// Quartiles (q1, median, q3) of a covariate in the four groups, read off the units in value
/// order: R's type 7 when a group's weights are all 1, else the smallest value whose cumulative
/// weight reaches p of the group's total.
// Four groups × three quartiles, indexed in parallel across several small arrays.
#[allow(clippy::needless_range_loop)]
pub(crate) fn group_quartiles(
    order: &[u32],
    x: &[f64],
    treated: &[bool],
    weights: &[f64],
) -> [[f64; 3]; 4] {
    const P: [f64; 3] = [0.25, 0.5, 0.75];
    // Each unit's groups in one byte (bit 0: control, bit 1: kept after matching), so that
    // the walk in value order below reads a byte per unit (the values only at the ranks
    // wanted, the weights only for a weighted group).
    let code: Vec<u8> = treated
        .iter()
        .zip(weights)
        .map(|(&t, &w)| u8::from(!t) | (u8::from(w > 0.0) << 1))
        .collect();
    let groups_of = |c: u8| {
        let a = usize::from(c & 1);
        (a, (c & 2 != 0).then_some(a + 2))
    };
    let (mut n, mut total, mut all_one) = ([0usize; 4], [0.0f64; 4], [true; 4]);
    for (&c, &w) in code.iter().zip(weights) {
        let (before, after) = groups_of(c);
        n[before] += 1;
        total[before] += 1.0;
        if let Some(g) = after {
            n[g] += 1;
            all_one[g] &= w == 1.0;
        }
    }
    // A weighted group's total is summed in value order, as its running sum below, so that
    // the two agree to the bit at the end.
    if all_one[2..].iter().any(|&one| !one) {
        for &u in order {
            if let (_, Some(g)) = groups_of(code[u as usize]) {
                total[g] += weights[u as usize];
            }
        }
    }
    // Type 7: the values at ranks floor(h) and floor(h) + 1, h = (n − 1) p.
    let mut ranks = [[(0usize, 0usize, 0.0f64); 3]; 4];
    for g in 0..4 {
        for k in 0..3 {
            let h = (n[g].max(1) - 1) as f64 * P[k];
            let lo = h.floor() as usize;
            ranks[g][k] = (lo, (lo + 1).min(n[g].max(1) - 1), h - lo as f64);
        }
    }
    let mut out = [[f64::NAN; 3]; 4];
    let (mut lo_v, mut hi_v) = ([[f64::NAN; 3]; 4], [[f64::NAN; 3]; 4]);
    // Each group waits for its next needed rank (type 7: the six ranks in order) or its next
    // cumulative-weight threshold (weighted), so each unit costs one comparison per group.
    let mut wanted: [Vec<(usize, usize, bool)>; 4] = Default::default();
    for g in 0..4 {
        for k in 0..3 {
            let (lo, hi, _) = ranks[g][k];
            wanted[g].push((lo, k, false));
            wanted[g].push((hi, k, true));
        }
        wanted[g].sort_unstable();
    }
    let (mut next, mut next_k) = ([0usize; 4], [0usize; 4]);
    let (mut rank, mut cum, mut last) = ([0usize; 4], [0.0f64; 4], [f64::NAN; 4]);
    // The walk stops once every group of unit weights has its six values (a weighted group
    // may fall back on its last value, so it is walked to the end).
    let mut open = (0..4).filter(|&g| n[g] > 0).count();
    for &u in order {
        if open == 0 {
            break;
        }
        let u = u as usize;
        let (before, after) = groups_of(code[u]);
        for g in std::iter::once(before).chain(after) {
            let r = rank[g];
            rank[g] += 1;
            if all_one[g] {
                while let Some(&(at, k, is_hi)) = wanted[g].get(next[g]) {
                    if at != r {
                        break;
                    }
                    if is_hi {
                        hi_v[g][k] = x[u];
                    } else {
                        lo_v[g][k] = x[u];
                    }
                    next[g] += 1;
                    open -= usize::from(next[g] == wanted[g].len());
                }
            } else {
                let v = x[u];
                cum[g] += weights[u];
                last[g] = v;
                while next_k[g] < 3 && cum[g] >= P[next_k[g]] * total[g] {
                    out[g][next_k[g]] = v;
                    next_k[g] += 1;
                }
            }
        }
    }
    for g in 0..4 {
        for k in 0..3 {
            if n[g] == 0 {
                out[g][k] = f64::NAN;
            } else if all_one[g] {
                let (_, _, frac) = ranks[g][k];
                out[g][k] = lo_v[g][k] + frac * (hi_v[g][k] - lo_v[g][k]);
            } else if out[g][k].is_nan() {
                out[g][k] = last[g];
            }
        }
    }
    out
}

/// "Table 1" over the matching covariates, per arm, before and after matching (`cohort` and
/// `sample`: the design's).
pub(crate) fn baseline_table(
    design: &Design,
    (cohort, sample): (&Cohort, &Sample),
    treated: &[bool],
    weights: &[f64],
    sums: &ColumnSums,
) -> Vec<BaselineRow> {
    let mut column = 1;
    let mut rows = Vec::new();
    // Σ1 and Σw of each group: Σw over the kept units equals Σw over all (the others weigh 0).
    let totals = sums.totals.map(|m| m.sw);
    let mut factor_counts = sums.levels.iter();
    for term in &design.terms {
        if term.factor {
            column += term.levels.len() - 1;
            let Some(level_counts) = factor_counts.next() else {
                continue;
            };
            for (level, counts) in term.levels.iter().zip(level_counts) {
                let cellf = |k: usize| BaselineCell::Count {
                    n: counts[k],
                    percent: if totals[k] > 0.0 {
                        100.0 * counts[k] / totals[k]
                    } else {
                        f64::NAN
                    },
                };
                rows.push(BaselineRow {
                    covariate: term.column.clone(),
                    level: Some(level.clone()),
                    treated_before: cellf(0),
                    control_before: cellf(1),
                    treated_after: cellf(2),
                    control_after: cellf(3),
                });
            }
        } else {
            // Each group's quartiles are read off the units in value order.
            let x = &term.value_of_unit;
            let order = term.units_in_order(cohort, sample, &design.used);
            let q = group_quartiles(order, x, treated, weights);
            // The term's model column holds the same values: its sums and variances serve.
            let Summary { g, var, .. } = &sums.columns[column];
            column += 1;
            let cell = |k: usize| BaselineCell::Numeric {
                mean: if g[k].n == 0 {
                    f64::NAN
                } else {
                    g[k].swx / g[k].sw
                },
                sd: var[k].sqrt(),
                median: q[k][1],
                q1: q[k][0],
                q3: q[k][2],
            };
            rows.push(BaselineRow {
                covariate: term.column.clone(),
                level: None,
                treated_before: cell(0),
                control_before: cell(1),
                treated_after: cell(2),
                control_after: cell(3),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The definition, written plainly: sort the group's (value, weight) pairs.
    fn naive_quantile(mut v: Vec<(f64, f64)>, p: f64) -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        if v.iter().all(|x| x.1 == 1.0) {
            let h = (v.len() - 1) as f64 * p;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(v.len() - 1);
            return v[lo].0 + (h - lo as f64) * (v[hi].0 - v[lo].0);
        }
        let total: f64 = v.iter().map(|x| x.1).sum();
        let mut cum = 0.0;
        for (x, w) in &v {
            cum += w;
            if cum >= p * total {
                return *x;
            }
        }
        v[v.len() - 1].0
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn one_pass_quartiles_equal_the_sorted_definition() {
        let mut rng = SplitMix64::new(11);
        for case in 0..300 {
            let n = 1 + (rng.next_f64() * 60.0) as usize;
            // Few distinct values (ties), weights 0, 1 or fractional as matching gives.
            let x: Vec<f64> = (0..n).map(|_| (rng.next_f64() * 7.0).floor()).collect();
            let treated: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.4).collect();
            let weights: Vec<f64> = (0..n)
                .map(|_| match (rng.next_f64() * 4.0) as u32 {
                    0 => 0.0,
                    1 if case % 2 == 0 => 0.5,
                    _ => 1.0,
                })
                .collect();
            let order = crate::stats::sorted_order(&x);
            let got = group_quartiles(&order, &x, &treated, &weights);
            for g in 0..4 {
                let members: Vec<(f64, f64)> = (0..n)
                    .filter(|&u| treated[u] == (g % 2 == 0))
                    .map(|u| (x[u], if g < 2 { 1.0 } else { weights[u] }))
                    .filter(|&(_, w)| w > 0.0)
                    .collect();
                for (k, p) in [0.25, 0.5, 0.75].into_iter().enumerate() {
                    let want = naive_quantile(members.clone(), p);
                    assert!(
                        got[g][k] == want || (got[g][k].is_nan() && want.is_nan()),
                        "case {case} group {g} p {p}: {} vs {want}",
                        got[g][k]
                    );
                }
            }
        }
    }
}
