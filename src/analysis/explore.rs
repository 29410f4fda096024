//! Beyond one analysis: how a matched result depends on the caliper (sweep), and whether the
//! effect differs across subgroups (forest plot with interaction tests).

use serde::Serialize;

use super::endpoint::endpoint_cox;
use super::prepared::prepare_endpoint;
use super::{check, AnalysisError, EndpointSpec, OrderedMap, Sample, Spec, Stop};
use crate::cohort::{format_number, Cohort, Column, ColumnData, MISSING};
use rayon::prelude::*;

use crate::matching::{weights_and_sets, MatchPlan};
use crate::propensity::PsModel;
use crate::stats::cox::{cox_fit, CoxData};
use crate::stats::dist::chi_square_upper;

/// One caliper of a sweep: matched pairs and the Cox HR of the arm.
#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub caliper: f64,
    /// Treated patients with a match.
    pub n_pairs: usize,
    pub hr: f64,
    pub ci: [f64; 2],
    pub p_value: f64,
}

/// `n` calipers log-spaced from 0.01 to 1 SD, plus `current` (so the sweep passes through the
/// analysis on screen), sorted.
pub fn caliper_grid(n: usize, current: f64) -> Vec<f64> {
    let mut g: Vec<f64> = (0..n)
        .map(|k| 10f64.powf(-2.0 + 2.0 * k as f64 / (n - 1) as f64))
        .collect();
    if !g.iter().any(|&c| (c - current).abs() < 1e-12) {
        g.push(current);
    }
    g.sort_by(f64::total_cmp);
    g
}

/// Re-runs matching and the Cox model over a grid of calipers, per endpoint. The propensity
/// model, the matching plan (distance and its orders, built from the model with `spec`'s
/// matching settings) and each endpoint's time ordering are computed once; each caliper then
/// costs one greedy pass and one Cox fit per endpoint. `stop` is asked before each caliper.
pub fn caliper_sweep(
    cohort: &Cohort,
    spec: &Spec,
    subgroup: &Sample,
    endpoints: &[EndpointSpec],
    (model, plan): (&PsModel, &MatchPlan),
    stop: Stop,
) -> Result<OrderedMap<Vec<SweepPoint>>, AnalysisError> {
    let Some(ms) = &spec.matching else {
        return Ok(OrderedMap::default());
    };
    let (treated, used) = model.units();
    let spread = plan.spread;
    let plan = plan.greedy();
    let prepared: Vec<_> = endpoints
        .iter()
        .map(|ep| prepare_endpoint(cohort, spec, ep, subgroup))
        .collect::<Result<_, _>>()?;
    let n_pos = subgroup.rows.len();
    // One caliper: match, then the Cox model of each endpoint on the matched sample.
    let point = |caliper: f64| -> Vec<SweepPoint> {
        let matches = plan.run(caliper * spread, ms.ratio as usize, ms.replace);
        let (weights, sets) = weights_and_sets(&matches, used.len(), ms);
        let mut weight_of_pos = vec![0.0; n_pos];
        let mut set_of_pos = vec![u32::MAX; n_pos];
        for (u, &k) in used.iter().enumerate() {
            weight_of_pos[k] = weights[u];
            set_of_pos[k] = sets[u];
        }
        let n_pairs = (0..used.len())
            .filter(|&u| treated[u] && weights[u] > 0.0)
            .count();
        let weighted = weights.iter().any(|&w| w > 0.0 && (w - 1.0).abs() > 1e-12);
        prepared
            .iter()
            .map(|p| {
                let cox = endpoint_cox(spec, &p.reweighted(&weight_of_pos, &set_of_pos), weighted);
                SweepPoint {
                    caliper,
                    n_pairs,
                    hr: cox.hr,
                    ci: cox.ci,
                    p_value: cox.p_value,
                }
            })
            .collect()
    };
    // The calipers are independent: shared among rayon's threads (collected in the grid's
    // order, so the order and the numbers do not depend on the number of threads). A caliper
    // skipped for a stop ends the sweep.
    let grid = caliper_grid(50, ms.caliper);
    let points: Vec<Vec<SweepPoint>> = grid
        .par_iter()
        .map(|&c| if stop() { None } else { Some(point(c)) })
        .collect::<Option<_>>()
        .ok_or(AnalysisError::Cancelled)?;
    let mut out: OrderedMap<Vec<SweepPoint>> = OrderedMap::default();
    for (j, ep) in endpoints.iter().enumerate() {
        out.insert(
            ep.name.clone(),
            points.iter().map(|per_ep| per_ep[j].clone()).collect(),
        );
    }
    Ok(out)
}

