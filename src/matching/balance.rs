//! Balance diagnostics: MatchIt's standardized mean differences, variance ratios, the
//! propensity-score histogram and the baseline table ("Table 1").

use crate::analysis::{BalanceRow, BaselineCell, BaselineRow, PsHistogram};

use super::Design;

/// A mean difference smaller than this is reported as exactly 0 (MatchIt: sqrt(eps)).
const ZERO_DIFF: f64 = 1.490_116_119_384_765_6e-8;

/// |SMD| above this is flagged as imbalance.
pub const SMD_THRESHOLD: f64 = 0.1;

fn wmean(x: &[f64], w: &[f64]) -> f64 {
    let sw: f64 = w.iter().sum();
    x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw
}

/// Weighted variance with the "unbiased" denominator Σw − Σw²/Σw (n − 1 when all w = 1).
fn wvar(x: &[f64], w: &[f64]) -> f64 {
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|v| v * v).sum();
    let m = wmean(x, w);
    x.iter()
        .zip(w)
        .map(|(a, b)| b * (a - m).powi(2))
        .sum::<f64>()
        / (sw - sw2 / sw)
}

struct Groups {
    t_before: (Vec<f64>, Vec<f64>),
    c_before: (Vec<f64>, Vec<f64>),
    t_after: (Vec<f64>, Vec<f64>),
    c_after: (Vec<f64>, Vec<f64>),
}

fn split(values: &[f64], treated: &[bool], weights: &[f64]) -> Groups {
    let mut g = Groups {
        t_before: (vec![], vec![]),
        c_before: (vec![], vec![]),
        t_after: (vec![], vec![]),
        c_after: (vec![], vec![]),
    };
    for (i, &x) in values.iter().enumerate() {
        let (before, after) = if treated[i] {
            (&mut g.t_before, &mut g.t_after)
        } else {
            (&mut g.c_before, &mut g.c_after)
        };
        before.0.push(x);
        before.1.push(1.0);
        if weights[i] > 0.0 {
            after.0.push(x);
            after.1.push(weights[i]);
        }
    }
    g
}

fn balance_row(name: &str, values: &[f64], treated: &[bool], weights: &[f64]) -> BalanceRow {
    let binary = values.iter().all(|&x| x == 0.0 || x == 1.0);
    let g = split(values, treated, weights);
    let m = |p: &(Vec<f64>, Vec<f64>)| {
        if p.0.is_empty() {
            f64::NAN
        } else {
            wmean(&p.0, &p.1)
        }
    };
    let v = |p: &(Vec<f64>, Vec<f64>)| {
        if p.0.len() < 2 {
            f64::NAN
        } else {
            wvar(&p.0, &p.1)
        }
    };
    let (mtb, mcb, mta, mca) = (m(&g.t_before), m(&g.c_before), m(&g.t_after), m(&g.c_after));
    let denom = if binary {
        (mtb * (1.0 - mtb)).sqrt()
    } else {
        v(&g.t_before).sqrt()
    };
    let smd = |a: f64, b: f64| {
        let d = a - b;
        if d.abs() < ZERO_DIFF {
            0.0
        } else {
            d / denom
        }
    };
    let (smd_before, smd_after) = (smd(mtb, mcb), smd(mta, mca));
    let vr = |t: &(Vec<f64>, Vec<f64>), c: &(Vec<f64>, Vec<f64>)| {
        if binary {
            f64::NAN
        } else {
            v(t) / v(c)
        }
    };
    BalanceRow {
        covariate: name.to_string(),
        binary,
        mean_treated_before: mtb,
        mean_control_before: mcb,
        mean_treated_after: mta,
        mean_control_after: mca,
        smd_before,
        smd_after,
        variance_ratio_before: vr(&g.t_before, &g.c_before),
        variance_ratio_after: vr(&g.t_after, &g.c_after),
        imbalanced_before: smd_before.abs() > SMD_THRESHOLD,
        imbalanced_after: smd_after.abs() > SMD_THRESHOLD,
    }
}

