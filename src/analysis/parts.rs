//! Which parts of a report an analysis computes ([`Parts`]: the window asks first for what
//! its view shows, then for the rest), and the parts after matching (each endpoint's made by
//! [`endpoint_parts`]), run side by side on rayon's threads and returned in their order, so
//! that the report does not depend on the threads.

use std::sync::Arc;

use rayon::prelude::*;

use super::cache::{self, AnalysisCache};
use super::prepared::{prepare_endpoint, Slot, TimeOrder};
use super::{endpoint, explore, response, Stop};
use super::{AnalysisError, EndpointReport, EndpointSpec, MatchingReport, Report, ResponseReport};
use super::{Cohort, Sample, Spec};

/// Which endpoints an analysis computes (a set of endpoint names).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum EndpointChoice {
    /// Every endpoint of the spec.
    #[default]
    All,
    /// These endpoints (by name) only.
    Only(Vec<String>),
    /// Every endpoint but these.
    AllBut(Vec<String>),
}

impl EndpointChoice {
    /// No endpoint.
    pub fn none() -> EndpointChoice {
        EndpointChoice::Only(Vec::new())
    }

    /// True when the endpoint `name` is chosen.
    pub fn includes(&self, name: &str) -> bool {
        match self {
            EndpointChoice::All => true,
            EndpointChoice::Only(names) => names.iter().any(|n| n == name),
            EndpointChoice::AllBut(names) => !names.iter().any(|n| n == name),
        }
    }

    /// The endpoints these leave out.
    fn complement(&self) -> EndpointChoice {
        match self {
            EndpointChoice::All => EndpointChoice::none(),
            EndpointChoice::Only(names) if names.is_empty() => EndpointChoice::All,
            EndpointChoice::Only(names) => EndpointChoice::AllBut(names.clone()),
            EndpointChoice::AllBut(names) if names.is_empty() => EndpointChoice::none(),
            EndpointChoice::AllBut(names) => EndpointChoice::Only(names.clone()),
        }
    }

    /// True when every endpoint of `other` is among these.
    fn covers(&self, other: &EndpointChoice) -> bool {
        use EndpointChoice::*;
        match (self, other) {
            (All, _) => true,
            (AllBut(mine), _) if mine.is_empty() => true,
            (_, Only(names)) => names.iter().all(|n| self.includes(n)),
            (AllBut(mine), AllBut(theirs)) => mine.iter().all(|n| theirs.contains(n)),
            _ => false,
        }
    }

    /// The endpoints among both these and `other`.
    fn intersection(&self, other: &EndpointChoice) -> EndpointChoice {
        use EndpointChoice::*;
        match (self, other) {
            (All, e) | (e, All) => e.clone(),
            (Only(a), Only(b)) => Only(a.iter().filter(|n| b.contains(n)).cloned().collect()),
            (AllBut(a), AllBut(b)) => {
                let mut names = a.clone();
                names.extend(b.iter().filter(|n| !a.contains(n)).cloned());
                AllBut(names)
            }
            (Only(only), AllBut(but)) | (AllBut(but), Only(only)) => {
                Only(only.iter().filter(|n| !but.contains(n)).cloned().collect())
            }
        }
    }

    /// The endpoints among these or `other`.
    fn union(&self, other: &EndpointChoice) -> EndpointChoice {
        self.complement()
            .intersection(&other.complement())
            .complement()
    }

    /// These endpoints but those of `other`.
    fn without(&self, other: &EndpointChoice) -> EndpointChoice {
        self.intersection(&other.complement())
    }
}

/// Which parts of a [`super::Report`] an analysis computes. The sample, the counts, the
/// matching's counts and propensity model, the weighting and the warnings are always there;
/// the rest only when asked. A chosen endpoint comes with everything the spec asks of it
/// (caliper sweep, forest plot, adjusted models, the sensitivity summary) but its checks,
/// asked apart. The full report, [`Parts::all`], is what `report` and the tests compute (the
/// JSON of `analyze`, which has no per-unit list, is [`Parts::in_json`]): a report of fewer
/// parts has exactly the numbers the full report has for those parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    /// The endpoints: their curves, medians, landmarks, RMST, at-risk tables, log-rank test,
    /// HR (with its E-value) and what the spec asks of them.
    pub endpoints: EndpointChoice,
    /// The endpoints' checks: the median follow-up (reverse Kaplan–Meier: how mature the
    /// curves are) and the arm model's test of proportional hazards (whether one HR describes
    /// the effect). No view draws the follow-up and only the Survival view's warning reads
    /// the test, so the window computes them after the curves. An endpoint whose checks
    /// alone are asked comes without what the spec asks of it, for [`Report::merge`] to take
    /// its checks from.
    pub checks: EndpointChoice,
    /// Objective response (ORR, DCR).
    pub response: bool,
    /// The matching's balance: SMDs, variance ratios and the PS histogram.
    pub balance: bool,
    /// The matching's Table 1 (baseline characteristics by arm, before and after).
    pub table1: bool,
    /// The matched pairs.
    pub pairs: bool,
    /// The propensity model's units, one per patient (export of the matched cohort; not in
    /// the JSON).
    pub units: bool,
}