/// One row of the forest plot: the effect within one level of one covariate.
#[derive(Clone, Debug, Serialize)]
pub struct ForestRow {
    pub covariate: String,
    pub level: String,
    /// Patients per arm (with a usable endpoint).
    pub n: OrderedMap<f64>,
    pub events: OrderedMap<f64>,
    pub hr: f64,
    pub ci: [f64; 2],
    pub p_value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_estimable: Option<String>,
    /// Likelihood-ratio test of arm × covariate (same for every level of a covariate).
    pub interaction_p_value: f64,
    pub interaction_chi_square: f64,
    pub interaction_df: usize,
}

/// Columns offered as subgroups: text with ≤ 12 levels or numbers with ≤ 8 distinct values,
/// other than the arm, identifiers, times, events and best response.
pub fn subgroup_columns<'a>(
    cohort: &'a Cohort,
    spec: &Spec,
    endpoints: &[EndpointSpec],
) -> Vec<&'a Column> {
    const ROLES: [&str; 3] = ["patient_id", "best_response", "first_line_months"];
    cohort
        .columns
        .iter()
        .filter(|c| {
            c.name != spec.arm_column
                && !ROLES.contains(&c.name.as_str())
                && !endpoints
                    .iter()
                    .any(|e| e.event == c.name || e.time.contains(&c.name))
        })
        .filter(|c| {
            let k = c.n_distinct();
            k >= 2
                && match c.data {
                    ColumnData::Text { .. } => k <= 12,
                    ColumnData::Numeric(_) => k <= 8,
                }
        })
        .collect()
}

/// Level index (into `levels`, sorted as R's factor) of each file row, MISSING when missing.
fn level_codes(col: &Column) -> (Vec<String>, Vec<u32>) {
    let levels = col.levels();
    let codes = match &col.data {
        ColumnData::Text { codes, .. } => codes.clone(),
        ColumnData::Numeric(v) => v
            .iter()
            .map(|&x| {
                if x.is_nan() {
                    MISSING
                } else {
                    levels
                        .iter()
                        .position(|l| *l == format_number(x))
                        .map_or(MISSING, |k| k as u32)
                }
            })
            .collect(),
    };
    (levels, codes)
}

fn restrict(sample: &Sample, keep: impl Fn(usize) -> bool) -> Sample {
    let mut s = Sample {
        weighted: sample.weighted,
        ..Sample::default()
    };
    for k in 0..sample.rows.len() {
        if keep(sample.rows[k]) {
            s.rows.push(sample.rows[k]);
            s.treated.push(sample.treated[k]);
            s.weight.push(sample.weight[k]);
            s.set_id.push(sample.set_id[k]);
        }
    }
    s
}

