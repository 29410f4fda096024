//! The propensity model's design: each covariate as a term (a numeric column, or a factor's
//! treatment-coded indicators, R's `model.matrix` coding and `factor()` level order) over the
//! complete cases of the sample, and the model matrix built from the terms when needed.

use rayon::prelude::*;

use nalgebra::DMatrix;

use super::PropensityError;
use crate::cohort::{format_number, Cohort, ColumnData, MISSING};
use crate::sample::{Exclusion, Sample};
use crate::stats::logistic::{group_rows, Groups, KeyColumn};

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
    /// Numeric terms: the units in ascending order of value, ties in unit order, once
    /// asked ([`Term::units_in_order`]: only Table 1's quartiles read it, so the fit does
    /// not wait for the sort).
    order: std::sync::OnceLock<Vec<u32>>,
}

impl Term {
    /// A numeric term's units in ascending order of value, ties in unit order (sorted on
    /// the first call, kept after). `cohort` and `sample` are the design's, `used` its
    /// units ([`Design::used`]).
    pub fn units_in_order(&self, cohort: &Cohort, sample: &Sample, used: &[usize]) -> &[u32] {
        self.order.get_or_init(|| {
            // The values are the column's (all finite here), so the cohort's cached order
            // of the column serves.
            cohort
                .order_of_rows(std::slice::from_ref(&self.column), used.len(), |u| {
                    sample.rows[used[u]]
                })
                .unwrap_or_else(|| crate::stats::sorted_order(&self.value_of_unit))
        })
    }
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
    /// Covariates left out because they are constant over `used`.
    pub dropped: Vec<String>,
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

/// What the covariates are for, in messages: "propensity covariate" / "propensity model".
#[derive(Clone, Copy, Debug)]
pub(crate) struct DesignRole {
    pub covariate: &'static str,
    pub model: &'static str,
}

/// The propensity model's (matching and weighting share it).
pub(crate) const PROPENSITY: DesignRole = DesignRole {
    covariate: "propensity covariate",
    model: "propensity model",
};

/// Builds the design over the sample's complete cases, dropping terms that are constant
/// there (possibly all of them).
pub(crate) fn build_design(
    cohort: &Cohort,
    covariates: &[String],
    sample: &Sample,
    role: DesignRole,
    warnings: &mut Vec<String>,
    excluded: &mut Vec<Exclusion>,
) -> Result<Design, PropensityError> {
    let mut names_factor: Vec<(String, bool)> = Vec::new();
    for cov in covariates {
        let (name, forced) = match cov.strip_suffix(":factor") {
            Some(n) => (n.to_string(), true),
            None => (cov.clone(), false),
        };
        let col = cohort
            .column(&name)
            .ok_or_else(|| PropensityError::MissingCovariate(name.clone()))?;
        let factor = forced || !col.is_numeric();
        names_factor.push((name, factor));
    }
    // Each covariate's values read off the sample's rows, side by side.
    let values: Vec<Values> = names_factor
        .par_iter()
        .map(|(name, factor)| {
            term_values(cohort, name, *factor, sample)
                .ok_or_else(|| PropensityError::MissingCovariate(name.clone()))
        })
        .collect::<Result<_, _>>()?;
    let missing = |v: &Values, k: usize| match v {
        Values::Numeric(x) => x[k].is_nan(),
        Values::Factor { codes, .. } => codes[k] == MISSING,
    };
    // Complete cases: every unit when no term misses a value (a pass per term without a
    // branch per value, which vectorizes), else each unit checked.
    let n = sample.rows.len();
    let misses_any = |v: &Values| match v {
        Values::Numeric(x) => x.iter().fold(false, |any, a| any | a.is_nan()),
        Values::Factor { codes, .. } => codes.iter().fold(false, |any, &c| any | (c == MISSING)),
    };
    let mut missing_per_term = vec![0usize; values.len()];
    let used: Vec<usize> = if !values.iter().any(misses_any) {
        (0..n).collect()
    } else {
        let mut used = Vec::with_capacity(n);
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
        used
    };
    let n_missing = n - used.len();
    if n_missing > 0 {
        let which: Vec<String> = names_factor
            .iter()
            .zip(&missing_per_term)
            .filter(|(_, &m)| m > 0)
            .map(|((name, _), m)| format!("{name} ({m})"))
            .collect();
        excluded.push(Exclusion {
            reason: format!("missing {}: {}", role.covariate, which.join(", ")),
            n: n_missing,
        });
    }
    if used.is_empty() {
        return Err(PropensityError::NoCompleteCases(
            names_factor
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    // Levels present among the rows used; constant terms are dropped.
    let made: Vec<Result<Term, String>> = names_factor
        .into_par_iter()
        .zip(values)
        .map(|((name, factor), v)| make_term(&used, name, factor, v))
        .collect();
    let mut kept: Vec<Term> = Vec::new();
    let mut dropped = Vec::new();
    for term in made {
        match term {
            Ok(term) => kept.push(term),
            Err(name) => dropped.push(name),
        }
    }
    for d in &dropped {
        warnings.push(format!(
            "{} '{d}' is constant in this sample and was left out of the {}",
            role.covariate, role.model
        ));
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
        dropped,
    })
}

/// The model matrix's rows for the given units (all when `None`): intercept first, factors
/// as treatment-coded indicators.
pub(crate) fn model_rows(design: &Design, units: Option<&[usize]>) -> DMatrix<f64> {
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
pub(crate) fn group_units(design: &Design) -> Groups {
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

/// One covariate's term over the units `used` (positions in the sample): a numeric column,
/// or a factor over the levels present (R's order), reference first. `Err(name)` when it is
/// constant there.
fn make_term(used: &[usize], name: String, factor: bool, values: Values) -> Result<Term, String> {
    match values {
        Values::Numeric(x) => {
            // `used` rises strictly: as long as the values, it is every unit.
            let value_of_unit: Vec<f64> = if used.len() == x.len() {
                x
            } else {
                used.iter().map(|&k| x[k]).collect()
            };
            let varies = value_of_unit.iter().any(|&a| a != value_of_unit[0]);
            if !varies {
                return Err(name);
            }
            Ok(Term {
                column: name,
                factor,
                levels: Vec::new(),
                level_of_unit: Vec::new(),
                value_of_unit,
                order: Default::default(),
            })
        }
        Values::Factor { codes, labels } => {
            let mut present = vec![false; labels.len()];
            for &k in used {
                present[codes[k] as usize] = true;
            }
            let mut levels: Vec<String> = labels
                .iter()
                .zip(&present)
                .filter(|(_, p)| **p)
                .map(|(l, _)| l.clone())
                .collect();
            if levels.len() < 2 {
                return Err(name);
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
            Ok(Term {
                column: name,
                factor: true,
                levels,
                level_of_unit,
                value_of_unit: Vec::new(),
                order: Default::default(),
            })
        }
    }
}