impl Default for Parts {
    fn default() -> Self {
        Parts::all()
    }
}

impl Parts {
    /// Every part: the full report.
    pub fn all() -> Parts {
        Parts {
            endpoints: EndpointChoice::All,
            checks: EndpointChoice::All,
            response: true,
            balance: true,
            table1: true,
            pairs: true,
            units: true,
        }
    }

    /// Every part the report's JSON holds (`analyze`): all but the per-unit list.
    pub fn in_json() -> Parts {
        Parts {
            units: false,
            ..Parts::all()
        }
    }

    /// No part beyond what every report holds (sample, counts, matching counts).
    pub fn none() -> Parts {
        Parts {
            endpoints: EndpointChoice::none(),
            checks: EndpointChoice::none(),
            response: false,
            balance: false,
            table1: false,
            pairs: false,
            units: false,
        }
    }

    /// One endpoint only (its curves, medians, at-risk table, HR and log-rank, and what the
    /// spec asks of it), without its checks.
    pub fn endpoint(name: &str) -> Parts {
        Parts {
            endpoints: EndpointChoice::Only(vec![name.to_string()]),
            ..Parts::none()
        }
    }

    fn flags(&self) -> [bool; 5] {
        [
            self.response,
            self.balance,
            self.table1,
            self.pairs,
            self.units,
        ]
    }

    fn with_flags(endpoints: EndpointChoice, checks: EndpointChoice, f: [bool; 5]) -> Parts {
        Parts {
            endpoints,
            checks,
            response: f[0],
            balance: f[1],
            table1: f[2],
            pairs: f[3],
            units: f[4],
        }
    }

    /// Every part these parts leave out: `self` then `self.rest()` make the full report.
    pub fn rest(&self) -> Parts {
        Parts::with_flags(
            self.endpoints.complement(),
            self.checks.complement(),
            self.flags().map(|on| !on),
        )
    }

    /// True when every part of `other` is among these parts.
    pub fn covers(&self, other: &Parts) -> bool {
        self.endpoints.covers(&other.endpoints)
            && self.checks.covers(&other.checks)
            && self
                .flags()
                .iter()
                .zip(other.flags())
                .all(|(&mine, theirs)| mine || !theirs)
    }

    /// These parts but those of `other`.
    pub fn without(&self, other: &Parts) -> Parts {
        let (mine, theirs) = (self.flags(), other.flags());
        Parts::with_flags(
            self.endpoints.without(&other.endpoints),
            self.checks.without(&other.checks),
            std::array::from_fn(|k| mine[k] && !theirs[k]),
        )
    }

    /// These parts and `other`'s.
    pub fn union(&self, other: &Parts) -> Parts {
        let (mine, theirs) = (self.flags(), other.flags());
        Parts::with_flags(
            self.endpoints.union(&other.endpoints),
            self.checks.union(&other.checks),
            std::array::from_fn(|k| mine[k] || theirs[k]),
        )
    }
}

impl Report {
    /// True when the report holds every part of `parts`.
    pub fn holds(&self, parts: &Parts) -> bool {
        self.parts.covers(parts)
    }

    /// Joins `other`, a report of other parts of the same analysis (same cohort and spec):
    /// the result holds the parts of both, each as the full report has it, the endpoints in
    /// the full report's order.
    pub fn merge(&mut self, other: Report) {
        let Report {
            endpoints,
            response,
            matching,
            parts,
            timing,
            ..
        } = other;
        for (name, theirs) in endpoints.0 {
            let Some(k) = self.endpoints.0.iter().position(|(n, _)| *n == name) else {
                self.endpoints.0.push((name, theirs));
                continue;
            };
            let mine = &mut self.endpoints.0[k].1;
            let whole = |p: &Parts| p.endpoints.includes(&name);
            let checked = |p: &Parts| p.checks.includes(&name);
            if whole(&parts) && !whole(&self.parts) {
                let checks_from_mine = checked(&self.parts) && !checked(&parts);
                let old = std::mem::replace(mine, theirs);
                if checks_from_mine {
                    mine.take_checks(old);
                }
            } else if checked(&parts) && !checked(&self.parts) {
                mine.take_checks(theirs);
            }
        }
        let order = &self.endpoint_order;
        self.endpoints
            .0
            .sort_by_key(|(k, _)| order.iter().position(|n| n == k).unwrap_or(usize::MAX));
        if parts.response && !self.parts.response {
            self.response = response;
        }
        if let (Some(mine), Some(theirs)) = (self.matching.as_mut(), matching) {
            if parts.balance && !self.parts.balance {
                mine.balance = theirs.balance;
                mine.ps_histogram = theirs.ps_histogram;
            }
            if parts.table1 && !self.parts.table1 {
                mine.baseline_table = theirs.baseline_table;
            }
            if parts.pairs && !self.parts.pairs {
                mine.pairs = theirs.pairs;
            }
            if parts.units && !self.parts.units {
                mine.units = theirs.units;
            }
        }
        self.parts = self.parts.union(&parts);
        self.timing.analysis_ms += timing.analysis_ms;
    }
}

