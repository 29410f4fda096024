//! What a front end keeps between analyses of one cohort: the sample (arms and subgroup),
//! rebuilt only when the arms or the subgroup change; the propensity model, refitted
//! only when the sample or the covariates change; the matching's distance order, rebuilt
//! only when the model, the distance scale or the visiting order change; and the last match.

use std::sync::{Arc, Mutex};

use super::endpoint::{prepare_endpoint, Prepared};
use super::sample::subgroup_sample_with_warnings;
use super::{AnalysisError, EndpointSpec, Exclusion, MatchSpec, Sample, Spec, Subgroup};
use crate::cohort::Cohort;
use crate::matching::{match_planned_checked, order_of, MatchCore, MatchError, MatchPlan, Order};
use crate::propensity::{fit_propensity, CaliperScale, PsModel};

/// What a front end keeps between analyses of one cohort, so that a live edit redoes only
/// what it changed: the sample is formed again only when the arms or the subgroup change;
/// the propensity model is refitted only when the sample (arms, subgroup) or
/// the covariates change — moving the caliper, or changing the distance, order, ratio or
/// replacement, reuses it. Moving the caliper reuses the matching's sorted distance too (one
/// greedy pass is left), and the parts of one analysis asked for at different times (the
/// window's view first, the rest after) share its match. One cache per cohort: start a new
/// one when the cohort changes. It is shared between threads; its locks are held only to look
/// something up or store it, never during an analysis.
#[derive(Default)]
pub struct AnalysisCache {
    /// Keep each endpoint's rows in time order for samples below this size; `None` (the
    /// default cache): below the size from which an analysis runs its parts in turn; the
    /// window's cache ([`AnalysisCache::live`]) keeps them at any size, a one-shot
    /// analysis's ([`AnalysisCache::one_shot`]) at none.
    keep_rows_below: Option<usize>,
    sample: Mutex<Option<(SampleKey, Arc<SubgroupSample>)>>,
    propensity: Mutex<Option<(PropensityKey, Arc<PsModel>)>>,
    plan: Mutex<Option<(PlanKey, Arc<MatchPlan>)>>,
    matched: Mutex<Option<(PropensityKey, MatchSpec, Arc<MatchCore>)>>,
    prepared: Mutex<Option<PreparedFor>>,
}

/// What owns an analysed sample (the match, or the subgroup's sample): kept alive by the
/// cache's entry, so the sample it names cannot be replaced by another at its address.
pub(super) type SampleOwner = Arc<dyn std::any::Any + Send + Sync>;

/// The endpoints' rows in time order for one sample (named by its owner) and one spec.
struct PreparedFor {
    owner: SampleOwner,
    spec: Spec,
    endpoints: Vec<(EndpointSpec, Arc<Prepared>)>,
}

/// The sample of an analysis before matching or weighting (arms, subgroup), the rows left
/// out and why, and the warnings of forming it.
pub(super) type SubgroupSample = (Sample, Vec<Exclusion>, Vec<String>);

/// Everything the sample of an analysis depends on besides the cohort.
#[derive(Clone, Debug, PartialEq)]
struct SampleKey {
    arm_column: String,
    treated: String,
    control: String,
    subgroups: Vec<Subgroup>,
}

/// Everything a matching plan depends on besides the cohort.
#[derive(Clone, Debug, PartialEq)]
struct PlanKey {
    model: PropensityKey,
    scale: CaliperScale,
    order: Order,
}

/// The entry of `slot` whose key is `key`, else `make()`'s (then kept in `slot`).
fn cached<K: PartialEq, V, E>(
    slot: &Mutex<Option<(K, Arc<V>)>>,
    key: K,
    make: impl FnOnce() -> Result<V, E>,
) -> Result<Arc<V>, E> {
    let lock = || slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, v)) = &*lock() {
        if *k == key {
            return Ok(Arc::clone(v));
        }
    }
    let v = Arc::new(make()?);
    *lock() = Some((key, Arc::clone(&v)));
    Ok(v)
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

impl PropensityKey {
    fn of(spec: &Spec, covariates: &[String]) -> PropensityKey {
        PropensityKey {
            arm_column: spec.arm_column.clone(),
            treated: spec.treated.clone(),
            control: spec.control.clone(),
            subgroups: spec.subgroups.clone(),
            covariates: covariates.to_vec(),
        }
    }
}

impl AnalysisCache {
    /// The cache of a front end that edits a spec live (the window): as the default, and
    /// it also keeps each endpoint's rows in time order on a registry's sample, so that
    /// switching the endpoint shown and back gathers nothing again — at the cost of a copy of
    /// the sample per endpoint shown (about 46 bytes a patient), which the default cache does
    /// not pay from 500,000 patients on and a one-shot analysis never pays.
    pub fn live() -> AnalysisCache {
        AnalysisCache::keeping_rows_below(usize::MAX)
    }

    /// The cache of an analysis that runs once (the command line, [`super::analyze`]): keeps
    /// no endpoint's rows in time order, so each endpoint's rows are freed as soon as its part
    /// of the report is done instead of staying with a cache that is dropped unused (at
    /// 100,000 patients the heap then peaks 8 MB lower: fewer fresh pages to fault in).
    pub fn one_shot() -> AnalysisCache {
        AnalysisCache::keeping_rows_below(0)
    }