/// One row for the distance, then one per model column (each factor indicator).
pub(crate) fn balance_rows(
    design: &Design,
    distance: &[f64],
    treated: &[bool],
    weights: &[f64],
) -> Vec<BalanceRow> {
    let mut rows = vec![balance_row("distance", distance, treated, weights)];
    for j in 1..design.names.len() {
        let col: Vec<f64> = design.x.column(j).iter().copied().collect();
        rows.push(balance_row(&design.names[j], &col, treated, weights));
    }
    rows
}

/// Propensity-score histogram with 20 equal bins over the observed range.
pub(crate) fn ps_histogram(ps: &[f64], treated: &[bool], weights: &[f64]) -> PsHistogram {
    const BINS: usize = 20;
    let lo = ps.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = if hi > lo {
        (hi - lo) / BINS as f64
    } else {
        1.0
    };
    let edges: Vec<f64> = (0..=BINS).map(|k| lo + k as f64 * width).collect();
    let mut h = PsHistogram {
        edges,
        treated_before: vec![0.0; BINS],
        control_before: vec![0.0; BINS],
        treated_after: vec![0.0; BINS],
        control_after: vec![0.0; BINS],
    };
    for (i, &p) in ps.iter().enumerate() {
        let b = (((p - lo) / width) as usize).min(BINS - 1);
        if treated[i] {
            h.treated_before[b] += 1.0;
            h.treated_after[b] += weights[i];
        } else {
            h.control_before[b] += 1.0;
            h.control_after[b] += weights[i];
        }
    }
    h
}

/// Weighted quantile: R's type 7 when all weights are 1, else the smallest value whose
/// cumulative weight reaches p of the total.
fn quantile(values: &[(f64, f64)], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
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

fn numeric_cell(values: &[(f64, f64)]) -> BaselineCell {
    let (x, w): (Vec<f64>, Vec<f64>) = values.iter().copied().unzip();
    BaselineCell::Numeric {
        mean: if x.is_empty() {
            f64::NAN
        } else {
            wmean(&x, &w)
        },
        sd: if x.len() < 2 {
            f64::NAN
        } else {
            wvar(&x, &w).sqrt()
        },
        median: quantile(values, 0.5),
        q1: quantile(values, 0.25),
        q3: quantile(values, 0.75),
    }
}

/// "Table 1" over the matching covariates, per arm, before and after matching.
pub(crate) fn baseline_table(
    design: &Design,
    treated: &[bool],
    weights: &[f64],
) -> Vec<BaselineRow> {
    let mut rows = Vec::new();
    let n_units = design.used.len();
    let total = |is_t: bool, after: bool| -> f64 {
        (0..n_units)
            .filter(|&u| treated[u] == is_t)
            .map(|u| if after { weights[u] } else { 1.0 })
            .sum()
    };
    let totals = [
        total(true, false),
        total(false, false),
        total(true, true),
        total(false, true),
    ];
    for term in &design.terms {
        if term.factor {
            let mut n = vec![[0.0f64; 4]; term.levels.len()];
            for u in 0..n_units {
                let a = if treated[u] { 0 } else { 1 };
                let l = term.level_of_unit[u] as usize;
                n[l][a] += 1.0;
                n[l][a + 2] += weights[u];
            }
            for (level, counts) in term.levels.iter().zip(n) {
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
            let mut groups: [Vec<(f64, f64)>; 4] = Default::default();
            for u in 0..n_units {
                let x = term.value_of_unit[u];
                let a = if treated[u] { 0 } else { 1 };
                groups[a].push((x, 1.0));
                if weights[u] > 0.0 {
                    groups[a + 2].push((x, weights[u]));
                }
            }
            rows.push(BaselineRow {
                covariate: term.column.clone(),
                level: None,
                treated_before: numeric_cell(&groups[0]),
                control_before: numeric_cell(&groups[1]),
                treated_after: numeric_cell(&groups[2]),
                control_after: numeric_cell(&groups[3]),
            });
        }
    }
    rows
}
