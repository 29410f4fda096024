//! The propensity model: logistic regression of treatment on the covariates, as R's
//! `glm(treated ~ covariates, family = binomial)`, fitted on the complete cases of a sample
//! (grouped by covariate pattern when that pays). Fitted once per sample and covariates, it
//! serves matching at any caliper, order or ratio, and the coming IPTW weighting.

mod design;

use serde::{Deserialize, Serialize};

pub(crate) use design::{build_design, group_units, model_rows, Design, DesignRole, PROPENSITY};

use crate::cohort::Cohort;
use crate::sample::{ArmLabels, Exclusion, OrderedMap, Sample};
use crate::stats::logistic::{groups_if_worth, logistic_fit_units, LogisticError};
use crate::stats::sample_sd;

/// Which distance the caliper and the nearest-neighbour search use.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum CaliperScale {
    /// The linear predictor (logit of the propensity score): Austin (2011).
    #[default]
    Logit,
    /// The propensity score itself: MatchIt's default distance.
    Ps,
}

/// Why the propensity model could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum PropensityError {
    #[error("propensity covariate '{0}' is not a column of the file")]
    MissingCovariate(String),
    #[error("no propensity covariate varies inside the sample (all were constant: {0})")]
    NoCovariates(String),
    #[error("propensity model: {0}")]
    Model(#[from] LogisticError),
    #[error("after leaving out rows with a missing covariate, the {0} arm has no patients")]
    EmptyArm(String),
    #[error("the distance has no spread (standard deviation 0): every patient has the same propensity score")]
    NoSpread,
    #[error("no patient has every propensity covariate ({0})")]
    NoCompleteCases(String),
}

/// The fitted model as the report shows it: R's formula, coefficients and SEs by R's names.
#[derive(Clone, Debug, Serialize)]
pub struct PropensityReport {
    pub formula: String,
    pub coefficients: OrderedMap<f64>,
    pub se: OrderedMap<f64>,
    pub converged: bool,
    pub iterations: u32,
    pub deviance: f64,
    pub n: usize,
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
    covariates: &[String],
    arms: &ArmLabels,
    subgroup: &Sample,
) -> Result<PsModel, PropensityError> {
    let mut warnings = Vec::new();
    let mut excluded = Vec::new();
    let design = build_design(
        cohort,
        covariates,
        subgroup,
        PROPENSITY,
        &mut warnings,
        &mut excluded,
    )?;
    if design.terms.is_empty() {
        return Err(PropensityError::NoCovariates(design.dropped.join(", ")));
    }
    let y: Vec<f64> = design
        .used
        .iter()
        .map(|&k| if subgroup.treated[k] { 1.0 } else { 0.0 })
        .collect();
    for (label, want) in [(&arms.treated, 1.0), (&arms.control, 0.0)] {
        if !y.contains(&want) {
            return Err(PropensityError::EmptyArm(label.clone()));
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
    /// Sorts each numeric term's units by value, once ([`design::Term::units_in_order`]:
    /// Table 1's quartiles read them); `cohort` and `subgroup` are the model's.
    pub(crate) fn order_numeric_terms(&self, cohort: &Cohort, subgroup: &Sample) {
        for term in self.design.terms.iter().filter(|t| !t.factor) {
            term.units_in_order(cohort, subgroup, &self.design.used);
        }
    }

    /// The fitted model as the report shows it: R's formula (`factor(x)` for a numeric
    /// column taken as a factor), and the coefficients and SEs by R's names.
    pub fn report(&self, cohort: &Cohort) -> PropensityReport {
        let (design, fit) = (&self.design, &self.fit);
        let mut coefficients = OrderedMap::default();
        let mut se = OrderedMap::default();
        for (j, name) in design.names.iter().enumerate() {
            coefficients.insert(name.clone(), fit.coef[j]);
            se.insert(name.clone(), fit.se[j]);
        }
        let terms: Vec<String> = design
            .terms
            .iter()
            .map(|t| {
                if t.factor && cohort.column(&t.column).is_some_and(|c| c.is_numeric()) {
                    format!("factor({})", t.column)
                } else {
                    t.column.clone()
                }
            })
            .collect();
        PropensityReport {
            formula: format!("treated ~ {}", terms.join(" + ")),
            coefficients,
            se,
            converged: fit.converged,
            iterations: fit.iterations,
            deviance: fit.deviance,
            n: design.used.len(),
        }
    }

    /// The matching distance per unit (logit or PS) and its SD over all units (n − 1).
    pub fn distance(&self, scale: CaliperScale) -> Result<(Vec<f64>, f64), PropensityError> {
        let distance: Vec<f64> = match scale {
            CaliperScale::Logit => self.fit.linear_predictor.clone(),
            CaliperScale::Ps => self.fit.fitted.clone(),
        };
        let spread = sample_sd(&distance);
        if spread.is_nan() || spread <= 0.0 {
            return Err(PropensityError::NoSpread);
        }
        Ok((distance, spread))
    }

    /// Units of the model: treated flags and their positions in the sample.
    pub fn units(&self) -> (&[bool], &[usize]) {
        (&self.treated, &self.design.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{subgroup_sample, MatchSpec, Spec};
    use crate::cohort::read_csv_bytes;
    use crate::stats::logistic::logistic_fit;

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
        let model = fit_propensity(&cohort, &ms.covariates, &spec.arm_labels(), &sample).unwrap();
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