    /// A cache that keeps each endpoint's rows in time order for samples of fewer than
    /// `rows` patients (the default cache: 500,000; [`AnalysisCache::live`]: any size), so
    /// that tests can put the rule's size where a test can afford it.
    #[doc(hidden)]
    pub fn keeping_rows_below(rows: usize) -> AnalysisCache {
        AnalysisCache {
            keep_rows_below: Some(rows),
            ..AnalysisCache::default()
        }
    }

    /// How many endpoints' rows in time order the cache keeps (of one sample).
    #[doc(hidden)]
    pub fn kept_endpoint_rows(&self) -> usize {
        let slot = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map_or(0, |p| p.endpoints.len())
    }

    /// The sample of `spec` (arms, subgroup) with its exclusions and warnings: the cached
    /// one when the arm column, the arms and the subgroup are unchanged (a caliper move or
    /// an endpoint switch forms no sample again).
    pub(super) fn sample(
        &self,
        cohort: &Cohort,
        spec: &Spec,
    ) -> Result<Arc<SubgroupSample>, AnalysisError> {
        let key = SampleKey {
            arm_column: spec.arm_column.clone(),
            treated: spec.treated.clone(),
            control: spec.control.clone(),
            subgroups: spec.subgroups.clone(),
        };
        cached(&self.sample, key, || {
            subgroup_sample_with_warnings(cohort, spec)
        })
    }

    /// The propensity model for `spec`'s sample and covariates: the cached one when they are
    /// unchanged, else a new fit (then cached).
    pub(super) fn propensity(
        &self,
        cohort: &Cohort,
        spec: &Spec,
        covariates: &[String],
        subgroup: &Sample,
    ) -> Result<Arc<PsModel>, MatchError> {
        cached(
            &self.propensity,
            PropensityKey::of(spec, covariates),
            || fit_propensity(cohort, covariates, &spec.arm_labels(), subgroup).map_err(Into::into),
        )
    }

    /// The matching plan (distance and its orders) of `model`, the propensity model of
    /// `spec` with the covariates of `ms`: the cached one when the model, the distance scale
    /// and the visiting order are unchanged.
    pub(super) fn plan(
        &self,
        spec: &Spec,
        ms: &MatchSpec,
        model: &PsModel,
    ) -> Result<Arc<MatchPlan>, MatchError> {
        let key = PlanKey {
            model: PropensityKey::of(spec, &ms.covariates),
            scale: ms.scale,
            order: order_of(ms),
        };
        cached(&self.plan, key, || MatchPlan::new(model, ms))
    }

    /// The match of `ms` on `model` (see [`AnalysisCache::plan`]): the cached one when the
    /// model and every matching setting are unchanged.
    pub(super) fn matched(
        &self,
        spec: &Spec,
        ms: &MatchSpec,
        model: &PsModel,
        subgroup: &Sample,
    ) -> Result<Arc<MatchCore>, MatchError> {
        let key = PropensityKey::of(spec, &ms.covariates);
        let lock = || self.matched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, m, core)) = &*lock() {
            if *k == key && m == ms {
                return Ok(Arc::clone(core));
            }
        }
        let plan = self.plan(spec, ms, model)?;
        let core = Arc::new(match_planned_checked(&plan, model, ms, subgroup)?);
        *lock() = Some((key, ms.clone(), Arc::clone(&core)));
        Ok(core)
    }

    /// The rows of endpoint `ep` in time order on `sample` ([`prepare_endpoint`]): the cached
    /// ones when the sample (its `owner`) and the spec are unchanged — switching the endpoint
    /// shown and back sorts nothing again. Not kept for a sample without an owner (weighted),
    /// nor for samples of the cache's size and above (memory: a copy of the sample per
    /// endpoint; see [`AnalysisCache::keeping_rows_below`]).
    pub(super) fn prepared(
        &self,
        cohort: &Cohort,
        spec: &Spec,
        ep: &EndpointSpec,
        sample: &Sample,
        owner: Option<SampleOwner>,
    ) -> Result<Arc<Prepared>, AnalysisError> {
        let prepare = || prepare_endpoint(cohort, spec, ep, sample).map(Arc::new);
        let below = self.keep_rows_below.unwrap_or(super::PARALLEL_BELOW_ROWS);
        let Some(owner) = owner.filter(|_| sample.rows.len() < below) else {
            return prepare();
        };
        let lock = || self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        let same = |p: &PreparedFor| Arc::ptr_eq(&p.owner, &owner) && p.spec == *spec;
        let stale = {
            let mut slot = lock();
            match slot.as_ref() {
                Some(p) if same(p) => {
                    if let Some((_, v)) = p.endpoints.iter().find(|(e, _)| e == ep) {
                        return Ok(Arc::clone(v));
                    }
                    None
                }
                _ => slot.take(),
            }
        };
        // Another sample's rows are let go before these are gathered: their memory is
        // reused, instead of new pages taken while both are held.
        drop(stale);
        let v = prepare()?;
        let mut slot = lock();
        match slot.as_mut().filter(|p| same(p)) {
            Some(p) => p.endpoints.push((ep.clone(), Arc::clone(&v))),
            None => {
                *slot = Some(PreparedFor {
                    owner: Arc::clone(&owner),
                    spec: spec.clone(),
                    endpoints: vec![(ep.clone(), Arc::clone(&v))],
                })
            }
        }
        Ok(v)
    }

    /// True when a propensity model is cached.
    pub fn has_propensity_model(&self) -> bool {
        self.propensity.lock().map(|p| p.is_some()).unwrap_or(false)
    }
}
