//! What a front end keeps between analyses of one cohort: the sample (arms and subgroup),
//! rebuilt only when the arms or the subgroup change; the propensity model, refitted
//! only when the sample or the covariates change; the matching's distance order, rebuilt
//! only when the model, the distance scale or the visiting order change; the last match;
//! and each endpoint's rows in time order, of the subgroup (a match's are read off them:
//! below 500,000 patients a caliper move sorts nothing) and of the sample analysed.

use std::sync::{Arc, Mutex};

use super::prepared::{Prepared, TimeOrder};
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
    prepared: Mutex<Option<PreparedFor<Prepared>>>,
    time_orders: Mutex<Option<PreparedFor<TimeOrder>>>,
}

/// What owns an analysed sample (the match, or the subgroup's sample): kept alive by the
/// cache's entry, so the sample it names cannot be replaced by another at its address.
pub(super) type SampleOwner = Arc<dyn std::any::Any + Send + Sync>;

/// Something made of each endpoint's rows ([`Prepared`], [`TimeOrder`]) for one sample
/// (named by its owner) and one spec.
struct PreparedFor<T> {
    owner: SampleOwner,
    spec: Spec,
    endpoints: Vec<(EndpointSpec, Arc<T>)>,
}

/// Endpoint `ep`'s entry of `slot` for the sample of `owner` and `spec`, else `make()`'s,
/// then kept — unless there is no owner (nothing kept). Another sample's entries are let go
/// before `make` runs: their memory is reused, instead of new pages taken while both are
/// held.
fn kept<T>(
    slot: &Mutex<Option<PreparedFor<T>>>,
    (owner, spec): (Option<SampleOwner>, &Spec),
    ep: &EndpointSpec,
    make: impl FnOnce() -> Result<T, AnalysisError>,
) -> Result<Arc<T>, AnalysisError> {
    let Some(owner) = owner else {
        return make().map(Arc::new);
    };
    let lock = || slot.lock().unwrap_or_else(|e| e.into_inner());
    let same = |p: &PreparedFor<T>| Arc::ptr_eq(&p.owner, &owner) && p.spec == *spec;
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
    drop(stale);
    let v = Arc::new(make()?);
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
    /// switching the endpoint shown and back gathers nothing again, and (below 500,000
    /// patients) a caliper move reads the match's rows off the subgroup's — at the cost of
    /// a copy of the sample per endpoint shown (about 46 bytes a patient, and 14 for the
    /// subgroup's order), which the default cache does not pay from 500,000 patients on and
    /// a one-shot analysis never pays.
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

    /// How many endpoints' rows in time order of the sample analysed (`Prepared`) the cache
    /// keeps (of one sample); the subgroup's orders are not counted.
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

    /// The rows of endpoint `ep` in time order on `sample` (`make`'s, what
    /// [`prepare_endpoint`](super::prepared::prepare_endpoint) gives): the cached ones when
    /// the sample (its `owner`) and the spec are unchanged — switching the endpoint shown and back sorts nothing again. Not
    /// kept for a sample without an owner (weighted), nor for samples of the cache's size
    /// and above (memory: a copy of the sample per endpoint; see
    /// [`AnalysisCache::keeping_rows_below`]).
    pub(super) fn prepared(
        &self,
        spec: &Spec,
        ep: &EndpointSpec,
        (sample, owner): (&Sample, Option<SampleOwner>),
        make: impl FnOnce() -> Result<Prepared, AnalysisError>,
    ) -> Result<Arc<Prepared>, AnalysisError> {
        let owner = owner.filter(|_| self.keeps(sample));
        kept(&self.prepared, (owner, spec), ep, make)
    }

    /// Endpoint `ep`'s rows in time order on the subgroup's `sample` ([`TimeOrder`]), which
    /// each match drawn from it reads its own rows off: the cached ones when the sample (its
    /// `owner`) and the spec besides its matching and weighting are unchanged (any other
    /// edit makes them again) — a caliper move reads no time and sorts nothing again. Kept
    /// as [`AnalysisCache::prepared`].
    pub(super) fn time_order(
        &self,
        cohort: &Cohort,
        spec: &Spec,
        ep: &EndpointSpec,
        (sample, owner): (&Sample, SampleOwner),
    ) -> Result<Arc<TimeOrder>, AnalysisError> {
        let owner = Some(owner).filter(|_| self.keeps(sample));
        let key = Spec {
            matching: None,
            weighting: None,
            ..spec.clone()
        };
        kept(&self.time_orders, (owner, &key), ep, || {
            TimeOrder::of(cohort, spec, ep, sample)
        })
    }

    /// Whether endpoints' rows of `sample` are kept ([`AnalysisCache::keeping_rows_below`]).
    pub(super) fn keeps(&self, sample: &Sample) -> bool {
        sample.rows.len() < self.keep_rows_below.unwrap_or(super::PARALLEL_BELOW_ROWS)
    }

    /// True when the propensity model of `spec`'s sample and `covariates` is cached (an
    /// analysis would not fit it).
    pub(super) fn has_model_of(&self, spec: &Spec, covariates: &[String]) -> bool {
        let slot = self.propensity.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref()
            .is_some_and(|(k, _)| *k == PropensityKey::of(spec, covariates))
    }

    /// True when a propensity model is cached.
    pub fn has_propensity_model(&self) -> bool {
        self.propensity.lock().map(|p| p.is_some()).unwrap_or(false)
    }
}