/// The forest plot of one endpoint over the analysed sample: per level of each categorical
/// covariate the HR of the arm, and per covariate the likelihood-ratio test of the arm ×
/// factor interaction (Cox, k − 1 df counting only estimable coefficients). `stop` is asked
/// before each covariate, each Cox fit of its interaction test and each level's model.
pub fn forest(
    cohort: &Cohort,
    spec: &Spec,
    sample: &Sample,
    ep: &EndpointSpec,
    endpoints: &[EndpointSpec],
    stop: Stop,
) -> Result<Vec<ForestRow>, AnalysisError> {
    let mut rows = Vec::new();
    for col in subgroup_columns(cohort, spec, endpoints) {
        check(stop)?;
        let (levels, codes) = level_codes(col);
        let with_value = restrict(sample, |r| codes[r] != MISSING);
        let (chi, df) =
            interaction_test(cohort, spec, ep, &with_value, &codes, levels.len(), stop)?;
        let p = if df > 0 {
            chi_square_upper(chi, df as f64)
        } else {
            f64::NAN
        };
        for (k, level) in levels.iter().enumerate() {
            check(stop)?;
            let sub = restrict(sample, |r| codes[r] == k as u32);
            if sub.rows.is_empty() {
                continue;
            }
            let prepared = prepare_endpoint(cohort, spec, ep, &sub)?;
            let cox = endpoint_cox(spec, &prepared, sub.weighted);
            let mut n = OrderedMap::default();
            let mut events = OrderedMap::default();
            for (arm, is_t) in [(spec.treated_label(), true), (spec.control_label(), false)] {
                let idx = (0..prepared.all.len()).filter(|&i| prepared.is_treated[i] == is_t);
                let (mut nn, mut ee) = (0.0, 0.0);
                for i in idx {
                    nn += prepared.all.weight[i];
                    if prepared.all.status[i] {
                        ee += prepared.all.weight[i];
                    }
                }
                n.insert(arm.clone(), nn);
                events.insert(arm.clone(), ee);
            }
            rows.push(ForestRow {
                covariate: col.name.clone(),
                level: level.clone(),
                n,
                events,
                hr: cox.hr,
                ci: cox.ci,
                p_value: cox.p_value,
                not_estimable: cox.not_estimable.clone(),
                interaction_p_value: p,
                interaction_chi_square: chi,
                interaction_df: df,
            });
        }
    }
    Ok(rows)
}

/// 2·(loglik of arm * factor − loglik of arm + factor), and the number of interaction
/// coefficients that could be estimated (a level without patients of one arm has none).
fn interaction_test(
    cohort: &Cohort,
    spec: &Spec,
    ep: &EndpointSpec,
    sample: &Sample,
    codes: &[u32],
    n_levels: usize,
    stop: Stop,
) -> Result<(f64, usize), AnalysisError> {
    let prepared = prepare_endpoint(cohort, spec, ep, sample)?;
    let level: Vec<u32> = prepared
        .sample_pos
        .iter()
        .map(|&k| codes[sample.rows[k as usize]])
        .collect();
    // Columns: arm, then level indicators (reference = first level present), then arm × level.
    let present: Vec<usize> = (0..n_levels)
        .filter(|&l| level.iter().any(|&x| x as usize == l))
        .collect();
    if present.len() < 2 {
        return Ok((f64::NAN, 0));
    }
    let arm = prepared.arm_covariate();
    let mut main: Vec<Vec<f64>> = vec![arm.clone()];
    let mut inter: Vec<Vec<f64>> = Vec::new();
    for &l in &present[1..] {
        let ind: Vec<f64> = level
            .iter()
            .map(|&x| f64::from(u8::from(x as usize == l)))
            .collect();
        let prod: Vec<f64> = ind.iter().zip(&arm).map(|(a, b)| a * b).collect();
        // Not estimable: the level has no treated (all zero) or no control (equals the
        // indicator) patients.
        let estimable = prod.iter().any(|&v| v != 0.0) && prod != ind;
        main.push(ind);
        if estimable {
            inter.push(prod);
        }
    }
    // Each fit is a step `stop` is asked before.
    let fit = |cols: &[Vec<f64>]| -> Result<Option<f64>, AnalysisError> {
        check(stop)?;
        let x: Vec<f64> = cols.iter().flatten().copied().collect();
        let d = CoxData {
            time: &prepared.all.time,
            status: &prepared.all.status,
            weight: &prepared.all.weight,
            x: &x,
            p: cols.len(),
        };
        Ok(cox_fit(&d, spec.ties, false).ok().map(|f| f.loglik))
    };
    let reduced = fit(&main)?;
    // Aliased interaction columns (e.g. the reference level holds one arm only) are dropped,
    // last first, as R leaves their coefficients NA; df counts the ones kept.
    let mut kept = inter;
    let full = loop {
        let mut cols = main.clone();
        cols.extend(kept.iter().cloned());
        match fit(&cols)? {
            Some(f) => break Some(f),
            None if !kept.is_empty() => {
                kept.pop();
            }
            None => break None,
        }
    };
    Ok(match (reduced, full) {
        (Some(r), Some(f)) if !kept.is_empty() => ((2.0 * (f - r)).max(0.0), kept.len()),
        _ => (f64::NAN, 0),
    })
}
