//! Propensity-score matching: the propensity model (logistic regression as R's `glm`),
//! greedy caliper matching as MatchIt, and balance diagnostics (standardized mean
//! differences as MatchIt's `summary()`, variance ratios, "Table 1").

mod balance;
pub mod greedy;

use nalgebra::DMatrix;

use crate::analysis::{
    CaliperScale, Exclusion, MatchOrder, MatchSpec, MatchedUnit, MatchingReport, OrderedMap,
    PropensityReport, Sample, Spec,
};
use crate::cohort::{format_number, Cohort, ColumnData, MISSING};
use crate::stats::logistic::{
    group_rows, groups_if_worth, logistic_fit_units, Groups, KeyColumn, LogisticError,
};

pub use greedy::{greedy_match, GreedyPlan, Matches, Order};

/// Why matching could not be done.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("matching covariate '{0}' is not a column of the file")]
    MissingCovariate(String),
    #[error("no matching covariate varies inside the sample (all were constant: {0})")]
    NoCovariates(String),
    #[error("propensity model: {0}")]
    Model(#[from] LogisticError),
    #[error("after leaving out rows with a missing covariate, the {0} arm has no patients")]
    EmptyArm(String),
    #[error("the distance has no spread (standard deviation 0): every patient has the same propensity score")]
    NoSpread,
    #[error("no patient has every matching covariate ({0})")]
    NoCompleteCases(String),
    #[error("no pair is within the caliper ({caliper} SD = {width:.4}): widen the caliper")]
    NoMatches { caliper: f64, width: f64 },
}

/// One covariate as it enters the model: a numeric column or treatment-coded indicators.
#[derive(Clone, Debug)]
pub(crate) struct Term {
    /// The column name (without `:factor`).
    pub column: String,
    pub factor: bool,
    /// Levels present among the rows used (factor terms), reference first.
    pub levels: Vec<String>,
    /// Per unit of the design (aligned with `Design::used`): the level index (factor terms)
    /// or the value (numeric terms).
    pub level_of_unit: Vec<u32>,
    pub value_of_unit: Vec<f64>,
    /// Numeric terms: the units in ascending order of value, ties in unit order.
    pub units_in_order: Vec<u32>,
}

/// The propensity model's terms over the complete-case rows of the sample. The terms hold
/// every model column's values (numbers, or levels for the indicators); the model matrix is
/// built only for the fit, and then of one row per group of equal units when grouping pays
/// (at 1,000,000 patients the full matrix is 120 MB).
pub(crate) struct Design {
    pub terms: Vec<Term>,
    /// Coefficient names, R style: `(Intercept)`, `age`, `albi_grade2`, `etiologyviral`.
    pub names: Vec<String>,
    /// Positions in the sample (not file rows) of the complete cases.
    pub used: Vec<usize>,
}

/// A covariate's values over the sample rows: numbers, or codes into sorted level names.
enum Values {
    Numeric(Vec<f64>),
    Factor {
        codes: Vec<u32>,
        labels: Vec<String>,
    },
}

fn term_values(cohort: &Cohort, column: &str, factor: bool, sample: &Sample) -> Option<Values> {
    let col = cohort.column(column)?;
    Some(match (&col.data, factor) {
        // Infinite covariate values count as missing: a model cannot use them.
        (ColumnData::Numeric(v), false) => Values::Numeric(
            sample
                .rows
                .iter()
                .map(|&r| if v[r].is_finite() { v[r] } else { f64::NAN })
                .collect(),
        ),
        (ColumnData::Numeric(v), true) => {
            let mut distinct: Vec<f64> = sample
                .rows
                .iter()
                .map(|&r| v[r])
                .filter(|x| x.is_finite())
                .collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let codes = sample
                .rows
                .iter()
                .map(|&r| {
                    let x = v[r];
                    if !x.is_finite() {
                        MISSING
                    } else {
                        distinct.partition_point(|&d| d < x) as u32
                    }
                })
                .collect();
            Values::Factor {
                codes,
                labels: distinct.into_iter().map(format_number).collect(),
            }
        }
        (ColumnData::Text { codes, levels }, _) => Values::Factor {
            codes: sample.rows.iter().map(|&r| codes[r]).collect(),
            labels: levels.clone(),
        },
    })
}

