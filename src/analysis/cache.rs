//! What a front end keeps between analyses of one cohort: the propensity model, refitted
//! only when the sample or the covariates change.

use super::{Sample, Spec, Subgroup};
use crate::cohort::Cohort;
use crate::matching::MatchError;
use crate::propensity::{fit_propensity, PsModel};

/// What a front end keeps between analyses of one cohort, so that a live edit redoes only
/// what it changed: the propensity model is refitted only when the sample (arms, subgroup) or
/// the covariates change — moving the caliper, or changing the distance, order, ratio or
/// replacement, reuses it. One cache per cohort: start a new one when the cohort changes.
/// It is shared between threads; its lock is held only to look a model up or store one,
/// never during an analysis.
#[derive(Default)]
pub struct AnalysisCache {
    propensity: std::sync::Mutex<Option<(PropensityKey, std::sync::Arc<PsModel>)>>,
}

/// Everything the propensity model depends on besides the cohort.
#[derive(Clone, Debug, PartialEq)]
struct PropensityKey {
    arm_column: String,
    treated: String,
    control: String,
    subgroups: Vec<Subgroup>,
    covariates: Vec<String>,
}

impl AnalysisCache {
    /// The propensity model for `spec`'s sample and covariates: the cached one when they are
    /// unchanged, else a new fit (then cached).
    pub(super) fn propensity(
        &self,
        cohort: &Cohort,
        spec: &Spec,
        covariates: &[String],
        subgroup: &Sample,
    ) -> Result<std::sync::Arc<PsModel>, MatchError> {
        let key = PropensityKey {
            arm_column: spec.arm_column.clone(),
            treated: spec.treated.clone(),
            control: spec.control.clone(),
            subgroups: spec.subgroups.clone(),
            covariates: covariates.to_vec(),
        };
        let slot = || self.propensity.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, model)) = &*slot() {
            if *k == key {
                return Ok(std::sync::Arc::clone(model));
            }
        }
        let model = std::sync::Arc::new(fit_propensity(
            cohort,
            covariates,
            &spec.arm_labels(),
            subgroup,
        )?);
        *slot() = Some((key, std::sync::Arc::clone(&model)));
        Ok(model)
    }

    /// True when a propensity model is cached.
    pub fn has_propensity_model(&self) -> bool {
        self.propensity.lock().map(|p| p.is_some()).unwrap_or(false)
    }
}