/// One part of an analysis after matching, as [`run_parts`] returns it. A handful exist per
/// analysis and each is moved once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Part {
    Matching(MatchingReport),
    /// The endpoint's name and its report.
    Endpoint(String, Result<EndpointReport, AnalysisError>),
    Response(Result<Option<ResponseReport>, AnalysisError>),
    /// The part did not run: the caller asked the analysis to stop.
    Cancelled,
}

/// A part of an analysis, to run on any thread.
pub(super) type PartFn<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Runs independent parts on rayon's threads (side by side when `side_by_side`, else one
/// after the other) and returns their results in the parts' order: the numbers do not
/// depend on the threads.
pub(super) fn run_parts<T: Send>(parts: Vec<PartFn<'_, T>>, side_by_side: bool) -> Vec<T> {
    if !side_by_side || parts.len() <= 1 {
        return parts.into_iter().map(|part| part()).collect();
    }
    parts.into_par_iter().map(|part| part()).collect()
}

/// One part per endpoint chosen (with its subgroup forest plot when asked), then the response
/// when asked. `endpoints`: those asked, with what of each, and all (the forest plot leaves
/// every endpoint's columns out of its subgroups). A match's rows are read off its
/// subgroup's (`drawn`).
pub(super) fn endpoint_parts<'a>(
    (cohort, cache, owner): (&'a Cohort, &'a AnalysisCache, Option<cache::SampleOwner>),
    spec: &'a Spec,
    (chosen, all): (&'a [(EndpointSpec, endpoint::Want)], &'a [EndpointSpec]),
    (sample, drawn): (&'a Sample, Option<&'a Drawn<'a>>),
    response: bool,
    stop: Stop<'a>,
) -> Vec<PartFn<'a, Part>> {
    let mut parts: Vec<PartFn<'a, Part>> = Vec::new();
    for (ep, want) in chosen {
        let (owner, want) = (owner.clone(), *want);
        parts.push(Box::new(move || {
            let make = || match drawn.and_then(|d| Some((d, d.order(ep, cohort, spec, cache)?))) {
                Some((d, order)) => Ok(order.prepared(ep, d.slots())),
                None => prepare_endpoint(cohort, spec, ep, sample),
            };
            let report = cache
                .prepared(spec, ep, (sample, owner), make)
                .and_then(|p| endpoint::analyze_endpoint(cohort, spec, ep, sample, &p, want))
                .and_then(|mut rep| {
                    if want.whole && spec.forest {
                        rep.forest = Some(explore::forest(cohort, spec, sample, ep, all, stop)?);
                    }
                    Ok(rep)
                });
            Part::Endpoint(ep.name.clone(), report)
        }));
    }
    if response {
        parts.push(Box::new(move || {
            Part::Response(response::analyze_response(cohort, spec, sample))
        }));
    }
    parts
}

/// A match and its subgroup, for the endpoints' rows of the match read off the subgroup's
/// in time order ([`TimeOrder::prepared`]) instead of read and sorted again.
pub(super) struct Drawn<'a> {
    /// The subgroup's sample and its owner (for the cache).
    pub(super) subgroup: (&'a Sample, cache::SampleOwner),
    /// The chosen endpoints' orders, when made beside the fit (else empty).
    pub(super) orders: Vec<(EndpointSpec, Option<Arc<TimeOrder>>)>,
    pub(super) core: &'a crate::matching::MatchCore,
    /// The model's units (positions in the subgroup).
    pub(super) used: &'a [usize],
    /// What the match says of each subgroup row, once asked.
    pub(super) slots: std::sync::OnceLock<Vec<Slot>>,
}