/// Builds the design over the sample's complete cases, dropping terms that are constant
/// there.
pub(crate) fn build_design(
    cohort: &Cohort,
    covariates: &[String],
    sample: &Sample,
    warnings: &mut Vec<String>,
    excluded: &mut Vec<Exclusion>,
) -> Result<Design, MatchError> {
    let mut names_factor: Vec<(String, bool)> = Vec::new();
    let mut values: Vec<Values> = Vec::new();
    for cov in covariates {
        let (name, forced) = match cov.strip_suffix(":factor") {
            Some(n) => (n.to_string(), true),
            None => (cov.clone(), false),
        };
        let col = cohort
            .column(&name)
            .ok_or_else(|| MatchError::MissingCovariate(name.clone()))?;
        let factor = forced || !col.is_numeric();
        values.push(
            term_values(cohort, &name, factor, sample)
                .ok_or_else(|| MatchError::MissingCovariate(name.clone()))?,
        );
        names_factor.push((name, factor));
    }
    let missing = |v: &Values, k: usize| match v {
        Values::Numeric(x) => x[k].is_nan(),
        Values::Factor { codes, .. } => codes[k] == MISSING,
    };
    // Complete cases.
    let n = sample.rows.len();
    let mut used = Vec::with_capacity(n);
    let mut missing_per_term = vec![0usize; values.len()];
    for k in 0..n {
        let mut complete = true;
        for (j, v) in values.iter().enumerate() {
            if missing(v, k) {
                missing_per_term[j] += 1;
                complete = false;
            }
        }
        if complete {
            used.push(k);
        }
    }
    let n_missing = n - used.len();
    if n_missing > 0 {
        let which: Vec<String> = names_factor
            .iter()
            .zip(&missing_per_term)
            .filter(|(_, &m)| m > 0)
            .map(|((name, _), m)| format!("{name} ({m})"))
            .collect();
        excluded.push(Exclusion {
            reason: format!("missing matching covariate: {}", which.join(", ")),
            n: n_missing,
        });
    }
    if used.is_empty() {
        return Err(MatchError::NoCompleteCases(
            names_factor
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    // Levels present among the rows used; constant terms are dropped.
    let mut kept: Vec<Term> = Vec::new();
    let mut dropped = Vec::new();
    for ((name, factor), v) in names_factor.into_iter().zip(values) {
        match v {
            Values::Numeric(x) => {
                let value_of_unit: Vec<f64> = used.iter().map(|&k| x[k]).collect();
                let varies = value_of_unit.iter().any(|&a| a != value_of_unit[0]);
                if !varies {
                    dropped.push(name);
                    continue;
                }
                // The values are the column's (all finite here), so the cohort's cached
                // order of the column serves.
                let units_in_order = cohort
                    .order_of_rows(std::slice::from_ref(&name), used.len(), |u| {
                        sample.rows[used[u]]
                    })
                    .unwrap_or_else(|| crate::stats::sorted_order(&value_of_unit));
                kept.push(Term {
                    column: name,
                    factor,
                    levels: Vec::new(),
                    level_of_unit: Vec::new(),
                    value_of_unit,
                    units_in_order,
                });
            }
            Values::Factor { codes, labels } => {
                let mut present = vec![false; labels.len()];
                for &k in &used {
                    present[codes[k] as usize] = true;
                }
                let mut levels: Vec<String> = labels
                    .iter()
                    .zip(&present)
                    .filter(|(_, p)| **p)
                    .map(|(l, _)| l.clone())
                    .collect();
                if levels.len() < 2 {
                    dropped.push(name);
                    continue;
                }
                // Sorted as R's factor(): numerically when all levels are numbers.
                sort_levels(&mut levels);
                let index_of: Vec<u32> = labels
                    .iter()
                    .map(|l| {
                        levels
                            .iter()
                            .position(|m| m == l)
                            .map_or(MISSING, |p| p as u32)
                    })
                    .collect();
                let level_of_unit = used.iter().map(|&k| index_of[codes[k] as usize]).collect();
                kept.push(Term {
                    column: name,
                    factor: true,
                    levels,
                    level_of_unit,
                    value_of_unit: Vec::new(),
                    units_in_order: Vec::new(),
                });
            }
        }
    }
    for d in &dropped {
        warnings.push(format!(
            "matching covariate '{d}' is constant in this sample and was left out of the propensity model"
        ));
    }
    if kept.is_empty() {
        return Err(MatchError::NoCovariates(dropped.join(", ")));
    }
    let mut names = vec!["(Intercept)".to_string()];
    for t in &kept {
        if t.factor {
            for l in &t.levels[1..] {
                names.push(format!("{}{}", t.column, l));
            }
        } else {
            names.push(t.column.clone());
        }
    }
    Ok(Design {
        terms: kept,
        names,
        used,
    })
}

/// The model matrix's rows for the given units (all when `None`): intercept first, factors
/// as treatment-coded indicators.
fn model_rows(design: &Design, units: Option<&[usize]>) -> DMatrix<f64> {
    let k = units.map_or(design.used.len(), <[usize]>::len);
    let unit = |r: usize| units.map_or(r, |u| u[r]);
    let mut x = DMatrix::zeros(k, design.names.len());
    x.column_mut(0).fill(1.0);
    let mut c = 1;
    for t in &design.terms {
        if t.factor {
            for r in 0..k {
                let l = t.level_of_unit[unit(r)];
                if l > 0 {
                    x[(r, c + l as usize - 1)] = 1.0;
                }
            }
            c += t.levels.len() - 1;
        } else {
            for r in 0..k {
                x[(r, c)] = t.value_of_unit[unit(r)];
            }
            c += 1;
        }
    }
    x
}

/// The units grouped by their covariates (equal model rows), from the terms' level codes and
/// values: the groups of the model matrix's rows, without building it.
fn group_units(design: &Design) -> Groups {
    let columns: Vec<KeyColumn> = design
        .terms
        .iter()
        .map(|t| {
            if t.factor {
                KeyColumn::Codes(&t.level_of_unit)
            } else {
                KeyColumn::Values(&t.value_of_unit)
            }
        })
        .collect();
    group_rows(&columns, design.used.len())
}

/// Sorts factor levels as R's `factor()` does for our data: numerically when every level is
/// a number, else by text.
pub(crate) fn sort_levels(levels: &mut [String]) {
    let nums: Option<Vec<f64>> = levels.iter().map(|l| l.parse::<f64>().ok()).collect();
    if nums.is_some() {
        levels.sort_by(|a, b| {
            let (x, y): (f64, f64) = (a.parse().unwrap_or(0.0), b.parse().unwrap_or(0.0));
            x.total_cmp(&y)
        });
    } else {
        levels.sort();
    }
}

/// Sample standard deviation (n − 1).
pub(crate) fn sd(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Matching weights as MatchIt's ATT weights: matched treated 1; each control the sum over
/// its treated of 1 / (controls of that treated), rescaled so control weights sum to the
/// number of distinct matched controls.
pub fn att_weights(matches: &Matches, n_units: usize) -> Vec<f64> {
    let mut w = vec![0.0; n_units];
    let mut distinct = vec![false; n_units];
    for (t, cs) in matches.iter() {
        if cs.is_empty() {
            continue;
        }
        w[t] = 1.0;
        let share = 1.0 / cs.len() as f64;
        for &c in cs {
            w[c] += share;
            distinct[c] = true;
        }
    }
    let n_controls = distinct.iter().filter(|&&d| d).count() as f64;
    let sum_controls: f64 = (0..n_units).filter(|&u| distinct[u]).map(|u| w[u]).sum();
    if sum_controls > 0.0 {
        for u in (0..n_units).filter(|&u| distinct[u]) {
            w[u] *= n_controls / sum_controls;
        }
    }
    // Every treated patient with all its controls, each control used once: the weights are 1
    // up to the rounding of the rescaling. Exactly 1 then, so that the sample is unweighted
    // and its sums are counts (108.99999999999997 evaluable patients gave an exact CI of 108).
    if w.iter().all(|&x| x == 0.0 || (x - 1.0).abs() <= 1e-12) {
        for x in w.iter_mut().filter(|x| **x > 0.0) {
            *x = 1.0;
        }
    }
    w
}

/// What matching hands back to the pipeline: the matched sample and the report.
pub struct MatchOutcome {
    pub sample: Sample,
    pub report: MatchingReport,
    /// Milliseconds spent: (propensity fit, matching, balance and report).
    pub timing: (f64, f64, f64),
}

pub(crate) fn order_of(ms: &MatchSpec) -> Order {
    match ms.order {
        MatchOrder::Largest => Order::Largest,
        MatchOrder::Smallest => Order::Smallest,
        MatchOrder::Data => Order::Data,
        MatchOrder::Random => Order::Random(ms.seed),
    }
}

/// A fitted propensity model over the complete cases of a sample.
pub struct PsModel {
    pub(crate) design: Design,
    pub(crate) fit: crate::stats::logistic::LogisticFit,
    pub(crate) treated: Vec<bool>,
    pub(crate) warnings: Vec<String>,
    pub(crate) excluded: Vec<Exclusion>,
}

/// Fits the propensity model (logistic regression of treatment on the covariates) inside
/// `subgroup`. Fitted once, it serves any caliper, order or ratio.
pub fn fit_propensity(
    cohort: &Cohort,
    spec: &Spec,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<PsModel, MatchError> {
    let mut warnings = Vec::new();
    let mut excluded = Vec::new();
    let design = build_design(
        cohort,
        &ms.covariates,
        subgroup,
        &mut warnings,
        &mut excluded,
    )?;
    let y: Vec<f64> = design
        .used
        .iter()
        .map(|&k| if subgroup.treated[k] { 1.0 } else { 0.0 })
        .collect();
    for (label, want) in [(spec.treated_label(), 1.0), (spec.control_label(), 0.0)] {
        if !y.contains(&want) {
            return Err(MatchError::EmptyArm(label));
        }
    }
    // Units with equal covariates enter the fit as one binomial unit; grouped from the
    // terms, the n × p model matrix (120 MB at 1,000,000 patients) is never built.
    let n = design.used.len();
    let groups = groups_if_worth(n, || group_units(&design));
    let fit = match &groups {
        Some(g) => logistic_fit_units(
            model_rows(&design, Some(&g.first_row)),
            Some(&g.group_of),
            &y,
        )?,
        None => logistic_fit_units(model_rows(&design, None), None, &y)?,
    };
    drop(groups);
    if !fit.converged {
        warnings.push(format!(
            "the propensity model did not converge in {} iterations",
            fit.iterations
        ));
    }
    if fit.separation {
        warnings.push(
            "fitted propensity scores of 0 or 1 occurred: the covariates (almost) perfectly separate the arms, so some patients have no comparable counterpart"
                .to_string(),
        );
    }
    let treated = y.iter().map(|&v| v == 1.0).collect();
    Ok(PsModel {
        design,
        fit,
        treated,
        warnings,
        excluded,
    })
}

impl PsModel {
    /// The matching distance per unit (logit or PS) and its SD over all units (n − 1).
    pub fn distance(&self, scale: CaliperScale) -> Result<(Vec<f64>, f64), MatchError> {
        let distance: Vec<f64> = match scale {
            CaliperScale::Logit => self.fit.linear_predictor.clone(),
            CaliperScale::Ps => self.fit.fitted.clone(),
        };
        let spread = sd(&distance);
        if spread.is_nan() || spread <= 0.0 {
            return Err(MatchError::NoSpread);
        }
        Ok((distance, spread))
    }

    /// Units of the model: treated flags and their positions in the sample.
    pub fn units(&self) -> (&[bool], &[usize]) {
        (&self.treated, &self.design.used)
    }
}

/// The matches in the order of the treated units (of `n` units): each appears once in
/// visiting order, so a bucket by unit orders them without a sort.
fn by_treated_unit(matches: &Matches, n: usize) -> impl Iterator<Item = (usize, &[usize])> {
    let mut entry_of = vec![u32::MAX; n];
    for (i, &t) in matches.visit_order.iter().enumerate() {
        entry_of[t] = i as u32;
    }
    entry_of
        .into_iter()
        .enumerate()
        .filter(|&(_, i)| i != u32::MAX)
        .map(|(t, i)| (t, matches.controls(i as usize)))
}

/// Matched set of each unit: the treated unit's set; a reused control keeps its first set.
/// With replacement a control belongs to several sets, so every unit is its own cluster.
pub fn matched_sets(matches: &Matches, weights: &[f64], replace: bool) -> Vec<u32> {
    let n = weights.len();
    let mut set_of = vec![u32::MAX; n];
    // Sets are numbered in the order of the treated units.
    for (set, (t, cs)) in by_treated_unit(matches, n)
        .filter(|(_, cs)| !cs.is_empty())
        .enumerate()
    {
        set_of[t] = set as u32;
        for &c in cs {
            if set_of[c] == u32::MAX {
                set_of[c] = set as u32;
            }
        }
    }
    if replace {
        for (u, s) in set_of.iter_mut().enumerate() {
            if weights[u] > 0.0 {
                *s = u as u32;
            }
        }
    }
    set_of
}

/// The result of one matching run on a fitted model.
pub struct MatchCore {
    pub distance: Vec<f64>,
    pub caliper_width: f64,
    pub matches: Matches,
    pub weights: Vec<f64>,
    pub set_of: Vec<u32>,
    /// The matched sample (rows of the file, arms, weights, matched sets).
    pub sample: Sample,
}

/// Matches on a fitted model with the settings of `ms` (caliper, scale, order, ratio,
/// replacement).
pub fn match_core(
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    let (distance, spread) = model.distance(ms.scale)?;
    let caliper_width = ms.caliper * spread;
    let treated = &model.treated;
    let used = &model.design.used;
    let matches = greedy_match(
        &distance,
        treated,
        caliper_width,
        order_of(ms),
        ms.ratio as usize,
        ms.replace,
    );
    let weights = att_weights(&matches, used.len());
    let set_of = matched_sets(&matches, &weights, ms.replace);
    let mut sample = Sample::default();
    for (u, &k) in used.iter().enumerate() {
        if weights[u] > 0.0 {
            sample.rows.push(subgroup.rows[k]);
            sample.treated.push(treated[u]);
            sample.weight.push(weights[u]);
            sample.set_id.push(set_of[u]);
        }
    }
    sample.weighted = sample.weight.iter().any(|&w| w != 1.0);
    Ok(MatchCore {
        distance,
        caliper_width,
        matches,
        weights,
        set_of,
        sample,
    })
}

/// Fits the propensity model inside `subgroup`, matches, and returns the matched sample.
pub fn match_sample(
    cohort: &Cohort,
    spec: &Spec,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchOutcome, MatchError> {
    let t0 = std::time::Instant::now();
    let model = fit_propensity(cohort, spec, ms, subgroup)?;
    let mut outcome = match_with_model(cohort, spec, ms, subgroup, &model)?;
    outcome.timing.0 = t0.elapsed().as_secs_f64() * 1e3 - outcome.timing.1 - outcome.timing.2;
    Ok(outcome)
}

/// Matches on a fitted propensity model (fitted in the same `subgroup` with the same
/// covariates) and returns the matched sample and the report.
pub fn match_with_model(
    cohort: &Cohort,
    spec: &Spec,
    ms: &MatchSpec,
    subgroup: &Sample,
    model: &PsModel,
) -> Result<MatchOutcome, MatchError> {
    let ms_since = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1e3;
    let t1 = std::time::Instant::now();
    let mut core = match_checked(model, ms, subgroup)?;
    let matching_ms = ms_since(t1);
    let t2 = std::time::Instant::now();
    let sample = std::mem::take(&mut core.sample);
    let report = matching_report(cohort, spec, ms, subgroup, model, &core, &sample);
    Ok(MatchOutcome {
        sample,
        report,
        timing: (0.0, matching_ms, ms_since(t2)),
    })
}

/// [`match_core`], an error when the matched sample lacks an arm.
pub fn match_checked(
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    let core = match_core(model, ms, subgroup)?;
    let n_t = core.sample.treated.iter().filter(|&&t| t).count();
    if n_t == 0 || n_t == core.sample.rows.len() {
        return Err(MatchError::NoMatches {
            caliper: ms.caliper,
            width: core.caliper_width,
        });
    }
    Ok(core)
}

/// The warning for pairs decided by ties (see [`greedy::TIE_TOLERANCE_SD`]).
pub fn tie_warning(n: usize) -> String {
    let pairs = if n == 1 { "1 pair was" } else { "pairs were" };
    let count = if n == 1 {
        String::new()
    } else {
        format!("{n} ")
    };
    format!(
        "{count}{pairs} decided by exact ties (two controls equally far, within 1e-9 SD of the distance; the left one in sorted order was taken); MatchIt's own arithmetic may pick the other control"
    )
}

/// The report of a match made by [`match_checked`]: pairs, per-unit list, propensity model,
/// balance, PS histogram, Table 1. `sample` is the matched sample (`core.sample`, which the
/// caller may have taken out).
pub fn matching_report(
    cohort: &Cohort,
    spec: &Spec,
    ms: &MatchSpec,
    subgroup: &Sample,
    model: &PsModel,
    core: &MatchCore,
    sample: &Sample,
) -> MatchingReport {
    let PsModel {
        design,
        fit,
        treated,
        warnings,
        excluded,
    } = model;
    let (mut warnings, excluded) = (warnings.clone(), excluded.clone());
    let MatchCore {
        distance,
        caliper_width,
        matches,
        weights,
        set_of,
        sample: _,
    } = core;
    let caliper_width = *caliper_width;
    let patient_id = cohort.patient_ids();
    // Each unit's row and identifier looked up in unit order (rows ascending), so that a
    // pair costs one scattered read, not three.
    let row_of_unit: Vec<usize> = design.used.iter().map(|&k| subgroup.rows[k]).collect();
    let id_of_unit: Vec<crate::cohort::PatientId> =
        row_of_unit.iter().map(|&r| patient_id(r)).collect();
    let n_pairs = matches.n_pairs();
    let mut pairs = Vec::with_capacity(n_pairs);
    for (t, cs) in by_treated_unit(matches, design.used.len()) {
        for &c in cs {
            pairs.push((id_of_unit[t].clone(), id_of_unit[c].clone()));
        }
    }
    let units = row_of_unit
        .iter()
        .enumerate()
        .map(|(u, &row)| MatchedUnit {
            row,
            treated: treated[u],
            ps: fit.fitted[u],
            distance: distance[u],
            weight: weights[u],
            set: (weights[u] > 0.0).then_some(set_of[u]),
        })
        .collect();
    let n_t_used = treated.iter().filter(|&&t| t).count();
    let n_c_used = treated.len() - n_t_used;
    let n_t_matched = sample.treated.iter().filter(|&&t| t).count();
    let n_c_matched = sample.rows.len() - n_t_matched;
    let mut n_matched = OrderedMap::default();
    n_matched.insert(spec.treated_label(), n_t_matched);
    n_matched.insert(spec.control_label(), n_c_matched);
    let mut n_unmatched = OrderedMap::default();
    n_unmatched.insert(spec.treated_label(), n_t_used - n_t_matched);
    n_unmatched.insert(spec.control_label(), n_c_used - n_c_matched);

    let mut coefficients = OrderedMap::default();
    let mut se = OrderedMap::default();
    for (j, name) in design.names.iter().enumerate() {
        coefficients.insert(name.clone(), fit.coef[j]);
        se.insert(name.clone(), fit.se[j]);
    }
    let formula = format!(
        "treated ~ {}",
        design
            .terms
            .iter()
            .map(
                |t| if t.factor && cohort.column(&t.column).is_some_and(|c| c.is_numeric()) {
                    format!("factor({})", t.column)
                } else {
                    t.column.clone()
                }
            )
            .collect::<Vec<_>>()
            .join(" + ")
    );
    if matches.n_tie_decisions > 0 {
        warnings.push(tie_warning(matches.n_tie_decisions));
    }
    let (balance, column_sums) = balance::balance_rows(design, distance, treated, weights);
    let ps_histogram = balance::ps_histogram(&fit.fitted, treated, weights);
    let baseline_table = balance::baseline_table(design, treated, weights, &column_sums);
    MatchingReport {
        covariates: ms.covariates.clone(),
        caliper: ms.caliper,
        caliper_scale: match ms.scale {
            CaliperScale::Logit => "logit",
            CaliperScale::Ps => "ps",
        },
        caliper_width,
        caliper_sd_of: "SD of the distance over all units used (n − 1), as MatchIt; Austin's papers use the pooled SD of the two arms",
        order: match ms.order {
            MatchOrder::Largest => "largest",
            MatchOrder::Smallest => "smallest",
            MatchOrder::Data => "data",
            MatchOrder::Random => "random",
        },
        ratio: ms.ratio,
        replace: ms.replace,
        seed: ms.seed,
        n_matched,
        n_unmatched,
        n_excluded: excluded.iter().map(|e| e.n).sum(),
        excluded,
        pairs,
        n_tie_decisions: matches.n_tie_decisions,
        propensity: PropensityReport {
            formula,
            coefficients,
            se,
            converged: fit.converged,
            iterations: fit.iterations,
            deviance: fit.deviance,
            n: design.used.len(),
        },
        balance,
        ps_histogram,
        baseline_table,
        warnings,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::subgroup_sample;
    use crate::cohort::read_csv_bytes;
    use crate::stats::logistic::logistic_fit;

    /// k controls for each of n treated units, each control once: every weight is exactly 1
    /// (the rescaling n/Σ rounds to 1 − 1 ulp for some n), so sums of weights are counts.
    /// One treated unit with fewer controls: real weights.
    #[test]
    fn full_matches_without_reuse_weigh_exactly_one() {
        for k in 1..=5usize {
            for n in 1..=150usize {
                let lists: Vec<(usize, Vec<usize>)> = (0..n)
                    .map(|t| (t, (0..k).map(|j| n + t * k + j).collect()))
                    .collect();
                let m = Matches::from_lists(lists.iter().map(|(t, cs)| (*t, &cs[..])));
                let w = att_weights(&m, n * (k + 1));
                assert!(w.iter().all(|&x| x == 1.0), "k {k} n {n}");
            }
        }
        let m = Matches::from_lists([(0, &[2, 3][..]), (1, &[4][..])]);
        let w = att_weights(&m, 5);
        assert_eq!(&w[..2], &[1.0, 1.0]);
        assert!(
            (w[2] - 0.75).abs() < 1e-15 && (w[4] - 1.5).abs() < 1e-15,
            "{w:?}"
        );
    }

    /// The propensity fit grouped from the terms (no model matrix) is the fit of the full
    /// model matrix, to the bit: same groups in the same order, same rows. 3,000 patients
    /// (grouping pays) and covariates with levels, numbers and a forced factor.
    #[test]
    fn fit_from_term_groups_is_the_matrix_fit() {
        let csv = crate::simulate::simulate_csv(3000, 17);
        let cohort = read_csv_bytes("sim.csv", csv.into_bytes()).unwrap();
        let ms = MatchSpec {
            covariates: [
                "ecog",
                "albi_grade",
                "prior_io_response",
                "age",
                "bclc:factor",
            ]
            .map(String::from)
            .to_vec(),
            ..MatchSpec::default()
        };
        let spec = Spec {
            matching: Some(ms.clone()),
            ..Spec::default()
        };
        let (sample, _) = subgroup_sample(&cohort, &spec).unwrap();
        let model = fit_propensity(&cohort, &spec, &ms, &sample).unwrap();
        let n = model.design.used.len();
        assert!(
            groups_if_worth(n, || group_units(&model.design)).is_some(),
            "the grouped path is tested"
        );
        let y: Vec<f64> = model
            .treated
            .iter()
            .map(|&t| f64::from(u8::from(t)))
            .collect();
        let dense = logistic_fit(&model_rows(&model.design, None), &y).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&model.fit.coef), bits(&dense.coef));
        assert_eq!(bits(&model.fit.se), bits(&dense.se));
        assert_eq!(bits(&model.fit.fitted), bits(&dense.fitted));
        assert_eq!(model.fit.iterations, dense.iterations);
    }
}