impl Drawn<'_> {
    /// Endpoint `ep`'s rows of the subgroup in time order: made beside the fit, or the
    /// cache's (then made and kept) when the cache keeps them; `None` when they cannot be
    /// read or are not kept (the part reads the match's own rows, and says why it cannot).
    fn order(
        &self,
        ep: &EndpointSpec,
        cohort: &Cohort,
        spec: &Spec,
        cache: &AnalysisCache,
    ) -> Option<Arc<TimeOrder>> {
        if let Some((_, made)) = self.orders.iter().find(|(e, _)| e == ep) {
            return made.clone();
        }
        let (subgroup, owner) = &self.subgroup;
        if !cache.keeps(subgroup) {
            return None;
        }
        let kept = cache.time_order(cohort, spec, ep, (subgroup, Arc::clone(owner)));
        kept.ok()
    }

    /// What the match says of each subgroup row: where it went, its weight and matched set.
    fn slots(&self) -> &[Slot] {
        self.slots.get_or_init(|| {
            let rows = self.core.subgroup_positions(self.used);
            Slot::drawn(self.subgroup.0.rows.len(), &self.core.sample, rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in the parts' order whichever part ends first, and every part runs
    /// once, side by side or in turn.
    #[test]
    fn parts_return_in_order() {
        for side_by_side in [true, false] {
            let mut parts: Vec<PartFn<'_, usize>> = Vec::new();
            for k in 0..6usize {
                parts.push(Box::new(move || {
                    // The first parts take longest, so later ones may finish first.
                    std::thread::sleep(std::time::Duration::from_millis(3 * (6 - k) as u64));
                    k * 10
                }));
            }
            assert_eq!(run_parts(parts, side_by_side), vec![0, 10, 20, 30, 40, 50]);
        }
    }

    /// The set operations on endpoint choices are those of the sets they name, for every
    /// choice over three names (all; only, or all but, each subset, the empty one included),
    /// a fourth name standing for every name no list holds.
    #[test]
    fn endpoint_choices_are_sets() {
        use EndpointChoice::*;
        let names = ["a", "b", "c"];
        let mut choices = vec![All];
        for mask in 0..8 {
            let subset: Vec<String> = (0..3)
                .filter(|k| mask >> k & 1 == 1)
                .map(|k| names[k].to_string())
                .collect();
            choices.push(Only(subset.clone()));
            choices.push(AllBut(subset));
        }
        let set = |c: &EndpointChoice| ["a", "b", "c", "d"].map(|n| c.includes(n));
        let pairwise = |x: [bool; 4], y: [bool; 4], f: fn(bool, bool) -> bool| {
            std::array::from_fn::<bool, 4, _>(|k| f(x[k], y[k]))
        };
        for x in &choices {
            assert_eq!(set(&x.complement()), set(x).map(|b| !b), "{x:?}");
            for y in &choices {
                let (sx, sy) = (set(x), set(y));
                assert_eq!(set(&x.union(y)), pairwise(sx, sy, |a, b| a || b));
                assert_eq!(set(&x.intersection(y)), pairwise(sx, sy, |a, b| a && b));
                assert_eq!(set(&x.without(y)), pairwise(sx, sy, |a, b| a && !b));
                let subset = sx.iter().zip(sy).all(|(&a, b)| a || !b);
                assert_eq!(x.covers(y), subset, "{x:?} covers {y:?}");
            }
        }
    }

    /// A part and its rest make all parts, and each covers itself but not the other.
    #[test]
    fn parts_and_their_rest_make_the_full_report() {
        let shown = [
            Parts::endpoint("pfs"),
            Parts::none(),
            Parts::all(),
            Parts {
                balance: true,
                table1: true,
                ..Parts::none()
            },
            Parts {
                checks: EndpointChoice::Only(vec!["os".to_string()]),
                ..Parts::endpoint("pfs")
            },
        ];
        for p in shown {
            let rest = p.rest();
            assert!(p.union(&rest).covers(&Parts::all()), "{p:?}");
            assert!(p.covers(&p) && rest.covers(&rest));
            if p != Parts::none() {
                assert!(!rest.covers(&p), "{p:?}");
            }
            assert_eq!(rest.rest(), p);
        }
        let os = Parts::endpoint("os");
        assert_eq!(Parts::all().without(&os), os.rest());
        assert_eq!(os.without(&Parts::endpoint("pfs")), os);
        assert!(!os.without(&os).endpoints.includes("os"));
        assert!(Parts::endpoint("os").rest().endpoints.includes("pfs"));
        assert!(!Parts::endpoint("os").rest().endpoints.includes("os"));
        // An endpoint's checks are a part of their own.
        let os_checks = Parts {
            checks: EndpointChoice::Only(vec!["os".to_string()]),
            ..Parts::none()
        };
        assert!(!os.covers(&os_checks) && !os_checks.covers(&os));
        assert!(os.rest().checks.includes("os") && !os_checks.rest().checks.includes("os"));
        let both = os.union(&os_checks);
        assert!(both.covers(&os) && both.covers(&os_checks));
        assert_eq!(both.without(&os), os_checks);
        assert_eq!(Parts::all().without(&both).union(&both), Parts::all());
    }
}
